//! The configuration fields: every key a file, an environment variable, a
//! template, code or a macro argument may set, with its type, its other
//! names and its allowed range. One table, read by `cb-core` (which coerces
//! values) and by `cb-macros` (which checks literals at compile time), so the
//! two cannot disagree about what a field accepts.

/// The circuit types, as written (`circuit_type`).
pub const DETECTORS: [&str; 4] = ["count_based", "percentage_based", "time_based", "adaptive"];

/// The named jitter modes, as written (`retry.jitter`; a number is proportional jitter).
pub const JITTERS: [&str; 4] = ["none", "full", "equal", "decorrelated"];

/// What a rate accepts, as configuration errors say it, wherever the rate
/// was written (a file, a variable or a builder call): one wording, so a
/// value moved from a file into code meets the same rule.
pub const FRACTION_ALLOWED: &str = "must be > 0 and <= 1 (a fraction: 0.4 means 40%)";

/// The forms an entry of a `classify` list may take, written once for
/// [`ERROR_NAME_FORMS`] and [`ERROR_NAMES_ALLOWED`].
macro_rules! error_name_forms {
    () => {
        "a `Classify` variant name as written in the code (case-sensitive, such as `NotFound`), \
         `timeout` (the call-timeout stage's expiry), an HTTP status 100-599 (such as `404`) \
         or an HTTP status class `1xx`..`5xx`"
    };
}

/// What one entry of `classify.failure` or `classify.excluded` may be, as
/// the macros say it at the entry they point at.
pub const ERROR_NAME_FORMS: &str = error_name_forms!();

/// What `classify.failure` and `classify.excluded` accept, as errors say it
/// (files, variables and code alike).
pub const ERROR_NAMES_ALLOWED: &str = concat!("must be a list of error kinds, each ", error_name_forms!());

/// One entry of `classify.failure` or `classify.excluded`: which errors it
/// names. Parsed the same way by the macros (at compile time), the
/// configuration files (at load) and the breaker (when an error is
/// classified), so an entry means one thing wherever it is written.
///
/// A variant name is checked for its shape only: a file does not know the
/// error type of the functions it configures, so `NotFund` is accepted and
/// matches nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorName<'a> {
    /// A `Classify` variant name, exact and case-sensitive.
    Variant(&'a str),
    /// `timeout`: the call-timeout stage's expiry.
    Timeout,
    /// An HTTP status, 100..=599.
    Status(u16),
    /// An HTTP status class: `4` for `4xx`.
    Class(u16),
}

impl<'a> ErrorName<'a> {
    /// Parses an entry; `None` when it has none of the allowed forms
    /// ([`ERROR_NAMES_ALLOWED`]).
    pub fn parse(entry: &'a str) -> Option<Self> {
        let b = entry.as_bytes();
        if entry == "timeout" {
            return Some(ErrorName::Timeout);
        }
        if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) {
            if &b[1..] == b"xx" {
                return Some(ErrorName::Class(u16::from(b[0] - b'0')));
            }
            if b[1..].iter().all(u8::is_ascii_digit) {
                return entry.parse().ok().map(ErrorName::Status);
            }
        }
        let ident = b.first().is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
            && entry != "_";
        ident.then_some(ErrorName::Variant(entry))
    }
}

/// Why an entry in both `classify` lists is refused, as errors say it
/// (after the entry: `classify.excluded = "NotFound": ...`).
pub const LISTED_TWICE: &str =
    "is also listed in classify.failure: an error kind is a failure or excluded, not both";

/// The first entry written in both lists, if any: an error cannot be a
/// failure and excluded at once, so such a configuration is refused.
pub fn listed_twice<'a, S: AsRef<str>>(failure: &'a [S], excluded: &[S]) -> Option<&'a str> {
    failure
        .iter()
        .map(AsRef::as_ref)
        .find(|f| excluded.iter().any(|e| e.as_ref() == *f))
}

