//! One pipeline: rescue ∘ total timeout ∘ retry ∘ (throttle, breaker) ∘
//! timeout ∘ bulkhead ∘ call (R61).
//!
//! Build it once, call it many times. Every stage is optional:
//!
//! | stage | on | refuses with | counted by the breaker as |
//! |---|---|---|---|
//! | [`rescue`](PipelineBuilder::rescue) | any refusal or failure it handles | — | — (R59) |
//! | [`total_timeout`](PipelineBuilder::total_timeout) | the whole call, retries and waits included | `Timeout` | — (the attempt in flight is cancelled) |
//! | [`retry`](PipelineBuilder::retry) | retryable errors and results | `RetriesExhausted` | each attempt separately (R61) |
//! | [`throttle`](PipelineBuilder::throttle) | every attempt | `Rejected(Throttled)` | — |
//! | [`breaker`](PipelineBuilder::breaker) | every attempt | `Rejected(CircuitOpen, ...)` | — |
//! | [`timeout`](PipelineBuilder::timeout) | every attempt | `Timeout` | failure (R55) |
//! | [`bulkhead`](PipelineBuilder::bulkhead) or [`concurrency_limit`](PipelineBuilder::concurrency_limit) | every attempt | `Rejected(BulkheadFull)` | not at all: no breaker call, the downstream never saw it (R53) |
//!
//! The bulkhead sits inside the per-attempt timeout, so time spent queueing
//! for a slot counts toward the timeout; turn that off with
//! [`queue_wait_counts_toward_timeout(false)`](PipelineBuilder::queue_wait_counts_toward_timeout).
//!
//! The success path allocates nothing: the pipeline's future lives where the
//! caller puts it. A free bulkhead slot is taken and given back with one
//! atomic operation each, no lock; and a per-attempt timeout
//! starts tokio's timer (an entry inside that future) only if the attempt
//! has to wait, so an attempt ready at its first poll never touches it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::adaptive::{AdaptiveThrottle, ConcurrencyLimit, LatencyBaseline, LimitOutcome, LimitPermit};
use crate::breaker::CircuitBreaker;
use crate::bulkhead::{Bulkhead, BulkheadPermit};
use crate::classify::{Classifier, DefaultClassifier, ErrorKind};
use crate::clock::{ClockHandle, Nanos};
use crate::error::{Error, Name, Rejected, Violations};
use crate::random::{Random, SplitMix64};
use crate::rescue::Rescue;
use crate::retry::{Attempt, Next, RetryClock, RetryPolicy, Retrying};
use crate::state::Outcome;
use crate::timeout::{Elapsed, Within};

mod builder;

pub use builder::PipelineBuilder;

type RetryIf<E> = dyn Fn(&Error<E>) -> bool + Send + Sync;
type RetryOnResult<T> = dyn Fn(&T) -> bool + Send + Sync;
type Hint<E> = dyn Fn(&E) -> Option<Duration> + Send + Sync;
type DynClassifier<T, E> = dyn Classifier<T, E> + Send + Sync;

/// A composed set of policies for calls returning `Result<T, E>`. Cheap to
/// clone (one `Arc`); clones share every stage.
///
/// ```
/// use cb_core::retry::{Backoff, Jitter, RetryPolicy};
/// use cb_core::{Bulkhead, CircuitBreaker, Error, Pipeline};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), cb_core::ConfigError> {
/// let pipeline = Pipeline::builder("claude")
///     .retry(
///         RetryPolicy::builder()
///             .max_attempts(3)
///             .backoff(Backoff::exponential(Duration::from_millis(100)).jitter(Jitter::None).build()?)
///             .build()?,
///     )
///     .breaker(CircuitBreaker::builder("claude").failure_threshold(5).build()?)
///     .timeout(Duration::from_secs(30))
///     .bulkhead(Bulkhead::builder("claude").max_concurrent(8).build()?)
///     .build()?;
///
/// let mut calls = 0;
/// let answer = pipeline
///     .call(|| {
///         calls += 1;
///         let n = calls;
///         async move { if n < 3 { Err("overloaded") } else { Ok("hello") } }
///     })
///     .await;
/// assert_eq!(answer.unwrap(), "hello");
/// assert_eq!(calls, 3);
/// # Ok(()) }
/// ```
pub struct Pipeline<T, E> {
    stages: Arc<Stages<T, E>>,
}

