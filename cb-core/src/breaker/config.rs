//! A breaker's policy: which detectors trip it, how long it stays open, how it probes.

use std::time::Duration;

use cb_syntax::rules::Fact;

use crate::classify::ByName;
use crate::error::{ConfigError, Violations};

/// The window that failure-rate and slow-call-rate detectors judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last `size` recorded outcomes (R8). Costs one byte per outcome.
    Count {
        /// How many outcomes the window holds.
        size: u32,
    },
    /// Outcomes of the last `length`, kept in `buckets` buckets (R10).
    Time {
        /// The window's length.
        length: Duration,
        /// How many buckets the window is split into (default 10).
        buckets: u32,
    },
}

impl Default for Window {
    fn default() -> Self {
        Window::Count { size: 100 }
    }
}

/// Everything that decides a breaker's behaviour. Plain data: build it by
/// hand, from the [`CircuitBreakerBuilder`](crate::CircuitBreakerBuilder), or from
/// configuration files; [`BreakerConfig::validate`] reports every invalid
/// field at once.
///
/// Detectors combine: the breaker trips when any enabled one says so.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Trip after this many consecutive failures (R7). `None` disables the detector.
    pub failure_threshold: Option<u32>,
    /// Trip when the window's failure rate reaches this fraction in (0, 1]
    /// (R8, R10): 0.4 is 40 %, as in files.
    /// `None` disables the detector.
    pub failure_rate_threshold: Option<f64>,
    /// Trip when the window's slow-call rate reaches this fraction in (0, 1] (R12).
    /// `None` disables slow-call detection.
    pub slow_call_rate_threshold: Option<f64>,
    /// A call is slow when it takes strictly longer than this (R12).
    pub slow_call_duration_threshold: Duration,
    /// The window the rate detectors judge.
    pub window: Window,
    /// Rates are judged only once the window holds this many recorded calls (R9, R11, R40).
    pub minimum_calls: u32,
    /// How long the circuit stays open after its first trip.
    pub open_duration: Duration,
    /// Growth of the open duration per consecutive failed recovery (R37); 1 = fixed.
    pub open_duration_multiplier: f64,
    /// The ceiling of the growing open duration; `None` means `open_duration`
    /// (no growth beyond it).
    pub max_open_duration: Option<Duration>,
    /// Probes admitted at once while half-open (R21).
    pub half_open_max_calls: u32,
    /// Successful probes that close the circuit (R22).
    pub success_threshold: u32,
    /// A probe unresolved after this long reopens the circuit (R25); `None`
    /// means `open_duration`. Must be > 0: the deadline cannot be turned off.
    pub half_open_max_wait: Option<Duration>,
    /// Counts in the closed state expire: a failure recorded at least this
    /// long after the previous one starts the consecutive-failure streak,
    /// and a count window, over (gobreaker's `Interval`), so old failures
    /// separated by a long silence do not add up to a trip. A time window
    /// expires by itself and is left alone. `None` (the default): counts
    /// never expire.
    pub closed_count_interval: Option<Duration>,
    /// Error kinds the configuration lists as failures or excluded, over
    /// the classifier the calls pass ([`crate::classify::by_name`]). Empty
    /// (the default): the classifier alone decides.
    pub classify: ByName,
}

impl Default for BreakerConfig {
    /// The Python services' defaults: 5 consecutive failures, 60 s open, 3 successful
    /// probes of at most 3 at once, a 100-call window judged from 10 calls.
    fn default() -> Self {
        Self {
            failure_threshold: Some(5),
            failure_rate_threshold: None,
            slow_call_rate_threshold: None,
            slow_call_duration_threshold: Duration::from_secs(60),
            window: Window::default(),
            minimum_calls: 10,
            open_duration: Duration::from_secs(60),
            open_duration_multiplier: 1.0,
            max_open_duration: None,
            half_open_max_calls: 3,
            success_threshold: 3,
            half_open_max_wait: None,
            closed_count_interval: None,
            classify: ByName::default(),
        }
    }
}

