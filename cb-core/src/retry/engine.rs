//! The retrying of one call. A pipeline's attempts and a tier's attempts
//! both go through [`Retrying`], so both follow the same rules (R44–R50).
//!
//! It counts attempts and asks a [`Schedule`] how long to wait before the
//! next one. It measures `max_elapsed` from the first attempt on an
//! injected clock, and it does not retry a refused admission unless the
//! schedule asks for that (R48). It does not sleep after the last attempt
//! (R47). It does not wait before an attempt that the breaker it goes
//! through would refuse (R48a). It waits with `tokio::time::sleep`, so paused time
//! applies, and dropping the call during a wait stops it (R49).

use std::marker::PhantomData;
use std::time::Duration;

use super::RetryPolicy;
use super::backoff::Delays;
use crate::breaker::{CircuitBreaker, State};
use crate::clock::{ClockHandle, Nanos};
use crate::random::Random;

/// How one attempt ended, as far as retrying is concerned.
#[derive(Debug)]
pub enum Attempt<R> {
    /// The call is over with this result: a success, or an error that is
    /// not worth another attempt.
    Done(R),
    /// Worth another attempt if the schedule allows one.
    Retry {
        /// The attempt's result, returned if retrying stops here.
        result: R,
        /// The downstream's own "come back after" (an HTTP `Retry-After`):
        /// the next wait is at least this long.
        retry_after: Option<Duration>,
    },
    /// The attempt was refused admission locally (open circuit, full
    /// bulkhead). It is not retried unless the schedule retries refusals
    /// (R48).
    Refused {
        /// The refusal, returned as it is when it is not retried.
        result: R,
        /// When admission may succeed again: the next wait is at least this long.
        retry_after: Option<Duration>,
    },
}

/// Decides, after each failed attempt of one call, whether to try again and
/// how long to wait first. A schedule holds state for one call only.
/// [`PolicySchedule`] follows a [`RetryPolicy`].
pub trait Schedule<R: ?Sized> {
    /// The wait before attempt `attempt + 1` now that attempt `attempt` ended
    /// with `failed`, or `None` to stop. `retry_after` is the downstream's
    /// hint or the refusal's wait. `elapsed` is the time since the first
    /// attempt began, and is zero unless [`needs_elapsed`](Self::needs_elapsed).
    fn next_delay(
        &mut self,
        attempt: u32,
        failed: &R,
        retry_after: Option<Duration>,
        elapsed: Duration,
    ) -> Option<Duration>;

    /// Whether `next_delay` reads `elapsed`. If it does not, [`Retrying`]
    /// never reads the clock.
    fn needs_elapsed(&self) -> bool {
        false
    }

    /// Whether refused admissions are retried like failures (R48: off by default).
    fn retries_refusals(&self) -> bool {
        false
    }
}

/// A [`RetryPolicy`] applied to one call, made by [`RetryPolicy::schedule`].
///
/// The policy allows at most `max_attempts` attempts (R44). The delays come
/// from its backoff, one step per retry, with jitter and the cap as a hard
/// ceiling (R45). A hint (such as `Retry-After`) sets a minimum wait, but that
/// minimum is itself capped at `max_delay`. The policy also stops at
/// `max_elapsed` (R50), and each retry takes one token from its budget.
#[derive(Debug)]
pub struct PolicySchedule<'a> {
    policy: &'a RetryPolicy,
    delays: Delays<'a>,
}

impl RetryPolicy {
    /// Starts the schedule of one call, drawing jitter from `random`, and
    /// deposits the call into the policy's budget, if it has one.
    pub fn schedule<'a>(&'a self, random: &'a dyn Random) -> PolicySchedule<'a> {
        if let Some(budget) = self.budget() {
            budget.deposit();
        }
        PolicySchedule {
            policy: self,
            delays: self.backoff().delays(random),
        }
    }
}

