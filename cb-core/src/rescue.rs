//! Rescue: what a call returns when it was refused or failed (R58–R60).
//!
//! The rulebook calls this the call's fallback; the code says *rescue*
//! because `#[fallback(tier2, tier3)]` already names a chain of other
//! services tried in turn (`cb-tiers`). A rescue is a value computed from
//! why the call did not produce one; a fallback tier is another call.
//!
//! The rescue is told why it runs through a [`Cause`]: the call was
//! *refused* (open, forced open, half-open full, bulkhead full, throttled,
//! with the `retry_after` the refusal carried) or it *failed* (an error, a
//! timeout, retries exhausted). It runs at most once per call (R60). If it
//! fails too, the pipeline returns [`Error::RescueFailed`] with both causes
//! (R59). Activations are counted, split by refused and failed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::{Error, RejectReason, RescueError};

/// Why the call did not produce a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CauseKind {
    /// The call was refused without reaching the downstream.
    Refused(RejectReason),
    /// The call ran and failed.
    Failed(FailureKind),
}

/// How a call that ran failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The downstream returned an error that was not retried.
    Error,
    /// An attempt or the whole call timed out.
    Timeout,
    /// Every allowed attempt failed.
    RetriesExhausted,
}

/// What a rescue is told: the error, its kind and the attempts made.
#[derive(Debug)]
pub struct Cause<'a, E> {
    error: &'a Error<E>,
    attempts: u32,
}

impl<'a, E> Cause<'a, E> {
    /// The cause of `error` after `attempts` attempts.
    pub fn new(error: &'a Error<E>, attempts: u32) -> Self {
        Self { error, attempts }
    }
    /// The error the call ended with.
    pub fn error(&self) -> &'a Error<E> {
        self.error
    }
    /// Refused or failed, and how.
    pub fn kind(&self) -> CauseKind {
        match self.error {
            Error::RetriesExhausted { .. } => CauseKind::Failed(FailureKind::RetriesExhausted),
            Error::Timeout { .. } => CauseKind::Failed(FailureKind::Timeout),
            e => match e.rejection() {
                Some(r) => CauseKind::Refused(r.reason()),
                None if e.is_timeout() => CauseKind::Failed(FailureKind::Timeout),
                None => CauseKind::Failed(FailureKind::Error),
            },
        }
    }
    /// Whether the call was refused without reaching the downstream.
    pub fn is_refused(&self) -> bool {
        matches!(self.kind(), CauseKind::Refused(_))
    }
    /// Whether the call ran and failed.
    pub fn is_failed(&self) -> bool {
        !self.is_refused()
    }
    /// How long until the refusing component admits calls again, if known.
    pub fn retry_after(&self) -> Option<Duration> {
        self.error.retry_after()
    }
    /// Attempts made (the first call included); refused attempts count.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

