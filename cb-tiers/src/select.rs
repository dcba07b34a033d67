//! Ordered tiers: try each in turn, skip those whose circuit refuses, stop at
//! the first that serves (R62–R65).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use cb_core::error::Violations;
use cb_core::retry::RetryPolicy;
use cb_core::{
    Bulkhead, CircuitBreaker, Classifier, ConfigError, DefaultClassifier, Name, Outcome, Permit, RejectReason,
};

use crate::error::{AllTiersFailed, AttemptKind, ChainError, TierAttempt};

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

/// The seam for a retry policy inside one tier (R62: a per-tier retry runs
/// inside that tier, and each attempt passes through the tier's breaker, R61).
///
/// After attempt `attempt` (1 is the first call) failed or timed out, the
/// chain asks for the delay before another attempt; `None` moves on to the
/// next tier. If the breaker refuses a later attempt, the tier ends with its
/// last failure.
///
/// ```
/// use cb_tiers::{TierRetry, Verdict};
/// use std::time::Duration;
///
/// /// Up to 3 calls, 10 ms apart, or as long as the downstream asked.
/// #[derive(Debug)]
/// struct ThreeTimes;
/// impl TierRetry for ThreeTimes {
///     fn next_delay(&self, attempt: u32, failure: &Verdict, _elapsed: Duration) -> Option<Duration> {
///         (attempt < 3).then(|| failure.retry_after.unwrap_or(Duration::from_millis(10)))
///     }
/// }
/// ```
pub trait TierRetry: Send + Sync + fmt::Debug + 'static {
    /// The delay before attempt `attempt + 1`, or `None` to stop; `elapsed`
    /// is the time since the tier's first attempt began.
    fn next_delay(&self, attempt: u32, failure: &Verdict, elapsed: Duration) -> Option<Duration>;

    /// Whether `next_delay` reads `elapsed`; when it does, the chain notes
    /// the time of the tier's first attempt.
    fn needs_elapsed(&self) -> bool {
        false
    }
}

/// One tier: its breaker (whose name is the tier's name), an optional
/// per-call timeout and an optional per-tier retry.
///
/// ```
/// use cb_core::CircuitBreaker;
/// use cb_tiers::Tier;
/// use std::time::Duration;
///
/// let tier = Tier::new(CircuitBreaker::builder("primary").build()?).timeout(Duration::from_secs(2));
/// assert_eq!(tier.name(), "primary");
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Tier {
    breaker: CircuitBreaker,
    timeout: Option<Duration>,
    retry: Option<Arc<dyn TierRetry>>,
    bulkhead: Option<Result<Bulkhead, ConfigError>>,
}

impl Tier {
    /// A tier guarded by `breaker`, with no timeout and no retry.
    pub fn new(breaker: CircuitBreaker) -> Self {
        Self {
            breaker,
            timeout: None,
            retry: None,
            bulkhead: None,
        }
    }

    /// Fails a call of this tier that takes longer than `timeout`: the call
    /// is dropped and counts as a failure of the tier (R55, R56).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retries failed calls of this tier as `retry` says, before moving on.
    pub fn retry(mut self, retry: impl TierRetry) -> Self {
        self.retry = Some(Arc::new(retry));
        self
    }

    /// Like [`retry`](Self::retry), sharing a policy between tiers.
    pub fn retry_shared(mut self, retry: Arc<dyn TierRetry>) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The tier's name: its breaker's name.
    pub fn name(&self) -> &str {
        self.breaker.name()
    }

    /// The tier's breaker.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// Retries failed calls of this tier with a cb-core [`RetryPolicy`]
    /// (backoff, jitter, `Retry-After` hints, `max_elapsed`, budget): see
    /// [`PolicyRetry`](crate::PolicyRetry).
    pub fn retry_policy(self, policy: RetryPolicy) -> Self {
        self.retry(crate::policy::PolicyRetry::new(policy))
    }

    /// Runs this tier's calls through `bulkhead` (a private or a named,
    /// shared pool). A call that finds no slot within the bulkhead's queue
    /// timeout skips the tier (`skipped_bulkhead_full`, R63) without touching
    /// the breaker's statistics (R53).
    pub fn bulkhead(mut self, bulkhead: Bulkhead) -> Self {
        self.bulkhead = Some(Ok(bulkhead));
        self
    }

    /// Admits at most `n` calls of this tier at once, without a queue: a
    /// shorthand for [`bulkhead`](Self::bulkhead) with a private pool named
    /// after the tier. `n = 0` is reported by [`TierChain::new`].
    pub fn max_concurrent(mut self, n: usize) -> Self {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.bulkhead = Some(
            Bulkhead::builder(self.breaker.name_handle().clone())
                .max_concurrent(n)
                .build(),
        );
        self
    }

    /// The per-call timeout, if any.
    pub fn call_timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

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

enum TierEnd<T, E> {
    Served(T),
    Returned(E),
    Failed(TierAttempt<E>),
}

impl TierChain {
    /// A chain of `tiers`, in this order. Errors when there are no tiers, when
    /// two tiers share a name, or when a timeout is zero.
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
            if let Some(d) = t.timeout {
                v.positive(&format!("tiers.{}.timeout", t.name()), d);
            }
            if let Some(Err(e)) = &t.bulkhead {
                v.extend(e.clone().prefixed(&format!("tiers.{}.bulkhead", t.name())));
            }
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
        self.run(Order::Declared, call, &ByClassifier(&DefaultClassifier))
            .await
    }

