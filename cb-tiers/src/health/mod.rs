//! The health monitor: checks each tier in the background and opens and
//! closes its breaker, Kubernetes-style (R71–R75).
//!
//! ```
//! use cb_core::{CircuitBreaker, State};
//! use cb_tiers::health::HealthMonitor;
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let primary = CircuitBreaker::builder("primary").build()?;
//! let monitor = HealthMonitor::builder()
//!     .interval(Duration::from_secs(5))
//!     .timeout(Duration::from_secs(1))
//!     .unhealthy_threshold(2)
//!     .check(primary.clone(), || async { Err::<(), _>("connection refused") })
//!     .build()?;
//!
//! let running = monitor.start()?;
//! tokio::time::sleep(Duration::from_secs(6)).await; // checks at 0 s and 5 s
//! assert_eq!(primary.state(), State::Open);
//! let report = monitor.report();
//! assert!(!report.targets[0].healthy);
//! running.stop().await; // no check runs after this
//! # Ok(()) }
//! ```
//!
//! A configuration's `health_check` sections (templates, files, variables)
//! become targets with their own timing through
//! [`HealthMonitorBuilder::targets_from_config`], checked by their `url` or
//! by a function registered with [`HealthMonitorBuilder::check_fn`].

use cb_core::sync::MutexExt;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::{Duration, SystemTime};

use cb_core::error::Violations;
use cb_core::{CircuitBreaker, ConfigError, TransitionReason};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

mod config;
mod configured;
mod report;

pub use config::HealthConfig;
pub use report::{Health, HealthReport, TargetStatus};

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type CheckFn = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// Why the monitor could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// `start` was called outside a tokio runtime.
    #[error("the health monitor needs a tokio runtime to start")]
    NoRuntime,
    /// The monitor is already running: a second task would double the checks (R72).
    #[error("the health monitor is already running")]
    AlreadyRunning,
}

struct Target {
    breaker: CircuitBreaker,
    check: CheckFn,
    /// Its own timing and thresholds (a configured target's `health_check`
    /// section); `None` until `build` gives a target added by hand the
    /// builder's configuration.
    config: Option<HealthConfig>,
}

impl Target {
    fn config(&self, default: HealthConfig) -> HealthConfig {
        self.config.unwrap_or(default)
    }
}

#[derive(Default)]
struct Streaks {
    health: Option<Health>,
    last_check: Option<SystemTime>,
    last_latency: Option<Duration>,
    last_error: Option<String>,
    consecutive_successes: u32,
    consecutive_failures: u32,
    succeeded: u64,
    failed: u64,
}

struct Shared {
    config: HealthConfig,
    targets: Vec<Target>,
    streaks: Mutex<Vec<Streaks>>,
    running: AtomicBool,
}

impl Shared {
    fn streaks(&self) -> MutexGuard<'_, Vec<Streaks>> {
        self.streaks.lock_unpoisoned()
    }

    /// Applies one check's result: streaks first (under the lock), then the
    /// breaker (after it), never overriding a manual state (R71, R73).
    fn record(&self, i: usize, result: Result<(), String>, latency: Duration) {
        let Some(target) = self.targets.get(i) else { return };
        let config = target.config(self.config);
        enum Act {
            Close,
            Trip,
            Nothing,
        }
        let act = {
            let mut all = self.streaks();
            let Some(s) = all.get_mut(i) else { return };
            s.last_check = Some(SystemTime::now());
            s.last_latency = Some(latency);
            match result {
                Ok(()) => {
                    s.succeeded += 1;
                    s.consecutive_successes = s.consecutive_successes.saturating_add(1);
                    s.consecutive_failures = 0;
                    s.last_error = None;
                    if s.consecutive_successes >= config.healthy_threshold {
                        s.health = Some(Health::Healthy);
                        Act::Close
                    } else {
                        Act::Nothing
                    }
                }
                Err(e) => {
                    s.failed += 1;
                    s.consecutive_failures = s.consecutive_failures.saturating_add(1);
                    s.consecutive_successes = 0;
                    s.last_error = Some(e);
                    if s.consecutive_failures >= config.unhealthy_threshold {
                        s.health = Some(Health::Unhealthy);
                        Act::Trip
                    } else {
                        Act::Nothing
                    }
                }
            }
        };
        let b = &target.breaker;
        match act {
            Act::Close if b.close(TransitionReason::Health) => {
                tracing::info!(target = b.name(), "health checks passed: circuit closed");
            }
            Act::Trip if b.trip(TransitionReason::Health) => {
                tracing::warn!(target = b.name(), "health checks failed: circuit opened");
            }
            _ => {}
        }
    }

    fn report(&self) -> HealthReport {
        let all = self.streaks();
        let targets = self
            .targets
            .iter()
            .zip(all.iter())
            .map(|(t, s)| {
                let health = s.health.unwrap_or(Health::Unknown);
                TargetStatus {
                    name: t.breaker.name().to_owned(),
                    health,
                    healthy: health == Health::Healthy,
                    last_check_unix_ms: s.last_check.and_then(|at| {
                        at.duration_since(SystemTime::UNIX_EPOCH)
                            .ok()
                            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                    }),
                    last_latency: s.last_latency,
                    last_error: s.last_error.clone(),
                    consecutive_successes: s.consecutive_successes,
                    consecutive_failures: s.consecutive_failures,
                    checks_succeeded: s.succeeded,
                    checks_failed: s.failed,
                    breaker_state: t.breaker.state(),
                }
            })
            .collect();
        HealthReport {
            running: self.running.load(Ordering::Acquire),
            targets,
        }
    }
}

