//! The dual-path breaker: per server, an MCP path and a REST path, each a full
//! breaker with its own thresholds, an aggregate state and a routing decision
//! that reserves what it reports (R66–R70).
//!
//! ```
//! use cb_core::clock::ManualClock;
//! use cb_tiers::dual::{AggregateState, DualPathBreaker, Route};
//! use std::time::Duration;
//!
//! let clock = ManualClock::new();
//! let c = clock.clone();
//! let server = DualPathBreaker::builder("github")
//!     .mcp_failure_threshold(2)
//!     .rest_failure_threshold(3)
//!     .open_duration(Duration::from_secs(30))
//!     .configure(move |b| b.clock(c.clone()))
//!     .build()?;
//!
//! // Two failed MCP health checks open the MCP path; REST keeps serving.
//! server.evaluate(Some(false), Some(true));
//! server.evaluate(Some(false), Some(true));
//! assert_eq!(server.state(), AggregateState::RestOnly);
//!
//! match server.route() {
//!     Route::RestOnly(permit) => permit.success(), // call over REST, record how it went
//!     other => unreachable!("{other:?}"),
//! }
//! assert_eq!(server.retry_after(), Some(Duration::from_secs(30)));
//! # Ok::<(), cb_core::ConfigError>(())
//! ```

use cb_core::sync::MutexExt;
use std::collections::HashMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use cb_core::{
    BreakerBuilder, BreakerConfig, CircuitBreaker, ConfigError, MetricsSnapshot, Name, Permit, State,
};

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

/// The aggregate state of a server's two paths (R67).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateState {
    /// Both paths closed.
    Closed,
    /// Both paths open (or, with `require_both_paths_healthy`, either path).
    Open,
    /// Recovery under way on a path, or a mix the other states do not name.
    HalfOpen,
    /// The MCP path is closed and the REST path open.
    McpOnly,
    /// The REST path is closed and the MCP path open.
    RestOnly,
}

impl AggregateState {
    /// `CLOSED`, `OPEN`, `HALF_OPEN`, `MCP_ONLY` or `REST_ONLY`, as the prior art names them.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateState::Closed => "CLOSED",
            AggregateState::Open => "OPEN",
            AggregateState::HalfOpen => "HALF_OPEN",
            AggregateState::McpOnly => "MCP_ONLY",
            AggregateState::RestOnly => "REST_ONLY",
        }
    }

    fn code(self) -> u8 {
        match self {
            AggregateState::Closed => 0,
            AggregateState::Open => 1,
            AggregateState::HalfOpen => 2,
            AggregateState::McpOnly => 3,
            AggregateState::RestOnly => 4,
        }
    }

    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => AggregateState::Closed,
            1 => AggregateState::Open,
            2 => AggregateState::HalfOpen,
            3 => AggregateState::McpOnly,
            4 => AggregateState::RestOnly,
            _ => return None,
        })
    }
}

impl fmt::Display for AggregateState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    C,
    H,
    O,
}

fn class(s: State) -> Class {
    match s {
        State::HalfOpen => Class::H,
        State::Open | State::ForcedOpen => Class::O,
        // Closed, Disabled and MetricsOnly admit freely: C in the R67 table.
        _ => Class::C,
    }
}

/// The aggregate of two path states: a pure function, exactly the R67 table.
///
/// ```
/// use cb_core::State;
/// use cb_tiers::dual::{aggregate_state, AggregateState};
/// assert_eq!(aggregate_state(State::Closed, State::Open, false), AggregateState::McpOnly);
/// assert_eq!(aggregate_state(State::Closed, State::Open, true), AggregateState::Open);
/// ```
pub fn aggregate_state(mcp: State, rest: State, require_both_paths_healthy: bool) -> AggregateState {
    use Class::{C, O};
    match (class(mcp), class(rest)) {
        (C, C) => AggregateState::Closed,
        (O, O) => AggregateState::Open,
        (_, O) | (O, _) if require_both_paths_healthy => AggregateState::Open,
        (C, O) => AggregateState::McpOnly,
        (O, C) => AggregateState::RestOnly,
        _ => AggregateState::HalfOpen,
    }
}

/// Which paths a call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// Both paths.
    Both,
    /// Only the MCP path.
    McpOnly,
    /// Only the REST path.
    RestOnly,
    /// Neither: use a fallback or cached data.
    None,
}

impl RouteKind {
    /// `both`, `mcp-only`, `rest-only` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Both => "both",
            RouteKind::McpOnly => "mcp-only",
            RouteKind::RestOnly => "rest-only",
            RouteKind::None => "none",
        }
    }
}

/// A routing decision holding the permits it reports (R66): a half-open
/// path's probe slot is reserved at decision time, so two callers cannot both
/// be routed to one free slot.
///
/// Record each permit's outcome once the call over that path is done;
/// dropping a permit unused records `cancelled` and frees its slot.
#[derive(Debug)]
pub enum Route<'a> {
    /// Both paths admitted.
    Both {
        /// The MCP path's permit.
        mcp: Permit<'a>,
        /// The REST path's permit.
        rest: Permit<'a>,
    },
    /// Only the MCP path admitted.
    McpOnly(Permit<'a>),
    /// Only the REST path admitted.
    RestOnly(Permit<'a>),
    /// Neither admitted: serve a fallback or cached data.
    None {
        /// When a path may admit again (R68), when known.
        retry_after: Option<Duration>,
    },
}

impl Route<'_> {
    /// The decision without its permits.
    pub fn kind(&self) -> RouteKind {
        match self {
            Route::Both { .. } => RouteKind::Both,
            Route::McpOnly(_) => RouteKind::McpOnly,
            Route::RestOnly(_) => RouteKind::RestOnly,
            Route::None { .. } => RouteKind::None,
        }
    }
}

