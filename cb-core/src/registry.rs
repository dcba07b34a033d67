//! Named breakers: get-or-create, lookup, list, reset and snapshot all.

use crate::sync::{MutexExt, RwLockExt};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, RwLock};

use crate::breaker::{BreakerBuilder, BreakerConfig, CircuitBreaker};
use crate::error::{ConfigError, Name};
use crate::metrics::MetricsSnapshot;

/// Where a registry finds the configuration of a breaker it creates by name
/// (configuration files and environment variables plug in here).
pub trait ConfigSource: Send + Sync + 'static {
    /// The configuration of the breaker called `name`.
    fn resolve(&self, name: &str) -> Result<BreakerConfig, ConfigError>;
}

impl<F> ConfigSource for F
where
    F: Fn(&str) -> Result<BreakerConfig, ConfigError> + Send + Sync + 'static,
{
    fn resolve(&self, name: &str) -> Result<BreakerConfig, ConfigError> {
        self(name)
    }
}

/// A set of named breakers. Use [`Registry::global`] for the process-wide one
/// (the one the macros register in) or [`Registry::new`] for your own.
///
/// ```
/// use cb_core::Registry;
///
/// let registry = Registry::new();
/// let a = registry.breaker("payments")?;
/// let b = registry.breaker("payments")?;
/// assert!(a.ptr_eq(&b));                  // one breaker per name
/// assert_eq!(registry.names(), ["payments"]);
/// assert!(registry.get("unknown").is_none()); // lookups never create
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Default)]
pub struct Registry {
    breakers: RwLock<BTreeMap<Name, CircuitBreaker>>,
    source: RwLock<Option<Arc<dyn ConfigSource>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("names", &self.names())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// An empty registry that builds breakers with the default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide registry.
    pub fn global() -> &'static Registry {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(Registry::new)
    }

    /// Sets where breakers created by name get their configuration from.
    pub fn set_config_source(&self, source: impl ConfigSource) {
        *self.source.write_unpoisoned() = Some(Arc::new(source));
    }

    /// The configuration a new breaker called `name` would get.
    pub fn resolve(&self, name: &str) -> Result<BreakerConfig, ConfigError> {
        let source = self.source.read_unpoisoned().clone();
        match source {
            Some(s) => s.resolve(name),
            None => Ok(BreakerConfig::default()),
        }
    }

    /// The breaker called `name`, created on first use with the configuration
    /// from the registry's [`ConfigSource`] (defaults when there is none).
    pub fn breaker(&self, name: impl Into<Name>) -> Result<CircuitBreaker, ConfigError> {
        let name = name.into();
        if let Some(b) = self.get(&name) {
            return Ok(b);
        }
        let config = self.resolve(&name)?;
        self.get_or_create(name, |b| b.config(config))
    }

    /// The breaker called `name`, created on first use by `configure`.
    /// Concurrent first uses build one breaker; the others get it.
    pub fn get_or_create(
        &self,
        name: impl Into<Name>,
        configure: impl FnOnce(BreakerBuilder) -> BreakerBuilder,
    ) -> Result<CircuitBreaker, ConfigError> {
        let name = name.into();
        if let Some(b) = self.get(&name) {
            return Ok(b);
        }
        let built = configure(CircuitBreaker::builder(name.clone())).build()?;
        let mut map = self.breakers.write_unpoisoned();
        Ok(map.entry(name).or_insert(built).clone())
    }

    /// Adds a breaker built elsewhere. Returns the one already registered under
    /// its name, if any, and keeps that one.
    pub fn register(&self, breaker: CircuitBreaker) -> Result<(), CircuitBreaker> {
        let mut map = self.breakers.write_unpoisoned();
        match map.get(breaker.name()) {
            Some(existing) => Err(existing.clone()),
            None => {
                map.insert(breaker.name_handle().clone(), breaker);
                Ok(())
            }
        }
    }

    /// The breaker called `name`, if it exists. Never creates one.
    pub fn get(&self, name: &str) -> Option<CircuitBreaker> {
        self.breakers.read_unpoisoned().get(name).cloned()
    }

    /// Removes the breaker called `name`.
    pub fn remove(&self, name: &str) -> Option<CircuitBreaker> {
        self.breakers.write_unpoisoned().remove(name)
    }

    /// Every name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.breakers
            .read_unpoisoned()
            .keys()
            .map(|n| n.to_string())
            .collect()
    }

    /// Every breaker, sorted by name.
    pub fn list(&self) -> Vec<CircuitBreaker> {
        self.breakers.read_unpoisoned().values().cloned().collect()
    }

    /// Resets every breaker (R34).
    pub fn reset_all(&self) {
        for b in self.list() {
            b.reset();
        }
    }

    /// A snapshot of every breaker, sorted by name.
    pub fn snapshot_all(&self) -> Vec<MetricsSnapshot> {
        self.list().iter().map(CircuitBreaker::metrics).collect()
    }
}

