//! Named handles: [`Named`], the one get-or-create-by-name registry, and
//! [`Registry`], the breakers' (get-or-create, lookup, list, reset and
//! snapshot all); plus, with the `macros` feature, `declared()`: what the macros declared.

use crate::sync::RwLockExt;
use std::sync::{Arc, OnceLock, RwLock};

use crate::breaker::{BreakerConfig, CircuitBreaker, CircuitBreakerBuilder};
use crate::error::{ConfigError, Name};
use crate::metrics::MetricsSnapshot;

mod declared;
mod named;
#[cfg(feature = "macros")]
mod stages;

pub use declared::config_errors;
#[cfg(feature = "macros")]
pub(crate) use declared::record_config_error;
#[cfg(feature = "macros")]
pub use declared::{Declared, declared};
#[cfg(feature = "macros")]
pub(crate) use declared::{declaration_of, declare_into, record_policies};
pub use named::Named;

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
///
/// It is a [`Named`] registry of breakers plus a configuration source;
/// [`as_named`](Self::as_named) lists it like any other.
#[derive(Default)]
pub struct Registry {
    breakers: Named<CircuitBreaker>,
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
    /// `configure` must not create breakers in this registry (see
    /// [`Named::get_or_create`]).
    pub fn get_or_create(
        &self,
        name: impl Into<Name>,
        configure: impl FnOnce(CircuitBreakerBuilder) -> CircuitBreakerBuilder,
    ) -> Result<CircuitBreaker, ConfigError> {
        self.breakers.get_or_try_create(name, |name| {
            configure(CircuitBreaker::builder(name.clone())).build()
        })
    }

    /// Adds a breaker built elsewhere. Returns the one already registered under
    /// its name, if any, and keeps that one.
    pub fn register(&self, breaker: CircuitBreaker) -> Result<(), CircuitBreaker> {
        self.breakers.insert_new(breaker.name_handle().clone(), breaker)
    }

    /// The breaker called `name`, if it exists. Never creates one.
    pub fn get(&self, name: &str) -> Option<CircuitBreaker> {
        self.breakers.get(name)
    }

    /// Removes the breaker called `name`.
    pub fn remove(&self, name: &str) -> Option<CircuitBreaker> {
        self.breakers.remove(name)
    }

    /// Every name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.breakers.names()
    }

    /// Every breaker, sorted by name.
    pub fn list(&self) -> Vec<CircuitBreaker> {
        self.breakers.values()
    }

    /// The breakers as a [`Named`] registry, to list or export them with
    /// the same code as any other named handles.
    pub fn as_named(&self) -> &Named<CircuitBreaker> {
        &self.breakers
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
