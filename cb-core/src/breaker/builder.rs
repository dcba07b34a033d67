//! Building a breaker.

use std::sync::Arc;
use std::time::Duration;

use super::{BreakerConfig, CircuitBreaker, Window};
use crate::clock::{Clock, ClockHandle};
use crate::error::{ConfigError, Name};
use crate::event::Listener;

/// Builds a [`CircuitBreaker`]; [`build`](Self::build) reports every invalid
/// value at once.
///
/// ```
/// use cb_core::CircuitBreaker;
/// use std::time::Duration;
///
/// let breaker = CircuitBreaker::builder("claude")
///     .failure_threshold(3)                       // 3 consecutive failures, or
///     .failure_rate_threshold(40.0)               // 40 % of the last 50 calls
///     .count_window(50)
///     .minimum_calls(10)
///     .slow_call_rate_threshold(80.0)             // or 80 % slower than 20 s
///     .slow_call_duration_threshold(Duration::from_secs(20))
///     .open_duration(Duration::from_secs(60))
///     .open_duration_backoff(2.0, Duration::from_secs(600)) // 60 s, 120 s, ... 600 s
///     .half_open_max_calls(1)
///     .success_threshold(2)
///     .build()?;
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct BreakerBuilder {
    name: Name,
    config: BreakerConfig,
    clock: Option<ClockHandle>,
    listeners: Vec<Arc<dyn Listener>>,
}

impl std::fmt::Debug for BreakerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreakerBuilder")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("clock", &self.clock)
            .field("listeners", &self.listeners.len())
            .finish()
    }
}

impl BreakerBuilder {
    pub(crate) fn new(name: Name) -> Self {
        Self {
            name,
            config: BreakerConfig::default(),
            clock: None,
            listeners: Vec::new(),
        }
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: BreakerConfig) -> Self {
        self.config = config;
        self
    }

    /// Trips after `n` consecutive failures (R7); must be >= 1.
    pub fn failure_threshold(mut self, n: u32) -> Self {
        self.config.failure_threshold = Some(n);
        self
    }

    /// Turns the consecutive-failure detector off (a rate detector must be on).
    pub fn no_failure_threshold(mut self) -> Self {
        self.config.failure_threshold = None;
        self
    }

    /// Trips when the window's failure rate reaches `percent` (0 < percent <= 100).
    pub fn failure_rate_threshold(mut self, percent: f64) -> Self {
        self.config.failure_rate_threshold = Some(percent);
        self
    }

    /// Trips when the window's slow-call rate reaches `percent` (0 < percent <= 100).
    pub fn slow_call_rate_threshold(mut self, percent: f64) -> Self {
        self.config.slow_call_rate_threshold = Some(percent);
        self
    }

    /// Calls longer than this are slow (R12).
    pub fn slow_call_duration_threshold(mut self, d: Duration) -> Self {
        self.config.slow_call_duration_threshold = d;
        self
    }

    /// The rate detectors judge the last `size` calls (R8).
    pub fn count_window(mut self, size: u32) -> Self {
        self.config.window = Window::Count { size };
        self
    }

    /// The rate detectors judge the calls of the last `length`, in `buckets` buckets (R10).
    pub fn time_window(mut self, length: Duration, buckets: u32) -> Self {
        self.config.window = Window::Time { length, buckets };
        self
    }

    /// Rates are judged only from this many recorded calls on (R9, R11).
    pub fn minimum_calls(mut self, n: u32) -> Self {
        self.config.minimum_calls = n;
        self
    }

    /// How long the circuit stays open after a trip.
    pub fn open_duration(mut self, d: Duration) -> Self {
        self.config.open_duration = d;
        self
    }

    /// Grows the open duration by `multiplier` for each consecutive failed
    /// recovery, up to `max` (R37).
    pub fn open_duration_backoff(mut self, multiplier: f64, max: Duration) -> Self {
        self.config.open_duration_multiplier = multiplier;
        self.config.max_open_duration = Some(max);
        self
    }

    /// Probes admitted at once while half-open (R21).
    pub fn half_open_max_calls(mut self, n: u32) -> Self {
        self.config.half_open_max_calls = n;
        self
    }

    /// Successful probes needed to close (R22).
    pub fn success_threshold(mut self, n: u32) -> Self {
        self.config.success_threshold = n;
        self
    }

    /// A probe unresolved after `d` reopens the circuit (R25). `d` must be
    /// > 0: the deadline cannot be turned off, so zero is refused.
    pub fn half_open_max_wait(mut self, d: Duration) -> Self {
        self.config.half_open_max_wait = Some(d);
        self
    }

    /// A failure `d` or more after the previous one starts the closed
    /// state's counts over: the consecutive-failure streak and a count
    /// window (gobreaker's `Interval`). Off by default.
    pub fn closed_count_interval(mut self, d: Duration) -> Self {
        self.config.closed_count_interval = Some(d);
        self
    }

    /// The clock the breaker reads (see [`crate::clock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(ClockHandle::from_clock(clock));
        self
    }

    /// Registers a listener from the start, so it sees every event.
    pub fn listener(mut self, listener: impl Listener) -> Self {
        self.listeners.push(Arc::new(listener));
        self
    }

    /// The configuration so far.
    pub fn current_config(&self) -> &BreakerConfig {
        &self.config
    }

    /// Validates and builds.
    pub fn build(self) -> Result<CircuitBreaker, ConfigError> {
        self.config.validate()?;
        if let Window::Count { size } = self.config.window
            && self.config.uses_window()
            && self.config.minimum_calls > size
        {
            tracing::warn!(
                breaker = %self.name,
                minimum_calls = self.config.minimum_calls,
                window_size = size,
                "minimum_calls is larger than the count window; using the window size (R9)"
            );
        }
        let clock = self.clock.unwrap_or_else(ClockHandle::default_clock);
        Ok(CircuitBreaker::from_parts(
            self.name,
            self.config,
            clock,
            self.listeners,
        ))
    }
}