impl BreakerConfig {
    /// Checks every field and every cross-field rule, reporting all problems
    /// together (R76).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut v = Violations::new();
        if let Some(n) = self.failure_threshold {
            v.at_least_one("failure_threshold", n.into());
        }
        if let Some(r) = self.failure_rate_threshold {
            v.rate("failure_rate_threshold", r);
        }
        if let Some(r) = self.slow_call_rate_threshold {
            v.rate("slow_call_rate_threshold", r);
        }
        v.positive("slow_call_duration_threshold", self.slow_call_duration_threshold);
        match self.window {
            Window::Count { size } => v.at_least_one("sliding_window_size", size.into()),
            Window::Time { buckets, .. } => v.at_least_one("window_buckets", buckets.into()),
        }
        v.at_least_one("minimum_calls", self.minimum_calls.into());
        v.positive("open_duration", self.open_duration);
        let m = self.open_duration_multiplier;
        if !(m.is_finite() && m >= 1.0) {
            v.push("open_duration_multiplier", m, "must be a finite number >= 1");
        }
        v.at_least_one("half_open_max_calls", self.half_open_max_calls.into());
        v.at_least_one("success_threshold", self.success_threshold.into());
        // Zero is refused rather than read as "no deadline": the stuck-probe
        // guard cannot be turned off (R25), and a deadline of zero would
        // reclaim every probe the moment it is admitted.
        if let Some(w) = self.half_open_max_wait
            && w.is_zero()
        {
            v.push(
                "half_open_max_wait",
                format_args!("{w:?}"),
                "must be > 0: every half-open probe has a deadline (R25); leave it unset to use open_duration",
            );
        }
        if let Some(i) = self.closed_count_interval {
            v.positive("closed_count_interval", i);
        }
        self.classify.check(&mut v);
        v.rules("", |path| self.fact(path));
        if self.failure_threshold.is_none()
            && self.failure_rate_threshold.is_none()
            && self.slow_call_rate_threshold.is_none()
        {
            v.push(
                "failure_threshold",
                "none",
                "at least one detector must be enabled: failure_threshold, failure_rate_threshold or slow_call_rate_threshold",
            );
        }
        v.finish()
    }

    /// What the rules between fields know of the field at `path`: the
    /// durations and counts they compare, under the files' names.
    fn fact(&self, path: &str) -> Fact<'static> {
        match (path, self.window) {
            ("open_duration", _) => Fact::Duration(self.open_duration),
            ("max_open_duration", _) => self.max_open_duration.map_or(Fact::Unset, Fact::Duration),
            ("circuit_type", Window::Time { .. }) => Fact::Name("time_based"),
            ("window_duration", Window::Time { length, .. }) => Fact::Duration(length),
            ("window_buckets", Window::Time { buckets, .. }) => Fact::Count(buckets.into()),
            _ => Fact::Unknown,
        }
    }

    /// Whether any rate detector needs the window.
    pub(crate) fn uses_window(&self) -> bool {
        self.failure_rate_threshold.is_some() || self.slow_call_rate_threshold.is_some()
    }

    /// `minimum_calls`, clamped to a count window's size (R9).
    pub(crate) fn effective_minimum_calls(&self) -> u32 {
        match self.window {
            Window::Count { size } => self.minimum_calls.min(size),
            Window::Time { .. } => self.minimum_calls,
        }
    }

    /// The open duration for the `n`-th consecutive open (n >= 1), R37.
    pub(crate) fn open_duration_for(&self, n: u32) -> Duration {
        let base = self.open_duration;
        let max = self.max_open_duration.unwrap_or(base);
        if n <= 1 || self.open_duration_multiplier <= 1.0 {
            return base.min(max);
        }
        let factor = self
            .open_duration_multiplier
            .powi((n - 1).min(i32::MAX as u32) as i32);
        let secs = base.as_secs_f64() * factor;
        if !secs.is_finite() || secs >= max.as_secs_f64() {
            max
        } else {
            Duration::from_secs_f64(secs).min(max)
        }
    }

    /// The stuck-probe deadline (R25).
    pub(crate) fn probe_deadline(&self) -> Duration {
        self.half_open_max_wait.unwrap_or(self.open_duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r76_defaults_are_valid() {
        BreakerConfig::default().validate().unwrap();
    }

    #[test]
    fn r76_every_violation_is_reported_at_once() {
        let cfg = BreakerConfig {
            failure_threshold: Some(0),
            failure_rate_threshold: Some(f64::NAN),
            slow_call_rate_threshold: Some(1.005),
            slow_call_duration_threshold: Duration::ZERO,
            window: Window::Count { size: 0 },
            minimum_calls: 0,
            open_duration: Duration::ZERO,
            open_duration_multiplier: 0.5,
            max_open_duration: None,
            half_open_max_calls: 0,
            success_threshold: 0,
            half_open_max_wait: Some(Duration::ZERO),
            closed_count_interval: Some(Duration::ZERO),
            classify: ByName {
                failure: vec!["4XX".into()],
                excluded: Vec::new(),
            },
        };
        let err = cfg.validate().unwrap_err();
        let fields: Vec<_> = err.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "failure_threshold",
                "failure_rate_threshold",
                "slow_call_rate_threshold",
                "slow_call_duration_threshold",
                "sliding_window_size",
                "minimum_calls",
                "open_duration",
                "open_duration_multiplier",
                "half_open_max_calls",
                "success_threshold",
                "half_open_max_wait",
                "closed_count_interval",
                "classify.failure",
            ]
        );
        assert!(
            err.to_string()
                .contains("failure_rate_threshold = NaN: must be > 0 and <= 1 (a fraction: 0.4 means 40%)")
        );
    }

    #[test]
    fn r77_boundary_values_are_accepted() {
        let cfg = BreakerConfig {
            failure_rate_threshold: Some(1.0),
            half_open_max_calls: 1,
            minimum_calls: 500,
            window: Window::Count { size: 10 },
            ..Default::default()
        };
        cfg.validate().unwrap();
        assert_eq!(cfg.effective_minimum_calls(), 10, "R9 clamp");
    }

    #[test]
    fn r76_cross_field_rules() {
        let cfg = BreakerConfig {
            max_open_duration: Some(Duration::from_secs(1)),
            window: Window::Time {
                length: Duration::from_millis(5),
                buckets: 10,
            },
            failure_threshold: None,
            ..Default::default()
        };
        let err = cfg.validate().unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("max_open_duration = 1s: must be >= open_duration (60s)"),
            "{msg}"
        );
        assert!(msg.contains("window_duration = 5ms"), "{msg}");
        assert!(msg.contains("at least one detector"), "{msg}");
    }

    #[test]
    fn r37_open_duration_grows_and_caps() {
        let cfg = BreakerConfig {
            open_duration: Duration::from_secs(5),
            open_duration_multiplier: 1.5,
            max_open_duration: Some(Duration::from_secs(10)),
            ..Default::default()
        };
        assert_eq!(cfg.open_duration_for(1), Duration::from_secs(5));
        assert_eq!(cfg.open_duration_for(2), Duration::from_millis(7500));
        assert_eq!(cfg.open_duration_for(3), Duration::from_secs(10));
        assert_eq!(
            cfg.open_duration_for(u32::MAX),
            Duration::from_secs(10),
            "R46-style saturation"
        );
    }
}
