//! What the macro expansions use to classify an error type they cannot see
//! into. Reachable only through `cb_core::__private`: none of it is API.

use std::marker::PhantomData;
use std::time::Duration;

use super::{ByClassify, Classify, DefaultClassifier};

/// Picks [`ByClassify`] when `E: Classify` and [`DefaultClassifier`]
/// otherwise, by method resolution (autoref specialisation), so that the
/// macro expansions need not know whether the user derived `Classify`.
/// For a generic `E` without a `Classify` bound it picks the default.
#[derive(Debug)]
pub struct Dispatch<E>(PhantomData<fn() -> E>);

impl<E> Dispatch<E> {
    /// The dispatch for `E`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Dispatch(PhantomData)
    }
}

/// Chosen first, when `E: Classify`.
pub trait ViaClassify<E> {
    /// The classifier.
    fn __cb_classifier(&self) -> ByClassify;
    /// The retry predicate.
    fn __cb_retryable(&self) -> Option<fn(&E) -> bool>;
    /// The wait hint.
    fn __cb_retry_after(&self) -> Option<fn(&E) -> Option<Duration>>;
}
impl<E: Classify> ViaClassify<E> for Dispatch<E> {
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
pub trait ViaDefault<E> {
    /// The classifier.
    fn __cb_classifier(&self) -> DefaultClassifier;
    /// No retry predicate: every error is retryable.
    fn __cb_retryable(&self) -> Option<fn(&E) -> bool>;
    /// No wait hint.
    fn __cb_retry_after(&self) -> Option<fn(&E) -> Option<Duration>>;
}
impl<E> ViaDefault<E> for &Dispatch<E> {
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

/// What a `classify(..)` argument naming variants (`excluded = ["NotFound"]`)
/// needs of the function's error type: [`Classify`], whose `kind` gives an
/// error its variant's name. Without it no entry could ever match, and an
/// argument that silently does nothing is refused instead.
#[diagnostic::on_unimplemented(
    message = "`classify(..)` names variants of `{Self}`, but `{Self}` does not implement `Classify`, which gives an error its variant's name",
    label = "the error type of a function whose `classify(..)` lists variant names",
    note = "derive it: `#[derive(cb_core::Classify)]`; without it, list only `timeout`, HTTP statuses and classes"
)]
pub trait NamesVariants {}

impl<E: Classify> NamesVariants for E {}

/// Checks, at compile time only, that `E` names its variants.
#[inline(always)]
pub fn names_variants<E: NamesVariants>() {}

/// What `#[classify(retry_after = field)]` accepts: a `Duration` or an
/// `Option<Duration>`.
#[diagnostic::on_unimplemented(
    message = "`retry_after` needs a field of type `Duration` or `Option<Duration>`, not `{Self}`",
    label = "this field is a `{Self}`"
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
    use crate::Classifier;
    use crate::state::Outcome;

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
    fn the_dispatch_prefers_classify() {
        let c = (&Dispatch::<Mine>::new()).__cb_classifier();
        assert_eq!(c.classify(&Err::<(), _>(Mine)), Outcome::Excluded);
        let d = (&Dispatch::<&str>::new()).__cb_classifier();
        assert_eq!(d.classify(&Err::<(), _>("x")), Outcome::Failure);
    }
}
