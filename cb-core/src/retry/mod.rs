//! Retry: how many attempts, how long between them, and how many retries a
//! fleet may add to a struggling downstream (R44–R50).
//!
//! A [`RetryPolicy`] is plain validated data. [`Retrying`] runs the retries
//! of one call.
//! A [`Pipeline`](crate::Pipeline) runs it with predicates that decide which
//! errors and results are retried. A tier chain in `cb-tiers` runs it for
//! each tier. Rejections by a pipeline's own breaker or bulkhead are not
//! retried unless [`RetryPolicyBuilder::retry_rejections`] says so (R48).

mod backoff;
mod engine;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub use backoff::{Backoff, BackoffBuilder, Delays, Jitter};
pub use engine::{Attempt, Next, PolicySchedule, Ran, RetryClock, Retrying, Schedule};

use crate::error::{ConfigError, Violations};

/// How a pipeline retries.
///
/// ```
/// use cb_core::retry::{Backoff, RetryPolicy};
/// use std::time::Duration;
///
/// let policy = RetryPolicy::builder()
///     .max_attempts(4) // the first call and three retries (R44)
///     .backoff(Backoff::exponential(Duration::from_millis(200)).max_delay(Duration::from_secs(5)).build()?)
///     .max_elapsed(Duration::from_secs(20))
///     .build()?;
/// assert_eq!(policy.max_attempts(), 4);
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    backoff: Backoff,
    max_elapsed: Option<Duration>,
    budget: Option<RetryBudget>,
    retry_rejections: bool,
}

impl RetryPolicy {
    /// Starts a policy: 3 attempts, exponential backoff from 100 ms doubling
    /// up to 10 s with full jitter, no time limit, no budget.
    pub fn builder() -> RetryPolicyBuilder {
        RetryPolicyBuilder {
            policy: RetryPolicy {
                max_attempts: 3,
                backoff: Backoff::exponential(Duration::from_millis(100))
                    .max_delay(Duration::from_secs(10))
                    .build()
                    .unwrap_or_else(|_| Backoff::immediate()),
                max_elapsed: None,
                budget: None,
                retry_rejections: false,
            },
        }
    }
    /// Attempts in all, the first call included (R44).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
    /// The delays between attempts.
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }
    /// The limit on the whole call, waits included (R50).
    pub fn max_elapsed(&self) -> Option<Duration> {
        self.max_elapsed
    }
    /// The budget retries draw from, if any.
    pub fn budget(&self) -> Option<&RetryBudget> {
        self.budget.as_ref()
    }
    /// Whether local rejections (open circuit, full bulkhead, throttled) are retried.
    pub fn retries_rejections(&self) -> bool {
        self.retry_rejections
    }

    /// The wait before the next attempt, or `None` to stop retrying, given the
    /// schedule's next delay (`scheduled`, from [`Backoff::delays`]), a
    /// server's hint and the time spent so far:
    ///
    /// - a hint (e.g. `Retry-After`) is a floor, itself capped at `max_delay`;
    /// - with `max_elapsed`, the delay is cut to the time left, and retrying
    ///   stops when none is left (R50);
    /// - with a budget, a retry must withdraw from it (and stops when spent).
    ///
    /// [`PolicySchedule`], which [`Retrying`] consults after every failed
    /// attempt, decides through here.
    ///
    /// ```
    /// use cb_core::retry::{Backoff, RetryPolicy};
    /// use std::time::Duration;
    /// let s = Duration::from_secs;
    /// let policy = RetryPolicy::builder()
    ///     .backoff(Backoff::constant(s(1)).max_delay(s(10)).build()?)
    ///     .max_elapsed(s(30))
    ///     .build()?;
    /// assert_eq!(policy.next_delay(s(1), Some(s(60)), s(0)), Some(s(10)));  // hint capped
    /// assert_eq!(policy.next_delay(s(1), None, s(29) + s(1) / 2), Some(s(1) / 2)); // truncated
    /// assert_eq!(policy.next_delay(s(1), None, s(30)), None);                 // out of time
    /// # Ok::<(), cb_core::ConfigError>(())
    /// ```
    pub fn next_delay(
        &self,
        scheduled: Duration,
        hint: Option<Duration>,
        elapsed: Duration,
    ) -> Option<Duration> {
        let cap = self.backoff.cap();
        let mut delay = scheduled;
        if let Some(h) = hint {
            delay = delay.max(h.min(cap));
        }
        if let Some(limit) = self.max_elapsed {
            let left = limit.checked_sub(elapsed).filter(|d| !d.is_zero())?;
            delay = delay.min(left);
        }
        if let Some(budget) = &self.budget
            && !budget.try_withdraw()
        {
            return None;
        }
        Some(delay)
    }
}

