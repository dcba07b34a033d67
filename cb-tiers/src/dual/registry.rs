//! The dual-path breakers of many servers, by name.

use cb_core::registry::Named;
use cb_core::{ConfigError, Name};

use super::breaker::{DualMetrics, DualPathBreaker, DualPathBreakerBuilder};

/// The dual-path breakers of many servers, made on first use from one
/// template. A [`Named`] registry of dual-path breakers;
/// [`as_named`](Self::as_named) lists it like any other.
///
/// ```
/// use cb_tiers::dual::{DualPathBreaker, DualPathRegistry};
/// let servers = DualPathRegistry::new(DualPathBreaker::builder("template").mcp_failure_threshold(2));
/// let github = servers.get_or_create("github")?;
/// assert_eq!(github.name(), "github");
/// assert!(servers.get("github").is_some());
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct DualPathRegistry {
    template: DualPathBreakerBuilder,
    servers: Named<DualPathBreaker>,
}

impl DualPathRegistry {
    /// A registry whose servers are built like `template` (its name is replaced).
    pub fn new(template: DualPathBreakerBuilder) -> Self {
        Self {
            template,
            servers: Named::new(),
        }
    }

    /// The breaker of `server`, built from the template on first use (once,
    /// however many callers ask at the same time).
    pub fn get_or_create(&self, server: impl Into<Name>) -> Result<DualPathBreaker, ConfigError> {
        self.servers.get_or_try_create(server, |name| {
            self.template.clone().with_name(name.clone()).build()
        })
    }

    /// The breaker of `server`, if it exists.
    pub fn get(&self, server: &str) -> Option<DualPathBreaker> {
        self.servers.get(server)
    }

    /// Every server's name, sorted.
    pub fn servers(&self) -> Vec<String> {
        self.servers.names()
    }

    /// Every server's snapshot, sorted by name.
    pub fn metrics_all(&self) -> Vec<DualMetrics> {
        self.servers
            .values()
            .iter()
            .map(DualPathBreaker::metrics)
            .collect()
    }

    /// Resets every server's two paths.
    pub fn reset_all(&self) {
        self.servers.values().iter().for_each(DualPathBreaker::reset);
    }

    /// The servers as a [`Named`] registry, to list or export them with the
    /// same code as any other named handles.
    pub fn as_named(&self) -> &Named<DualPathBreaker> {
        &self.servers
    }
}