/// Which paths are available, from the path states, without reserving
/// anything (a half-open path counts as available). Use
/// [`DualPathBreaker::route`] to actually route a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvailablePaths {
    /// The MCP path admits calls.
    pub mcp: bool,
    /// The REST path admits calls.
    pub rest: bool,
}

impl AvailablePaths {
    /// The paths as a routing kind.
    pub fn kind(self) -> RouteKind {
        match (self.mcp, self.rest) {
            (true, true) => RouteKind::Both,
            (true, false) => RouteKind::McpOnly,
            (false, true) => RouteKind::RestOnly,
            (false, false) => RouteKind::None,
        }
    }
}

/// A change of a server's aggregate state (R70).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateTransition {
    /// The server.
    pub server: Name,
    /// The aggregate before.
    pub from: AggregateState,
    /// The aggregate now.
    pub to: AggregateState,
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

type Customize = Arc<dyn Fn(BreakerBuilder) -> BreakerBuilder + Send + Sync>;
type AggregateListener = Arc<dyn Fn(&AggregateTransition) + Send + Sync>;

/// Builds a [`DualPathBreaker`].
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct DualPathBuilder {
    name: Name,
    mcp: BreakerConfig,
    rest: BreakerConfig,
    require_both: bool,
    customize: Option<Customize>,
}

impl fmt::Debug for DualPathBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DualPathBuilder")
            .field("name", &self.name)
            .field("mcp", &self.mcp)
            .field("rest", &self.rest)
            .field("require_both_paths_healthy", &self.require_both)
            .finish_non_exhaustive()
    }
}

impl DualPathBuilder {
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
    pub fn configure(mut self, f: impl Fn(BreakerBuilder) -> BreakerBuilder + Send + Sync + 'static) -> Self {
        self.customize = Some(Arc::new(f));
        self
    }

    fn with_name(mut self, name: Name) -> Self {
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
                last: AtomicU8::new(initial.code()),
                listeners: Mutex::new(Vec::new()),
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
    last: AtomicU8,
    listeners: Mutex<Vec<AggregateListener>>,
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
    pub fn builder(name: impl Into<Name>) -> DualPathBuilder {
        DualPathBuilder {
            name: name.into(),
            mcp: BreakerConfig::default(),
            rest: BreakerConfig::default(),
            require_both: false,
            customize: None,
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
        self.observe(s);
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
    /// `route`, `evaluate`, resets). A panicking listener is contained.
    pub fn subscribe(&self, listener: impl Fn(&AggregateTransition) + Send + Sync + 'static) {
        self.listeners().push(Arc::new(listener));
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

    fn listeners(&self) -> MutexGuard<'_, Vec<AggregateListener>> {
        self.inner.listeners.lock_unpoisoned()
    }

    fn observe(&self, now: AggregateState) {
        let before = self.inner.last.swap(now.code(), Ordering::AcqRel);
        let Some(from) = AggregateState::from_code(before) else {
            return;
        };
        if from == now {
            return;
        }
        tracing::info!(server = %self.inner.name, from = from.as_str(), to = now.as_str(), "dual-path aggregate transition");
        let listeners: Vec<AggregateListener> = self.listeners().clone();
        let event = AggregateTransition {
            server: self.inner.name.clone(),
            from,
            to: now,
        };
        for l in listeners {
            if std::panic::catch_unwind(AssertUnwindSafe(|| l(&event))).is_err() {
                tracing::warn!(server = %self.inner.name, "an aggregate-transition listener panicked");
            }
        }
    }
}

/// The dual-path breakers of many servers, made on first use from one template.
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
    template: DualPathBuilder,
    // Keyed by `String`: `Name`'s derived `Hash` differs from `str`'s, so a
    // `Name` key could not be looked up by `&str`.
    servers: Mutex<HashMap<String, DualPathBreaker>>,
}

impl DualPathRegistry {
    /// A registry whose servers are built like `template` (its name is replaced).
    pub fn new(template: DualPathBuilder) -> Self {
        Self {
            template,
            servers: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, DualPathBreaker>> {
        self.servers.lock_unpoisoned()
    }

    /// The breaker of `server`, built from the template on first use.
    pub fn get_or_create(&self, server: impl Into<Name>) -> Result<DualPathBreaker, ConfigError> {
        let server = server.into();
        if let Some(b) = self.map().get(server.as_str()) {
            return Ok(b.clone());
        }
        let built = self.template.clone().with_name(server.clone()).build()?;
        Ok(self.map().entry(server.to_string()).or_insert(built).clone())
    }

    /// The breaker of `server`, if it exists.
    pub fn get(&self, server: &str) -> Option<DualPathBreaker> {
        self.map().get(server).cloned()
    }

    /// Every server's name, sorted.
    pub fn servers(&self) -> Vec<String> {
        let mut names: Vec<String> = self.map().keys().cloned().collect();
        names.sort();
        names
    }

    /// Every server's snapshot, sorted by name.
    pub fn metrics_all(&self) -> Vec<DualMetrics> {
        let mut all: Vec<DualPathBreaker> = self.map().values().cloned().collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all.iter().map(DualPathBreaker::metrics).collect()
    }

    /// Resets every server's two paths.
    pub fn reset_all(&self) {
        let all: Vec<DualPathBreaker> = self.map().values().cloned().collect();
        all.iter().for_each(DualPathBreaker::reset);
    }
}
