//! The field table: every configurable key, its type, its aliases and its
//! allowed range. Files, environment variables, templates and code overrides
//! all go through [`coerce`], so a value is checked the same way wherever it
//! was written.

use std::time::Duration;

use super::duration::parse_duration;
pub(crate) use super::suggest::{backticked, nearest, with_suggestion};
pub(crate) use super::value::{Detector, Jitter, Value};

/// A field's type and range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An integer `>= min`, at most `u32::MAX`.
    Count {
        min: u32,
    },
    /// A rate as a fraction in `(0, 1]`.
    Fraction,
    /// A finite number `>= 1`.
    Factor,
    /// A duration, `> 0` unless `zero_ok`.
    Duration {
        zero_ok: bool,
    },
    Bool,
    /// A non-empty string.
    Text,
    /// An `http(s)://` URL; its user-info part is a secret.
    Url,
    Detector,
    Jitter,
}

impl Kind {
    /// The type as the reference table shows it.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Kind::Count { .. } => "integer",
            Kind::Fraction => "fraction",
            Kind::Factor => "number",
            Kind::Duration { .. } => "duration",
            Kind::Bool => "bool",
            Kind::Text => "string",
            Kind::Url => "URL",
            Kind::Detector => "detector",
            Kind::Jitter => "jitter",
        }
    }

    /// What the field accepts: the text after the `:` of a violation.
    pub(crate) fn allowed(self) -> String {
        match self {
            Kind::Count { min } => format!("must be an integer >= {min}"),
            Kind::Fraction => "must be > 0 and <= 1 (a fraction: 0.4 means 40%)".into(),
            Kind::Factor => "must be a finite number >= 1".into(),
            Kind::Duration { zero_ok } => format!(
                "must be a duration {} (seconds, or a string such as \"500ms\", \"30s\", \"2m\")",
                if zero_ok { ">= 0" } else { "> 0" }
            ),
            Kind::Bool => "must be true or false".into(),
            Kind::Text => "must be a non-empty string".into(),
            Kind::Url => "must be an http:// or https:// URL".into(),
            Kind::Detector => format!(
                "must be one of {}",
                backticked(Detector::ALL.map(Detector::as_str))
            ),
            Kind::Jitter => {
                "must be one of `none`, `full`, `equal`, `decorrelated`, or a number >= 0 and <= 1 \
                 (proportional jitter)"
                    .into()
            }
        }
    }

    /// The allowed range, short, for the reference table.
    pub(crate) fn range(self) -> String {
        match self {
            Kind::Count { min } => format!("integer >= {min}"),
            Kind::Fraction => "0 < x <= 1".into(),
            Kind::Factor => "finite, >= 1".into(),
            Kind::Duration { zero_ok: false } => "> 0".into(),
            Kind::Duration { zero_ok: true } => ">= 0".into(),
            Kind::Bool => "true, false".into(),
            Kind::Text => "non-empty".into(),
            Kind::Url => "http(s) URL".into(),
            Kind::Detector => Detector::ALL.map(Detector::as_str).join(", "),
            Kind::Jitter => "none, full, equal, decorrelated, 0..=1".into(),
        }
    }
}

/// One configurable key.
#[derive(Debug)]
pub(crate) struct FieldSpec {
    /// The canonical path, e.g. `failure_threshold` or `retry.max_attempts`.
    pub(crate) path: &'static str,
    /// Other names accepted for the key within its section (the seeds' names).
    pub(crate) aliases: &'static [&'static str],
    pub(crate) kind: Kind,
    /// Whether the field may be unset (an absent optional feature).
    pub(crate) optional: bool,
    /// One line for the reference table.
    pub(crate) doc: &'static str,
}

impl FieldSpec {
    /// The section (`retry`, ...) or `None` for a top-level breaker key.
    pub(crate) fn section(&self) -> Option<&'static str> {
        self.path.split_once('.').map(|(s, _)| s)
    }
    /// The key within its section.
    pub(crate) fn key(&self) -> &'static str {
        self.path.split_once('.').map_or(self.path, |(_, k)| k)
    }
    /// Whether `name` names this key within its section.
    pub(crate) fn answers_to(&self, name: &str) -> bool {
        self.key() == name || self.aliases.contains(&name)
    }
}

