//! What a tier chain returns when no tier served the call.

use std::fmt;
use std::time::Duration;

use cb_core::{Name, RejectReason};

/// How one tier of a chain call ended without serving it (R65).
#[derive(Debug)]
#[non_exhaustive]
pub enum AttemptKind<E> {
    /// The tier's breaker (or bulkhead) refused admission: the tier was not
    /// called at all (R63).
    Skipped(RejectReason),
    /// The tier ran and returned this error, judged a failure.
    Failure(E),
    /// The tier ran and returned a value its classifier judged a failure
    /// (e.g. a `503` response, R4). The value is dropped.
    FailedValue,
    /// The tier did not answer within its timeout; the call was dropped (R55, R56).
    Timeout(Duration),
}

impl<E> AttemptKind<E> {
    /// The kind as a label: `skipped_circuit_open`, `skipped_forced_open`,
    /// `skipped_half_open_full`, `skipped_bulkhead_full`, `skipped_throttled`,
    /// `failure`, `failed_value` or `timeout`.
    pub fn as_str(&self) -> &'static str {
        match self {
            AttemptKind::Skipped(RejectReason::CircuitOpen) => "skipped_circuit_open",
            AttemptKind::Skipped(RejectReason::ForcedOpen) => "skipped_forced_open",
            AttemptKind::Skipped(RejectReason::HalfOpenFull) => "skipped_half_open_full",
            AttemptKind::Skipped(RejectReason::BulkheadFull) => "skipped_bulkhead_full",
            AttemptKind::Skipped(_) => "skipped_throttled",
            AttemptKind::Failure(_) => "failure",
            AttemptKind::FailedValue => "failed_value",
            AttemptKind::Timeout(_) => "timeout",
        }
    }

    /// Whether the tier was skipped without a call.
    pub fn is_skipped(&self) -> bool {
        matches!(self, AttemptKind::Skipped(_))
    }

    /// The tier's own error, if it ran and returned one.
    pub fn error(&self) -> Option<&E> {
        match self {
            AttemptKind::Failure(e) => Some(e),
            _ => None,
        }
    }
}

/// One tier's entry in [`AllTiersFailed`].
#[derive(Debug)]
pub struct TierAttempt<E> {
    /// The tier's position in the chain's declared order.
    pub tier: usize,
    /// The tier's name (its breaker's name).
    pub name: Name,
    /// Why the tier did not serve the call.
    pub kind: AttemptKind<E>,
    /// When the tier may be worth trying again: the breaker's remaining open
    /// time for a skip, or the downstream's `Retry-After` (else the breaker's
    /// remaining open time, if this failure opened it) for a failure.
    pub retry_after: Option<Duration>,
    /// How many times the tier was called (0 when skipped; more than 1 only
    /// with a per-tier retry).
    pub calls: u32,
}

impl<E: fmt::Display> fmt::Display for TierAttempt<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: ", self.name)?;
        match &self.kind {
            AttemptKind::Skipped(reason) => write!(f, "skipped, {reason}")?,
            AttemptKind::Failure(e) => write!(f, "failed: {e}")?,
            AttemptKind::FailedValue => f.write_str("failed: its result was classified as a failure")?,
            AttemptKind::Timeout(d) => write!(f, "timed out after {d:?}")?,
        }
        if let Some(d) = self.retry_after {
            write!(f, " (retry after {d:?})")?;
        }
        Ok(())
    }
}

/// Every tier of a chain call was skipped or failed (R65).
///
/// `attempts` lists the tiers in the order they were tried (the declared
/// order, or the call's own [`Sequence`](crate::Sequence)), one entry per tier.
#[derive(Debug)]
pub struct AllTiersFailed<E> {
    /// One entry per tier, in the order tried.
    pub attempts: Vec<TierAttempt<E>>,
}

impl<E> AllTiersFailed<E> {
    /// The entries, in the order tried.
    pub fn attempts(&self) -> &[TierAttempt<E>] {
        &self.attempts
    }

    /// The earliest moment any tier may admit or answer again, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        self.attempts.iter().filter_map(|a| a.retry_after).min()
    }

    /// The last error a tier returned (the one `source()` reports).
    pub fn last_error(&self) -> Option<&E> {
        self.attempts.iter().rev().find_map(|a| a.kind.error())
    }

    /// Whether every tier was skipped: nothing was called.
    pub fn all_skipped(&self) -> bool {
        self.attempts.iter().all(|a| a.kind.is_skipped())
    }
}

impl<E: fmt::Display> fmt::Display for AllTiersFailed<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.attempts.len();
        write!(f, "all {n} tier{} failed", if n == 1 { "" } else { "s" })?;
        for (k, a) in self.attempts.iter().enumerate() {
            f.write_str(if k == 0 { ": " } else { "; " })?;
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl<E: std::error::Error + 'static> std::error::Error for AllTiersFailed<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.last_error().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The error of a tier chain call.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChainError<E> {
    /// No tier served the call; each tier says why.
    AllFailed(AllTiersFailed<E>),
    /// A tier returned an error its classifier does not count as a failure
    /// (excluded, e.g. a `404`): it is an answer about the request, not an
    /// outage of the tier, so no further tier is tried.
    Returned {
        /// The position of the tier that answered.
        tier: usize,
        /// The name of the tier that answered.
        name: Name,
        /// The tier's error.
        error: E,
    },
    /// [`Tiered::call`](crate::Tiered::call) was given a method index it does not have.
    UnknownMethod {
        /// The index asked for.
        index: usize,
    },
}

impl<E> ChainError<E> {
    /// The per-tier report, when every tier failed.
    pub fn all_failed(&self) -> Option<&AllTiersFailed<E>> {
        match self {
            ChainError::AllFailed(a) => Some(a),
            _ => None,
        }
    }

    /// Consumes the error into the per-tier report, when every tier failed.
    pub fn into_all_failed(self) -> Option<AllTiersFailed<E>> {
        match self {
            ChainError::AllFailed(a) => Some(a),
            _ => None,
        }
    }

    /// The earliest moment any tier may admit again, when every tier failed.
    pub fn retry_after(&self) -> Option<Duration> {
        self.all_failed().and_then(AllTiersFailed::retry_after)
    }
}

impl<E: fmt::Display> fmt::Display for ChainError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::AllFailed(a) => fmt::Display::fmt(a, f),
            ChainError::Returned { name, error, .. } => {
                write!(f, "tier `{name}` answered with an error: {error}")
            }
            ChainError::UnknownMethod { index } => write!(f, "no tiered method with index {index}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ChainError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ChainError::AllFailed(a) => a.last_error().map(|e| e as &(dyn std::error::Error + 'static)),
            ChainError::Returned { error, .. } => Some(error),
            ChainError::UnknownMethod { .. } => None,
        }
    }
}