/// A function annotated with `#[circuit_breaker]` (or `#[fallback]`), as the
/// macro declared it at compile time: listed by [`declared`] before its
/// first call, so metrics and admin endpoints can show every breaker.
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[derive(Debug)]
#[non_exhaustive]
pub struct Declared {
    /// The breaker's name (the `name` argument, else `module::function`).
    /// For a `#[tiered]` trait method it is `Trait::method`: that call site's
    /// breakers are named `"{tier}.{method}"` once the client's tiers are
    /// chosen at build time, and its `policies` are `["tiered", "breaker"]`.
    pub name: &'static str,
    /// The module path of the annotated function.
    pub module: &'static str,
    /// The function's name.
    pub function: &'static str,
    /// The template it names, if any.
    pub template: Option<&'static str>,
    /// The environment it pins, if any.
    pub environment: Option<&'static str>,
    /// The other tiers' breaker names, in order (from `#[fallback(...)]`);
    /// the function itself is tier 1.
    pub tiers: &'static [&'static str],
    /// The policy stages around the call, outermost first (R61 order), e.g.
    /// `["fallback", "breaker"]`.
    pub policies: &'static [&'static str],
}

#[cfg(feature = "macros")]
impl Declared {
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        name: &'static str,
        module: &'static str,
        function: &'static str,
        template: Option<&'static str>,
        environment: Option<&'static str>,
        tiers: &'static [&'static str],
        policies: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            module,
            function,
            template,
            environment,
            tiers,
            policies,
        }
    }
}

#[cfg(feature = "macros")]
inventory::collect!(Declared);

/// Every breaker declared with the macros anywhere in the program, sorted by
/// name, whether or not it was called yet (a static inventory built at link
/// time).
///
/// ```
/// // In a program with `#[circuit_breaker(name = "claude")] async fn ask(..)`:
/// let names: Vec<&str> = cb_core::registry::declared().iter().map(|d| d.name).collect();
/// # let _ = names;
/// ```
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub fn declared() -> Vec<&'static Declared> {
    let mut all: Vec<&'static Declared> = inventory::iter::<Declared>.into_iter().collect();
    all.sort_by(|a, b| a.name.cmp(b.name).then(a.module.cmp(b.module)));
    all
}

static CONFIG_ERRORS: std::sync::Mutex<Vec<(String, ConfigError)>> = std::sync::Mutex::new(Vec::new());

/// The breakers whose configuration failed to resolve when the macros
/// created them (an invalid environment variable or file, say), with the
/// error. Such a breaker runs on its declared, compile-time-checked
/// configuration instead (see `#[circuit_breaker]`); a later
/// [`LiveConfig::update`](crate::config::LiveConfig::update), reload or
/// [`install_global`](crate::config::install_global) re-resolves it.
pub fn config_errors() -> Vec<(String, ConfigError)> {
    CONFIG_ERRORS.lock_unpoisoned().clone()
}

#[cfg(feature = "macros")] // only the macros' breakers resolve late
pub(crate) fn record_config_error(name: &str, error: ConfigError) {
    CONFIG_ERRORS.lock_unpoisoned().push((name.to_owned(), error));
}
