//! How a tier call counts: the [`Verdict`] a [`Judge`] gives on its result.

use std::time::Duration;

use cb_core::{Classifier, Outcome};

/// How one tier call counts: its outcome for the tier's breaker, and how long
/// the downstream asked callers to wait (an HTTP `Retry-After`, for example).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// `Success`, `Failure` or `Excluded`.
    pub outcome: Outcome,
    /// The downstream's own "come back after", when it gave one.
    pub retry_after: Option<Duration>,
}

impl Verdict {
    /// A verdict without a wait hint.
    pub fn new(outcome: Outcome) -> Self {
        Self {
            outcome,
            retry_after: None,
        }
    }
}

/// Judges a tier call's whole `Result`: a [`Classifier`] that can also pass
/// on a wait hint. The HTTP tiers use it to feed `Retry-After` into the open
/// duration and retry delays.
pub trait Judge<T, E> {
    /// The verdict on `result`.
    fn judge(&self, result: &Result<T, E>) -> Verdict;
}

/// A [`Judge`] from a [`Classifier`], with no wait hints.
#[derive(Debug, Clone, Copy)]
pub struct ByClassifier<'a, C: ?Sized>(pub &'a C);

impl<T, E, C: Classifier<T, E> + ?Sized> Judge<T, E> for ByClassifier<'_, C> {
    fn judge(&self, result: &Result<T, E>) -> Verdict {
        Verdict::new(self.0.classify(result))
    }
}
