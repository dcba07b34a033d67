//! Classification by predicates, where "exclude" beats "failure" (R3, R4).

use std::fmt;

use super::Classifier;
use crate::state::Outcome;

type ErrPred<E> = Box<dyn Fn(&E) -> bool + Send + Sync>;
type OkPred<T> = Box<dyn Fn(&T) -> bool + Send + Sync>;

/// A classifier made of predicates, for breakers whose errors need sorting.
///
/// - an `Err` matching an [`exclude_if`](Self::exclude_if) predicate is
///   **excluded**, whatever else matches (R3: ignore beats record);
/// - otherwise an `Err` is a **failure** if it matches a
///   [`failure_if`](Self::failure_if) predicate, or if there are none;
///   an `Err` matching no predicate while some exist is a **success**
///   ("classified as success", R2's note);
/// - an `Ok` matching a [`failure_if_ok`](Self::failure_if_ok) predicate is a
///   **failure** (R4: e.g. an HTTP 503 body), any other `Ok` a success.
///
/// ```
/// use cb_core::{Classifier, Outcome, Predicates};
///
/// #[derive(Debug)]
/// enum ApiError { NotFound, Unavailable, Timeout }
///
/// let classify = Predicates::<u16, ApiError>::new()
///     .failure_if(|e| matches!(e, ApiError::Unavailable | ApiError::Timeout))
///     .exclude_if(|e| matches!(e, ApiError::NotFound))
///     .failure_if_ok(|status| *status == 503);
/// assert_eq!(classify.classify(&Err(ApiError::NotFound)), Outcome::Excluded);
/// assert_eq!(classify.classify(&Err(ApiError::Timeout)), Outcome::Failure);
/// assert_eq!(classify.classify(&Ok(503)), Outcome::Failure);
/// assert_eq!(classify.classify(&Ok(200)), Outcome::Success);
/// ```
pub struct Predicates<T, E> {
    failure: Vec<ErrPred<E>>,
    exclude: Vec<ErrPred<E>>,
    failure_ok: Vec<OkPred<T>>,
}

impl<T, E> Default for Predicates<T, E> {
    fn default() -> Self {
        Self {
            failure: Vec::new(),
            exclude: Vec::new(),
            failure_ok: Vec::new(),
        }
    }
}

impl<T, E> fmt::Debug for Predicates<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Predicates")
            .field("failure_if", &self.failure.len())
            .field("exclude_if", &self.exclude.len())
            .field("failure_if_ok", &self.failure_ok.len())
            .finish()
    }
}

impl<T, E> Predicates<T, E> {
    /// No predicates: `Ok` is success, `Err` is failure.
    pub fn new() -> Self {
        Self::default()
    }
    /// Errors matching `pred` are failures.
    pub fn failure_if(mut self, pred: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.failure.push(Box::new(pred));
        self
    }
    /// Errors matching `pred` are excluded (neutral), even if they also match
    /// a failure predicate.
    pub fn exclude_if(mut self, pred: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.exclude.push(Box::new(pred));
        self
    }
    /// Successful results matching `pred` are failures.
    pub fn failure_if_ok(mut self, pred: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        self.failure_ok.push(Box::new(pred));
        self
    }
}

impl<T, E> Classifier<T, E> for Predicates<T, E> {
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(v) if self.failure_ok.iter().any(|p| p(v)) => Outcome::Failure,
            Ok(_) => Outcome::Success,
            Err(e) if self.exclude.iter().any(|p| p(e)) => Outcome::Excluded,
            Err(e) if self.failure.is_empty() || self.failure.iter().any(|p| p(e)) => Outcome::Failure,
            Err(_) => Outcome::Success,
        }
    }
}
