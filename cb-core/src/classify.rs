//! One source of truth for how a call's error counts: the [`Classify`] trait,
//! usually derived with `#[derive(Classify)]` (feature `macros`).
//!
//! The breaker, the retry stage, the tier chains and the metrics all read it:
//! [`ByClassify`] is the [`Classifier`] the `#[circuit_breaker]` expansion
//! picks for an error type that implements `Classify`, `retryable` is the
//! retry predicate and `retry_after` the downstream's wait hint.
//!
//! ```
//! use cb_core::classify::{ByClassify, Classify};
//! use cb_core::{Classifier, Outcome};
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

use std::marker::PhantomData;
use std::time::Duration;

use crate::breaker::{Classifier, DefaultClassifier, Outcome};

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
}

/// The [`Classifier`] of an error type that implements [`Classify`]: `Ok` is
/// a success, `Err(e)` is `e.outcome()`.
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
}

/// Picks [`ByClassify`] when `E: Classify` and [`DefaultClassifier`]
/// otherwise, by method resolution (autoref specialisation), so that the
/// macro expansions need not know whether the user derived `Classify`.
/// For a generic `E` without a `Classify` bound it picks the default.
#[doc(hidden)]
#[derive(Debug)]
pub struct Probe<E>(PhantomData<fn() -> E>);

impl<E> Probe<E> {
    /// A probe for `E`.
    #[doc(hidden)]
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Probe(PhantomData)
    }
}

/// Chosen first, when `E: Classify`.
#[doc(hidden)]
pub trait ViaClassify<E> {
    /// The classifier.
    fn __cb_classifier(&self) -> ByClassify;
    /// The retry predicate.
    fn __cb_retryable(&self) -> Option<fn(&E) -> bool>;
    /// The wait hint.
    fn __cb_retry_after(&self) -> Option<fn(&E) -> Option<Duration>>;
}
impl<E: Classify> ViaClassify<E> for Probe<E> {
    #[inline]
    fn __cb_classifier(&self) -> ByClassify {
        ByClassify
    }
    fn __cb_retryable(&self) -> Option<fn(&E) -> bool> {
        Some(E::retryable)
    }
    fn __cb_retry_after(&self) -> Option<fn(&E) -> Option<Duration>> {
        Some(E::retry_after)
    }
}

/// Chosen otherwise.
#[doc(hidden)]
pub trait ViaDefault<E> {
    /// The classifier.
    fn __cb_classifier(&self) -> DefaultClassifier;
    /// No retry predicate: every error is retryable.
    fn __cb_retryable(&self) -> Option<fn(&E) -> bool>;
    /// No wait hint.
    fn __cb_retry_after(&self) -> Option<fn(&E) -> Option<Duration>>;
}
impl<E> ViaDefault<E> for &Probe<E> {
    #[inline]
    fn __cb_classifier(&self) -> DefaultClassifier {
        DefaultClassifier
    }
    fn __cb_retryable(&self) -> Option<fn(&E) -> bool> {
        None
    }
    fn __cb_retry_after(&self) -> Option<fn(&E) -> Option<Duration>> {
        None
    }
}

/// What `#[classify(retry_after = field)]` accepts: a `Duration` or an
/// `Option<Duration>`.
#[diagnostic::on_unimplemented(
    message = "`retry_after` needs a field of type `Duration` or `Option<Duration>`, not `{Self}`"
)]
pub trait IntoRetryAfter {
    /// The wait hint.
    fn to_retry_after(&self) -> Option<Duration>;
}

impl IntoRetryAfter for Duration {
    fn to_retry_after(&self) -> Option<Duration> {
        Some(*self)
    }
}

impl IntoRetryAfter for Option<Duration> {
    fn to_retry_after(&self) -> Option<Duration> {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Mine;
    impl Classify for Mine {
        fn outcome(&self) -> Outcome {
            Outcome::Excluded
        }
        fn retryable(&self) -> bool {
            false
        }
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the borrow is what selects the fallback impl
    fn the_probe_prefers_classify() {
        let c = (&Probe::<Mine>::new()).__cb_classifier();
        assert_eq!(c.classify(&Err::<(), _>(Mine)), Outcome::Excluded);
        let d = (&Probe::<&str>::new()).__cb_classifier();
        assert_eq!(d.classify(&Err::<(), _>("x")), Outcome::Failure);
    }
}
