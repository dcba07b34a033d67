//! The resolved configuration of one breaker and its neighbouring policies:
//! plain, validated data that the layers produce.
//!
//! The retry, bulkhead, timeout and health-check settings are plain structs
//! here; the policies that consume them are built elsewhere and wired to
//! these at merge time.

use std::time::Duration;

use super::schema::{Detector, Jitter, Value, coerce, field};
use crate::breaker::{BreakerConfig, Window};
use crate::error::{ConfigError, Violations};

/// A breaker's settings, as files write them (rates are fractions).
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerSettings {
    /// Which detector trips the breaker.
    pub circuit_type: Detector,
    /// Consecutive failures that trip it (R7); always on.
    pub failure_threshold: u32,
    /// Successful probes that close it (R22).
    pub success_threshold: u32,
    /// How long it stays open before a probe (the seeds' `timeout`).
    pub recovery_timeout: Duration,
    /// Probes admitted at once while half-open (R21).
    pub half_open_max_calls: u32,
    /// Failure rate, a fraction in (0, 1], judged by rate detectors.
    pub failure_rate_threshold: f64,
    /// Calls in the window before a rate is judged.
    pub minimum_calls: u32,
    /// Calls in a count window.
    pub sliding_window_size: u32,
    /// Length of a time window (`time_based`).
    pub window_duration: Duration,
    /// Buckets of a time window.
    pub window_buckets: u32,
    /// Slow-call rate, a fraction in (0, 1]; `None` turns slow-call detection off.
    pub slow_call_rate_threshold: Option<f64>,
    /// A call slower than this is slow.
    pub slow_call_duration_threshold: Duration,
    /// Growth of the open period per failed recovery (R37); 1 = fixed.
    pub recovery_timeout_multiplier: f64,
    /// Cap of the growing open period; `None` = `recovery_timeout`.
    pub max_recovery_timeout: Option<Duration>,
    /// Stuck-probe deadline (R25); `None` = `recovery_timeout`.
    pub half_open_max_wait: Option<Duration>,
    /// One breaker per MCP tool instead of one per server.
    pub tool_level_breakers: bool,
    /// A free label such as `ai`.
    pub service_category: Option<String>,
    /// Tier priority, 1 = highest.
    pub priority: Option<u32>,
}

/// Retry settings (R44–R50).
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySettings {
    /// Attempts including the first; 1 = no retry.
    pub max_attempts: u32,
    /// Delay before the second attempt.
    pub base_delay: Duration,
    /// Growth per attempt (>= 1).
    pub multiplier: f64,
    /// Hard cap on one delay, applied after jitter.
    pub max_delay: Duration,
    /// Randomisation of delays.
    pub jitter: Jitter,
    /// Budget for all attempts.
    pub max_elapsed: Option<Duration>,
    /// Wait a server's Retry-After before the next attempt.
    pub respect_retry_after: bool,
}

/// Bulkhead settings (R51–R54).
#[derive(Debug, Clone, PartialEq)]
pub struct BulkheadSettings {
    /// Whether calls go through a bulkhead.
    pub enabled: bool,
    /// Calls in flight at once.
    pub max_concurrent_calls: u32,
    /// Longest wait for a slot; zero rejects at once when full.
    pub queue_timeout: Duration,
    /// Waiters beyond which calls are rejected at once.
    pub max_queue_len: Option<u32>,
    /// Bulkheads with one pool name share their slots.
    pub isolation_pool_name: Option<String>,
}

/// Per-call timeout settings (R55–R57).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeoutSettings {
    /// Whether each call has a deadline.
    pub enabled: bool,
    /// The deadline.
    pub duration: Duration,
}

/// Health-check settings (R71–R75). `Debug` hides credentials in the URL.
#[derive(Clone, PartialEq)]
pub struct HealthCheckSettings {
    /// Whether a monitor probes the service.
    pub enabled: bool,
    /// Time between checks.
    pub interval: Duration,
    /// Deadline of one check; must be below `interval`.
    pub timeout: Duration,
    /// Consecutive successes that close the breaker.
    pub healthy_threshold: u32,
    /// Consecutive failures that open it.
    pub unhealthy_threshold: u32,
    /// The URL to GET; `None` means a function check supplied in code.
    pub url: Option<String>,
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
}