impl<T, E> Clone for Pipeline<T, E> {
    fn clone(&self) -> Self {
        Self {
            stages: self.stages.clone(),
        }
    }
}

impl<T, E> std::fmt::Debug for Pipeline<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &*self.stages;
        f.debug_struct("Pipeline")
            .field("name", &s.name)
            .field("rescue", &s.rescue)
            .field("total_timeout", &s.total_timeout)
            .field("retry", &s.retry)
            .field("throttle", &s.throttle)
            .field("breaker", &s.breaker)
            .field("latency", &s.latency)
            .field("timeout", &s.timeout)
            .field("limit", &s.limit)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum Limit {
    Bulkhead(Bulkhead),
    Adaptive(ConcurrencyLimit),
}

enum Slot<'a> {
    Free,
    Bulkhead(#[allow(dead_code)] BulkheadPermit<'a>),
    Adaptive(LimitPermit<'a>),
}

/// What an attempt can end with before the breaker maps it.
enum Local {
    Timeout(Duration),
    Full(Rejected),
}

struct Stages<T, E> {
    name: Name,
    rescue: Option<Rescue<T, E>>,
    total_timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    retry_if: Option<Arc<RetryIf<E>>>,
    retry_on_result: Option<Arc<RetryOnResult<T>>>,
    retry_after_hint: Option<Arc<Hint<E>>>,
    throttle: Option<Arc<AdaptiveThrottle>>,
    breaker: Option<CircuitBreaker>,
    classifier: Option<Arc<DynClassifier<T, E>>>,
    latency: Option<Arc<LatencyBaseline>>,
    timeout: Option<Duration>,
    queue_wait_in_timeout: bool,
    limit: Option<Limit>,
    clock: ClockHandle,
    random: Arc<dyn Random>,
}

impl<T, E> Pipeline<T, E> {
    /// Starts an empty pipeline named `name` (the name of its refusals when a
    /// stage has none of its own).
    pub fn builder(name: impl Into<Name>) -> PipelineBuilder<T, E> {
        PipelineBuilder {
            stages: Stages {
                name: name.into(),
                rescue: None,
                total_timeout: None,
                retry: None,
                retry_if: None,
                retry_on_result: None,
                retry_after_hint: None,
                throttle: None,
                breaker: None,
                classifier: None,
                latency: None,
                timeout: None,
                queue_wait_in_timeout: true,
                limit: None,
                clock: ClockHandle::default_clock(),
                random: Arc::new(SplitMix64::from_entropy()),
            },
            violations: Violations::new(),
        }
    }

    /// The pipeline's name.
    pub fn name(&self) -> &str {
        self.stages.name.as_str()
    }

    /// The breaker, if the pipeline has one.
    pub fn breaker(&self) -> Option<&CircuitBreaker> {
        self.stages.breaker.as_ref()
    }

    /// The bulkhead, if the pipeline has one.
    pub fn bulkhead(&self) -> Option<&Bulkhead> {
        match &self.stages.limit {
            Some(Limit::Bulkhead(b)) => Some(b),
            _ => None,
        }
    }

    /// The adaptive concurrency limit, if the pipeline has one.
    pub fn concurrency_limit(&self) -> Option<&ConcurrencyLimit> {
        match &self.stages.limit {
            Some(Limit::Adaptive(l)) => Some(l),
            _ => None,
        }
    }

    /// The rescue, if the pipeline has one (its activation counters).
    pub fn rescue(&self) -> Option<&Rescue<T, E>> {
        self.stages.rescue.as_ref()
    }
}

impl<T: 'static, E: 'static> Pipeline<T, E> {
    /// Runs the operation through every stage. `op` makes one attempt's
    /// future; it is called once per attempt, and never when the first
    /// stage refuses.
    ///
    /// Dropping the returned future cancels the call at once, wherever it
    /// is (an attempt in flight, a backoff wait, a bulkhead queue): nothing
    /// keeps running and every permit is released (R49, R52, R57).
    // Not an `async fn`: the caller awaits `run`'s future itself, one state
    // machine fewer per call.
    pub fn call<F, Fut>(&self, op: F) -> impl Future<Output = Result<T, Error<E>>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.run(op, true)
    }

    /// Like [`call`](Self::call) with a single attempt whatever the retry
    /// policy says: for operations that cannot be replayed (a request whose
    /// body is a stream). Every other stage applies.
    pub fn call_once<Fut>(&self, fut: Fut) -> impl Future<Output = Result<T, Error<E>>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let mut slot = Some(fut);
        let op = move || {
            let fut = slot.take();
            async move {
                match fut {
                    Some(fut) => fut.await,
                    None => unreachable!("a single attempt polls its future once"),
                }
            }
        };
        self.run(op, false)
    }

    async fn run<F, Fut>(&self, mut op: F, may_retry: bool) -> Result<T, Error<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let op = &mut op;
        let s = &*self.stages;
        let mut attempts = 0u32;
        let result = match s.total_timeout {
            None => s.retrying(op, &mut attempts, may_retry).await,
            Some(after) => {
                match tokio::time::timeout(after, s.retrying(op, &mut attempts, may_retry)).await {
                    Ok(r) => r,
                    Err(_) => Err(Error::Timeout { after }),
                }
            }
        };
        match (result, &s.rescue) {
            (Ok(t), _) => Ok(t),
            (Err(e), None) => Err(e),
            (Err(e), Some(rescue)) => {
                let e = match e {
                    Error::Inner(inner) if !rescue.runs_on_excluded() => {
                        let (outcome, inner) = s.classify_err(inner);
                        if outcome == Outcome::Excluded {
                            return Err(Error::Inner(inner));
                        }
                        Error::Inner(inner)
                    }
                    other => other,
                };
                rescue.run(e, attempts.max(1)).await
            }
        }
    }
}

