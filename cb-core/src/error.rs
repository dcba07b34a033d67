//! Error types: rejections, call errors and configuration errors.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A breaker's name: free to clone when it is a `&'static str`, one shared
/// allocation otherwise. Rejections carry it without touching a shared
/// reference count when the name is static.
#[derive(Clone)]
pub struct Name(NameRepr);

#[derive(Clone)]
enum NameRepr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Name {
    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            NameRepr::Static(s) => s,
            NameRepr::Shared(s) => s,
        }
    }
}

// Equality, ordering and hashing are those of the string, whatever the
// representation, as `Borrow<str>` requires: a static and an owned name with the
// same text are one key in a map.
impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&'static str> for Name {
    fn from(s: &'static str) -> Self {
        Name(NameRepr::Static(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Name(NameRepr::Shared(s.into()))
    }
}

impl From<Arc<str>> for Name {
    fn from(s: Arc<str>) -> Self {
        Name(NameRepr::Shared(s))
    }
}

impl From<std::borrow::Cow<'static, str>> for Name {
    fn from(s: std::borrow::Cow<'static, str>) -> Self {
        match s {
            std::borrow::Cow::Borrowed(s) => s.into(),
            std::borrow::Cow::Owned(s) => s.into(),
        }
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Why a call was not admitted (R1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The circuit is open: the downstream failed recently.
    CircuitOpen,
    /// An operator forced the circuit open; it will not reopen by itself.
    ForcedOpen,
    /// The circuit is half-open and every probe slot is taken.
    HalfOpenFull,
    /// The bulkhead has no free slot within its queue timeout.
    BulkheadFull,
    /// Adaptive throttling shed the call.
    Throttled,
}

impl RejectReason {
    /// The reason as a metric label: `circuit_open`, `forced_open`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::CircuitOpen => "circuit_open",
            RejectReason::ForcedOpen => "forced_open",
            RejectReason::HalfOpenFull => "half_open_full",
            RejectReason::BulkheadFull => "bulkhead_full",
            RejectReason::Throttled => "throttled",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RejectReason::CircuitOpen => "the circuit is open",
            RejectReason::ForcedOpen => "the circuit is forced open",
            RejectReason::HalfOpenFull => "the circuit is half-open and all probe slots are taken",
            RejectReason::BulkheadFull => "the bulkhead is full",
            RejectReason::Throttled => "the call was throttled",
        })
    }
}

