//! Ordered tiers: try each in turn, skip those whose circuit refuses, stop at
//! the first that serves (R62–R65).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use cb_core::classify::ErrorKind;
use cb_core::error::Violations;
use cb_core::retry::{Attempt, Next, PolicySchedule, RetryClock, Retrying, Schedule};
use cb_core::{
    CircuitBreaker, Classifier, ConfigError, DefaultClassifier, Name, Outcome, Permit, RejectReason, Verdict,
};

use crate::error::{AllTiersFailed, AttemptKind, ChainError, TierAttempt};
use crate::tier::Tier;
use crate::tier_retry::{Retry, TierRetry};

/// A successful chain call: the value and the tier that served it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served<T> {
    /// What the tier returned.
    pub value: T,
    /// The serving tier's position in the chain's declared order.
    pub tier: usize,
    /// The serving tier's name.
    pub name: Name,
}

impl<T> Served<T> {
    /// The value, dropping which tier served it.
    pub fn into_value(self) -> T {
        self.value
    }

    /// Maps the value, keeping which tier served it.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Served<U> {
        Served {
            value: f(self.value),
            tier: self.tier,
            name: self.name,
        }
    }
}

/// A per-call order of tiers, made by [`TierChain::sequence`]: a subset of the
/// chain's tiers, each at most once (R62).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    order: Box<[usize]>,
}

impl Sequence {
    /// The tier positions, in the order they will be tried.
    pub fn positions(&self) -> &[usize] {
        &self.order
    }
}

/// An ordered chain of tiers (primary → secondary → tertiary …).
///
/// A call tries the tiers in order. A tier whose breaker refuses admission
/// (open, forced open, half-open with every probe slot taken) is skipped
/// without being called (R63). The first tier that succeeds serves the call,
/// and [`Served`] says which. Once a higher tier's breaker admits again, it
/// gets the next call first, as its probe (R64). When every tier fails,
/// [`AllTiersFailed`] lists each with its reason and `retry_after` (R65).
///
/// Routing allocates nothing when the first tier tried serves the call.
///
/// ```
/// use cb_core::CircuitBreaker;
/// use cb_tiers::{Tier, TierChain};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let chain = TierChain::new([
///     Tier::new(CircuitBreaker::builder("primary").failure_threshold(1).build()?),
///     Tier::new(CircuitBreaker::builder("secondary").build()?),
/// ])?;
///
/// // The primary fails once, which opens its circuit; the secondary serves.
/// let served = chain
///     .call(|tier| async move { if tier == 0 { Err(std::io::Error::other("503")) } else { Ok("from secondary") } })
///     .await?;
/// assert_eq!(served.name, "secondary");
///
/// // The primary is now skipped without a call.
/// let served = chain.call(|tier| async move {
///     assert_ne!(tier, 0);
///     Ok::<_, std::io::Error>(tier)
/// }).await?;
/// assert_eq!(served.value, 1);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TierChain {
    tiers: Arc<[Tier]>,
}

#[derive(Clone, Copy)]
enum Order<'a> {
    Declared,
    Custom(&'a [usize]),
}

/// How one tier's turn ended.
enum TierEnd<T, E> {
    Served(T),
    Returned(E),
    /// A failed call. The tier's retry may repeat it, judging by the verdict.
    Failed(TierAttempt<E>, Verdict),
    /// Refused admission: a skip, or a refused retry, which ends the tier
    /// with the failure before it.
    Refused(TierAttempt<E>),
}

impl TierChain {
    /// A chain of `tiers`, in this order. Errors when there are no tiers, when
    /// two tiers share a name, or when a tier's timeout, breaker
    /// configuration or concurrency limit is invalid.
    pub fn new(tiers: impl IntoIterator<Item = Tier>) -> Result<Self, ConfigError> {
        let tiers: Vec<Tier> = tiers.into_iter().collect();
        let mut v = Violations::new();
        if tiers.is_empty() {
            v.push("tiers", "[]", "must list at least one tier");
        }
        for (i, t) in tiers.iter().enumerate() {
            if tiers[..i].iter().any(|u| u.name() == t.name()) {
                v.push(
                    format!("tiers[{i}].name"),
                    t.name(),
                    "must be unique within the chain",
                );
            }
            t.check(&mut v);
        }
        v.finish()?;
        Ok(Self { tiers: tiers.into() })
    }

    /// The tiers, in declared order.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// How many tiers the chain has (at least one).
    pub fn len(&self) -> usize {
        self.tiers.len()
    }