/// Builds a [`RetryPolicy`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RetryPolicyBuilder {
    policy: RetryPolicy,
}

impl RetryPolicyBuilder {
    /// Attempts in all, the first call included; 1 means no retry, 0 is invalid (R44).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.policy.max_attempts = n;
        self
    }
    /// The schedule of delays between attempts.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.policy.backoff = backoff;
        self
    }
    /// Stop retrying once this much time has passed since the call started;
    /// the last wait is shortened to fit (R50).
    pub fn max_elapsed(mut self, limit: Duration) -> Self {
        self.policy.max_elapsed = Some(limit);
        self
    }
    /// Draw every retry from `budget`, usually shared by all the callers of
    /// one downstream.
    pub fn budget(mut self, budget: RetryBudget) -> Self {
        self.policy.budget = Some(budget);
        self
    }
    /// Retry local rejections too, waiting at least their `retry_after`
    /// (off by default, R48).
    pub fn retry_rejections(mut self, yes: bool) -> Self {
        self.policy.retry_rejections = yes;
        self
    }
    /// Checks every value (R76).
    pub fn build(self) -> Result<RetryPolicy, ConfigError> {
        let mut v = Violations::new();
        v.at_least_one("max_attempts", self.policy.max_attempts.into());
        if let Some(limit) = self.policy.max_elapsed {
            v.positive("max_elapsed", limit);
        }
        v.finish()?;
        Ok(self.policy)
    }
}

const MILLI: i64 = 1000;

/// Limits retries to a fraction of calls, so that a fleet of clients cannot
/// multiply the load on a downstream that is already failing.
///
/// Every call deposits `ratio` of a token; every retry takes one whole
/// token. The balance starts at, and never exceeds, `reserve` tokens (at
/// least one), so over any stretch of traffic
/// `retries <= reserve + ratio × calls`. Clones share the balance.
///
/// ```
/// use cb_core::retry::RetryBudget;
///
/// let budget = RetryBudget::new(0.1, 2)?;
/// assert!(budget.try_withdraw());
/// assert!(budget.try_withdraw());
/// assert!(!budget.try_withdraw()); // the reserve is spent
/// for _ in 0..10 {
///     budget.deposit(); // ten calls earn one retry
/// }
/// assert!(budget.try_withdraw());
/// assert!(!budget.try_withdraw());
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RetryBudget {
    balance: Arc<AtomicI64>,
    deposit: i64,
    cap: i64,
}

impl RetryBudget {
    /// A budget allowing retries of `ratio` (in `[0, 1]`) of calls on top of
    /// a `reserve` of retries.
    pub fn new(ratio: f64, reserve: u32) -> Result<Self, ConfigError> {
        let mut v = Violations::new();
        v.fraction("retry_budget.ratio", ratio);
        v.finish()?;
        let cap = i64::from(reserve.max(1)) * MILLI;
        Ok(Self {
            balance: Arc::new(AtomicI64::new(i64::from(reserve) * MILLI)),
            deposit: (ratio * MILLI as f64).round() as i64,
            cap,
        })
    }

    /// Credits one call. Writes nothing when the balance is already full.
    #[inline]
    pub fn deposit(&self) {
        if self.deposit == 0 || self.balance.load(Ordering::Relaxed) >= self.cap {
            return;
        }
        let (add, cap) = (self.deposit, self.cap);
        let _ = self
            .balance
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |b| {
                (b < cap).then(|| (b + add).min(cap))
            });
    }

    /// Takes one retry's worth, if there is one.
    pub fn try_withdraw(&self) -> bool {
        self.balance
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |b| {
                (b >= MILLI).then(|| b - MILLI)
            })
            .is_ok()
    }

    /// Retries available now (whole tokens).
    pub fn available(&self) -> u64 {
        (self.balance.load(Ordering::Acquire) / MILLI).max(0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r44_zero_attempts_is_a_config_error() {
        let err = RetryPolicy::builder().max_attempts(0).build().unwrap_err();
        assert_eq!(err.violations()[0].field, "max_attempts");
        assert_eq!(err.violations()[0].allowed, "must be an integer >= 1");
        RetryPolicy::builder().max_attempts(1).build().unwrap();
    }

    #[test]
    fn retry_budget_bounds_retries_by_reserve_plus_ratio_of_calls() {
        let budget = RetryBudget::new(0.2, 3).unwrap();
        let mut retries = 0;
        for _ in 0..1000 {
            budget.deposit();
            if budget.try_withdraw() {
                retries += 1;
            }
        }
        assert!(retries <= 3 + 200, "{retries}");
        assert!(retries >= 200, "{retries}");
        assert!(RetryBudget::new(1.5, 0).is_err());
    }
}