/// A call that was refused without reaching the downstream.
///
/// ```
/// # use cb_core::{CircuitBreaker, RejectReason};
/// let breaker = CircuitBreaker::builder("payments").build().unwrap();
/// breaker.force_open();
/// let rejected = breaker.try_acquire().unwrap_err();
/// assert_eq!(rejected.name(), "payments");
/// assert_eq!(rejected.reason(), RejectReason::ForcedOpen);
/// assert_eq!(rejected.retry_after(), None); // forced open never reopens by itself (R32)
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` rejected the call: {reason}{}", RetryAfter(self.retry_after()))]
pub struct Rejected {
    name: Name,
    reason: RejectReason,
    /// Nanoseconds, [`Rejected::NO_RETRY_AFTER`] for none: a rejection is
    /// built on the fast-fail path, and a `u64` is cheaper to build and move
    /// than an `Option<Duration>`.
    retry_after_nanos: u64,
}

struct RetryAfter(Option<Duration>);
impl fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, "; retry after {d:?}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("name", &self.name)
            .field("reason", &self.reason)
            .field("retry_after", &self.retry_after())
            .finish()
    }
}

impl Rejected {
    /// A rejection by the component `name` for `reason`.
    pub fn new(name: Name, reason: RejectReason, retry_after: Option<Duration>) -> Self {
        let nanos = retry_after.map_or(Self::NO_RETRY_AFTER, |d| {
            u64::try_from(d.as_nanos())
                .unwrap_or(u64::MAX)
                .min(Self::NO_RETRY_AFTER - 1)
        });
        Self::from_nanos(name, reason, nanos)
    }

    /// The `retry_after_nanos` of a rejection without one.
    pub(crate) const NO_RETRY_AFTER: u64 = u64::MAX;

    /// A rejection whose `retry_after` is `nanos` nanoseconds, or none for `u64::MAX`.
    #[inline]
    pub(crate) fn from_nanos(name: Name, reason: RejectReason, nanos: u64) -> Self {
        Self {
            name,
            reason,
            retry_after_nanos: nanos,
        }
    }
    /// The name of the breaker (or bulkhead) that refused the call.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }
    /// Why the call was refused.
    pub fn reason(&self) -> RejectReason {
        self.reason
    }
    /// How long until a call may be admitted, when that is known: the time
    /// left in the open state (never negative, R16). `None` for forced-open
    /// and half-open-full rejections.
    pub fn retry_after(&self) -> Option<Duration> {
        (self.retry_after_nanos != Self::NO_RETRY_AFTER).then(|| Duration::from_nanos(self.retry_after_nanos))
    }
}

/// The error of a protected call or of a [`Pipeline`](crate::Pipeline):
/// the call was refused, or it ran and failed, timed out, used up its
/// retries, or failed and so did its rescue.
///
/// Rejections say when to come back ([`retry_after`](Error::retry_after));
/// every variant keeps its cause reachable through
/// [`source`](std::error::Error::source) and `Display`.
///
/// ```
/// # use cb_core::{CircuitBreaker, Error};
/// let breaker = CircuitBreaker::builder("db").build().unwrap();
/// let err = breaker.call_sync(|| Err::<(), _>("connection reset")).unwrap_err();
/// assert!(matches!(err, Error::Inner("connection reset")));
/// assert!(!err.is_rejection());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// The call was refused before reaching the downstream: an open or
    /// forced-open circuit, a full half-open, a full bulkhead, a throttle.
    Rejected(Rejected),
    /// The downstream ran and returned this error.
    Inner(E),
    /// An attempt (or the whole call, for a total timeout) took longer than
    /// `after`; the operation's future was dropped (R55, R56).
    Timeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// Every allowed attempt failed with a retryable error (R47), or the
    /// retry budget or `max_elapsed` stopped the retries early.
    RetriesExhausted {
        /// Attempts made, the first call included (R44).
        attempts: u32,
        /// The last attempt's error.
        last: Box<Error<E>>,
    },
    /// The call failed, then its rescue failed too; both causes are kept,
    /// and both are reachable through [`source`](std::error::Error::source):
    /// first the rescue's error, then the call's (R59).
    RescueFailed(RescueError<E>),
}

/// The error a rescue returned, holding the call's error it ran for.
///
/// A `source()` chain is a single line, so the two errors are linked in the
/// order `Display` tells them: the rescue's error, then, as its source,
/// the call's error with its own chain (R59).
///
/// ```
/// use cb_core::{Error, RescueError};
/// use std::{error::Error as _, io};
///
/// let primary = Error::Inner(io::Error::other("primary down"));
/// let err = Error::RescueFailed(RescueError::new(io::Error::other("cache down"), primary));
/// let rescue = err.source().unwrap();
/// assert_eq!(rescue.to_string(), "cache down");
/// assert_eq!(rescue.source().unwrap().to_string(), "primary down");
/// ```
#[derive(Debug)]
pub struct RescueError<E> {
    rescue: E,
    primary: Box<Error<E>>,
}

impl<E> RescueError<E> {
    /// The rescue's error `rescue`, for a call that failed with `primary`.
    pub fn new(rescue: E, primary: Error<E>) -> Self {
        Self {
            rescue,
            primary: Box::new(primary),
        }
    }
    /// The rescue's own error.
    pub fn rescue(&self) -> &E {
        &self.rescue
    }
    /// Why the rescue ran: the call's error.
    pub fn primary(&self) -> &Error<E> {
        &self.primary
    }
    /// The rescue's error and the call's, in that order.
    pub fn into_parts(self) -> (E, Error<E>) {
        (self.rescue, *self.primary)
    }
}