/// A field's type and range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer `>= min`, at most `u32::MAX`.
    Count {
        /// The smallest value allowed.
        min: u32,
    },
    /// A rate as a fraction in `(0, 1]`.
    Fraction,
    /// A finite number `>= 1`.
    Factor,
    /// A duration, `> 0` unless `zero_ok`.
    Duration {
        /// Whether zero is allowed (a wait that may be none).
        zero_ok: bool,
    },
    /// `true` or `false`.
    Bool,
    /// A non-empty string.
    Text,
    /// An `http(s)://` URL; its user-info part is a secret.
    Url,
    /// One of [`DETECTORS`].
    Detector,
    /// One of [`JITTERS`], or a proportional factor in `[0, 1]`.
    Jitter,
    /// A list of error kinds, each one [`ErrorName`] parses
    /// (`classify.failure`, `classify.excluded`).
    ErrorNames,
}

impl Kind {
    /// The type as the reference table shows it.
    pub fn type_name(self) -> &'static str {
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
            Kind::ErrorNames => "list",
        }
    }

    /// The allowed range, short, for the reference table.
    pub fn range(self) -> String {
        match self {
            Kind::Count { min } => format!("integer >= {min}"),
            Kind::Fraction => "0 < x <= 1".into(),
            Kind::Factor => "finite, >= 1".into(),
            Kind::Duration { zero_ok: false } => "> 0".into(),
            Kind::Duration { zero_ok: true } => ">= 0".into(),
            Kind::Bool => "true, false".into(),
            Kind::Text => "non-empty".into(),
            Kind::Url => "http(s) URL".into(),
            Kind::Detector => DETECTORS.join(", "),
            Kind::Jitter => "none, full, equal, decorrelated, 0..=1".into(),
            Kind::ErrorNames => "variant names, timeout, 100-599, 1xx-5xx".into(),
        }
    }
}

/// One configurable key.
#[derive(Debug)]
pub struct Field {
    /// The canonical path, e.g. `failure_threshold` or `retry.max_attempts`.
    pub path: &'static str,
    /// Other names files and environment variables accept for the key within
    /// its section (older, pybreaker's and gobreaker's spellings: `fail_max`,
    /// `reset_timeout`, `max_requests`, a top-level `interval`). Macro
    /// arguments and code use only the canonical name.
    pub aliases: &'static [&'static str],
    /// Its type and range.
    pub kind: Kind,
    /// Whether the field may be unset (an absent optional feature).
    pub optional: bool,
    /// One line for the reference table.
    pub doc: &'static str,
}

impl Field {
    /// The section (`retry`, ...) or `None` for a top-level breaker key.
    pub fn section(&self) -> Option<&'static str> {
        self.path.split_once('.').map(|(s, _)| s)
    }
    /// The key within its section.
    pub fn key(&self) -> &'static str {
        self.path.split_once('.').map_or(self.path, |(_, k)| k)
    }
    /// Whether `name` names this key within its section.
    pub fn answers_to(&self, name: &str) -> bool {
        self.key() == name || self.aliases.contains(&name)
    }
}

const fn f(
    path: &'static str,
    aliases: &'static [&'static str],
    kind: Kind,
    optional: bool,
    doc: &'static str,
) -> Field {
    Field {
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
pub static FIELDS: &[Field] = &[
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
        "open_duration",
        &["recovery_timeout", "timeout", "reset_timeout"],
        DUR,
        false,
        "How long the circuit stays open before a probe",
    ),
    f(
        "half_open_max_calls",
        &["half_open_calls", "max_requests"],
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
        "open_duration_multiplier",
        &["recovery_timeout_multiplier"],
        Kind::Factor,
        false,
        "Growth of the open period per failed recovery (R37)",
    ),
    f(
        "max_open_duration",
        &["max_recovery_timeout"],
        DUR,
        true,
        "Cap of the growing open period; unset = `open_duration`",
    ),
    f(
        "half_open_max_wait",
        &[],
        DUR,
        true,
        "Stuck-probe deadline (R25), never off, so 0 is refused; unset = `open_duration`",
    ),
    f(
        "closed_count_interval",
        &["interval"],
        DUR,
        true,
        "Silence after which a failure streak and a count window start over; unset = never",
    ),
    f(
        "service_category",
        &[],
        Kind::Text,
        true,
        "Free label (e.g. `ai`), for dashboards",
    ),
    f(
        "priority",
        &[],
        COUNT1,
        true,
        "Operator's label, 1 = most critical; shown and queryable, changes no behaviour",
    ),
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
        "URL a health monitor GETs (needs cb-tiers' `http` feature); or set `check`",
    ),
    f(
        "health_check.check",
        &[],
        Kind::Text,
        true,
        "Name of a check function the program registers with the health monitor; or set `url`",
    ),
    // Classification by name: the error kinds a configuration sorts,
    // whatever the code's own classifier says.
    f(
        "classify.failure",
        &[],
        Kind::ErrorNames,
        false,
        "Error kinds that count as failures, unless excluded",
    ),
    f(
        "classify.excluded",
        &[],
        Kind::ErrorNames,
        false,
        "Error kinds that count as neither success nor failure (R2)",
    ),
];