impl Default for BreakerSettings {
    /// The built-in defaults: the core's [`BreakerConfig::default`] (5
    /// consecutive failures, 60 s open, 3 probes, 3 successes), a 50 % rate
    /// over 100 calls judged from 10 when a rate detector is chosen.
    fn default() -> Self {
        Self {
            circuit_type: Detector::CountBased,
            failure_threshold: 5,
            success_threshold: 3,
            recovery_timeout: Duration::from_secs(60),
            half_open_max_calls: 3,
            failure_rate_threshold: 0.5,
            minimum_calls: 10,
            sliding_window_size: 100,
            window_duration: Duration::from_secs(60),
            window_buckets: 10,
            slow_call_rate_threshold: None,
            slow_call_duration_threshold: Duration::from_secs(60),
            recovery_timeout_multiplier: 1.0,
            max_recovery_timeout: None,
            half_open_max_wait: None,
            tool_level_breakers: false,
            service_category: None,
            priority: None,
        }
    }
}

impl Default for RetrySettings {
    /// 3 attempts, 100 ms doubling to at most 10 s, full jitter.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            multiplier: 2.0,
            max_delay: Duration::from_secs(10),
            jitter: Jitter::Full,
            max_elapsed: None,
            respect_retry_after: false,
        }
    }
}

impl Default for BulkheadSettings {
    /// Off; when on, 25 calls and no waiting (R4J's defaults).
    fn default() -> Self {
        Self {
            enabled: false,
            max_concurrent_calls: 25,
            queue_timeout: Duration::ZERO,
            max_queue_len: None,
            isolation_pool_name: None,
        }
    }
}

impl Default for TimeoutSettings {
    /// Off; when on, 30 s.
    fn default() -> Self {
        Self {
            enabled: false,
            duration: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for HealthCheckSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCheckSettings")
            .field("enabled", &self.enabled)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("healthy_threshold", &self.healthy_threshold)
            .field("unhealthy_threshold", &self.unhealthy_threshold)
            .field("url", &self.url.as_deref().map(super::schema::redact_url))
            .finish()
    }
}

impl Default for HealthCheckSettings {
    /// Off; when on, every 30 s with a 5 s deadline, Kubernetes' thresholds (1 / 3).
    fn default() -> Self {
        Self {
            enabled: false,
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            healthy_threshold: 1,
            unhealthy_threshold: 3,
            url: None,
        }
    }
}

fn dur(d: Duration) -> Option<Value> {
    Some(Value::Duration(d))
}
fn int(n: u32) -> Option<Value> {
    Some(Value::Int(n.into()))
}

impl Settings {
    /// Every field as `(path, value)`, `None` for an unset optional field,
    /// in the order of the reference table.
    pub fn values(&self) -> Vec<(&'static str, Option<Value>)> {
        let b = &self.breaker;
        let r = &self.retry;
        let k = &self.bulkhead;
        let h = &self.health_check;
        vec![
            ("circuit_type", Some(Value::Detector(b.circuit_type))),
            ("failure_threshold", int(b.failure_threshold)),
            ("success_threshold", int(b.success_threshold)),
            ("recovery_timeout", dur(b.recovery_timeout)),
            ("half_open_max_calls", int(b.half_open_max_calls)),
            (
                "failure_rate_threshold",
                Some(Value::Float(b.failure_rate_threshold)),
            ),
            ("minimum_calls", int(b.minimum_calls)),
            ("sliding_window_size", int(b.sliding_window_size)),
            ("window_duration", dur(b.window_duration)),
            ("window_buckets", int(b.window_buckets)),
            (
                "slow_call_rate_threshold",
                b.slow_call_rate_threshold.map(Value::Float),
            ),
            (
                "slow_call_duration_threshold",
                dur(b.slow_call_duration_threshold),
            ),
            (
                "recovery_timeout_multiplier",
                Some(Value::Float(b.recovery_timeout_multiplier)),
            ),
            (
                "max_recovery_timeout",
                b.max_recovery_timeout.map(Value::Duration),
            ),
            ("half_open_max_wait", b.half_open_max_wait.map(Value::Duration)),
            ("tool_level_breakers", Some(Value::Bool(b.tool_level_breakers))),
            ("service_category", b.service_category.clone().map(Value::Text)),
            ("priority", b.priority.and_then(int)),
            ("retry.max_attempts", int(r.max_attempts)),
            ("retry.base_delay", dur(r.base_delay)),
            ("retry.multiplier", Some(Value::Float(r.multiplier))),
            ("retry.max_delay", dur(r.max_delay)),
            ("retry.jitter", Some(Value::Jitter(r.jitter))),
            ("retry.max_elapsed", r.max_elapsed.map(Value::Duration)),
            (
                "retry.respect_retry_after",
                Some(Value::Bool(r.respect_retry_after)),
            ),
            ("bulkhead.enabled", Some(Value::Bool(k.enabled))),
            ("bulkhead.max_concurrent_calls", int(k.max_concurrent_calls)),
            ("bulkhead.queue_timeout", dur(k.queue_timeout)),
            ("bulkhead.max_queue_len", k.max_queue_len.and_then(int)),
            (
                "bulkhead.isolation_pool_name",
                k.isolation_pool_name.clone().map(Value::Text),
            ),
            (
                "call_timeout.enabled",
                Some(Value::Bool(self.call_timeout.enabled)),
            ),
            ("call_timeout.duration", dur(self.call_timeout.duration)),
            ("health_check.enabled", Some(Value::Bool(h.enabled))),
            ("health_check.interval", dur(h.interval)),
            ("health_check.timeout", dur(h.timeout)),
            ("health_check.healthy_threshold", int(h.healthy_threshold)),
            ("health_check.unhealthy_threshold", int(h.unhealthy_threshold)),
            ("health_check.url", h.url.clone().map(Value::Text)),
        ]
    }

