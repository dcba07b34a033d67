//! The value types of configuration fields.

use std::fmt;
use std::time::Duration;

use super::duration::format_duration;

/// Which failure detector a breaker uses (`circuit_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Detector {
    /// `count_based`: trips after `failure_threshold` consecutive failures (R7).
    CountBased,
    /// `percentage_based`: trips on the failure rate over the last
    /// `sliding_window_size` calls (R8) only; `failure_threshold` is not used.
    PercentageBased,
    /// `time_based`: trips on the failure rate over the last
    /// `window_duration`, kept in `window_buckets` buckets (R10), only;
    /// `failure_threshold` is not used.
    TimeBased,
    /// `adaptive`: the failure rate over a count window, slow-call detection
    /// when `slow_call_rate_threshold` is set, and an open period that grows
    /// by `open_duration_multiplier` on each failed recovery (R12, R37).
    Adaptive,
}

impl Detector {
    /// Every detector, in documentation order.
    pub const ALL: [Detector; 4] = [
        Detector::CountBased,
        Detector::PercentageBased,
        Detector::TimeBased,
        Detector::Adaptive,
    ];

    /// The name used in files and environment variables
    /// ([`cb_syntax::schema::DETECTORS`], in the order of [`Detector::ALL`]).
    pub fn as_str(self) -> &'static str {
        cb_syntax::schema::DETECTORS[self as usize]
    }

    /// Whether the failure-rate detector is on.
    pub fn uses_failure_rate(self) -> bool {
        !matches!(self, Detector::CountBased)
    }

    /// Whether `failure_threshold` consecutive failures trip the breaker.
    /// Not for the pure rate detectors: a database breaker judged at a 3 %
    /// failure rate must not also open on 3 failures in a row, and choosing
    /// `percentage_based` or `time_based` is how a file says so (a
    /// `failure_threshold` beside them is ignored, and `explain` says so).
    pub fn uses_consecutive_failures(self) -> bool {
        !matches!(self, Detector::PercentageBased | Detector::TimeBased)
    }
}

impl fmt::Display for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How retry delays are randomised (R45): the retry policy's own type, so a
/// configured jitter is exactly the one the policy applies.
pub use crate::retry::Jitter;

/// A configuration value, as written by any layer.
///
/// Code overrides can pass the natural type (`3u32`, `0.4`,
/// `Duration::from_secs(30)`, `true`, `Detector::Adaptive`, `["NotFound"]`)
/// or a string in the file syntax (`"30s"`, `"adaptive"`, `"NotFound, 4xx"`);
/// both are checked against the field's type and range when the
/// configuration is resolved.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A number (rates are fractions: 0.4 means 40 %).
    Float(f64),
    /// A duration.
    Duration(Duration),
    /// A boolean.
    Bool(bool),
    /// A string (parsed by the field's type when it is not a text field).
    Text(String),
    /// A detector.
    Detector(Detector),
    /// A jitter mode.
    Jitter(Jitter),
    /// A list of names (`classify.failure`); a string of comma-separated
    /// names, as a variable holds it, is read as one too.
    List(Vec<String>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Duration(d) => f.write_str(&format_duration(*d)),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Detector(d) => write!(f, "{d}"),
            Value::Jitter(j) => write!(f, "{j}"),
            Value::List(items) => f.debug_list().entries(items).finish(),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => |$x:ident| $e:expr),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from($x: $t) -> Self { $e }
        }
    )*};
}
value_from! {
    u32 => |x| Value::Int(x.into()),
    i64 => |x| Value::Int(x),
    f64 => |x| Value::Float(x),
    Duration => |x| Value::Duration(x),
    bool => |x| Value::Bool(x),
    &str => |x| Value::Text(x.to_owned()),
    String => |x| Value::Text(x),
    Detector => |x| Value::Detector(x),
    Jitter => |x| Value::Jitter(x),
    Vec<String> => |x| Value::List(x),
    &[&str] => |x| Value::List(x.iter().map(|s| (*s).to_owned()).collect()),
}

/// A list of names as code writes it: `.set("classify.excluded", ["NotFound", "4xx"])`.
impl<const N: usize> From<[&str; N]> for Value {
    fn from(names: [&str; N]) -> Self {
        Value::from(&names[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_and_jitter_names_are_the_shared_tables() {
        // The macros check literals against `cb_syntax::schema`'s name lists;
        // these are the names the runtime parses and prints.
        let detectors: Vec<&str> = Detector::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(detectors, cb_syntax::schema::DETECTORS);
        let jitters: Vec<String> = [Jitter::None, Jitter::Full, Jitter::Equal, Jitter::Decorrelated]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(jitters, cb_syntax::schema::JITTERS);
    }
}
