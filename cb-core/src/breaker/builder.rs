//! Building a breaker.

use std::sync::Arc;
use std::time::Duration;

use super::{BreakerConfig, CircuitBreaker, Window};
use crate::clock::{Clock, ClockHandle};
use crate::error::{ConfigError, Name};
use crate::event::Listener;

/// A time window's buckets and length when only the other one is set: the
/// files' defaults (`window_buckets`, `window_duration`).
const DEFAULT_BUCKETS: u32 = 10;
const DEFAULT_WINDOW_DURATION: Duration = Duration::from_secs(60);

/// Builds a [`CircuitBreaker`]; [`build`](Self::build) reports every invalid
/// value at once.
///
/// Each method is named after the field it sets, with that field's unit, as
/// files, variables and macro arguments write it: rates are fractions in
/// (0, 1]. The window follows the files' fields: [`sliding_window_size`]
/// makes a count window, [`window_duration`] and [`window_buckets`] a time
/// window (the files' `circuit_type: time_based`); the last call wins.
///
/// [`sliding_window_size`]: Self::sliding_window_size
/// [`window_duration`]: Self::window_duration
/// [`window_buckets`]: Self::window_buckets
///
/// ```
/// use cb_core::CircuitBreaker;
/// use std::time::Duration;
///
/// let breaker = CircuitBreaker::builder("claude")
///     .failure_threshold(3)                       // 3 consecutive failures, or
///     .failure_rate_threshold(0.4)                // 40 % of the last 50 calls
///     .sliding_window_size(50)
///     .minimum_calls(10)
///     .slow_call_rate_threshold(0.8)              // or 80 % slower than 20 s
///     .slow_call_duration_threshold(Duration::from_secs(20))
///     .open_duration(Duration::from_secs(60))
///     .open_duration_multiplier(2.0)              // 60 s, 120 s, ... 600 s
///     .max_open_duration(Duration::from_secs(600))
///     .half_open_max_calls(1)
///     .success_threshold(2)
///     .build()?;
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct CircuitBreakerBuilder {
    name: Name,
    config: BreakerConfig,
    clock: Option<ClockHandle>,
    listeners: Vec<Arc<dyn Listener>>,
}

impl std::fmt::Debug for CircuitBreakerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreakerBuilder")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("clock", &self.clock)
            .field("listeners", &self.listeners.len())
            .finish()
    }
}

impl CircuitBreakerBuilder {
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

    /// Trips when the window's failure rate reaches `fraction`, in (0, 1]:
    /// 0.4 is 40 %, as in files. Anything else fails [`build`](Self::build).
    pub fn failure_rate_threshold(mut self, fraction: f64) -> Self {
        self.config.failure_rate_threshold = Some(fraction);
        self
    }

    /// Trips when the window's slow-call rate reaches `fraction`, in (0, 1].
    pub fn slow_call_rate_threshold(mut self, fraction: f64) -> Self {
        self.config.slow_call_rate_threshold = Some(fraction);
        self
    }

    /// Calls longer than this are slow (R12).
    pub fn slow_call_duration_threshold(mut self, d: Duration) -> Self {
        self.config.slow_call_duration_threshold = d;
        self
    }

    /// The rate detectors judge the last `size` calls (R8): a count window.
    pub fn sliding_window_size(mut self, size: u32) -> Self {
        self.config.window = Window::Count { size };
        self
    }

    /// The rate detectors judge the calls of the last `length` (R10): a time
    /// window, keeping its buckets if it was one already (else 10).
    pub fn window_duration(mut self, length: Duration) -> Self {
        let buckets = match self.config.window {
            Window::Time { buckets, .. } => buckets,
            Window::Count { .. } => DEFAULT_BUCKETS,
        };
        self.config.window = Window::Time { length, buckets };
        self
    }

    /// A time window split into `buckets` buckets (R10), keeping its length
    /// if it was one already (else 60 s).
    pub fn window_buckets(mut self, buckets: u32) -> Self {
        let length = match self.config.window {
            Window::Time { length, .. } => length,
            Window::Count { .. } => DEFAULT_WINDOW_DURATION,
        };
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

    /// Grows the open duration by `multiplier` (>= 1) for each consecutive
    /// failed recovery (R37); 1 keeps it fixed.
    pub fn open_duration_multiplier(mut self, multiplier: f64) -> Self {
        self.config.open_duration_multiplier = multiplier;
        self
    }

    /// The ceiling of the growing open duration (R37); at least
    /// `open_duration`.
    pub fn max_open_duration(mut self, max: Duration) -> Self {
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