    /// Always `false`: a chain has at least one tier.
    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    /// The position of the tier named `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.tiers.iter().position(|t| t.name() == name)
    }

    /// The tier named `name`.
    pub fn tier(&self, name: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.name() == name)
    }

    /// A per-call order from tier names, e.g. `["secondary", "primary"]` to
    /// prefer the secondary for some calls. Errors on unknown names,
    /// repeated names or an empty list.
    ///
    /// ```
    /// # use cb_core::CircuitBreaker;
    /// # use cb_tiers::{Tier, TierChain};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let chain = TierChain::new([
    /// #     Tier::new(CircuitBreaker::builder("primary").build()?),
    /// #     Tier::new(CircuitBreaker::builder("secondary").build()?),
    /// # ])?;
    /// let cheap_first = chain.sequence(["secondary", "primary"])?;
    /// let served = chain.call_in(&cheap_first, |tier| async move { Ok::<_, std::io::Error>(tier) }).await?;
    /// assert_eq!(served.name, "secondary");
    /// # Ok(()) }
    /// ```
    pub fn sequence<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> Result<Sequence, ConfigError> {
        let mut v = Violations::new();
        let mut order = Vec::new();
        for (k, name) in names.into_iter().enumerate() {
            match self.position(name) {
                Some(i) if order.contains(&i) => {
                    v.push(format!("sequence[{k}]"), name, "must name each tier at most once");
                }
                Some(i) => order.push(i),
                None => v.push(
                    format!("sequence[{k}]"),
                    name,
                    format!("must be one of the chain's tiers: {}", self.names_list()),
                ),
            }
        }
        if order.is_empty() && v.is_empty() {
            v.push("sequence", "[]", "must name at least one tier");
        }
        v.finish()?;
        Ok(Sequence { order: order.into() })
    }

    fn names_list(&self) -> String {
        self.tiers
            .iter()
            .map(|t| format!("`{}`", t.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Calls the tiers in order with `call(tier_position)` until one succeeds;
    /// `Ok` is a success and `Err` a failure.
    pub async fn call<T, E, F, Fut>(&self, call: F) -> Result<Served<T>, ChainError<E>>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.run(Order::Declared, call, &DefaultClassifier).await
    }

    /// Like [`call`](Self::call), with a classifier deciding from the whole
    /// `Result` what is a failure (R4). An `Ok` classified as excluded still
    /// serves the call; an `Err` that is not a failure ends the chain with
    /// [`ChainError::Returned`]. A wait hint in the classifier's
    /// [`verdict`](Classifier::verdict) becomes the open duration of the
    /// tier it tripped and the delay hint of the tier's retry.
    pub async fn call_with<T, E, F, Fut, C>(
        &self,
        call: F,
        classifier: &C,
    ) -> Result<Served<T>, ChainError<E>>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        C: Classifier<T, E> + ?Sized,
    {
        self.run(Order::Declared, call, classifier).await
    }

    /// Like [`call`](Self::call), trying only the tiers of `sequence`, in its order.
    pub async fn call_in<T, E, F, Fut>(
        &self,
        sequence: &Sequence,
        call: F,
    ) -> Result<Served<T>, ChainError<E>>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.run(Order::Custom(&sequence.order), call, &DefaultClassifier)
            .await
    }

    /// Like [`call_in`](Self::call_in), with a classifier as in
    /// [`call_with`](Self::call_with).
    ///
    /// ```
    /// # use cb_core::{CircuitBreaker, Outcome};
    /// # use cb_tiers::{ChainError, Tier, TierChain};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let chain = TierChain::new([
    /// #     Tier::new(CircuitBreaker::builder("primary").build()?),
    /// #     Tier::new(CircuitBreaker::builder("secondary").build()?),
    /// # ])?;
    /// let cheap_first = chain.sequence(["secondary", "primary"])?;
    /// // A 404 is the caller's problem: it ends the chain instead of moving on.
    /// let not_found = |r: &Result<(), u16>| match r {
    ///     Err(404) => Outcome::Excluded,
    ///     Err(_) => Outcome::Failure,
    ///     Ok(()) => Outcome::Success,
    /// };
    /// let err = chain
    ///     .call_in_with(&cheap_first, |_tier| async { Err(404) }, &not_found)
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(err, ChainError::Returned { tier: 1, error: 404, .. }));
    /// # Ok(()) }
    /// ```
    pub async fn call_in_with<T, E, F, Fut, C>(
        &self,
        sequence: &Sequence,
        call: F,
        classifier: &C,
    ) -> Result<Served<T>, ChainError<E>>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        C: Classifier<T, E> + ?Sized,
    {
        self.run(Order::Custom(&sequence.order), call, classifier).await
    }

    async fn run<T, E, F, Fut, C>(
        &self,
        order: Order<'_>,
        mut call: F,
        classifier: &C,
    ) -> Result<Served<T>, ChainError<E>>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        C: Classifier<T, E> + ?Sized,
    {
        let n = match order {
            Order::Declared => self.tiers.len(),
            Order::Custom(s) => s.len(),
        };
        // Empty until a tier fails: the first tier's success allocates nothing.
        let mut attempts = Vec::new();
        for k in 0..n {
            let i = match order {
                Order::Declared => k,
                Order::Custom(s) => s[k],
            };
            // A sequence made by another chain may name positions this one lacks.
            let Some(tier) = self.tiers.get(i) else { continue };
            match run_tier(i, tier, &mut call, classifier).await {
                TierEnd::Served(value) => {
                    return Ok(Served {
                        value,
                        tier: i,
                        name: tier.breaker.name_handle().clone(),
                    });
                }
                TierEnd::Returned(error) => {
                    return Err(ChainError::Returned {
                        tier: i,
                        name: tier.breaker.name_handle().clone(),
                        error,
                    });
                }
                TierEnd::Failed(attempt, _) | TierEnd::Refused(attempt) => {
                    tracing::debug!(
                        tier = %attempt.name,
                        kind = attempt.kind.as_str(),
                        retry_after = ?attempt.retry_after,
                        "tier did not serve the call; trying the next"
                    );
                    if attempts.capacity() == 0 {
                        attempts.reserve_exact(n - k);
                    }
                    attempts.push(attempt);
                }
            }
        }
        Err(ChainError::AllFailed(AllTiersFailed { attempts }))
    }
}