impl<T, E> Stages<T, E> {
    /// The classifier's outcome, with the breaker's configured `classify`
    /// lists applied to an error (read on the error path only).
    fn classify(&self, r: &Result<T, E>) -> Outcome {
        match (&self.classifier, &self.breaker) {
            (Some(c), Some(b)) => b.classify(r, &**c),
            (Some(c), None) => c.classify(r),
            (None, Some(b)) => b.classify(r, &DefaultClassifier),
            (None, None) => DefaultClassifier.classify(r),
        }
    }

    fn classify_err(&self, e: E) -> (Outcome, E) {
        crate::classify::error_outcome(e, |r| self.classify(r))
    }

    /// Side effects of an attempt's end (latency baseline, throttle accepts)
    /// and the outcome the breaker records: the classifier's, except for the
    /// pipeline's own timeouts and refusals, and for slow successes.
    fn attempt_outcome(&self, r: &Result<Result<T, E>, Local>, start: Nanos) -> Outcome {
        match r {
            Err(Local::Timeout(_)) => self.timed_out(),
            Err(Local::Full(_)) => Outcome::Excluded, // R53
            Ok(r) => self.ended(r, start),
        }
    }

    /// R55, unless the configuration lists `timeout`.
    fn timed_out(&self) -> Outcome {
        match &self.breaker {
            Some(b) => b.classify_kind(Outcome::Failure, ErrorKind::Timeout),
            None => Outcome::Failure,
        }
    }

    /// The outcome of an attempt the downstream answered.
    fn ended(&self, r: &Result<T, E>, start: Nanos) -> Outcome {
        let mut outcome = self.classify(r);
        if outcome == Outcome::Success {
            if let Some(l) = &self.latency {
                let took = Duration::from_nanos(self.clock.now().saturating_sub(start));
                if l.observe(took) {
                    outcome = Outcome::Failure; // R38b: slow relative to its own normal
                }
            }
            if let Some(t) = &self.throttle {
                t.record_accept();
            }
        }
        outcome
    }