    /// Sets one field from an already checked value; a value of the wrong
    /// shape is ignored (callers coerce first).
    pub(crate) fn set(&mut self, path: &str, value: &Value) {
        let (b, r, k, h) = (
            &mut self.breaker,
            &mut self.retry,
            &mut self.bulkhead,
            &mut self.health_check,
        );
        let u = |v: &Value| match v {
            Value::Int(n) => u32::try_from(*n).ok(),
            _ => None,
        };
        let x = |v: &Value| match v {
            Value::Float(x) => Some(*x),
            _ => None,
        };
        let d = |v: &Value| match v {
            Value::Duration(d) => Some(*d),
            _ => None,
        };
        let t = |v: &Value| match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        };
        let s = |v: &Value| match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        };
        fn put<T>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        fn put_opt<T>(slot: &mut Option<T>, v: Option<T>) {
            if v.is_some() {
                *slot = v;
            }
        }
        match path {
            "circuit_type" => {
                if let Value::Detector(det) = value {
                    b.circuit_type = *det;
                }
            }
            "failure_threshold" => put(&mut b.failure_threshold, u(value)),
            "success_threshold" => put(&mut b.success_threshold, u(value)),
            "recovery_timeout" => put(&mut b.recovery_timeout, d(value)),
            "half_open_max_calls" => put(&mut b.half_open_max_calls, u(value)),
            "failure_rate_threshold" => put(&mut b.failure_rate_threshold, x(value)),
            "minimum_calls" => put(&mut b.minimum_calls, u(value)),
            "sliding_window_size" => put(&mut b.sliding_window_size, u(value)),
            "window_duration" => put(&mut b.window_duration, d(value)),
            "window_buckets" => put(&mut b.window_buckets, u(value)),
            "slow_call_rate_threshold" => put_opt(&mut b.slow_call_rate_threshold, x(value)),
            "slow_call_duration_threshold" => put(&mut b.slow_call_duration_threshold, d(value)),
            "recovery_timeout_multiplier" => put(&mut b.recovery_timeout_multiplier, x(value)),
            "max_recovery_timeout" => put_opt(&mut b.max_recovery_timeout, d(value)),
            "half_open_max_wait" => put_opt(&mut b.half_open_max_wait, d(value)),
            "tool_level_breakers" => put(&mut b.tool_level_breakers, t(value)),
            "service_category" => put_opt(&mut b.service_category, s(value)),
            "priority" => put_opt(&mut b.priority, u(value)),
            "retry.max_attempts" => put(&mut r.max_attempts, u(value)),
            "retry.base_delay" => put(&mut r.base_delay, d(value)),
            "retry.multiplier" => put(&mut r.multiplier, x(value)),
            "retry.max_delay" => put(&mut r.max_delay, d(value)),
            "retry.jitter" => {
                if let Value::Jitter(j) = value {
                    r.jitter = *j;
                }
            }
            "retry.max_elapsed" => put_opt(&mut r.max_elapsed, d(value)),
            "retry.respect_retry_after" => put(&mut r.respect_retry_after, t(value)),
            "bulkhead.enabled" => put(&mut k.enabled, t(value)),
            "bulkhead.max_concurrent_calls" => put(&mut k.max_concurrent_calls, u(value)),
            "bulkhead.queue_timeout" => put(&mut k.queue_timeout, d(value)),
            "bulkhead.max_queue_len" => put_opt(&mut k.max_queue_len, u(value)),
            "bulkhead.isolation_pool_name" => put_opt(&mut k.isolation_pool_name, s(value)),
            "call_timeout.enabled" => put(&mut self.call_timeout.enabled, t(value)),
            "call_timeout.duration" => put(&mut self.call_timeout.duration, d(value)),
            "health_check.enabled" => put(&mut h.enabled, t(value)),
            "health_check.interval" => put(&mut h.interval, d(value)),
            "health_check.timeout" => put(&mut h.timeout, d(value)),
            "health_check.healthy_threshold" => put(&mut h.healthy_threshold, u(value)),
            "health_check.unhealthy_threshold" => put(&mut h.unhealthy_threshold, u(value)),
            "health_check.url" => put_opt(&mut h.url, s(value)),
            _ => {}
        }
    }

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
        v.finish()
    }

    /// The core breaker's configuration: rates become percentages and the
    /// detector decides which core detectors are on.
    ///
    /// | `circuit_type` | consecutive | failure rate | window | slow calls |
    /// |---|---|---|---|---|
    /// | `count_based` | on | off | count | if `slow_call_rate_threshold` is set |
    /// | `percentage_based` | on | on | count (`sliding_window_size`) | if set |
    /// | `time_based` | on | on | time (`window_duration` / `window_buckets`) | if set |
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
            failure_threshold: Some(b.failure_threshold),
            failure_rate_threshold: b
                .circuit_type
                .uses_failure_rate()
                .then(|| percent(b.failure_rate_threshold)),
            slow_call_rate_threshold: b.slow_call_rate_threshold.map(percent),
            slow_call_duration_threshold: b.slow_call_duration_threshold,
            window,
            minimum_calls: b.minimum_calls,
            open_duration: b.recovery_timeout,
            open_duration_multiplier: b.recovery_timeout_multiplier,
            max_open_duration: b.max_recovery_timeout,
            half_open_max_calls: b.half_open_max_calls,
            success_threshold: b.success_threshold,
            half_open_max_wait: b.half_open_max_wait,
        }
    }
}