/// Runs one tier's turn, retrying on the tier breaker's clock:
/// admission, the call under the timeout, the verdict, the open duration
/// from `Retry-After`, and the tier's retry, if it has one.
async fn run_tier<T, E, F, Fut, C>(i: usize, tier: &Tier, call: &mut F, classifier: &C) -> TierEnd<T, E>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    C: Classifier<T, E> + ?Sized,
{
    let schedule = match &tier.retry {
        None => TierSchedule::Once,
        Some(Retry::Policy { policy, random }) => TierSchedule::Policy(policy.schedule(&**random)),
        Some(Retry::Custom(retry)) => TierSchedule::Custom(&**retry),
    };
    let mut tries = TierTries {
        i,
        tier,
        call,
        classifier,
        calls: 0,
        last: None,
    };
    let mut retrying = Retrying::start(RetryClock::of(&tier.breaker), schedule).through(&tier.breaker);
    loop {
        retrying.begin();
        let attempt = tries.attempt().await;
        match retrying.after(attempt) {
            Next::Stop(ran) => return ran.result,
            Next::Retry { failed, delay } => {
                tries.retrying(failed);
                retrying.wait(delay).await;
            }
        }
    }
}

/// The attempts of one tier's turn.
struct TierTries<'a, E, F, C: ?Sized> {
    i: usize,
    tier: &'a Tier,
    call: &'a mut F,
    classifier: &'a C,
    /// Calls made: attempts that were admitted.
    calls: u32,
    /// The failure being retried, and its wait: what the tier ends with if
    /// the breaker refuses the retry.
    last: Option<(AttemptKind<E>, Option<Duration>)>,
}

