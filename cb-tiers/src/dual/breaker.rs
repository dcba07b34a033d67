//! The dual-path breaker of one server: two full path breakers, read
//! together.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cb_core::{
    BreakerConfig, CircuitBreaker, CircuitBreakerBuilder, ConfigError, MetricsSnapshot, Name, State,
};

use super::listener::AggregateTransition;
use super::listener::Listeners;
use super::route::{AvailablePaths, Route, RouteKind};
use super::state::{AggregateState, aggregate_state};
use super::state::{Class, class};
use cb_core::event::Listener;

/// One of a server's two paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Path {
    /// The MCP (tool protocol) path.
    Mcp,
    /// The REST path.
    Rest,
}

impl Path {
    /// `mcp` or `rest`.
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Mcp => "mcp",
            Path::Rest => "rest",
        }
    }
}

/// A snapshot of a dual-path breaker.
#[derive(Debug, Clone)]
pub struct DualMetrics {
    /// The server.
    pub server: Name,
    /// The aggregate state.
    pub state: AggregateState,
    /// The paths available now (advisory, nothing reserved).
    pub available: RouteKind,
    /// When a path may admit again (R68).
    pub retry_after: Option<Duration>,
    /// The MCP path's breaker metrics.
    pub mcp: MetricsSnapshot,
    /// The REST path's breaker metrics.
    pub rest: MetricsSnapshot,
}

type Customize = Arc<dyn Fn(CircuitBreakerBuilder) -> CircuitBreakerBuilder + Send + Sync>;

/// Builds a [`DualPathBreaker`].
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct DualPathBreakerBuilder {
    name: Name,
    mcp: BreakerConfig,
    rest: BreakerConfig,
    require_both: bool,
    customize: Option<Customize>,
    listeners: Vec<Arc<dyn Listener<AggregateTransition>>>,
}

impl fmt::Debug for DualPathBreakerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DualPathBreakerBuilder")
            .field("name", &self.name)
            .field("mcp", &self.mcp)
            .field("rest", &self.rest)
            .field("require_both_paths_healthy", &self.require_both)
            .field("listeners", &self.listeners.len())
            .finish_non_exhaustive()
    }
}

impl DualPathBreakerBuilder {
    /// Registers a listener from the start, as
    /// [`CircuitBreakerBuilder::listener`](cb_core::CircuitBreakerBuilder::listener)
    /// does; the same as [`DualPathBreaker::subscribe`] right after `build`.
    pub fn listener(mut self, listener: impl Listener<AggregateTransition>) -> Self {
        self.listeners.push(Arc::new(listener));
        self
    }

    /// The MCP path's whole breaker configuration.
    pub fn mcp_config(mut self, config: BreakerConfig) -> Self {
        self.mcp = config;
        self
    }

    /// The REST path's whole breaker configuration.
    pub fn rest_config(mut self, config: BreakerConfig) -> Self {
        self.rest = config;
        self
    }

    /// Consecutive failures that open the MCP path.
    pub fn mcp_failure_threshold(mut self, n: u32) -> Self {
        self.mcp.failure_threshold = Some(n);
        self
    }

    /// Consecutive failures that open the REST path.
    pub fn rest_failure_threshold(mut self, n: u32) -> Self {
        self.rest.failure_threshold = Some(n);
        self
    }

    /// How long either path stays open after a trip.
    pub fn open_duration(mut self, d: Duration) -> Self {
        self.mcp.open_duration = d;
        self.rest.open_duration = d;
        self
    }

    /// Probes admitted at once on a half-open path (both paths).
    pub fn half_open_max_calls(mut self, n: u32) -> Self {
        self.mcp.half_open_max_calls = n;
        self.rest.half_open_max_calls = n;
        self
    }

    /// Successful probes that close a path (both paths).
    pub fn success_threshold(mut self, n: u32) -> Self {
        self.mcp.success_threshold = n;
        self.rest.success_threshold = n;
        self
    }

    /// Whether the aggregate reports `OPEN` as soon as either path is open
    /// (R67 strict column). Routing is unaffected: a healthy path keeps serving.
    pub fn require_both_paths_healthy(mut self, yes: bool) -> Self {
        self.require_both = yes;
        self
    }

    /// Adjusts both path breakers' builders: a clock, listeners...
    pub fn configure(
        mut self,
        f: impl Fn(CircuitBreakerBuilder) -> CircuitBreakerBuilder + Send + Sync + 'static,
    ) -> Self {
        self.customize = Some(Arc::new(f));
        self
    }

    /// The same settings for another server (how a registry's template
    /// becomes each server's breaker).
    pub(super) fn with_name(mut self, name: Name) -> Self {
        self.name = name;
        self
    }

    /// Validates both paths' configurations (every problem, prefixed `mcp.` /
    /// `rest.`) and builds. The path breakers are named `"{server}.mcp"` and
    /// `"{server}.rest"`.
    pub fn build(&self) -> Result<DualPathBreaker, ConfigError> {
        let build = |path: Path, config: &BreakerConfig| {
            let mut b =
                CircuitBreaker::builder(format!("{}.{}", self.name, path.as_str())).config(config.clone());
            if let Some(f) = &self.customize {
                b = f(b);
            }
            b.build().map_err(|e| e.prefixed(path.as_str()))
        };
        let (mcp, rest) = match (build(Path::Mcp, &self.mcp), build(Path::Rest, &self.rest)) {
            (Ok(m), Ok(r)) => (m, r),
            (Err(a), Err(b)) => {
                let mut all = a.into_violations();
                all.extend(b.into_violations());
                return Err(ConfigError::new(all));
            }
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let initial = aggregate_state(mcp.state(), rest.state(), self.require_both);
        Ok(DualPathBreaker {
            inner: Arc::new(Inner {
                name: self.name.clone(),
                mcp,
                rest,
                require_both: self.require_both,
                listeners: Listeners::new(initial, self.listeners.clone()),
            }),
        })
    }
}

/// The dual-path breaker of one server. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct DualPathBreaker {
    inner: Arc<Inner>,
}