const fn f(
    path: &'static str,
    aliases: &'static [&'static str],
    kind: Kind,
    optional: bool,
    doc: &'static str,
) -> FieldSpec {
    FieldSpec {
        path,
        aliases,
        kind,
        optional,
        doc,
    }
}

const COUNT1: Kind = Kind::Count { min: 1 };
const DUR: Kind = Kind::Duration { zero_ok: false };

/// Every field, in documentation order.
pub(crate) static FIELDS: &[FieldSpec] = &[
    f(
        "circuit_type",
        &[],
        Kind::Detector,
        false,
        "Which detector trips the breaker",
    ),
    f(
        "failure_threshold",
        &["fail_max"],
        COUNT1,
        false,
        "Consecutive failures that trip the breaker (R7)",
    ),
    f(
        "success_threshold",
        &[],
        COUNT1,
        false,
        "Successful half-open probes that close it (R22)",
    ),
    f(
        "recovery_timeout",
        &["timeout", "open_duration"],
        DUR,
        false,
        "How long the circuit stays open before a probe (the seeds' `timeout`)",
    ),
    f(
        "half_open_max_calls",
        &["half_open_calls"],
        COUNT1,
        false,
        "Probes admitted at once while half-open (R21)",
    ),
    f(
        "failure_rate_threshold",
        &[],
        Kind::Fraction,
        false,
        "Failure rate that trips rate detectors (R8, R10)",
    ),
    f(
        "minimum_calls",
        &["min_calls"],
        COUNT1,
        false,
        "Calls in the window before a rate is judged (R9, R11)",
    ),
    f(
        "sliding_window_size",
        &["window_size"],
        COUNT1,
        false,
        "Calls in a count window",
    ),
    f(
        "window_duration",
        &[],
        DUR,
        false,
        "Length of a `time_based` window",
    ),
    f(
        "window_buckets",
        &[],
        COUNT1,
        false,
        "Buckets of a `time_based` window",
    ),
    f(
        "slow_call_rate_threshold",
        &[],
        Kind::Fraction,
        true,
        "Slow-call rate that trips; unset = off (R12)",
    ),
    f(
        "slow_call_duration_threshold",
        &[],
        DUR,
        false,
        "A call slower than this is slow (R12)",
    ),
    f(
        "recovery_timeout_multiplier",
        &[],
        Kind::Factor,
        false,
        "Growth of the open period per failed recovery (R37)",
    ),
    f(
        "max_recovery_timeout",
        &[],
        DUR,
        true,
        "Cap of the growing open period; unset = `recovery_timeout`",
    ),
    f(
        "half_open_max_wait",
        &[],
        DUR,
        true,
        "Stuck-probe deadline (R25); unset = `recovery_timeout`",
    ),
    f(
        "tool_level_breakers",
        &["enable_tool_level_breakers"],
        Kind::Bool,
        false,
        "One breaker per MCP tool instead of one per server",
    ),
    f(
        "service_category",
        &[],
        Kind::Text,
        true,
        "Free label (e.g. `ai`), for dashboards",
    ),
    f("priority", &[], COUNT1, true, "Tier priority, 1 = highest"),
    f(
        "retry.max_attempts",
        &[],
        COUNT1,
        false,
        "Attempts including the first; 1 = no retry (R44)",
    ),
    f(
        "retry.base_delay",
        &[],
        DUR,
        false,
        "Delay before the second attempt (R45)",
    ),
    f(
        "retry.multiplier",
        &[],
        Kind::Factor,
        false,
        "Backoff growth per attempt (R45)",
    ),
    f(
        "retry.max_delay",
        &[],
        DUR,
        false,
        "Hard cap on one delay, after jitter (R45)",
    ),
    f(
        "retry.jitter",
        &[],
        Kind::Jitter,
        false,
        "Randomisation of delays (R45)",
    ),
    f(
        "retry.max_elapsed",
        &[],
        DUR,
        true,
        "Budget for all attempts; unset = none (R50)",
    ),
    f(
        "retry.respect_retry_after",
        &[],
        Kind::Bool,
        false,
        "Wait a server's Retry-After before retrying",
    ),
    f(
        "bulkhead.enabled",
        &[],
        Kind::Bool,
        false,
        "Whether calls go through a bulkhead",
    ),
    f(
        "bulkhead.max_concurrent_calls",
        &["max_concurrent"],
        COUNT1,
        false,
        "Calls in flight at once (R51)",
    ),
    f(
        "bulkhead.queue_timeout",
        &[],
        Kind::Duration { zero_ok: true },
        false,
        "Longest wait for a slot; 0 = none (R51)",
    ),
    f(
        "bulkhead.max_queue_len",
        &[],
        Kind::Count { min: 0 },
        true,
        "Waiters beyond which calls are rejected (R54)",
    ),
    f(
        "bulkhead.isolation_pool_name",
        &[],
        Kind::Text,
        true,
        "Bulkheads with one pool name share slots",
    ),
    f(
        "call_timeout.enabled",
        &[],
        Kind::Bool,
        false,
        "Whether each call has a deadline (R55)",
    ),
    f(
        "call_timeout.duration",
        &[],
        DUR,
        false,
        "The per-call deadline (R55)",
    ),
    f(
        "health_check.enabled",
        &[],
        Kind::Bool,
        false,
        "Whether a health monitor probes the service (R71)",
    ),
    f(
        "health_check.interval",
        &["health_check_interval"],
        DUR,
        false,
        "Time between checks (R71)",
    ),
    f(
        "health_check.timeout",
        &["health_check_timeout"],
        DUR,
        false,
        "Deadline of one check; < interval (R71)",
    ),
    f(
        "health_check.healthy_threshold",
        &[],
        COUNT1,
        false,
        "Successes that close the breaker (R71)",
    ),
    f(
        "health_check.unhealthy_threshold",
        &[],
        COUNT1,
        false,
        "Failures that open it (R71)",
    ),
    f(
        "health_check.url",
        &["health_check_url"],
        Kind::Url,
        true,
        "URL to GET; unset = a function check",
    ),
];