impl<E, F, C: ?Sized> TierTries<'_, E, F, C> {
    /// How the tier's turn ended, after the calls made so far.
    fn ended(&self, kind: AttemptKind<E>, retry_after: Option<Duration>) -> TierAttempt<E> {
        TierAttempt {
            tier: self.i,
            name: self.tier.breaker.name_handle().clone(),
            kind,
            retry_after,
            calls: self.calls,
        }
    }

    /// One attempt: admission (bulkhead, then breaker), the call under the
    /// timeout, the verdict, and the open duration from `Retry-After`.
    async fn attempt<T, Fut>(&mut self) -> Attempt<TierEnd<T, E>>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        C: Classifier<T, E>,
    {
        let tier = self.tier;
        // The bulkhead first: a full bulkhead says nothing about the
        // downstream's health, so it must not take a breaker permit (R53).
        let slot = match tier.pool() {
            Some(pool) => pool
                .acquire()
                .await
                .map(Some)
                .map_err(|r| (RejectReason::BulkheadFull, r.retry_after())),
            None => Ok(None),
        };
        let admitted = slot.and_then(|slot| {
            tier.breaker
                .try_acquire()
                .map(|permit| (slot, permit))
                .map_err(|r| (r.reason(), r.retry_after()))
        });
        let (_slot, permit) = match admitted {
            Ok(admitted) => admitted,
            Err((reason, wait)) => {
                let (kind, retry_after) = match self.last.take() {
                    // A retry refused admission ends the tier with its last failure.
                    Some((kind, hint)) => (kind, hint.or(wait)),
                    None => (AttemptKind::Skipped(reason), wait),
                };
                return Attempt::Refused {
                    result: TierEnd::Refused(self.ended(kind, retry_after)),
                    retry_after: wait,
                };
            }
        };
        self.calls = self.calls.saturating_add(1);
        let (ran, verdict) = guarded(
            permit,
            (self.call)(self.i),
            tier.timeout,
            self.classifier,
            &tier.breaker,
        )
        .await;
        let kind = match ran {
            Some(Ok(value))
                if verdict.outcome != Outcome::Failure && verdict.outcome != Outcome::Panicked =>
            {
                return Attempt::Done(TierEnd::Served(value));
            }
            Some(Err(error))
                if verdict.outcome != Outcome::Failure && verdict.outcome != Outcome::Panicked =>
            {
                return Attempt::Done(TierEnd::Returned(error));
            }
            Some(Ok(_)) => AttemptKind::FailedValue,
            Some(Err(error)) => AttemptKind::Failure(error),
            None => AttemptKind::Timeout(tier.timeout.unwrap_or_default()),
        };
        if let Some(wait) = verdict.retry_after {
            // The downstream said when to come back: that is the open duration
            // (only an open circuit is touched, atomically, R73).
            tier.breaker.set_retry_after(wait);
        }
        let retry_after = verdict.retry_after.or_else(|| tier.breaker.retry_after());
        Attempt::Retry {
            result: TierEnd::Failed(self.ended(kind, retry_after), verdict),
            retry_after: verdict.retry_after,
        }
    }

    /// Keeps the failure being retried, for a refused retry to end with.
    fn retrying<T>(&mut self, failed: TierEnd<T, E>) {
        if let TierEnd::Failed(attempt, _) = failed {
            self.last = Some((attempt.kind, attempt.retry_after));
        }
    }
}

/// When a tier retries, for one turn of the tier.
enum TierSchedule<'a> {
    /// No retry: one call.
    Once,
    Policy(PolicySchedule<'a>),
    Custom(&'a dyn TierRetry),
}

impl<T, E> Schedule<TierEnd<T, E>> for TierSchedule<'_> {
    fn next_delay(
        &mut self,
        attempt: u32,
        failed: &TierEnd<T, E>,
        retry_after: Option<Duration>,
        elapsed: Duration,
    ) -> Option<Duration> {
        match (self, failed) {
            (TierSchedule::Policy(p), _) => p.next_delay(attempt, failed, retry_after, elapsed),
            (TierSchedule::Custom(r), TierEnd::Failed(_, verdict)) => r.next_delay(attempt, verdict, elapsed),
            _ => None,
        }
    }

    fn needs_elapsed(&self) -> bool {
        match self {
            TierSchedule::Once => false,
            TierSchedule::Policy(p) => Schedule::<()>::needs_elapsed(p),
            TierSchedule::Custom(r) => r.needs_elapsed(),
        }
    }
}

/// Awaits `fut` under `permit` and an optional timeout, then records the
/// verdict. `None` means the timeout elapsed (recorded as a failure). If the
/// caller drops this future, the permit records `cancelled` (R5); if polling
/// `fut` panics, `panicked` (R6), even when the runtime catches the panic and
/// drops the future later.
async fn guarded<T, E, Fut, C>(
    permit: Permit<'_>,
    fut: Fut,
    timeout: Option<Duration>,
    classifier: &C,
    breaker: &CircuitBreaker,
) -> (Option<Result<T, E>>, Verdict)
where
    Fut: Future<Output = Result<T, E>>,
    C: Classifier<T, E> + ?Sized,
{
    let mut verdict = Verdict::failure();
    let ran = permit
        .run(
            async {
                match timeout {
                    Some(d) => tokio::time::timeout(d, fut).await.ok(),
                    None => Some(fut.await),
                }
            },
            |ran| {
                // The breaker's configured `classify` lists sort an error
                // (and the tier's timeout, `timeout`) over the classifier.
                match ran {
                    Some(result) => {
                        verdict = classifier.verdict(result);
                        if verdict.outcome != Outcome::Success {
                            verdict.outcome = breaker.classify_kind(verdict.outcome, classifier.kind(result));
                        }
                    }
                    None => verdict.outcome = breaker.classify_kind(verdict.outcome, ErrorKind::Timeout),
                }
                // A classifier has no business saying "cancelled": the call finished.
                if verdict.outcome == Outcome::Cancelled {
                    verdict.outcome = Outcome::Excluded;
                }
                verdict.outcome
            },
        )
        .await;
    (ran, verdict)
}