    fn limit_outcome(&self, r: &Result<T, E>) -> LimitOutcome {
        match self.classify(r) {
            Outcome::Success => LimitOutcome::Success,
            Outcome::Failure | Outcome::Panicked => LimitOutcome::Dropped,
            Outcome::Excluded | Outcome::Cancelled => LimitOutcome::Ignored,
        }
    }

    async fn slot(&self) -> Result<Slot<'_>, Local> {
        match &self.limit {
            None => Ok(Slot::Free),
            Some(Limit::Bulkhead(b)) => b.acquire().await.map(Slot::Bulkhead).map_err(Local::Full),
            Some(Limit::Adaptive(l)) => l.try_acquire().map(Slot::Adaptive).map_err(Local::Full),
        }
    }

    fn release(&self, slot: Slot<'_>, r: &Result<T, E>) {
        if let Slot::Adaptive(p) = slot {
            p.record(self.limit_outcome(r));
        }
    }

    async fn limited<Fut: Future<Output = Result<T, E>>>(&self, fut: Fut) -> Result<Result<T, E>, Local> {
        let slot = self.slot().await?;
        let r = fut.await;
        self.release(slot, &r);
        Ok(r)
    }

    /// A slot that is free now, taken without waiting; `None` when the
    /// attempt would have to queue for one (or be refused), which the
    /// waiting path decides.
    #[inline]
    fn free_slot(&self) -> Option<Slot<'_>> {
        match &self.limit {
            None => Some(Slot::Free),
            Some(Limit::Bulkhead(b)) => b.try_take().map(Slot::Bulkhead),
            Some(Limit::Adaptive(_)) => None,
        }
    }

    /// Timeout ∘ bulkhead ∘ call.
    async fn bounded<Fut: Future<Output = Result<T, E>>>(&self, fut: Fut) -> Result<Result<T, E>, Local> {
        // A slot free at once means no queue wait, so both placements of the
        // timeout agree; the timer starts only if the call has to wait.
        if let Some(slot) = self.free_slot() {
            let r = match Within::new(self.timeout, fut, &self.clock).await {
                Ok(r) => r,
                Err(Elapsed(after)) => return Err(Local::Timeout(after)), // the slot drops
            };
            self.release(slot, &r);
            return Ok(r);
        }
        self.queued(fut).await
    }

    /// Timeout ∘ bulkhead ∘ call when the slot has to be waited for.
    async fn queued<Fut: Future<Output = Result<T, E>>>(&self, fut: Fut) -> Result<Result<T, E>, Local> {
        match self.timeout {
            None => self.limited(fut).await,
            Some(after) if self.queue_wait_in_timeout => {
                match Within::new(Some(after), self.limited(fut), &self.clock).await {
                    Ok(r) => r,
                    Err(Elapsed(_)) => Err(Local::Timeout(after)),
                }
            }
            Some(after) => {
                let slot = self.slot().await?;
                match Within::new(Some(after), fut, &self.clock).await {
                    Ok(r) => {
                        self.release(slot, &r);
                        Ok(r)
                    }
                    Err(Elapsed(_)) => Err(Local::Timeout(after)), // the slot drops: a drop for an adaptive limit
                }
            }
        }
    }

    /// One attempt: throttle ∘ breaker ∘ timeout ∘ bulkhead ∘ call.
    async fn attempt<F, Fut>(&self, op: &mut F) -> Result<T, Error<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(t) = &self.throttle {
            t.try_admit()?;
        }
        let timed = self.latency.is_some();
        let out = match &self.breaker {
            Some(b) => {
                let permit = b.try_acquire()?;
                let start = if timed { self.clock.now() } else { 0 };
                // A slot free at once: the call runs under its limit right
                // here, without a state machine of its own (the common case,
                // and most of what the stages cost a call that succeeds).
                if let Some(slot) = self.free_slot() {
                    let judge = |r: &Result<Result<T, E>, Elapsed>| {
                        Some(match r {
                            Ok(r) => self.ended(r, start),
                            Err(_) => self.timed_out(),
                        })
                    };
                    let call = Within::new(self.timeout, op(), &self.clock);
                    let r = permit.run_or_withdraw(call, judge).await;
                    drop(slot); // a free slot is a bulkhead's or none: giving it back is dropping it
                    return match r {
                        Ok(Ok(t)) => Ok(t),
                        Ok(Err(e)) => Err(Error::Inner(e)),
                        Err(Elapsed(after)) => Err(Error::Timeout { after }),
                    };
                }
                // A full bulkhead (or concurrency limit) behind the breaker
                // refused the call before the downstream saw it: that is no
                // breaker call, so the permit is withdrawn, not recorded (R53).
                let judge = |r: &Result<Result<T, E>, Local>| match r {
                    Err(Local::Full(_)) => None,
                    r => Some(self.attempt_outcome(r, start)),
                };
                permit.run_or_withdraw(self.queued(op()), judge).await
            }
            None if timed || self.throttle.is_some() => {
                let start = if timed { self.clock.now() } else { 0 };
                let r = self.bounded(op()).await;
                self.attempt_outcome(&r, start);
                r
            }
            None => self.bounded(op()).await,
        };
        match out {
            Ok(Ok(t)) => Ok(t),
            Ok(Err(e)) => Err(Error::Inner(e)),
            Err(Local::Timeout(after)) => Err(Error::Timeout { after }),
            Err(Local::Full(r)) => Err(Error::Rejected(r)),
        }
    }

    async fn retrying<F, Fut>(&self, op: &mut F, attempts: &mut u32, may_retry: bool) -> Result<T, Error<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let policy = match &self.retry {
            Some(p) if may_retry => p,
            _ => {
                *attempts = 1;
                return self.attempt(op).await;
            }
        };
        let mut retrying = Retrying::start(RetryClock::new(&self.clock), policy.schedule(&*self.random));
        if let Some(breaker) = &self.breaker {
            retrying = retrying.through(breaker);
        }
        let ran = loop {
            // Counted before the attempt: the rescue reads it if a total
            // timeout cancels the call mid-attempt.
            *attempts = retrying.begin();
            let r = self.attempt(op).await;
            if r.is_ok() && self.retry_on_result.is_none() {
                return r; // what `retryable` and `after` conclude, without their bookkeeping
            }
            let attempt = self.retryable(r);
            match retrying.after(attempt) {
                Next::Stop(ran) => break ran,
                Next::Retry { failed, delay } => {
                    drop(failed);
                    retrying.wait(delay).await;
                }
            }
        };
        match ran.result {
            Err(e) if ran.exhausted => Err(Error::RetriesExhausted {
                attempts: ran.attempts,
                last: Box::new(e),
            }),
            // A result still retried when attempts ran out stands as it is.
            r => r,
        }
    }

    /// Which results and errors are worth another attempt (R48: a local
    /// rejection is retried only if the policy says so).
    fn retryable(&self, r: Result<T, Error<E>>) -> Attempt<Result<T, Error<E>>> {
        match r {
            Ok(t) if self.retry_on_result.as_ref().is_some_and(|p| p(&t)) => Attempt::Retry {
                result: Ok(t),
                retry_after: None,
            },
            Ok(t) => Attempt::Done(Ok(t)),
            Err(e) if self.retry_if.as_ref().is_some_and(|p| !p(&e)) => Attempt::Done(Err(e)),
            Err(e @ Error::Rejected(_)) => Attempt::Refused {
                retry_after: e.retry_after(),
                result: Err(e),
            },
            Err(e) => Attempt::Retry {
                retry_after: self.hint(&e),
                result: Err(e),
            },
        }
    }

    /// A server's hint to wait (e.g. `Retry-After`): read from the error by
    /// `retry_after_hint`, or a refusal's own.
    fn hint(&self, e: &Error<E>) -> Option<Duration> {
        match e {
            Error::Inner(inner) => self.retry_after_hint.as_ref().and_then(|h| h(inner)),
            e => e.retry_after(),
        }
    }
}
