//! How a finished call counts, said one way for every stage.
//!
//! A [`Verdict`] is how a call counts: its [`Outcome`] (success, failure or
//! excluded, R1–R4) and, when the downstream said, how long it asked callers
//! to wait. A [`Classifier`] gives it from the call's whole `Result`. The
//! breaker ([`CircuitBreaker::call_with`](crate::CircuitBreaker::call_with)),
//! the [`Pipeline`](crate::Pipeline) and cb-tiers' tier chains all take a
//! `Classifier`, and every way of classifying is one:
//!
//! - [`DefaultClassifier`]: `Ok` succeeds, `Err` fails;
//! - a closure `Fn(&Result<T, E>) -> Outcome`;
//! - [`Predicates`]: predicates on errors and values, where "exclude" wins;
//! - [`ByClassify`]: the error type says, through [`Classify`] (usually
//!   `#[derive(Classify)]`);
//! - cb-tiers' HTTP status policy, which also passes on `Retry-After`.
//!
//! A configuration can sort errors by name over any of them: its `classify`
//! section lists error kinds as failures or excluded, and the breaker applies
//! the lists over the classifier's outcome ([`by_name`], the precedence and
//! which APIs honour it).
//!
//! ```
//! use cb_core::{Classifier, Outcome, Predicates, Verdict};
//!
//! let by_closure = |r: &Result<u16, ()>| match r {
//!     Ok(503) | Err(()) => Outcome::Failure,
//!     Ok(_) => Outcome::Success,
//! };
//! let by_predicates = Predicates::<u16, ()>::new().failure_if_ok(|status| *status == 503);
//!
//! assert_eq!(by_closure.classify(&Ok(503)), Outcome::Failure);
//! assert_eq!(by_predicates.verdict(&Ok(503)), Verdict::failure());
//! ```

use std::time::Duration;

use crate::state::Outcome;

pub mod by_name;
#[cfg(feature = "macros")]
pub(crate) mod dispatch;
mod errors;
mod predicates;

pub use by_name::{ByName, ErrorKind};
pub use errors::{ByClassify, Classify};
pub use predicates::Predicates;

/// How a finished call counts: its outcome, and how long the downstream
/// asked callers to wait, if it said (an HTTP `Retry-After`, for example).
///
/// The tier chains feed the wait into the tier's open duration and its
/// retry's delay; the outcome goes to the breaker.
///
/// ```
/// use cb_core::{Outcome, Verdict};
/// use std::time::Duration;
///
/// let busy = Verdict::failure().with_retry_after(Some(Duration::from_secs(30)));
/// assert_eq!(busy.outcome, Outcome::Failure);
/// assert_eq!(busy.retry_after, Some(Duration::from_secs(30)));
/// assert_eq!(Verdict::from(Outcome::Excluded), Verdict::excluded());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Verdict {
    /// `Success`, `Failure` or `Excluded`.
    pub outcome: Outcome,
    /// The downstream's own "come back after", when it gave one.
    pub retry_after: Option<Duration>,
}

impl Verdict {
    /// `outcome`, without a wait hint.
    pub const fn new(outcome: Outcome) -> Self {
        Self {
            outcome,
            retry_after: None,
        }
    }

    /// A success.
    pub const fn success() -> Self {
        Self::new(Outcome::Success)
    }

    /// A failure, without a wait hint.
    pub const fn failure() -> Self {
        Self::new(Outcome::Failure)
    }

    /// Excluded: the result says nothing about the downstream's health (R2).
    pub const fn excluded() -> Self {
        Self::new(Outcome::Excluded)
    }

    /// This verdict with the downstream's wait hint.
    pub const fn with_retry_after(self, retry_after: Option<Duration>) -> Self {
        Self {
            outcome: self.outcome,
            retry_after,
        }
    }
}

impl From<Outcome> for Verdict {
    fn from(outcome: Outcome) -> Self {
        Self::new(outcome)
    }
}

/// Decides from a call's whole `Result` how it counts (R4): the one trait
/// behind every classification, for the breaker, the pipeline and the tier
/// chains alike.
///
/// [`classify`](Self::classify) is the plain outcome, and the only method to
/// write; [`verdict`](Self::verdict) adds a wait hint, for classifiers whose
/// results carry one. The outcome is the required method because the
/// breaker's paths read only the outcome, and a hint would be a `Duration`
/// built and dropped on every call; classifiers with a hint override both,
/// with the same outcome.
///
/// Closures `Fn(&Result<T, E>) -> Outcome` implement it.
pub trait Classifier<T, E> {
    /// The outcome of `result`: `Success`, `Failure` or `Excluded`.
    fn classify(&self, result: &Result<T, E>) -> Outcome;

    /// The outcome of `result` as [`classify`](Self::classify) gives it,
    /// with the downstream's wait hint, if the result carries one.
    #[inline]
    fn verdict(&self, result: &Result<T, E>) -> Verdict {
        Verdict::new(self.classify(result))
    }

    /// What a configuration's `classify` lists call `result` ([`by_name`]),
    /// asked only for a call this classifier did not count as a success
    /// (an `Err`, or an `Ok` such as a 503 response judged a failure):
    /// unnamed unless the classifier knows a name, as [`ByClassify`] does
    /// (the error's variant) and cb-tiers' HTTP status policy (the status).
    #[inline]
    fn kind(&self, result: &Result<T, E>) -> ErrorKind {
        let _ = result;
        ErrorKind::Unnamed
    }
}

impl<T, E, F: Fn(&Result<T, E>) -> Outcome + ?Sized> Classifier<T, E> for F {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}

/// `Ok` is a success and `Err` a failure.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultClassifier;

impl<T, E> Classifier<T, E> for DefaultClassifier {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

/// How `error` counts as a call's `Err`, as `judge` says (a classifier,
/// or a breaker applying its `classify` lists over one), with the error
/// handed back: for the stages that hold an error and no longer its result
/// (a fallback deciding whether an excluded error skips it, R58).
pub(crate) fn error_outcome<T, E>(error: E, judge: impl FnOnce(&Result<T, E>) -> Outcome) -> (Outcome, E) {
    let result: Result<T, E> = Err(error);
    let outcome = judge(&result);
    match result {
        Err(error) => (outcome, error),
        Ok(_) => unreachable!("built as `Err`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_without_an_override_is_the_outcome_without_a_hint() {
        let r: Result<(), ()> = Err(());
        assert_eq!(DefaultClassifier.verdict(&r), Verdict::failure());
        let excluded = |_: &Result<(), ()>| Outcome::Excluded;
        assert_eq!(excluded.verdict(&r), Verdict::excluded());
    }
}