struct Inner {
    name: Name,
    mcp: CircuitBreaker,
    rest: CircuitBreaker,
    require_both: bool,
    listeners: Listeners,
}

impl fmt::Debug for DualPathBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DualPathBreaker")
            .field("server", &self.inner.name)
            .field("mcp", &self.inner.mcp)
            .field("rest", &self.inner.rest)
            .field("require_both_paths_healthy", &self.inner.require_both)
            .finish()
    }
}

impl DualPathBreaker {
    /// Starts building the dual-path breaker of server `name`, with the
    /// default breaker configuration on both paths.
    pub fn builder(name: impl Into<Name>) -> DualPathBreakerBuilder {
        DualPathBreakerBuilder {
            name: name.into(),
            mcp: BreakerConfig::default(),
            rest: BreakerConfig::default(),
            require_both: false,
            customize: None,
            listeners: Vec::new(),
        }
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// The breaker of `path`.
    pub fn path(&self, path: Path) -> &CircuitBreaker {
        match path {
            Path::Mcp => &self.inner.mcp,
            Path::Rest => &self.inner.rest,
        }
    }

    /// Whether the aggregate needs both paths healthy to leave `OPEN`.
    pub fn requires_both_paths_healthy(&self) -> bool {
        self.inner.require_both
    }

    /// The aggregate state (R67), from the paths' current states (an open path
    /// whose time has passed reads half-open, R18, R69a).
    pub fn state(&self) -> AggregateState {
        let s = aggregate_state(
            self.inner.mcp.state(),
            self.inner.rest.state(),
            self.inner.require_both,
        );
        self.inner.listeners.observe(&self.inner.name, s);
        s
    }

    /// The earliest moment any open path admits again (R68): the minimum over
    /// open paths of their `retry_after`. `None` when no path is open (or only
    /// forced open, which never reopens by itself).
    pub fn retry_after(&self) -> Option<Duration> {
        [self.inner.mcp.retry_after(), self.inner.rest.retry_after()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Decides the routing of one call by asking both paths for admission,
    /// and hands over the permits it took (R66).
    pub fn route(&self) -> Route<'_> {
        let route = match (self.inner.mcp.try_acquire(), self.inner.rest.try_acquire()) {
            (Ok(mcp), Ok(rest)) => Route::Both { mcp, rest },
            (Ok(mcp), Err(_)) => Route::McpOnly(mcp),
            (Err(_), Ok(rest)) => Route::RestOnly(rest),
            (Err(m), Err(r)) => Route::None {
                retry_after: [m.retry_after(), r.retry_after()].into_iter().flatten().min(),
            },
        };
        self.state();
        route
    }

    /// Which paths admit calls now, without reserving anything.
    pub fn available_paths(&self) -> AvailablePaths {
        let ok = |s: State| class(s) != Class::O;
        AvailablePaths {
            mcp: ok(self.inner.mcp.state()),
            rest: ok(self.inner.rest.state()),
        }
    }

    /// Feeds a pair of health results (`None`: that path was not checked) and
    /// returns the new aggregate. Each result goes through its path's breaker
    /// like a call: a path that refuses admission (open, or half-open with
    /// every probe slot taken) ignores the result, so recovery follows the
    /// breaker's own open duration and probes (R17, R21, R22).
    pub fn evaluate(&self, mcp_healthy: Option<bool>, rest_healthy: Option<bool>) -> AggregateState {
        for (breaker, healthy) in [(&self.inner.mcp, mcp_healthy), (&self.inner.rest, rest_healthy)] {
            if let Some(ok) = healthy
                && let Ok(permit) = breaker.try_acquire()
            {
                if ok { permit.success() } else { permit.failure() }
            }
        }
        self.state()
    }

    /// Resets both paths (R34).
    pub fn reset(&self) {
        self.inner.mcp.reset();
        self.inner.rest.reset();
        self.state();
    }

    /// Resets one path; the other is untouched (R70).
    pub fn reset_path(&self, path: Path) {
        self.path(path).reset();
        self.state();
    }

    /// Forces one path open (R32); the other is untouched (R70).
    pub fn force_open_path(&self, path: Path) {
        self.path(path).force_open();
        self.state();
    }

    /// Calls `listener` on every change of the aggregate state (R70). Changes
    /// are noticed whenever the aggregate is read or recomputed (`state`,
    /// `route`, `evaluate`, resets), on the thread that noticed, outside any
    /// lock; a panicking listener is contained (see [`Listener`]).
    pub fn subscribe(&self, listener: impl Listener<AggregateTransition>) {
        self.inner.listeners.subscribe(listener);
    }

    /// A snapshot: aggregate, available paths, `retry_after`, per-path metrics.
    pub fn metrics(&self) -> DualMetrics {
        DualMetrics {
            server: self.inner.name.clone(),
            state: self.state(),
            available: self.available_paths().kind(),
            retry_after: self.retry_after(),
            mcp: self.inner.mcp.metrics(),
            rest: self.inner.rest.metrics(),
        }
    }
}
