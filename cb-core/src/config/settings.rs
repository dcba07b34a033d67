//! The resolved configuration of one breaker and its neighbouring policies:
//! plain, validated data that the layers produce.
//!
//! The retry, bulkhead, timeout and health-check settings are plain structs
//! here; the policies that consume them are built elsewhere and wired to
//! these at merge time.

use std::time::Duration;

use cb_syntax::rules::Fact;
use cb_syntax::schema::{LISTED_TWICE, listed_twice};

use super::schema::{Detector, Jitter, Kind, Value, coerce, field};
use crate::breaker::{BreakerConfig, Window};
use crate::classify::ByName;
use crate::error::{ConfigError, Violations};

/// A field's Rust type as a configuration [`Value`]: how [`Settings::values`]
/// reads it and [`Settings::set`] writes it. An `Option` is an optional field:
/// unset reads as `None`, and setting it makes it `Some`.
trait Slot: Sized + Clone {
    fn to_value(&self) -> Option<Value>;
    fn from_value(v: &Value) -> Option<Self>;
    /// The value with its secrets removed, for a field whose kind says it
    /// has some (a URL's user-info).
    fn redacted(&self) -> Self {
        self.clone()
    }
}

macro_rules! slot {
    ($($ty:ty: |$x:ident| $to:expr, $pat:pat => $from:expr;)*) => {$(
        impl Slot for $ty {
            fn to_value(&self) -> Option<Value> {
                let $x = self;
                Some($to)
            }
            fn from_value(v: &Value) -> Option<Self> {
                match v {
                    $pat => $from,
                    _ => None,
                }
            }
        }
    )*};
}
slot! {
    u32: |n| Value::Int((*n).into()), Value::Int(n) => u32::try_from(*n).ok();
    f64: |x| Value::Float(*x), Value::Float(x) => Some(*x);
    Duration: |d| Value::Duration(*d), Value::Duration(d) => Some(*d);
    bool: |b| Value::Bool(*b), Value::Bool(b) => Some(*b);
    Detector: |d| Value::Detector(*d), Value::Detector(d) => Some(*d);
    Jitter: |j| Value::Jitter(*j), Value::Jitter(j) => Some(*j);
}

impl Slot for String {
    fn to_value(&self) -> Option<Value> {
        Some(Value::Text(self.clone()))
    }
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
    fn redacted(&self) -> Self {
        super::schema::redact_url(self)
    }
}

impl Slot for Vec<String> {
    fn to_value(&self) -> Option<Value> {
        Some(Value::List(self.clone()))
    }
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::List(items) => Some(items.clone()),
            _ => None,
        }
    }
}

impl<T: Slot> Slot for Option<T> {
    fn to_value(&self) -> Option<Value> {
        self.as_ref().and_then(T::to_value)
    }
    fn from_value(v: &Value) -> Option<Self> {
        T::from_value(v).map(Some)
    }
    fn redacted(&self) -> Self {
        self.as_ref().map(T::redacted)
    }
}

/// A field as `Debug` shows it: secrets removed where the field table says
/// the field holds some (a URL's credentials, R80).
struct Shown<'a, T>(&'static str, &'a T);

impl<T: Slot + std::fmt::Debug> std::fmt::Debug for Shown<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if field(self.0).is_some_and(|spec| spec.kind == Kind::Url) {
            self.1.redacted().fmt(f)
        } else {
            self.1.fmt(f)
        }
    }
}

