//! Live configuration: the registry's source, run-time updates, reloads.

use crate::sync::{MutexExt, RwLockExt};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use super::explain::Explanation;
use super::file::{ConfigFile, LoadError};
use super::layers::ConfigLayers;
use super::overrides::Overrides;
use super::settings::Settings;
use super::template::Template;
use crate::breaker::{BreakerConfig, CircuitBreaker};
use crate::error::{ConfigError, Name, Violations};
use crate::event::Listener;
use crate::registry::{ConfigSource, Registry};

/// A breaker's configuration changed at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigChange {
    /// The breaker.
    pub name: String,
    /// Its configuration before.
    pub before: BreakerConfig,
    /// Its configuration now.
    pub after: BreakerConfig,
    /// All its settings now.
    pub settings: Settings,
}

type ChangeListener = Arc<dyn Listener<ConfigChange>>;

struct Inner {
    layers: RwLock<ConfigLayers>,
    /// Serialises updates so two never interleave their check and apply.
    update: Mutex<()>,
    listeners: RwLock<Vec<ChangeListener>>,
    path: Mutex<Option<PathBuf>>,
    /// Why the layers could not be built (e.g. a bad `CB_ENVIRONMENT`);
    /// every resolution reports it rather than guessing.
    broken: RwLock<Option<ConfigError>>,
}

/// Configuration layers that can change while breakers run. It is the
/// registry's [`ConfigSource`], so `registry.breaker("claude")` resolves
/// through every layer on first use; [`LiveConfig::update`] and
/// [`LiveConfig::reload`] change existing breakers in place, keeping their
/// state (the window restarts only if its shape changed). An invalid update
/// is rejected whole: no breaker and no layer changes. Listeners hear of
/// every breaker whose configuration changed.
///
/// Updates are serialised. A breaker's own listeners receive
/// `EventKind::ConfigUpdated` while the update is being applied, so they must
/// not start another update from that callback (it would wait for itself);
/// [`LiveConfig::subscribe`] listeners run after the update and may.
///
/// ```
/// use cb_core::config::{ConfigLayers, Environment, LiveConfig, Overrides};
/// use cb_core::{Registry, State};
///
/// let registry = Registry::new();
/// let live = LiveConfig::new(ConfigLayers::new(Environment::Production));
/// registry.set_config_source(live.clone());
///
/// let claude = registry.breaker("claude")?;
/// assert_eq!(claude.config().failure_threshold, Some(3)); // production
/// claude.force_open();
///
/// live.update(&registry, "claude", Overrides::new().set("failure_threshold", 2u32))?;
/// assert_eq!(claude.config().failure_threshold, Some(2));
/// assert_eq!(claude.state(), State::ForcedOpen);          // state kept
///
/// let bad = live.update(&registry, "claude", Overrides::new().set("failure_threshold", 0u32));
/// assert!(bad.is_err());
/// assert_eq!(claude.config().failure_threshold, Some(2)); // old configuration kept
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct LiveConfig {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LiveConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveConfig")
            .field("layers", &*self.read())
            .finish_non_exhaustive()
    }
}

impl LiveConfig {
    /// Live layers starting from `layers`.
    pub fn new(layers: ConfigLayers) -> Self {
        Self::build(layers, None)
    }

    fn build(layers: ConfigLayers, broken: Option<ConfigError>) -> Self {
        Self {
            inner: Arc::new(Inner {
                layers: RwLock::new(layers),
                update: Mutex::new(()),
                listeners: RwLock::new(Vec::new()),
                path: Mutex::new(None),
                broken: RwLock::new(broken),
            }),
        }
    }

