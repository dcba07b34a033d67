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