impl<R: ?Sized> Schedule<R> for PolicySchedule<'_> {
    fn next_delay(
        &mut self,
        attempt: u32,
        _failed: &R,
        retry_after: Option<Duration>,
        elapsed: Duration,
    ) -> Option<Duration> {
        if attempt >= self.policy.max_attempts() {
            return None;
        }
        let scheduled = self.delays.next().unwrap_or(Duration::ZERO);
        self.policy.next_delay(scheduled, retry_after, elapsed)
    }

    fn needs_elapsed(&self) -> bool {
        self.policy.max_elapsed().is_some()
    }

    fn retries_refusals(&self) -> bool {
        self.policy.retries_rejections()
    }
}

/// The clock that a retry measures `max_elapsed` on (R50): a pipeline's own
/// clock, or the clock of the breaker that a tier's attempts go through, so
/// that the retry and the breaker read the same time.
#[derive(Debug, Clone, Copy)]
pub struct RetryClock<'a>(&'a ClockHandle);

impl<'a> RetryClock<'a> {
    /// The clock of `breaker` (see [`CircuitBreakerBuilder::clock`](crate::CircuitBreakerBuilder::clock)).
    pub fn of(breaker: &'a CircuitBreaker) -> Self {
        Self(breaker.clock())
    }

    pub(crate) fn new(clock: &'a ClockHandle) -> Self {
        Self(clock)
    }

    fn now(self) -> Nanos {
        self.0.now()
    }
}

/// How a call's retrying ended.
#[derive(Debug)]
#[must_use]
pub struct Ran<R> {
    /// The last attempt's result.
    pub result: R,
    /// The number of attempts made, including one that was refused.
    pub attempts: u32,
    /// Whether the last result was still worth retrying, but the schedule
    /// stopped: no attempts, time or budget left. A caller usually reports
    /// this as "retries exhausted".
    pub exhausted: bool,
}

/// What comes after an attempt, as [`Retrying::after`] decides.
#[derive(Debug)]
#[must_use]
pub enum Next<R> {
    /// Retrying is over.
    Stop(Ran<R>),
    /// Wait `delay` with [`Retrying::wait`], then make another attempt.
    Retry {
        /// The result being retried, in case a later attempt needs it (a
        /// tier whose retry is refused ends with it). Drop it before
        /// waiting if nothing does.
        failed: R,
        /// How long to wait first.
        delay: Duration,
    },
}

/// The retrying of one call: it counts the attempts, decides after each one
/// whether to try again and how long to wait, and waits. A pipeline and a
/// tier of a chain both retry through it (R44–R50).
///
/// The caller's loop only makes the attempts:
///
/// ```
/// use cb_core::CircuitBreaker;
/// use cb_core::random::SplitMix64;
/// use cb_core::retry::{Attempt, Backoff, Next, RetryClock, RetryPolicy, Retrying};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), cb_core::ConfigError> {
/// let policy = RetryPolicy::builder()
///     .max_attempts(3)
///     .backoff(Backoff::constant(Duration::from_millis(10)).build()?)
///     .build()?;
/// let breaker = CircuitBreaker::builder("api").build()?;
/// let random = SplitMix64::seeded(1);
///
/// let mut retrying = Retrying::start(RetryClock::of(&breaker), policy.schedule(&random));
/// let ran = loop {
///     retrying.begin();
///     let attempt = Attempt::Retry { result: Err::<(), _>("busy"), retry_after: None };
///     match retrying.after(attempt) {
///         Next::Stop(ran) => break ran,
///         Next::Retry { failed, delay } => {
///             drop(failed);
///             retrying.wait(delay).await;
///         }
///     }
/// };
/// assert_eq!((ran.result, ran.attempts, ran.exhausted), (Err("busy"), 3, true));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Retrying<'a, R, S> {
    clock: RetryClock<'a>,
    schedule: S,
    /// When the first attempt began, if the schedule reads the elapsed time.
    started: Option<Nanos>,
    attempts: u32,
    /// The breaker every attempt goes through, if any: a retry does not
    /// wait for an attempt it would refuse (R48a).
    breaker: Option<&'a CircuitBreaker>,
    results: PhantomData<fn(R)>,
}