    /// The process-wide configuration, installed as [`Registry::global`]'s
    /// source on first use. Its environment comes from `CB_ENVIRONMENT` (see
    /// [`Environment::from_env`](super::Environment::from_env)); replace its
    /// layers with [`install_global`].
    pub fn global() -> &'static LiveConfig {
        static GLOBAL: OnceLock<LiveConfig> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let live = match ConfigLayers::from_env() {
                Ok(layers) => LiveConfig::new(layers),
                Err(e) => {
                    tracing::error!(
                        error = %e,
                        "invalid circuit-breaker environment; breakers do not resolve through the configuration \
                         until install_global replaces it (macro breakers run on their declarations over the built-in layers)"
                    );
                    LiveConfig::build(ConfigLayers::new(Default::default()), Some(e))
                }
            };
            Registry::global().set_config_source(live.clone());
            live
        })
    }

    /// Loads the file at `path` into `layers` (with `layers`' variables for
    /// interpolation) and remembers the path for [`LiveConfig::reload`].
    pub fn from_path(layers: ConfigLayers, path: impl Into<PathBuf>) -> Result<Self, LoadError> {
        let path = path.into();
        let file = ConfigFile::load(&path, layers.env_source())?;
        let live = LiveConfig::new(layers.with_file(file)?);
        *live.inner.path.lock_unpoisoned() = Some(path);
        Ok(live)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, ConfigLayers> {
        self.inner.layers.read_unpoisoned()
    }

    fn broken(&self) -> Result<(), ConfigError> {
        self.inner.broken.read_unpoisoned().clone().map_or(Ok(()), Err)
    }

    /// Whether the layers could not be built (see [`LiveConfig::global`]).
    #[cfg(feature = "macros")]
    pub(crate) fn is_broken(&self) -> bool {
        self.inner.broken.read_unpoisoned().is_some()
    }

    /// A copy of the current layers.
    pub fn layers(&self) -> ConfigLayers {
        self.read().clone()
    }

    /// The configuration of `name` through every layer.
    pub fn resolve(&self, name: &str) -> Result<BreakerConfig, ConfigError> {
        self.broken()?;
        self.read().resolve(name, &Overrides::new())
    }

    /// For every field of `name`, its value and the layer that set it.
    pub fn explain(&self, name: &str) -> Result<Explanation, ConfigError> {
        self.broken()?;
        #[cfg(feature = "macros")]
        {
            // A macro function not called yet: what its first call will declare.
            let mut layers = self.layers();
            crate::registry::declare_into(&mut layers, name);
            layers.explain(name, &Overrides::new())
        }
        #[cfg(not(feature = "macros"))]
        self.read().explain(name, &Overrides::new())
    }

    /// The breaker `name` in `registry`, created on first use with what the
    /// declaring code asks for (`declared`: a template, arguments) under
    /// every higher layer. This is what the `#[circuit_breaker]` expansion calls.
    ///
    /// The declaration is recorded even when this fails (the configuration
    /// is broken, or does not resolve for `name`), so that repairing the
    /// configuration ([`LiveConfig::update`], [`LiveConfig::reload`],
    /// [`install_global`]) resolves the breaker with it, template included.
    ///
    /// ```
    /// use cb_core::config::{ConfigLayers, Environment, LiveConfig, Overrides};
    /// use cb_core::Registry;
    /// let registry = Registry::new();
    /// let live = LiveConfig::new(ConfigLayers::new(Environment::Testing));
    /// let db = live.breaker(&registry, "orders", Overrides::new().template("database"))?;
    /// assert_eq!(db.config().failure_rate_threshold, Some(0.9)); // testing
    /// assert_eq!(db.config().failure_threshold, None); // `percentage_based` judges the rate only
    /// # Ok::<(), cb_core::ConfigError>(())
    /// ```
    pub fn breaker(
        &self,
        registry: &Registry,
        name: impl Into<Name>,
        declared: Overrides,
    ) -> Result<CircuitBreaker, ConfigError> {
        let name = name.into();
        if let Some(b) = registry.get(&name) {
            return Ok(b);
        }
        let _guard = self.inner.update.lock_unpoisoned();
        let config = {
            let mut layers = self.inner.layers.write_unpoisoned();
            layers.declare(&name, declared);
            self.broken()?;
            layers.resolve(&name, &Overrides::new())?
        };
        registry.get_or_create(name, |b| b.config(config))
    }

    /// Adds a template defined in code (e.g. by `template!`) to the layers,
    /// unless one with its name is already there. Breakers already created
    /// keep their configuration; breakers resolved later can use it. It is
    /// kept even while the configuration is broken (a bad `CB_ENVIRONMENT`),
    /// for the breakers resolved once it is repaired.
    pub fn add_template(&self, template: Template) -> Result<(), ConfigError> {
        let _guard = self.inner.update.lock_unpoisoned();
        let mut layers = self.inner.layers.write_unpoisoned();
        if layers.has_code_template(template.name()) {
            return Ok(());
        }
        layers.add_template(template).map(|_| ())
    }

    /// Adds `overrides` to the code layer of `name` (on top of earlier
    /// updates) and applies the result to the breaker in `registry`, if it
    /// exists. On any error nothing changes.
    pub fn update(&self, registry: &Registry, name: &str, overrides: Overrides) -> Result<(), ConfigError> {
        self.broken()?;
        self.transact(registry, Some(name), |layers| {
            let merged = layers
                .overrides(name)
                .cloned()
                .unwrap_or_default()
                .merged(&overrides);
            layers.set_overrides(name, merged);
            Ok(())
        })
        .map(|_| ())
    }

    /// Replaces the file layer and re-resolves every breaker in `registry`.
    /// All or nothing.
    pub fn replace_file(
        &self,
        registry: &Registry,
        file: ConfigFile,
    ) -> Result<Vec<ConfigChange>, ConfigError> {
        self.broken()?;
        self.transact(registry, None, |layers| {
            *layers = layers.clone().with_file(file)?;
            Ok(())
        })
    }

    /// Replaces every layer (e.g. a new environment) and re-resolves every
    /// breaker in `registry`; code overrides made with
    /// [`LiveConfig::update`] and declarations are kept. All or nothing.
    pub fn replace_layers(
        &self,
        registry: &Registry,
        new: ConfigLayers,
    ) -> Result<Vec<ConfigChange>, ConfigError> {
        self.broken()?;
        self.transact(registry, None, |layers| {
            let mut new = new;
            new.keep_code_of(layers);
            *layers = new;
            Ok(())
        })
    }

    /// Switches template inference from breaker names on or off (see
    /// [`ConfigLayers::with_template_inference`]) and re-resolves every
    /// breaker in `registry`. All or nothing.
    pub fn set_template_inference(
        &self,
        registry: &Registry,
        on: bool,
    ) -> Result<Vec<ConfigChange>, ConfigError> {
        self.broken()?;
        self.transact(registry, None, |layers| {
            layers.set_template_inference(on);
            Ok(())
        })
    }

    /// Re-reads the file given to [`LiveConfig::from_path`] and applies it
    /// like [`LiveConfig::replace_file`].
    pub fn reload(&self, registry: &Registry) -> Result<Vec<ConfigChange>, LoadError> {
        self.broken()?;
        let path = self.inner.path.lock_unpoisoned().clone();
        let Some(path) = path else {
            return Err(LoadError::Invalid(ConfigError::new(vec![
                crate::error::Violation {
                    field: "<file>".into(),
                    value: "none".into(),
                    allowed: "reload needs a LiveConfig made with `from_path`".into(),
                },
            ])));
        };
        let file = ConfigFile::load(&path, self.read().env_source())?;
        Ok(self.replace_file(registry, file)?)
    }

    /// Calls `listener` for every breaker whose configuration an update or
    /// reload changed, after the change took effect, on the updating thread,
    /// outside any lock; a panicking listener is contained (see [`Listener`]).
    pub fn subscribe(&self, listener: impl Listener<ConfigChange>) {
        self.inner.listeners.write_unpoisoned().push(Arc::new(listener));
    }

    /// Changes a copy of the layers with `edit`, resolves the affected
    /// breakers (`only`, or all of `registry`) and, if everything is valid,
    /// swaps the layers in and updates the breakers.
    fn transact(
        &self,
        registry: &Registry,
        only: Option<&str>,
        edit: impl FnOnce(&mut ConfigLayers) -> Result<(), ConfigError>,
    ) -> Result<Vec<ConfigChange>, ConfigError> {
        let _guard = self.inner.update.lock_unpoisoned();
        let mut candidate = self.read().clone();
        edit(&mut candidate)?;
        let mut v = Violations::new();
        let mut planned: Vec<(CircuitBreaker, Settings, BreakerConfig)> = Vec::new();
        let targets: Vec<String> = match only {
            Some(name) => vec![name.to_owned()],
            None => registry.names(),
        };
        for name in &targets {
            match candidate.resolve_settings(name, &Overrides::new()) {
                Ok(settings) => {
                    let config = settings.breaker_config();
                    if let Err(e) = config.validate() {
                        v.extend(e.prefixed(name));
                    } else if let Some(b) = registry.get(name) {
                        planned.push((b, settings, config));
                    }
                }
                Err(e) => v.extend(e.prefixed(name)),
            }
        }
        v.finish()?;
        let mut changes = Vec::new();
        for (breaker, settings, after) in planned {
            let before = breaker.config();
            if before != after {
                // Validated above, so this cannot fail; if it did, the breaker keeps its old config.
                if let Err(e) = breaker.update_config(after.clone()) {
                    tracing::error!(breaker = breaker.name(), error = %e, "configuration update rejected");
                    continue;
                }
                changes.push(ConfigChange {
                    name: breaker.name().to_owned(),
                    before,
                    after,
                    settings,
                });
            }
        }
        *self.inner.layers.write_unpoisoned() = candidate;
        drop(_guard);
        let listeners: Vec<ChangeListener> =
            self.inner.listeners.read().map(|l| l.clone()).unwrap_or_default();
        for change in &changes {
            for l in &listeners {
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l.on_event(change))).is_err() {
                    tracing::error!(breaker = %change.name, "a configuration listener panicked");
                }
            }
        }
        Ok(changes)
    }
}

impl ConfigSource for LiveConfig {
    fn resolve(&self, name: &str) -> Result<BreakerConfig, ConfigError> {
        LiveConfig::resolve(self, name)
    }
}

/// Makes `layers` the process-wide configuration: [`LiveConfig::global`]
/// takes them (existing breakers of [`Registry::global`] are re-resolved,
/// all or nothing) and stays the global registry's source.
///
/// ```
/// use cb_core::config::{ConfigLayers, Environment, install_global};
/// let live = install_global(ConfigLayers::new(Environment::Staging))?;
/// assert_eq!(cb_core::Registry::global().breaker("inventory")?.config().failure_threshold, Some(5));
/// assert_eq!(live.resolve("inventory")?.failure_threshold, Some(5));
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
pub fn install_global(layers: ConfigLayers) -> Result<&'static LiveConfig, ConfigError> {
    let live = LiveConfig::global();
    live.transact(Registry::global(), None, |current| {
        let mut layers = layers;
        layers.keep_code_of(current);
        *current = layers;
        Ok(())
    })?;
    *live.inner.broken.write_unpoisoned() = None;
    Registry::global().set_config_source(live.clone());
    Ok(live)
}
