//! The four deployment environments and the variable that picks one.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use cb_syntax::names::{self, ENVIRONMENTS};

use super::env::EnvSource;
use super::schema::{Value, backticked, nearest};
use crate::error::{ConfigError, Violation};

/// The variable that selects the environment.
pub const ENV_VAR: &str = "CB_ENVIRONMENT";
/// The legacy variable the Python services read, used when [`ENV_VAR`] is
/// unset.
pub const LEGACY_ENV_VAR: &str = "ENVIRONMENT";

/// A deployment environment. Each sets the three values of the Python services' table
/// (failure threshold, open duration, failure rate) for breakers whose
/// templates do not: a template's own values, and its values for this
/// environment, beat these (see [`ConfigLayers`](super::ConfigLayers) for the order).
///
/// | environment | failure_threshold | open_duration | failure_rate_threshold |
/// |---|---|---|---|
/// | development | 10 | 180 s | 0.7 |
/// | staging | 5 | 90 s | 0.5 |
/// | production | 3 | 60 s | 0.4 |
/// | testing | 20 | 300 s | 0.9 |
///
/// ```
/// use cb_core::config::Environment;
/// assert_eq!("prod".parse::<Environment>()?, Environment::Production);
/// assert_eq!(Environment::default(), Environment::Production);
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Environment {
    /// Lenient: 10 failures, 180 s, 70 %.
    Development,
    /// Moderate: 5 failures, 90 s, 50 %.
    Staging,
    /// Strict, and the default when nothing selects one: 3 failures, 60 s, 40 %.
    #[default]
    Production,
    /// Very lenient, for CI: 20 failures, 300 s, 90 %.
    Testing,
}

impl Environment {
    /// Every environment, in documentation order.
    pub const ALL: [Environment; 4] = [
        Environment::Development,
        Environment::Staging,
        Environment::Production,
        Environment::Testing,
    ];

    /// The canonical name ([`cb_syntax::names::ENVIRONMENTS`], in the order of [`Environment::ALL`]).
    pub fn as_str(self) -> &'static str {
        ENVIRONMENTS[self as usize]
    }

    /// The values this environment sets, by field path.
    pub fn values(self) -> [(&'static str, Value); 3] {
        let (threshold, secs, rate) = match self {
            Environment::Development => (10, 180, 0.7),
            Environment::Staging => (5, 90, 0.5),
            Environment::Production => (3, 60, 0.4),
            Environment::Testing => (20, 300, 0.9),
        };
        [
            ("failure_threshold", Value::Int(threshold)),
            ("open_duration", Value::Duration(Duration::from_secs(secs))),
            ("failure_rate_threshold", Value::Float(rate)),
        ]
    }

    /// The environment named by [`ENV_VAR`] (`CB_ENVIRONMENT`), else by
    /// [`LEGACY_ENV_VAR`] (`ENVIRONMENT`), else [`Environment::Production`].
    ///
    /// Production is the default because a deployment that forgot the
    /// variable should get the strict thresholds; a laptop that forgot it
    /// only sees breakers trip a little sooner.
    pub fn from_env(env: &dyn EnvSource) -> Result<Environment, ConfigError> {
        for var in [ENV_VAR, LEGACY_ENV_VAR] {
            if let Some(value) = env.var(var).filter(|v| !v.trim().is_empty()) {
                return value.parse().map_err(|e: ConfigError| {
                    ConfigError::new(
                        e.into_violations()
                            .into_iter()
                            .map(|v| Violation {
                                field: var.into(),
                                ..v
                            })
                            .collect(),
                    )
                });
            }
        }
        Ok(Environment::default())
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = ConfigError;

    /// Case-insensitive; accepts `dev`, `stage`, `prod` and `test` too.
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        if let Some(name) = names::environment(s) {
            return Ok(Environment::ALL
                .into_iter()
                .find(|e| e.as_str() == name)
                .unwrap_or_default());
        }
        let mut allowed = format!("must be one of {}", backticked(ENVIRONMENTS));
        if let Some(best) = nearest(&s.trim().to_ascii_lowercase(), &ENVIRONMENTS) {
            allowed.push_str(&format!("; did you mean `{best}`?"));
        }
        Err(ConfigError::new(vec![Violation {
            field: "environment".into(),
            value: format!("{s:?}"),
            allowed,
        }]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_are_the_shared_table_in_order() {
        assert_eq!(Environment::ALL.map(Environment::as_str), ENVIRONMENTS);
        for e in Environment::ALL {
            assert_eq!(e.as_str().parse::<Environment>().unwrap(), e);
        }
    }

    #[test]
    fn selected_by_variable_with_legacy_fallback_and_default() {
        assert_eq!(
            Environment::from_env(&vars(&[])).unwrap(),
            Environment::Production
        );
        assert_eq!(
            Environment::from_env(&vars(&[("ENVIRONMENT", "staging")])).unwrap(),
            Environment::Staging
        );
        let both = vars(&[("ENVIRONMENT", "staging"), ("CB_ENVIRONMENT", "Testing")]);
        assert_eq!(Environment::from_env(&both).unwrap(), Environment::Testing);
    }

    #[test]
    fn unknown_environment_names_the_variable_and_suggests() {
        let err = Environment::from_env(&vars(&[("CB_ENVIRONMENT", "producton")])).unwrap_err();
        assert_eq!(
            err.violations()[0].to_string(),
            "CB_ENVIRONMENT = \"producton\": must be one of `development`, `staging`, `production`, \
             `testing`; did you mean `production`?"
        );
    }
}
