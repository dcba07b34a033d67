//! Configuration errors: every invalid value, reported at once (R76).

use std::fmt;
use std::time::Duration;

/// One invalid configuration value: where it is, what it was, what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field's path, e.g. `failure_rate_threshold` or
    /// `instances.payments.sliding_window_size`.
    pub field: String,
    /// The rejected value as written (secrets are replaced by `<redacted>`).
    pub value: String,
    /// What the field accepts, e.g. `must be an integer >= 1`.
    pub allowed: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}: {}", self.field, self.value, self.allowed)
    }
}

/// Every problem found in a configuration, reported together (R76).
///
/// ```
/// # use cb_core::CircuitBreaker;
/// # use std::time::Duration;
/// let err = CircuitBreaker::builder("x")
///     .failure_threshold(0)
///     .open_duration(Duration::ZERO)
///     .build()
///     .unwrap_err();
/// assert_eq!(err.violations().len(), 2);
/// assert!(err.to_string().contains("failure_threshold = 0: must be an integer >= 1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    violations: Vec<Violation>,
}

impl ConfigError {
    /// An error with these violations.
    pub fn new(violations: Vec<Violation>) -> Self {
        Self { violations }
    }
    /// Every violation found.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }
    /// Consumes the error into its violations.
    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }
    /// Adds `prefix.` before every field path (e.g. the breaker's name in a file).
    pub fn prefixed(mut self, prefix: &str) -> Self {
        for v in &mut self.violations {
            v.field = format!("{prefix}.{}", v.field);
        }
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.violations.len();
        write!(
            f,
            "invalid configuration ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for v in &self.violations {
            write!(f, "\n  - {v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Collects violations, then turns them into a `ConfigError` if there are any.
///
/// Public on purpose, not only for macros: crates built on cb-core (cb-tiers'
/// chains, tiers and health checks) check their own settings with it, so
/// every configuration problem is reported the same way, all at once (R76).
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Records that `field` has the invalid `value`; `allowed` says what it accepts.
    pub fn push(&mut self, field: impl Into<String>, value: impl fmt::Display, allowed: impl Into<String>) {
        self.0.push(Violation {
            field: field.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        });
    }
    /// Checks every rule between fields ([`cb_syntax::rules::RULES`]) that
    /// `fact` knows both sides of, so a rule broken in code reads exactly as
    /// it does in a file. `section` (`"retry."`, or `""`) is removed from the
    /// reported field, for a policy whose violations are reported without
    /// its section and prefixed by whoever built it from settings.
    pub fn rules<'a>(&mut self, section: &str, fact: impl Fn(&str) -> cb_syntax::rules::Fact<'a>) {
        for rule in cb_syntax::rules::RULES {
            if let Some(broken) = rule.check(&fact) {
                let field = broken.field.strip_prefix(section).unwrap_or(broken.field);
                self.push(field, broken.value, broken.requirement);
            }
        }
    }
    /// Requires `value >= 1`.
    pub fn at_least_one(&mut self, field: &str, value: u64) {
        if value < 1 {
            self.push(field, value, "must be an integer >= 1");
        }
    }
    /// Requires a rate: a finite fraction in `(0, 1]`, worded as files'
    /// rates are, so `40` meant as 40 % is caught wherever it was written.
    pub fn rate(&mut self, field: &str, value: f64) {
        if !(value.is_finite() && value > 0.0 && value <= 1.0) {
            self.push(field, value, cb_syntax::schema::FRACTION_ALLOWED);
        }
    }
    /// Requires a finite number `>= 1` (backoff multipliers).
    pub fn multiplier(&mut self, field: &str, value: f64) {
        if !(value.is_finite() && value >= 1.0) {
            self.push(field, value, "must be a finite number >= 1");
        }
    }
    /// Requires a finite fraction in `[0, 1]` (jitter factors, ratios).
    pub fn fraction(&mut self, field: &str, value: f64) {
        if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
            self.push(field, value, "must be >= 0 and <= 1");
        }
    }
    /// Requires a duration `> 0`.
    pub fn positive(&mut self, field: &str, value: Duration) {
        if value.is_zero() {
            self.push(field, format_args!("{value:?}"), "must be > 0");
        }
    }
    /// Adds every violation of another set.
    pub fn extend(&mut self, other: ConfigError) {
        self.0.extend(other.violations);
    }
    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `Ok(())` if nothing was recorded, else every violation.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::new(self.0))
        }
    }
}