/// Builds a [`HealthMonitor`].
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Default)]
pub struct HealthMonitorBuilder {
    config: HealthConfig,
    targets: Vec<Target>,
    violations: Violations,
    configured: configured::Configured,
}

impl fmt::Debug for HealthMonitorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.targets.iter().map(|t| t.breaker.name()).collect();
        f.debug_struct("HealthMonitorBuilder")
            .field("config", &self.config)
            .field("targets", &names)
            .field("configured", &self.configured)
            .finish()
    }
}

impl HealthMonitorBuilder {
    /// Replaces the whole configuration: the timing and thresholds of the
    /// targets added by hand ([`check`](Self::check), `http_check`); a
    /// target from [`targets_from_config`](Self::targets_from_config) has its own.
    pub fn config(mut self, config: HealthConfig) -> Self {
        self.config = config;
        self
    }

    /// Time between the starts of two checks of one target.
    pub fn interval(mut self, d: Duration) -> Self {
        self.config.interval = d;
        self
    }

    /// A check that takes longer than this fails; `build` refuses a timeout
    /// at or above the interval, as the file format does.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.config.timeout = d;
        self
    }

    /// Consecutive successes that close the breaker (>= 1).
    pub fn healthy_threshold(mut self, n: u32) -> Self {
        self.config.healthy_threshold = n;
        self
    }

    /// Consecutive failures that open the breaker (>= 1).
    pub fn unhealthy_threshold(mut self, n: u32) -> Self {
        self.config.unhealthy_threshold = n;
        self
    }

    /// Adds a target: `breaker`, checked by the async function `check`
    /// (`Ok` is healthy; an `Err` is reported with its `Display`).
    pub fn check<F, Fut, E>(mut self, breaker: CircuitBreaker, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display,
    {
        self.targets.push(Target {
            breaker,
            check: check_fn(check),
            config: None,
        });
        self
    }

    /// Adds a target checked by an HTTP `GET` of `url`: a 2xx answer is
    /// healthy; any other status, a connection error or the timeout is not.
    ///
    /// ```no_run
    /// # use cb_tiers::health::HealthMonitor;
    /// # let breaker = cb_core::CircuitBreaker::builder("api").build().unwrap();
    /// let monitor = HealthMonitor::builder()
    ///     .http_check(breaker, reqwest::Client::new(), "http://127.0.0.1:8080/healthz")
    ///     .build()?;
    /// # Ok::<(), cb_core::ConfigError>(())
    /// ```
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn http_check(mut self, breaker: CircuitBreaker, client: reqwest::Client, url: &str) -> Self {
        match http_check_fn(client, url) {
            Ok(check) => self.targets.push(Target {
                breaker,
                check,
                config: None,
            }),
            Err(allowed) => {
                self.violations
                    .push(format!("health.targets.{}.url", breaker.name()), url, allowed);
            }
        }
        self
    }

    /// Validates (timing, thresholds, at least one target, unique names,
    /// the configured targets' checks) and builds.
    pub fn build(self) -> Result<HealthMonitor, ConfigError> {
        let mut v = self.violations;
        if let Err(e) = self.config.validate() {
            v.extend(e);
        }
        let mut targets = self.targets;
        for t in &mut targets {
            t.config.get_or_insert(self.config);
        }
        targets.extend(self.configured.into_targets(&mut v));
        if targets.is_empty() {
            v.push("health.targets", "[]", "must list at least one target");
        }
        for (i, t) in targets.iter().enumerate() {
            if targets[..i].iter().any(|u| u.breaker.name() == t.breaker.name()) {
                v.push(format!("health.targets[{i}]"), t.breaker.name(), "must be unique");
            }
        }
        v.finish()?;
        let streaks = targets.iter().map(|_| Streaks::default()).collect();
        Ok(HealthMonitor {
            shared: Arc::new(Shared {
                config: self.config,
                targets,
                streaks: Mutex::new(streaks),
                running: AtomicBool::new(false),
            }),
        })
    }
}

/// An async check function as the monitor stores it.
fn check_fn<F, Fut, E>(check: F) -> CheckFn
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display,
{
    Arc::new(move || {
        let fut = check();
        Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
    })
}

