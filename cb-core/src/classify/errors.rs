//! How an error type's values count: the [`Classify`] trait, usually derived
//! with `#[derive(Classify)]` (feature `macros`), and [`ByClassify`], the
//! [`Classifier`] that reads it.
//!
//! The breaker, the retry stage, the tier chains and the metrics all read it:
//! [`ByClassify`] is the classifier the macro expansions pick for an error
//! type that implements `Classify`, `retryable` is the retry predicate and
//! `retry_after` the downstream's wait hint.
//!
//! ```
//! use cb_core::{ByClassify, Classifier, Classify, Outcome};
//! use std::time::Duration;
//!
//! enum ApiError { NotFound, Unavailable, RateLimited { wait: Duration } }
//!
//! impl Classify for ApiError {
//!     fn outcome(&self) -> Outcome {
//!         match self { ApiError::NotFound => Outcome::Excluded, _ => Outcome::Failure }
//!     }
//!     fn retryable(&self) -> bool { !matches!(self, ApiError::NotFound) }
//!     fn retry_after(&self) -> Option<Duration> {
//!         match self { ApiError::RateLimited { wait } => Some(*wait), _ => None }
//!     }
//! }
//! let r: Result<(), ApiError> = Err(ApiError::NotFound);
//! assert_eq!(ByClassify.classify(&r), Outcome::Excluded);
//! ```

use std::time::Duration;

use super::{Classifier, ErrorKind};
use crate::state::Outcome;

/// How an error of this type counts for breakers, retries, tier chains and
/// metrics. Derive it with `#[derive(Classify)]`: one `#[classify(...)]` per
/// variant, and a variant left out is a compile error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not say how its errors count",
    note = "derive it: `#[derive(cb_core::Classify)]`, with one `#[classify(failure | excluded, ...)]` per variant"
)]
pub trait Classify {
    /// `Failure` (counts against the downstream's health) or `Excluded`
    /// (neutral: says nothing about the downstream, R2).
    fn outcome(&self) -> Outcome;
    /// Whether another attempt may succeed (R48).
    fn retryable(&self) -> bool;
    /// How long the downstream asked callers to wait, if it said.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
    /// What a configuration's `classify` lists call this error (the
    /// [`by_name`](super::by_name) module): the derive gives the variant's
    /// name as written, so `classify.excluded = ["NotFound"]` matches
    /// `ApiError::NotFound`. Unnamed by default: no entry matches it.
    fn kind(&self) -> ErrorKind {
        ErrorKind::Unnamed
    }
}

/// The [`Classifier`] of an error type that implements [`Classify`]: `Ok` is
/// a success, `Err(e)` is `e.outcome()`.
///
/// Its [`verdict`](Classifier::verdict) carries no wait hint: an error's
/// `retry_after` paces the retry stage of a `#[circuit_breaker]` function
/// (when its settings respect it), and leaves the breakers' open durations
/// as configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByClassify;

impl<T, E: Classify> Classifier<T, E> for ByClassify {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(e) => e.outcome(),
        }
    }

    #[inline]
    fn kind(&self, result: &Result<T, E>) -> ErrorKind {
        match result {
            Ok(_) => ErrorKind::Unnamed,
            Err(e) => e.kind(),
        }
    }
}