    /// Like [`call`](Self::call), with a classifier deciding from the whole
    /// `Result` what is a failure (R4). An `Ok` classified as excluded still
    /// serves the call; an `Err` that is not a failure ends the chain with
    /// [`ChainError::Returned`].
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
        self.run(Order::Declared, call, &ByClassifier(classifier)).await
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
        self.run(
            Order::Custom(&sequence.order),
            call,
            &ByClassifier(&DefaultClassifier),
        )
        .await
    }

    /// The general form: an optional per-call sequence and a [`Judge`].
    pub async fn call_judged<T, E, F, Fut, J>(
        &self,
        sequence: Option<&Sequence>,
        call: F,
        judge: &J,
    ) -> Result<Served<T>, ChainError<E>>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        J: Judge<T, E> + ?Sized,
    {
        let order = sequence.map_or(Order::Declared, |s| Order::Custom(&s.order));
        self.run(order, call, judge).await
    }

    async fn run<T, E, F, Fut, J>(
        &self,
        order: Order<'_>,
        mut call: F,
        judge: &J,
    ) -> Result<Served<T>, ChainError<E>>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        J: Judge<T, E> + ?Sized,
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
            match run_tier(i, tier, &mut call, judge).await {
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
                TierEnd::Failed(attempt) => {
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

/// Runs one tier: admission, the call under the timeout, the verdict, the
/// open duration from `Retry-After`, and the optional retry.
async fn run_tier<T, E, F, Fut, J>(i: usize, tier: &Tier, call: &mut F, judge: &J) -> TierEnd<T, E>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    J: Judge<T, E> + ?Sized,
{
    let mut calls = 0u32;
    let mut last: Option<(AttemptKind<E>, Option<Duration>)> = None;
    // When the first attempt began: the clock is read only if a retry needs it.
    let started = tier
        .retry
        .as_ref()
        .filter(|r| r.needs_elapsed())
        .map(|_| tokio::time::Instant::now());
    loop {
        // The bulkhead first: a full bulkhead says nothing about the
        // downstream's health, so it must not take a breaker permit (R53).
        let slot = match &tier.bulkhead {
            Some(Ok(bulkhead)) => bulkhead
                .acquire()
                .await
                .map(Some)
                .map_err(|r| (RejectReason::BulkheadFull, r.retry_after())),
            _ => Ok(None),
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
                let (kind, retry_after) = match last {
                    // A retry refused admission ends the tier with its last failure.
                    Some((kind, hint)) => (kind, hint.or(wait)),
                    None => (AttemptKind::Skipped(reason), wait),
                };
                return TierEnd::Failed(TierAttempt {
                    tier: i,
                    name: tier.breaker.name_handle().clone(),
                    kind,
                    retry_after,
                    calls,
                });
            }
        };
        calls = calls.saturating_add(1);
        let (ran, verdict) = guarded(permit, call(i), tier.timeout, judge).await;
        let kind = match ran {
            Some(Ok(value))
                if verdict.outcome != Outcome::Failure && verdict.outcome != Outcome::Panicked =>
            {
                return TierEnd::Served(value);
            }
            Some(Err(error))
                if verdict.outcome != Outcome::Failure && verdict.outcome != Outcome::Panicked =>
            {
                return TierEnd::Returned(error);
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
        let delay = tier.retry.as_ref().and_then(|r| {
            let elapsed = started.map_or(Duration::ZERO, |t| t.elapsed());
            r.next_delay(calls, &verdict, elapsed)
        });
        match delay {
            Some(d) => {
                last = Some((kind, retry_after));
                tokio::time::sleep(d).await;
            }
            None => {
                return TierEnd::Failed(TierAttempt {
                    tier: i,
                    name: tier.breaker.name_handle().clone(),
                    kind,
                    retry_after,
                    calls,
                });
            }
        }
    }
}

/// Awaits `fut` under `permit` and an optional timeout, then records the
/// verdict. `None` means the timeout elapsed (recorded as a failure). If the
/// caller drops this future, the permit records `cancelled` (R5); if polling
/// `fut` panics, `panicked` (R6), even when the runtime catches the panic and
/// drops the future later.
async fn guarded<T, E, Fut, J>(
    permit: Permit<'_>,
    fut: Fut,
    timeout: Option<Duration>,
    judge: &J,
) -> (Option<Result<T, E>>, Verdict)
where
    Fut: Future<Output = Result<T, E>>,
    J: Judge<T, E> + ?Sized,
{
    let mut verdict = Verdict::new(Outcome::Failure);
    let ran = permit
        .run(
            async {
                match timeout {
                    Some(d) => tokio::time::timeout(d, fut).await.ok(),
                    None => Some(fut.await),
                }
            },
            |ran| {
                if let Some(result) = ran {
                    verdict = judge.judge(result);
                }
                // A judge has no business saying "cancelled": the call finished.
                if verdict.outcome == Outcome::Cancelled {
                    verdict.outcome = Outcome::Excluded;
                }
                verdict.outcome
            },
        )
        .await;
    (ran, verdict)
}