/// A fraction as the core's percent, rounded to kill binary noise (0.7 × 100).
fn percent(fraction: f64) -> f64 {
    (fraction * 100.0 * 1e9).round() / 1e9
}

use super::duration::format_duration as fd;

/// The rules between fields.
fn cross_field(s: &Settings, v: &mut Violations) {
    let b = &s.breaker;
    if let Some(max) = b.max_recovery_timeout
        && max < b.recovery_timeout
    {
        v.push(
            "max_recovery_timeout",
            fd(max),
            format!("must be >= recovery_timeout ({})", fd(b.recovery_timeout)),
        );
    }
    if b.circuit_type == Detector::TimeBased
        && b.window_buckets >= 1
        && b.window_duration < Duration::from_millis(b.window_buckets.into())
    {
        v.push(
            "window_duration",
            fd(b.window_duration),
            format!(
                "must be >= 1ms per bucket ({} buckets => >= {}ms)",
                b.window_buckets, b.window_buckets
            ),
        );
    }
    if s.call_timeout.enabled
        && b.slow_call_rate_threshold.is_some()
        && b.slow_call_duration_threshold >= s.call_timeout.duration
    {
        v.push(
            "slow_call_duration_threshold",
            fd(b.slow_call_duration_threshold),
            format!(
                "must be < call_timeout.duration ({}): a call is cut off at its timeout, so it could never count as slow",
                fd(s.call_timeout.duration)
            ),
        );
    }
    if s.retry.max_delay < s.retry.base_delay {
        v.push(
            "retry.max_delay",
            fd(s.retry.max_delay),
            format!("must be >= retry.base_delay ({})", fd(s.retry.base_delay)),
        );
    }
    if s.bulkhead.enabled && s.call_timeout.enabled && s.bulkhead.queue_timeout >= s.call_timeout.duration {
        v.push(
            "bulkhead.queue_timeout",
            fd(s.bulkhead.queue_timeout),
            format!(
                "must be < call_timeout.duration ({}): the queue wait counts toward the call's timeout (R61)",
                fd(s.call_timeout.duration)
            ),
        );
    }
    let h = &s.health_check;
    if h.timeout >= h.interval {
        v.push(
            "health_check.timeout",
            fd(h.timeout),
            format!("must be < health_check.interval ({})", fd(h.interval)),
        );
    }
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
        s.breaker.max_recovery_timeout = Some(Duration::from_secs(600));
        s.breaker.half_open_max_wait = Some(Duration::from_secs(9));
        s.breaker.service_category = Some("ai".into());
        s.breaker.priority = Some(2);
        s.retry.max_elapsed = Some(Duration::from_secs(9));
        s.bulkhead.max_queue_len = Some(4);
        s.bulkhead.isolation_pool_name = Some("p".into());
        s.health_check.url = Some("https://x.example/h".into());
        s.breaker.circuit_type = Detector::Adaptive;
        s.retry.jitter = Jitter::Proportional(0.5);
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
    fn rates_become_exact_percentages() {
        assert_eq!(percent(0.7), 70.0);
        assert_eq!(percent(0.4), 40.0);
        assert_eq!(percent(1.0), 100.0);
    }
}