/// Settings the Python services accept that act only through an integration
/// cb does not have yet, each with why it is refused: its names (top-level
/// keys; files and variables also wrote the older `enable_` form) and the
/// message. Refused wherever they are written (files, variables, templates,
/// code, macro arguments), so no setting is read and then ignored.
pub static NOT_YET: &[(&[&str], &str)] = &[(
    &["tool_level_breakers", "enable_tool_level_breakers"],
    "one breaker per MCP tool takes effect with the MCP client integration, \
     not available yet; remove it",
)];

/// Why the top-level key `name` is refused, when it is one of [`NOT_YET`].
pub fn not_yet(name: &str) -> Option<&'static str> {
    NOT_YET
        .iter()
        .find(|(names, _)| names.contains(&name))
        .map(|(_, why)| *why)
}

/// The sections and their other names in files (the Python services'
/// `*_config` spelling).
pub static SECTIONS: &[(&str, &[&str])] = &[
    ("retry", &["retry_config"]),
    ("bulkhead", &["bulkhead_config"]),
    ("call_timeout", &["timeout_config"]),
    ("health_check", &["health_check_config"]),
    ("classify", &[]),
];

/// The field with this canonical path.
pub fn field(path: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.path == path)
}

/// The canonical name of a section written as `name`.
pub fn section(name: &str) -> Option<&'static str> {
    SECTIONS
        .iter()
        .find(|(s, aliases)| *s == name || aliases.contains(&name))
        .map(|(s, _)| *s)
}

/// The field called `name` within `section` (`None` = top level).
pub fn field_in(section: Option<&str>, name: &str) -> Option<&'static Field> {
    FIELDS
        .iter()
        .find(|f| f.section() == section && f.answers_to(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_parse_each_allowed_form() {
        assert_eq!(ErrorName::parse("NotFound"), Some(ErrorName::Variant("NotFound")));
        assert_eq!(
            ErrorName::parse("rate_limited"),
            Some(ErrorName::Variant("rate_limited"))
        );
        assert_eq!(ErrorName::parse("timeout"), Some(ErrorName::Timeout));
        assert_eq!(ErrorName::parse("Timeout"), Some(ErrorName::Variant("Timeout")));
        assert_eq!(ErrorName::parse("404"), Some(ErrorName::Status(404)));
        assert_eq!(ErrorName::parse("100"), Some(ErrorName::Status(100)));
        assert_eq!(ErrorName::parse("599"), Some(ErrorName::Status(599)));
        assert_eq!(ErrorName::parse("4xx"), Some(ErrorName::Class(4)));
    }

    #[test]
    fn error_names_refuse_other_shapes() {
        for bad in [
            "",
            "_",
            "600",
            "099",
            "42",
            "4XX",
            "6xx",
            "Not Found",
            "a-b",
            "1e3",
            " 404",
        ] {
            assert_eq!(ErrorName::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_entry_in_both_lists_is_found() {
        assert_eq!(
            listed_twice(&["5xx", "NotFound"], &["NotFound"]),
            Some("NotFound")
        );
        assert_eq!(listed_twice(&["5xx"], &["4xx"]), None);
    }
}
