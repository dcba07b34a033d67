//! Error types: rejections, call errors and configuration errors.

use std::fmt;
use std::time::Duration;

mod config;
mod name;

pub use config::{ConfigError, Violation, Violations};
pub use name::Name;

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