type SyncAction<T, E> = dyn Fn(&Cause<'_, E>) -> Result<T, E> + Send + Sync;
type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;
type AsyncAction<T, E> = dyn Fn(&Cause<'_, E>) -> BoxFuture<T, E> + Send + Sync;
type Predicate<E> = dyn Fn(&Cause<'_, E>) -> bool + Send + Sync;

enum Action<T, E> {
    Sync(Arc<SyncAction<T, E>>),
    Async(Arc<AsyncAction<T, E>>),
}

impl<T, E> Clone for Action<T, E> {
    fn clone(&self) -> Self {
        match self {
            Action::Sync(f) => Action::Sync(f.clone()),
            Action::Async(f) => Action::Async(f.clone()),
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    refused: AtomicU64,
    failed: AtomicU64,
}

/// A rescue for calls returning `Result<T, E>`. Clones share the counters.
///
/// ```
/// use cb_core::rescue::{Cause, Rescue};
/// use cb_core::{Error, RejectReason, Rejected};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let rescue = Rescue::from_fn(|cause: &Cause<'_, String>| {
///     if cause.is_refused() { Ok("cached answer".to_string()) } else { Err("no cache".to_string()) }
/// });
/// let refused = Error::Rejected(Rejected::new("claude".into(), RejectReason::CircuitOpen, None));
/// assert_eq!(rescue.run(refused, 1).await.unwrap(), "cached answer");
///
/// let failed = rescue.run(Error::Inner("boom".to_string()), 1).await.unwrap_err();
/// assert!(matches!(failed, Error::RescueFailed { .. }));
/// assert_eq!(rescue.activations(), 2);
/// # }
/// ```
pub struct Rescue<T, E> {
    action: Action<T, E>,
    when: Option<Arc<Predicate<E>>>,
    on_excluded: bool,
    counters: Arc<Counters>,
}

impl<T, E> Clone for Rescue<T, E> {
    fn clone(&self) -> Self {
        Self {
            action: self.action.clone(),
            when: self.when.clone(),
            on_excluded: self.on_excluded,
            counters: self.counters.clone(),
        }
    }
}

impl<T, E> std::fmt::Debug for Rescue<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rescue")
            .field("async", &matches!(self.action, Action::Async(_)))
            .field("filtered", &self.when.is_some())
            .field("activations", &self.activations())
            .finish()
    }
}

impl<T: 'static, E: 'static> Rescue<T, E> {
    fn with(action: Action<T, E>) -> Self {
        Self {
            action,
            when: None,
            on_excluded: false,
            counters: Arc::default(),
        }
    }

    /// Always the same value.
    pub fn value(value: T) -> Self
    where
        T: Clone + Send + Sync,
    {
        Self::with(Action::Sync(Arc::new(move |_: &Cause<'_, E>| Ok(value.clone()))))
    }

    /// A function of the cause.
    pub fn from_fn<F>(f: F) -> Self
    where
        F: Fn(&Cause<'_, E>) -> Result<T, E> + Send + Sync + 'static,
    {
        Self::with(Action::Sync(Arc::new(f)))
    }

    /// An async function of the cause: `f` reads what it needs from the
    /// cause, then returns a future that owns its data.
    ///
    /// ```
    /// use cb_core::rescue::{Cause, Rescue};
    /// let rescue = Rescue::from_async(|cause: &Cause<'_, std::io::Error>| {
    ///     let attempts = cause.attempts();
    ///     async move { Ok::<_, std::io::Error>(format!("served from cache after {attempts} attempts")) }
    /// });
    /// # let _ = rescue;
    /// ```
    pub fn from_async<F, Fut>(f: F) -> Self
    where
        F: Fn(&Cause<'_, E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        Self::with(Action::Async(Arc::new(move |c: &Cause<'_, E>| {
            Box::pin(f(c)) as BoxFuture<T, E>
        })))
    }
}

impl<T, E> Rescue<T, E> {
    /// Runs only for causes `predicate` accepts (default: every refusal and
    /// failure, R58).
    pub fn when<P>(mut self, predicate: P) -> Self
    where
        P: Fn(&Cause<'_, E>) -> bool + Send + Sync + 'static,
        E: 'static,
    {
        self.when = Some(Arc::new(predicate));
        self
    }

    /// Also run for errors the pipeline's classifier calls excluded
    /// (neutral); off by default (R58).
    pub fn on_excluded(mut self, yes: bool) -> Self {
        self.on_excluded = yes;
        self
    }

    /// Whether excluded errors trigger the rescue.
    pub fn runs_on_excluded(&self) -> bool {
        self.on_excluded
    }

    /// Whether the rescue handles this cause.
    pub fn handles(&self, cause: &Cause<'_, E>) -> bool {
        self.when.as_ref().is_none_or(|p| p(cause))
    }

    /// Runs the rescue for `error` (after `attempts` attempts) if it
    /// handles it, else returns `error` unchanged. A rescue error becomes
    /// [`Error::RescueFailed`] with both causes (R59).
    pub async fn run(&self, error: Error<E>, attempts: u32) -> Result<T, Error<E>> {
        // The cause borrows `error` only until the action has started, so the
        // returned future does not need `E: Sync` to be `Send`.
        let pending = {
            let cause = Cause::new(&error, attempts);
            if !self.handles(&cause) {
                None
            } else {
                let counter = if cause.is_refused() {
                    &self.counters.refused
                } else {
                    &self.counters.failed
                };
                counter.fetch_add(1, Ordering::Relaxed);
                Some(match &self.action {
                    Action::Sync(f) => Ok(f(&cause)),
                    Action::Async(f) => Err(f(&cause)),
                })
            }
        };
        let result = match pending {
            None => return Err(error),
            Some(Ok(done)) => done,
            Some(Err(fut)) => fut.await,
        };
        result.map_err(|rescue| Error::RescueFailed(RescueError::new(rescue, error)))
    }

    /// Times the rescue ran.
    pub fn activations(&self) -> u64 {
        self.activations_refused() + self.activations_failed()
    }

    /// Times it ran because the call was refused.
    pub fn activations_refused(&self) -> u64 {
        self.counters.refused.load(Ordering::Relaxed)
    }

    /// Times it ran because the call failed.
    pub fn activations_failed(&self) -> u64 {
        self.counters.failed.load(Ordering::Relaxed)
    }
}