impl<'a, R, S: Schedule<R>> Retrying<'a, R, S> {
    /// Starts retrying a call that is about to make its first attempt. The
    /// clock is read only if `schedule` needs the elapsed time (R50).
    pub fn start(clock: RetryClock<'a>, schedule: S) -> Self {
        let started = schedule.needs_elapsed().then(|| clock.now());
        Self {
            clock,
            schedule,
            started,
            attempts: 0,
            breaker: None,
            results: PhantomData,
        }
    }

    /// Names the breaker every attempt goes through. After a failed attempt
    /// that left it open (or forced open) for longer than the next delay,
    /// the next attempt is made at once instead of after the delay: the
    /// breaker refuses it without calling the downstream, and the refusal
    /// ends the call as it would have one delay later (R48), so the call
    /// ends when the breaker opened. A schedule that retries refusals waits
    /// the open circuit's `retry_after` instead (R48a).
    pub fn through(mut self, breaker: &'a CircuitBreaker) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// Counts an attempt about to be made, and returns its number (1 is the
    /// first call).
    pub fn begin(&mut self) -> u32 {
        self.attempts = self.attempts.saturating_add(1);
        self.attempts
    }

    /// The attempts begun so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Decides what follows the attempt just made. A done attempt stops. So
    /// does a refused one unless the schedule retries refusals (R48). Any
    /// other attempt is retried after the schedule's delay, or stops
    /// exhausted, without a last wait (R47).
    pub fn after(&mut self, attempt: Attempt<R>) -> Next<R> {
        let n = self.attempts;
        let stop = |result, exhausted| {
            Next::Stop(Ran {
                result,
                attempts: n,
                exhausted,
            })
        };
        let (result, retry_after) = match attempt {
            Attempt::Done(result) => return stop(result, false),
            // R48: a local rejection is no downstream fault to wait out.
            Attempt::Refused { result, .. } if !self.schedule.retries_refusals() => {
                return stop(result, false);
            }
            Attempt::Retry { result, retry_after } | Attempt::Refused { result, retry_after } => {
                (result, retry_after)
            }
        };
        let elapsed = self.started.map_or(Duration::ZERO, |t| {
            Duration::from_nanos(self.clock.now().saturating_sub(t))
        });
        let Some(delay) = self.schedule.next_delay(n, &result, retry_after, elapsed) else {
            return stop(result, true);
        };
        // R48a: no wait before an attempt the breaker would refuse. Its
        // refusal is made at once, and ends the call as R48 says; with the
        // opt-in of R48 the wait is the open circuit's own instead.
        let delay = match self.refused_after(delay) {
            Some(Some(open_for)) if self.schedule.retries_refusals() => open_for,
            Some(_) if !self.schedule.retries_refusals() => Duration::ZERO,
            _ => delay,
        };
        Next::Retry {
            failed: result,
            delay,
        }
    }

    /// Whether an attempt made `delay` from now would be refused by the
    /// breaker the attempts go through: `Some(Some(open_for))` while its
    /// circuit stays open longer than `delay` (an open circuit admits at
    /// `retry_after`, inclusive: R17), `Some(None)` while it is forced open,
    /// `None` if it would admit or there is no breaker. Read only after a
    /// failed attempt, never on a call's first.
    fn refused_after(&self, delay: Duration) -> Option<Option<Duration>> {
        let breaker = self.breaker?;
        if let Some(open_for) = breaker.retry_after() {
            return (open_for > delay).then_some(Some(open_for));
        }
        (breaker.state() == State::ForcedOpen).then_some(None)
    }

    /// Waits `delay` on tokio's timer, so paused time applies and dropping
    /// the call stops the wait (R49). A zero delay does not yield.
    pub async fn wait(&self, delay: Duration) {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::random::SplitMix64;
    use crate::retry::{Backoff, Jitter, RetryBudget};

    const MS: Duration = Duration::from_millis(1);

    /// Fails every attempt with its number, noting each; refuses from
    /// attempt `refuse_from` on.
    async fn failing(
        clock: &ClockHandle,
        schedule: PolicySchedule<'_>,
        refuse_from: u32,
    ) -> (Ran<u32>, Vec<u32>) {
        let mut made = Vec::new();
        let mut retrying = Retrying::start(RetryClock::new(clock), schedule);
        loop {
            let n = retrying.begin();
            made.push(n);
            let attempt = if n >= refuse_from {
                Attempt::Refused {
                    result: n,
                    retry_after: None,
                }
            } else {
                Attempt::Retry {
                    result: n,
                    retry_after: None,
                }
            };
            match retrying.after(attempt) {
                Next::Stop(ran) => return (ran, made),
                Next::Retry { delay, .. } => retrying.wait(delay).await,
            }
        }
    }

    fn policy(attempts: u32) -> RetryPolicy {
        RetryPolicy::builder()
            .max_attempts(attempts)
            .backoff(
                Backoff::exponential(MS * 100)
                    .jitter(Jitter::None)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn r44_r47_the_schedule_advances_once_per_retry_and_stops_without_a_last_sleep() {
        let clock = ClockHandle::from_clock(ManualClock::new());
        let random = SplitMix64::seeded(0);
        let p = policy(4);
        let start = tokio::time::Instant::now();
        let (ran, made) = failing(&clock, p.schedule(&random), u32::MAX).await;
        assert_eq!((ran.result, ran.attempts, ran.exhausted), (4, 4, true));
        assert_eq!(made, [1, 2, 3, 4]);
        assert_eq!(start.elapsed(), MS * 700, "100 + 200 + 400");
    }

    #[tokio::test(start_paused = true)]
    async fn r48_a_refusal_ends_the_call_unless_the_schedule_retries_refusals() {
        let clock = ClockHandle::from_clock(ManualClock::new());
        let random = SplitMix64::seeded(0);
        let p = policy(5);
        let (ran, made) = failing(&clock, p.schedule(&random), 2).await;
        assert_eq!((ran.result, ran.attempts, ran.exhausted), (2, 2, false));
        assert_eq!(made, [1, 2]);

        let p = RetryPolicy::builder()
            .max_attempts(3)
            .backoff(Backoff::immediate())
            .retry_rejections(true)
            .build()
            .unwrap();
        let (ran, _) = failing(&clock, p.schedule(&random), 2).await;
        assert_eq!((ran.result, ran.attempts, ran.exhausted), (3, 3, true));
    }

    #[tokio::test(start_paused = true)]
    async fn r50_max_elapsed_is_measured_on_the_injected_clock() {
        // The manual clock never moves, so however long the waits take in
        // tokio time, no time has elapsed for the retry.
        let clock = ClockHandle::from_clock(ManualClock::new());
        let random = SplitMix64::seeded(0);
        let p = RetryPolicy::builder()
            .max_attempts(4)
            .backoff(Backoff::constant(MS * 100).build().unwrap())
            .max_elapsed(MS * 150)
            .build()
            .unwrap();
        let (ran, _) = failing(&clock, p.schedule(&random), u32::MAX).await;
        assert_eq!(ran.attempts, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn each_call_deposits_once_and_each_retry_withdraws_once() {
        let clock = ClockHandle::from_clock(ManualClock::new());
        let random = SplitMix64::seeded(0);
        let budget = RetryBudget::new(1.0, 1).unwrap();
        let p = RetryPolicy::builder()
            .max_attempts(3)
            .backoff(Backoff::immediate())
            .budget(budget.clone())
            .build()
            .unwrap();
        // Full reserve (1 token): the deposit adds nothing; one retry takes it.
        let (ran, _) = failing(&clock, p.schedule(&random), u32::MAX).await;
        assert_eq!((ran.attempts, ran.exhausted), (2, true));
        assert_eq!(budget.available(), 0);
    }
}