/// Every field written once: its section, member, type and default. From
/// this come the section structs, their `Default`s and `Debug`s (which hide
/// a URL's credentials), [`Settings::values`] and [`Settings::set`]; a field's path is its section's prefix and its member
/// name. The paths and their order are `cb_syntax`'s field table, which
/// holds what the fields accept (a test ties the two).
macro_rules! settings {
    ($(
        $(#[$attr:meta])*
        $section:ident: $Struct:ident at $prefix:literal {
            $( $(#[$doc:meta])* $field:ident: $ty:ty = $default:expr, )*
        }
    )*) => {
        $(
            $(#[$attr])*
            pub struct $Struct {
                $( $(#[$doc])* pub $field: $ty, )*
            }

            impl std::fmt::Debug for $Struct {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_struct(stringify!($Struct))
                        $( .field(stringify!($field), &Shown(concat!($prefix, stringify!($field)), &self.$field)) )*
                        .finish()
                }
            }

            impl Default for $Struct {
                /// The built-in defaults, as the field docs say.
                fn default() -> Self {
                    Self { $( $field: $default, )* }
                }
            }
        )*

        impl Settings {
            /// Every field as `(path, value)`, `None` for an unset optional field,
            /// in the order of the reference table.
            pub fn values(&self) -> Vec<(&'static str, Option<Value>)> {
                vec![$($(
                    (concat!($prefix, stringify!($field)), Slot::to_value(&self.$section.$field)),
                )*)*]
            }

            /// Sets one field from an already checked value; a value of the
            /// wrong shape is ignored (callers coerce first).
            pub(crate) fn set(&mut self, path: &str, value: &Value) {
                match path {
                    $($(
                        concat!($prefix, stringify!($field)) => {
                            if let Some(v) = Slot::from_value(value) {
                                self.$section.$field = v;
                            }
                        }
                    )*)*
                    _ => {}
                }
            }
        }
    };
}

settings! {
    /// A breaker's settings, as files write them (rates are fractions). The
    /// defaults are the core's [`BreakerConfig::default`] (5 consecutive
    /// failures, 60 s open, 3 probes, 3 successes), and a 50 % rate over 100
    /// calls judged from 10 when a rate detector is chosen.
    #[derive(Clone, PartialEq)]
    breaker: BreakerSettings at "" {
        /// Which detector trips the breaker (default `count_based`).
        circuit_type: Detector = Detector::CountBased,
        /// Consecutive failures that trip it (R7; default 5); not used by
        /// `percentage_based` and `time_based`, which judge the rate only.
        failure_threshold: u32 = 5,
        /// Successful probes that close it (R22; default 3).
        success_threshold: u32 = 3,
        /// How long it stays open before a probe (default 60 s); files and
        /// variables also accept `recovery_timeout`, `timeout`, `reset_timeout`.
        open_duration: Duration = Duration::from_secs(60),
        /// Probes admitted at once while half-open (R21; default 3); files
        /// and variables also accept `half_open_calls` and gobreaker's
        /// `max_requests`.
        half_open_max_calls: u32 = 3,
        /// Failure rate, a fraction in (0, 1], judged by rate detectors (default 0.5).
        failure_rate_threshold: f64 = 0.5,
        /// Calls in the window before a rate is judged (default 10).
        minimum_calls: u32 = 10,
        /// Calls in a count window (default 100).
        sliding_window_size: u32 = 100,
        /// Length of a time window (`time_based`; default 60 s).
        window_duration: Duration = Duration::from_secs(60),
        /// Buckets of a time window (default 10).
        window_buckets: u32 = 10,
        /// Slow-call rate, a fraction in (0, 1]; `None` (the default) turns
        /// slow-call detection off.
        slow_call_rate_threshold: Option<f64> = None,
        /// A call slower than this is slow (default 60 s).
        slow_call_duration_threshold: Duration = Duration::from_secs(60),
        /// Growth of the open period per failed recovery (R37); 1 (the default) = fixed.
        open_duration_multiplier: f64 = 1.0,
        /// Cap of the growing open period; `None` (the default) = `open_duration`.
        max_open_duration: Option<Duration> = None,
        /// Stuck-probe deadline (R25); `None` (the default) = `open_duration`.
        half_open_max_wait: Option<Duration> = None,
        /// A failure this long after the previous one starts the closed
        /// state's counts over (gobreaker's `Interval`, which files and
        /// variables accept as a top-level `interval`; inside `health_check`,
        /// `interval` is the time between checks); `None` (the default) = never.
        closed_count_interval: Option<Duration> = None,
        /// A free label such as `ai` (default none).
        service_category: Option<String> = None,
        /// How critical the service is to its operators, 1 = most critical
        /// (the Python services' `priority`; default none). A label like
        /// `service_category`: `explain` shows it and
        /// [`ConfigLayers::by_priority`](super::ConfigLayers::by_priority)
        /// lists breakers by it, but it changes no breaker behaviour (a tier
        /// chain's order is the order its tiers are listed in).
        priority: Option<u32> = None,
    }

    /// Retry settings (R44–R50): by default 3 attempts, 100 ms doubling to
    /// at most 10 s, full jitter.
    #[derive(Clone, PartialEq)]
    retry: RetrySettings at "retry." {
        /// Attempts including the first; 1 = no retry.
        max_attempts: u32 = 3,
        /// Delay before the second attempt.
        base_delay: Duration = Duration::from_millis(100),
        /// Growth per attempt (>= 1).
        multiplier: f64 = 2.0,
        /// Hard cap on one delay, applied after jitter.
        max_delay: Duration = Duration::from_secs(10),
        /// Randomisation of delays.
        jitter: Jitter = Jitter::Full,
        /// Budget for all attempts (default none).
        max_elapsed: Option<Duration> = None,
        /// Wait a server's Retry-After before the next attempt (default off).
        respect_retry_after: bool = false,
    }

    /// Bulkhead settings (R51–R54): off by default; when on, 25 calls and no
    /// waiting (R4J's defaults).
    #[derive(Clone, PartialEq)]
    bulkhead: BulkheadSettings at "bulkhead." {
        /// Whether calls go through a bulkhead.
        enabled: bool = false,
        /// Calls in flight at once.
        max_concurrent_calls: u32 = 25,
        /// Longest wait for a slot; zero rejects at once when full.
        queue_timeout: Duration = Duration::ZERO,
        /// Waiters beyond which calls are rejected at once (default no limit).
        max_queue_len: Option<u32> = None,
        /// Bulkheads with one pool name share their slots (default none).
        isolation_pool_name: Option<String> = None,
    }

    /// Per-call timeout settings (R55–R57): off by default; when on, 30 s.
    /// Code has no default deadline to agree with: `Pipeline::timeout` and
    /// `#[timeout]` always name theirs.
    #[derive(Clone, PartialEq)]
    call_timeout: TimeoutSettings at "call_timeout." {
        /// Whether each call has a deadline.
        enabled: bool = false,
        /// The deadline.
        duration: Duration = Duration::from_secs(30),
    }

    /// Health-check settings (R71–R75): off by default; when on, every 30 s
    /// with a 5 s deadline, Kubernetes' thresholds (1 / 3). `Debug` hides
    /// credentials in the URL.
    #[derive(Clone, PartialEq)]
    health_check: HealthCheckSettings at "health_check." {
        /// Whether a monitor probes the service.
        enabled: bool = false,
        /// Time between checks.
        interval: Duration = Duration::from_secs(30),
        /// Deadline of one check; must be below `interval`.
        timeout: Duration = Duration::from_secs(5),
        /// Consecutive successes that close the breaker.
        healthy_threshold: u32 = 1,
        /// Consecutive failures that open it.
        unhealthy_threshold: u32 = 3,
        /// The URL a health monitor GETs (a 2xx answer is healthy); set this
        /// or `check`.
        url: Option<String> = None,
        /// The name of a check function the program registers with the
        /// health monitor (cb-tiers' `HealthMonitorBuilder::check_fn`); set
        /// this or `url`.
        check: Option<String> = None,
    }

    /// Classification by name ([`crate::classify::by_name`]): error kinds
    /// counted as failures or excluded whatever the code's classifier says,
    /// excluded first. Both empty by default. Entries are checked for their
    /// shape only: a variant name cannot be checked against an error type
    /// the configuration does not know.
    #[derive(Clone, PartialEq)]
    classify: ClassifySettings at "classify." {
        /// Error kinds that count as failures, unless also excluded.
        failure: Vec<String> = Vec::new(),
        /// Error kinds that count as neither success nor failure (R2).
        excluded: Vec<String> = Vec::new(),
    }
}

/// Everything the layers resolve for one breaker.
///
/// ```
/// use cb_core::config::Settings;
/// let s = Settings::default();
/// s.validate()?;
/// assert_eq!(s.breaker.failure_threshold, 5);
/// assert_eq!(s.breaker_config().failure_threshold, Some(5));
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    /// The breaker.
    pub breaker: BreakerSettings,
    /// Retries around it.
    pub retry: RetrySettings,
    /// The bulkhead inside it.
    pub bulkhead: BulkheadSettings,
    /// The per-call timeout.
    pub call_timeout: TimeoutSettings,
    /// The health monitor.
    pub health_check: HealthCheckSettings,
    /// Classification by name.
    pub classify: ClassifySettings,
}

impl Settings {
    /// Checks every field's range and every cross-field rule, reporting all
    /// problems together (R76). Field paths are the canonical ones.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut v = Violations::new();
        for (path, value) in self.values() {
            if let (Some(spec), Some(value)) = (field(path), value)
                && let Err(rej) = coerce(spec, &value)
            {
                v.push(path, rej.shown, rej.allowed);
            }
        }
        cross_field(self, &mut v);
        if let Some(twice) = listed_twice(&self.classify.failure, &self.classify.excluded) {
            v.push("classify.excluded", format_args!("{twice:?}"), LISTED_TWICE);
        }
        v.finish()
    }

    /// The core breaker's configuration: the same fields under the same
    /// names and units; the detector decides which core detectors are on.
    ///
    /// | `circuit_type` | consecutive | failure rate | window | slow calls |
    /// |---|---|---|---|---|
    /// | `count_based` | on | off | count | if `slow_call_rate_threshold` is set |
    /// | `percentage_based` | off | on | count (`sliding_window_size`) | if set |
    /// | `time_based` | off | on | time (`window_duration` / `window_buckets`) | if set |
    /// | `adaptive` | on | on | count | if set; plus the growing open period |
    pub fn breaker_config(&self) -> BreakerConfig {
        let b = &self.breaker;
        let window = match b.circuit_type {
            Detector::TimeBased => Window::Time {
                length: b.window_duration,
                buckets: b.window_buckets,
            },
            _ => Window::Count {
                size: b.sliding_window_size,
            },
        };
        BreakerConfig {
            failure_threshold: b
                .circuit_type
                .uses_consecutive_failures()
                .then_some(b.failure_threshold),
            failure_rate_threshold: b
                .circuit_type
                .uses_failure_rate()
                .then_some(b.failure_rate_threshold),
            slow_call_rate_threshold: b.slow_call_rate_threshold,
            slow_call_duration_threshold: b.slow_call_duration_threshold,
            window,
            minimum_calls: b.minimum_calls,
            open_duration: b.open_duration,
            open_duration_multiplier: b.open_duration_multiplier,
            max_open_duration: b.max_open_duration,
            half_open_max_calls: b.half_open_max_calls,
            success_threshold: b.success_threshold,
            half_open_max_wait: b.half_open_max_wait,
            closed_count_interval: b.closed_count_interval,
            classify: ByName {
                failure: self.classify.failure.clone(),
                excluded: self.classify.excluded.clone(),
            },
        }
    }
}

/// The rules between fields ([`cb_syntax::rules`], the ones the macros
/// check too), over the resolved values.
fn cross_field(s: &Settings, v: &mut Violations) {
    let values = s.values();
    let fact = |path: &str| match values.iter().find(|(p, _)| *p == path) {
        None => Fact::Unknown,
        Some((_, None)) => Fact::Unset,
        Some((_, Some(value))) => match value {
            Value::Duration(d) => Fact::Duration(*d),
            Value::Int(n) => u64::try_from(*n).map_or(Fact::Set, Fact::Count),
            Value::Bool(b) => Fact::Bool(*b),
            Value::Detector(d) => Fact::Name(d.as_str()),
            Value::Text(t) => Fact::Name(t),
            _ => Fact::Set,
        },
    };
    v.rules("", fact);
}

/// Every canonical path, for drift checks.
#[cfg(test)]
pub(crate) fn all_paths() -> Vec<&'static str> {
    super::schema::FIELDS.iter().map(|f| f.path).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cover_every_field_in_table_order() {
        let paths: Vec<_> = Settings::default().values().into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, all_paths());
    }

    #[test]
    fn set_round_trips_every_field() {
        let mut s = Settings::default();
        s.breaker.slow_call_rate_threshold = Some(0.8);
        s.breaker.max_open_duration = Some(Duration::from_secs(600));
        s.breaker.half_open_max_wait = Some(Duration::from_secs(9));
        s.breaker.closed_count_interval = Some(Duration::from_secs(3600));
        s.breaker.service_category = Some("ai".into());
        s.breaker.priority = Some(2);
        s.retry.max_elapsed = Some(Duration::from_secs(9));
        s.bulkhead.max_queue_len = Some(4);
        s.bulkhead.isolation_pool_name = Some("p".into());
        s.health_check.url = Some("https://x.example/h".into());
        s.health_check.check = Some("db_ping".into());
        s.breaker.circuit_type = Detector::Adaptive;
        s.retry.jitter = Jitter::Proportional(0.5);
        s.classify.failure = vec!["5xx".into(), "timeout".into()];
        s.classify.excluded = vec!["NotFound".into()];
        let mut t = Settings::default();
        for (path, value) in s.values() {
            if let Some(value) = value {
                t.set(path, &value);
            }
        }
        assert_eq!(s, t);
    }

    #[test]
    fn defaults_are_valid_and_map_to_core_defaults() {
        let s = Settings::default();
        s.validate().unwrap();
        assert_eq!(s.breaker_config(), BreakerConfig::default());
    }

    #[test]
    fn r80_debug_hides_url_credentials() {
        let mut s = Settings::default();
        s.health_check.url = Some("https://u:hunter2@h.example/x".into());
        let text = format!("{s:?}");
        assert!(
            text.contains("https://<redacted>@h.example/x") && !text.contains("hunter2"),
            "{text}"
        );
    }

    #[test]
    fn debug_shows_every_other_field_as_written() {
        assert_eq!(
            format!("{:?}", TimeoutSettings::default()),
            "TimeoutSettings { enabled: false, duration: 30s }"
        );
        let mut s = Settings::default();
        s.breaker.service_category = Some("u:p@ai".into());
        assert!(format!("{s:?}").contains("service_category: Some(\"u:p@ai\")"));
    }

    #[test]
    fn rates_reach_the_core_unchanged() {
        let mut s = Settings::default();
        s.breaker.circuit_type = Detector::PercentageBased;
        s.breaker.failure_rate_threshold = 0.7;
        s.breaker.slow_call_rate_threshold = Some(0.4);
        let cfg = s.breaker_config();
        assert_eq!(cfg.failure_rate_threshold, Some(0.7));
        assert_eq!(cfg.slow_call_rate_threshold, Some(0.4));
    }
}