impl<E: fmt::Display> fmt::Display for RescueError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.rescue, f)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RescueError<E> {
    /// The call's error the rescue ran for.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.primary)
    }
}

impl<E> From<Rejected> for Error<E> {
    fn from(r: Rejected) -> Self {
        Error::Rejected(r)
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Rejected(r) => fmt::Display::fmt(r, f),
            Error::Inner(e) => fmt::Display::fmt(e, f),
            Error::Timeout { after } => write!(f, "the call timed out after {after:?}"),
            Error::RetriesExhausted { attempts, last } => {
                write!(
                    f,
                    "gave up after {attempts} attempt{}: {last}",
                    if *attempts == 1 { "" } else { "s" }
                )
            }
            Error::RescueFailed(e) => {
                write!(
                    f,
                    "the rescue failed: {}; it ran because: {}",
                    e.rescue, e.primary
                )
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    /// `Rejected` and `Inner` are transparent (their own source);
    /// `RetriesExhausted` leads to the last attempt's error and
    /// `RescueFailed` to the rescue's error, whose source is the call's
    /// error (see [`RescueError`]).
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Rejected(r) => std::error::Error::source(r),
            Error::Inner(e) => e.source(),
            Error::Timeout { .. } => None,
            Error::RetriesExhausted { last, .. } => Some(&**last),
            Error::RescueFailed(e) => Some(e),
        }
    }
}

impl<E> Error<E> {
    /// The error that decided the outcome: the last attempt's error for
    /// `RetriesExhausted`, the primary error for `RescueFailed`, else `self`.
    ///
    /// ```
    /// # use cb_core::Error;
    /// # use std::time::Duration;
    /// let err: Error<&str> = Error::RetriesExhausted {
    ///     attempts: 3,
    ///     last: Box::new(Error::Timeout { after: Duration::from_secs(1) }),
    /// };
    /// assert!(err.root().is_timeout());
    /// assert_eq!(err.attempts(), Some(3));
    /// ```
    pub fn root(&self) -> &Error<E> {
        match self {
            Error::RetriesExhausted { last, .. } => last.root(),
            Error::RescueFailed(e) => e.primary.root(),
            other => other,
        }
    }
    /// Whether the call was refused without reaching the downstream (looking
    /// through `RetriesExhausted` and `RescueFailed` to the root cause).
    pub fn is_rejection(&self) -> bool {
        matches!(self.root(), Error::Rejected(_))
    }
    /// Whether an attempt or the whole call timed out (root cause).
    pub fn is_timeout(&self) -> bool {
        matches!(self.root(), Error::Timeout { .. })
    }
    /// The rejection, if the call was refused (root cause).
    pub fn rejection(&self) -> Option<&Rejected> {
        match self.root() {
            Error::Rejected(r) => Some(r),
            _ => None,
        }
    }
    /// How long to wait before calling again, when a rejection says.
    pub fn retry_after(&self) -> Option<Duration> {
        self.rejection().and_then(Rejected::retry_after)
    }
    /// The downstream's own error, if the root cause is one.
    pub fn inner(&self) -> Option<&E> {
        match self.root() {
            Error::Inner(e) => Some(e),
            _ => None,
        }
    }
    /// Attempts made, when retries were exhausted.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::RetriesExhausted { attempts, .. } => Some(*attempts),
            Error::RescueFailed(e) => e.primary.attempts(),
            _ => None,
        }
    }
    /// The downstream's own error, if the call ran and failed with it
    /// (looking through `RetriesExhausted` to the last attempt).
    pub fn into_inner(self) -> Option<E> {
        match self {
            Error::Inner(e) => Some(e),
            Error::RetriesExhausted { last, .. } => last.into_inner(),
            _ => None,
        }
    }
}

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