/// The sections and their other names in files (the seeds' `*_config`).
pub(crate) static SECTIONS: &[(&str, &[&str])] = &[
    ("retry", &["retry_config"]),
    ("bulkhead", &["bulkhead_config"]),
    ("call_timeout", &["timeout_config"]),
    ("health_check", &["health_check_config"]),
];

/// The field with this canonical path.
pub(crate) fn field(path: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.path == path)
}

/// The canonical name of a section written as `name`.
pub(crate) fn section(name: &str) -> Option<&'static str> {
    SECTIONS
        .iter()
        .find(|(s, aliases)| *s == name || aliases.contains(&name))
        .map(|(s, _)| *s)
}

/// The field called `name` within `section` (`None` = top level).
pub(crate) fn field_in(section: Option<&str>, name: &str) -> Option<&'static FieldSpec> {
    FIELDS
        .iter()
        .find(|f| f.section() == section && f.answers_to(name))
}

/// A rejected value, ready to become a violation: the value as shown and
/// what is allowed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rejection {
    pub(crate) shown: String,
    pub(crate) allowed: String,
}

/// Checks `value` against the field's type and range and returns it in its
/// canonical form (an `Int` for counts, a `Float` for rates, ...).
pub(crate) fn coerce(spec: &FieldSpec, value: &Value) -> Result<Value, Rejection> {
    let reject = |allowed: String| Rejection {
        shown: show(spec, value),
        allowed,
    };
    let kind = spec.kind;
    match (kind, value) {
        (Kind::Count { min }, v) => {
            let n = match v {
                Value::Int(n) => Some(*n),
                Value::Text(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            match n {
                Some(n) if n >= i64::from(min) && n <= i64::from(u32::MAX) => Ok(Value::Int(n)),
                Some(n) if n > i64::from(u32::MAX) => {
                    Err(reject(format!("{} and <= {}", kind.allowed(), u32::MAX)))
                }
                _ => Err(reject(kind.allowed())),
            }
        }
        (Kind::Fraction | Kind::Factor, v) => {
            let x = match v {
                Value::Int(n) => Some(*n as f64),
                Value::Float(x) => Some(*x),
                Value::Text(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            let ok = |x: f64| match kind {
                Kind::Fraction => x.is_finite() && x > 0.0 && x <= 1.0,
                _ => x.is_finite() && x >= 1.0,
            };
            match x {
                Some(x) if ok(x) => Ok(Value::Float(x)),
                _ => Err(reject(kind.allowed())),
            }
        }
        (Kind::Duration { zero_ok }, v) => {
            let d = match v {
                Value::Duration(d) => Some(*d),
                Value::Int(n) => u64::try_from(*n).ok().map(Duration::from_secs),
                Value::Float(x) => Duration::try_from_secs_f64(*x).ok(),
                Value::Text(s) => parse_duration(s),
                _ => None,
            };
            match d {
                Some(d) if zero_ok || !d.is_zero() => Ok(Value::Duration(d)),
                _ => Err(reject(kind.allowed())),
            }
        }
        (Kind::Bool, Value::Bool(b)) => Ok(Value::Bool(*b)),
        (Kind::Bool, Value::Text(s)) => match s.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(reject(kind.allowed())),
        },
        (Kind::Text, Value::Text(s)) if !s.trim().is_empty() => Ok(Value::Text(s.clone())),
        (Kind::Url, Value::Text(s)) => {
            let s = s.trim();
            let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
            match rest {
                Some(host)
                    if !host.is_empty() && !host.starts_with('/') && !s.contains(char::is_whitespace) =>
                {
                    Ok(Value::Text(s.to_owned()))
                }
                _ => Err(reject(kind.allowed())),
            }
        }
        (Kind::Detector, Value::Detector(d)) => Ok(Value::Detector(*d)),
        (Kind::Detector, Value::Text(s)) => {
            let s = s.trim();
            match Detector::ALL.into_iter().find(|d| d.as_str() == s) {
                Some(d) => Ok(Value::Detector(d)),
                None => {
                    let names = Detector::ALL.map(Detector::as_str);
                    Err(reject(with_suggestion(kind.allowed(), s, &names)))
                }
            }
        }
        (Kind::Jitter, v) => {
            let j = match v {
                Value::Jitter(j) => Some(*j),
                Value::Int(n) => Some(Jitter::Proportional(*n as f64)),
                Value::Float(x) => Some(Jitter::Proportional(*x)),
                Value::Text(s) => match s.trim() {
                    "none" => Some(Jitter::None),
                    "full" => Some(Jitter::Full),
                    "equal" => Some(Jitter::Equal),
                    "decorrelated" => Some(Jitter::Decorrelated),
                    other => other.parse::<f64>().ok().map(Jitter::Proportional),
                },
                _ => None,
            };
            match j {
                Some(Jitter::Proportional(x)) if !(x.is_finite() && (0.0..=1.0).contains(&x)) => {
                    Err(reject(kind.allowed()))
                }
                Some(j) => Ok(Value::Jitter(j)),
                None => Err(reject(kind.allowed())),
            }
        }
        _ => Err(reject(kind.allowed())),
    }
}

/// A value as an error message or `explain` shows it, with secrets removed.
pub(crate) fn show(spec: &FieldSpec, value: &Value) -> String {
    match (spec.kind, value) {
        (Kind::Url, Value::Text(s)) => format!("{:?}", redact_url(s)),
        _ => value.to_string(),
    }
}

/// `https://user:pass@host/x` → `https://<redacted>@host/x`.
pub(crate) fn redact_url(s: &str) -> String {
    let (scheme, rest) = match s.find("://") {
        Some(i) => (&s[..i + 3], &s[i + 3..]),
        None => ("", s),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}<redacted>{}", &rest[at..]),
        None => s.to_owned(),
    }
}

/// Whether a variable's name says it holds a secret; its value is then never shown.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "CREDENTIAL",
        "PRIVATE_KEY",
    ]
    .iter()
    .any(|s| upper.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_sections_known() {
        for (i, a) in FIELDS.iter().enumerate() {
            assert!(FIELDS[i + 1..].iter().all(|b| b.path != a.path), "{}", a.path);
            if let Some(s) = a.section() {
                assert!(section(s).is_some(), "{}", a.path);
            }
            assert_eq!(field_in(a.section(), a.key()).map(|f| f.path), Some(a.path));
            for alias in a.aliases {
                assert_eq!(
                    field_in(a.section(), alias).map(|f| f.path),
                    Some(a.path),
                    "{alias}"
                );
            }
        }
    }

    #[test]
    fn r80_urls_lose_their_credentials() {
        assert_eq!(
            redact_url("https://u:p@h.example/x?y=1"),
            "https://<redacted>@h.example/x?y=1"
        );
        assert_eq!(redact_url("https://h.example/a@b"), "https://h.example/a@b");
        assert!(is_secret_name("DB_PASSWORD") && !is_secret_name("CB_FT"));
    }
}
