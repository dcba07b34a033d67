//! Finding configurations by what operators label them: tags and
//! environment (`metadata:`), and `priority`. Labels change no behaviour;
//! these queries are how dashboards, runbooks and admin endpoints use them.

use std::collections::BTreeSet;

use super::environment::Environment;
use super::layers::ConfigLayers;
use super::live::LiveConfig;
use super::metadata::Metadata;
use super::overrides::Overrides;
use crate::error::{ConfigError, Violations};

impl ConfigLayers {
    /// The metadata the file gives the breaker `name`: its instance's
    /// `metadata:` over its `base_config` chain's over `configs.default`'s
    /// (tags combined, the nearest value of the others). Empty for a
    /// breaker the file does not name and no `configs.default` labels.
    pub fn metadata(&self, name: &str) -> Metadata {
        let file = self.file();
        let mut bodies = Vec::new();
        if let Some(d) = file.configs.get("default") {
            bodies.push(d);
        }
        if let Some(instance) = file.instances.get(name) {
            // The chain was checked when the file was added (no cycle, no unknown name).
            let mut chain = Vec::new();
            let mut seen: Vec<&str> = Vec::new();
            let mut current = instance.base.as_deref();
            while let Some(n) = current
                && !seen.contains(&n)
                && let Some(body) = file.configs.get(n)
            {
                seen.push(n);
                if n != "default" {
                    chain.push(body);
                }
                current = body.base.as_deref();
            }
            bodies.extend(chain.into_iter().rev());
            bodies.push(instance);
        }
        bodies
            .into_iter()
            .fold(Metadata::default(), |acc, body| body.metadata.over(&acc))
    }

    /// The breakers the file configures by name (its instances) whose
    /// [`metadata`](Self::metadata) has `tag`, sorted.
    ///
    /// ```
    /// # #[cfg(feature = "yaml")] {
    /// use cb_core::config::{ConfigFile, ConfigLayers, Environment, NoEnv};
    /// let yaml = r#"
    /// configs:
    ///   llm: { metadata: { tags: [ai] } }
    /// instances:
    ///   claude: { base_config: llm, metadata: { tags: [critical], environment: production } }
    ///   ollama: { base_config: llm, metadata: { environment: development } }
    ///   orders: { metadata: { tags: [critical] } }
    /// "#;
    /// let layers = ConfigLayers::new(Environment::Production)
    ///     .with_env_source(NoEnv)
    ///     .with_file(ConfigFile::from_yaml(yaml, &NoEnv)?)?;
    /// assert_eq!(layers.tagged("critical"), ["claude", "orders"]);
    /// assert_eq!(layers.tagged("ai"), ["claude", "ollama"]); // from their shared config
    /// assert_eq!(layers.for_environment(Environment::Development), ["ollama"]);
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tagged(&self, tag: &str) -> Vec<String> {
        self.instances_where(|m| m.tags.iter().any(|t| t == tag))
    }

    /// The breakers the file configures by name whose
    /// [`metadata`](Self::metadata) says `environment: <environment>`,
    /// sorted. An instance that names no environment is written for none in
    /// particular and is not listed.
    pub fn for_environment(&self, environment: Environment) -> Vec<String> {
        self.instances_where(|m| m.environment == Some(environment))
    }

    fn instances_where(&self, keep: impl Fn(&Metadata) -> bool) -> Vec<String> {
        self.file()
            .instance_names()
            .filter(|name| keep(&self.metadata(name)))
            .map(str::to_owned)
            .collect()
    }

    /// Every breaker these layers name (the file's instances, those declared
    /// or given overrides in code) whose resolved `priority` is set, most
    /// critical (1) first, then by name. `priority` is an operator's label:
    /// this is what it is for; it changes no breaker behaviour. Fails with
    /// every breaker whose configuration does not resolve.
    ///
    /// ```
    /// use cb_core::config::{ConfigLayers, Environment, Overrides};
    /// let mut layers = ConfigLayers::new(Environment::Production);
    /// layers.declare("claude", Overrides::new().set("priority", 1u32));
    /// layers.declare("search", Overrides::new().set("priority", 3u32));
    /// layers.declare("cache", Overrides::new());
    /// assert_eq!(layers.by_priority()?, [("claude".to_string(), 1), ("search".to_string(), 3)]);
    /// # Ok::<(), cb_core::ConfigError>(())
    /// ```
    pub fn by_priority(&self) -> Result<Vec<(String, u32)>, ConfigError> {
        let names: BTreeSet<&str> = self.file().instance_names().chain(self.code_names()).collect();
        prioritized(names, |name| {
            self.explain(name, &Overrides::new())
                .map(|e| e.settings.breaker.priority)
        })
    }
}

/// `(name, priority)` for the names whose priority is set, most critical
/// first; every resolution error is reported under the breaker's name.
fn prioritized<'a>(
    names: impl IntoIterator<Item = &'a str>,
    priority: impl Fn(&str) -> Result<Option<u32>, ConfigError>,
) -> Result<Vec<(String, u32)>, ConfigError> {
    let mut v = Violations::new();
    let mut out = Vec::new();
    for name in names {
        match priority(name) {
            Ok(Some(p)) => out.push((name.to_owned(), p)),
            Ok(None) => {}
            Err(e) => {
                for violation in e.into_violations() {
                    v.push(
                        format!("{name}.{}", violation.field),
                        violation.value,
                        violation.allowed,
                    );
                }
            }
        }
    }
    v.finish()?;
    out.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

impl LiveConfig {
    /// [`ConfigLayers::metadata`] of the current layers.
    pub fn metadata(&self, name: &str) -> Metadata {
        self.layers().metadata(name)
    }

    /// [`ConfigLayers::tagged`] of the current layers.
    pub fn tagged(&self, tag: &str) -> Vec<String> {
        self.layers().tagged(tag)
    }

    /// [`ConfigLayers::for_environment`] of the current layers.
    pub fn for_environment(&self, environment: Environment) -> Vec<String> {
        self.layers().for_environment(environment)
    }

    /// [`ConfigLayers::by_priority`] of the current layers, also counting
    /// (with the `macros` feature) every function declared with
    /// `#[circuit_breaker]`, resolved as its first call will be.
    pub fn by_priority(&self) -> Result<Vec<(String, u32)>, ConfigError> {
        let layers = self.layers();
        #[allow(unused_mut)]
        let mut names: BTreeSet<String> = layers
            .file()
            .instance_names()
            .chain(layers.code_names())
            .map(str::to_owned)
            .collect();
        #[cfg(feature = "macros")]
        names.extend(crate::registry::declared().iter().map(|d| d.name.to_owned()));
        prioritized(names.iter().map(String::as_str), |name| {
            self.explain(name).map(|e| e.settings.breaker.priority)
        })
    }
}
