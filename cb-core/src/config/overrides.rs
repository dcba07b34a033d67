//! The code layer: what code asks of one resolution, the highest layer.

use super::environment::Environment;
use super::schema::Value;

/// Values set in code: the highest layer. Also names the template and,
/// optionally, the environment for one resolution (what the macros pass).
///
/// ```
/// use cb_core::config::{ConfigLayers, Environment, Overrides};
/// use std::time::Duration;
///
/// let layers = ConfigLayers::new(Environment::Production);
/// let o = Overrides::new().template("database").set("minimum_calls", 20u32).set("open_duration", "15s");
/// let cfg = layers.resolve("orders-db", &o)?;
/// assert_eq!(cfg.minimum_calls, 20);
/// assert_eq!(cfg.open_duration, Duration::from_secs(15));
/// assert_eq!(cfg.failure_rate_threshold, Some(0.4)); // production
/// assert_eq!(cfg.failure_threshold, None); // `percentage_based` judges the rate only
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub(crate) template: Option<String>,
    pub(crate) environment: Option<Environment>,
    pub(crate) values: Vec<(String, Value)>,
}

impl Overrides {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }
    /// Uses this template (beats the file's `template:`).
    pub fn template(mut self, name: impl Into<String>) -> Self {
        self.template = Some(name.into());
        self
    }
    /// Uses this environment instead of the layers' one.
    pub fn environment(mut self, env: Environment) -> Self {
        self.environment = Some(env);
        self
    }
    /// Sets the field at `path`; checked when resolved.
    pub fn set(mut self, path: &str, value: impl Into<Value>) -> Self {
        self.values.retain(|(p, _)| p != path);
        self.values.push((path.to_owned(), value.into()));
        self
    }
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.template.is_none() && self.environment.is_none() && self.values.is_empty()
    }
    /// `other`'s settings on top of these.
    pub fn merged(&self, other: &Overrides) -> Overrides {
        let mut out = self.clone();
        if other.template.is_some() {
            out.template.clone_from(&other.template);
        }
        if other.environment.is_some() {
            out.environment = other.environment;
        }
        for (p, v) in &other.values {
            out = out.set(p, v.clone());
        }
        out
    }
}
