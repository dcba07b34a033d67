//! The configuration's `classify` lists applied to a call's error
//! ([`crate::classify::by_name`]): the only breaker code an `Err` runs that
//! an `Ok` does not.

use std::sync::atomic::Ordering;

use super::{CircuitBreaker, F_BY_NAME, Shared};
use crate::classify::{Classifier, ErrorKind};
use crate::state::Outcome;

impl CircuitBreaker {
    /// How `result` counts for this breaker: `classifier`'s outcome, except
    /// for a call it did not count as a success whose
    /// [kind](Classifier::kind) the configuration lists in
    /// `classify.excluded` (excluded) or `classify.failure` (a failure).
    /// What [`call_with`](Self::call_with) records, for code that records
    /// through a [`Permit`](crate::Permit) itself.
    ///
    /// ```
    /// use cb_core::classify::{ByName, ErrorKind};
    /// use cb_core::{BreakerConfig, CircuitBreaker, Classifier, Outcome};
    ///
    /// struct ByStatus;
    /// impl Classifier<(), u16> for ByStatus {
    ///     fn classify(&self, _: &Result<(), u16>) -> Outcome { Outcome::Failure }
    ///     fn kind(&self, r: &Result<(), u16>) -> ErrorKind {
    ///         r.as_ref().err().map_or(ErrorKind::Unnamed, |s| ErrorKind::Status(*s))
    ///     }
    /// }
    /// let breaker = CircuitBreaker::builder("api")
    ///     .config(BreakerConfig {
    ///         classify: ByName { failure: vec![], excluded: vec!["4xx".into()] },
    ///         ..BreakerConfig::default()
    ///     })
    ///     .build()?;
    /// assert_eq!(breaker.classify(&Err(404), &ByStatus), Outcome::Excluded);
    /// assert_eq!(breaker.classify(&Err(503), &ByStatus), Outcome::Failure);
    /// # Ok::<(), cb_core::ConfigError>(())
    /// ```
    pub fn classify<T, E, C>(&self, result: &Result<T, E>, classifier: &C) -> Outcome
    where
        C: Classifier<T, E> + ?Sized,
    {
        self.shared.classify(result, classifier)
    }

    /// How a call of `kind` that the caller's classifier counted as
    /// `outcome` counts under the configuration's lists: for code that
    /// classifies a call itself (a tier chain's verdict) or that makes an
    /// error of its own (a call-timeout stage's expiry is
    /// [`ErrorKind::Timeout`]). A success is never reclassified.
    pub fn classify_kind(&self, outcome: Outcome, kind: ErrorKind) -> Outcome {
        self.shared.by_name(outcome, kind)
    }
}

impl Shared {
    #[inline]
    pub(super) fn classify<T, E, C>(&self, result: &Result<T, E>, classifier: &C) -> Outcome
    where
        C: Classifier<T, E> + ?Sized,
    {
        let outcome = classifier.classify(result);
        if outcome == Outcome::Success {
            return outcome;
        }
        self.by_name(outcome, classifier.kind(result))
    }

    /// Reads the lists only when the configuration has some (a flag in the
    /// word the call path already reads), under the breaker's lock: they
    /// change with [`CircuitBreaker::update_config`].
    #[cold]
    fn by_name(&self, outcome: Outcome, kind: ErrorKind) -> Outcome {
        if outcome == Outcome::Success
            || kind == ErrorKind::Unnamed
            || self.hot.flags.load(Ordering::Relaxed) & F_BY_NAME == 0
        {
            return outcome;
        }
        self.lock().config.classify.apply(outcome, kind)
    }
}