/// An HTTP `GET` of `url` as a check: a 2xx answer is healthy. `Err` says
/// what the URL must be.
#[cfg(feature = "http")]
fn http_check_fn(client: reqwest::Client, url: &str) -> Result<CheckFn, String> {
    let url = reqwest::Url::parse(url).map_err(|e| format!("must be an absolute URL ({e})"))?;
    Ok(check_fn(move || {
        let request = client.get(url.clone());
        async move {
            let response = request.send().await.map_err(|e| crate::http::describe(&e))?;
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("health endpoint answered {status}"))
            }
        }
    }))
}

/// Checks targets in a background tokio task and drives their breakers.
///
/// - Each target is checked every `interval`; a check that exceeds `timeout`
///   fails (R71). `unhealthy_threshold` failures in a row trip the breaker
///   (reason `health`); `healthy_threshold` successes in a row close it.
/// - At most one check per target is in flight, and missed ticks are
///   delayed, not burst (R72).
/// - Manual states (forced open, disabled) are never overridden; checks take
///   no half-open permits and do not enter the breaker's call counters (R73, R75).
/// - [`MonitorHandle::stop`] (or dropping the handle) ends the task and drops
///   any check in flight (R74).
#[derive(Clone)]
pub struct HealthMonitor {
    shared: Arc<Shared>,
}

impl fmt::Debug for HealthMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.shared.targets.iter().map(|t| t.breaker.name()).collect();
        f.debug_struct("HealthMonitor")
            .field("config", &self.shared.config)
            .field("targets", &names)
            .field("running", &self.shared.running.load(Ordering::Acquire))
            .finish()
    }
}

impl HealthMonitor {
    /// Starts building a monitor with the default timing and thresholds.
    pub fn builder() -> HealthMonitorBuilder {
        HealthMonitorBuilder::default()
    }

    /// The monitor's configuration: the timing and thresholds of the
    /// targets added by hand.
    pub fn config(&self) -> HealthConfig {
        self.shared.config
    }

    /// The timing and thresholds the target `name` is checked with: its
    /// own `health_check` section for a target from configuration, else
    /// [`config`](Self::config).
    pub fn target_config(&self, name: &str) -> Option<HealthConfig> {
        let target = self.shared.targets.iter().find(|t| t.breaker.name() == name)?;
        Some(target.config(self.shared.config))
    }

    /// Starts the background task on the current tokio runtime. The first
    /// check of each target runs at once.
    pub fn start(&self) -> Result<MonitorHandle, StartError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        if self.shared.running.swap(true, Ordering::AcqRel) {
            return Err(StartError::AlreadyRunning);
        }
        let task = runtime.spawn(run(self.shared.clone()));
        Ok(MonitorHandle {
            task: Some(task),
            shared: self.shared.clone(),
        })
    }

    /// Whether the background task is running.
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    /// The status of every target.
    pub fn report(&self) -> HealthReport {
        self.shared.report()
    }
}

/// The running monitor. [`stop`](Self::stop) it, or drop it: either ends the
/// background task (R74).
#[must_use = "dropping the handle stops the monitor"]
pub struct MonitorHandle {
    task: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl fmt::Debug for MonitorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitorHandle")
            .field("running", &self.task.is_some())
            .finish()
    }
}

impl MonitorHandle {
    /// Stops the monitor and waits until its task is gone: no check runs
    /// after this returns, and a check in flight is dropped.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
        // `running` is cleared when `self` drops, even if this future is
        // dropped while waiting (the task is aborted already).
    }

    /// The status of every target.
    pub fn report(&self) -> HealthReport {
        self.shared.report()
    }
}

impl Drop for MonitorHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            // Aborted tasks are dropped at their next yield point: the
            // monitor's checks stop within one tick (R74).
            task.abort();
        }
        self.shared.running.store(false, Ordering::Release);
    }
}

/// The monitor's task: one check loop per target, all polled by this task.
async fn run(shared: Arc<Shared>) {
    let mut loops: Vec<Pin<Box<dyn Future<Output = ()> + Send>>> = (0..shared.targets.len())
        .map(|i| Box::pin(check_loop(shared.clone(), i)) as Pin<Box<dyn Future<Output = ()> + Send>>)
        .collect();
    // The loops never end; the task ends when it is aborted.
    std::future::poll_fn(|cx| {
        for l in &mut loops {
            let _ = l.as_mut().poll(cx);
        }
        Poll::<()>::Pending
    })
    .await;
}

async fn check_loop(shared: Arc<Shared>, i: usize) {
    let Some(target) = shared.targets.get(i) else {
        return;
    };
    let config = target.config(shared.config);
    let mut ticker = tokio::time::interval(config.interval);
    // A slow check delays the next tick instead of causing a burst (R72).
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let started = tokio::time::Instant::now();
        // The loop awaits each check before the next tick: one in flight (R72).
        let result = match tokio::time::timeout(config.timeout, (target.check)()).await {
            Ok(r) => r,
            Err(_) => Err(format!("health check timed out after {:?}", config.timeout)),
        };
        shared.record(i, result, started.elapsed());
    }
}
