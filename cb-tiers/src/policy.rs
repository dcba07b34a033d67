//! cb-core's [`RetryPolicy`] as a tier's retry policy.

use std::fmt;
use std::time::Duration;

use cb_core::random::{Random, SplitMix64};
use cb_core::retry::RetryPolicy;

use crate::select::{TierRetry, Verdict};

/// Retries a tier's failed calls as a [`RetryPolicy`] says: at most
/// `max_attempts` calls of the tier in all (R44), delays from its backoff
/// with jitter and the cap as a hard ceiling (R45), a server's `Retry-After`
/// as a floor, `max_elapsed` measured from the tier's first attempt (R50) and
/// the policy's budget. Every attempt goes through the tier's breaker; one
/// the breaker refuses ends the tier (R48: local rejections are not retried).
///
/// A budget counts each first attempt that failed as a call, so at tier level
/// it allows at most as many retries as it would in a pipeline, never more.
///
/// ```
/// use cb_core::retry::{Backoff, Jitter, RetryPolicy};
/// use cb_core::random::SplitMix64;
/// use cb_tiers::{PolicyRetry, TierRetry, Verdict};
/// use cb_core::Outcome;
/// use std::time::Duration;
///
/// let policy = RetryPolicy::builder()
///     .max_attempts(3)
///     .backoff(Backoff::exponential(Duration::from_millis(100)).jitter(Jitter::None).build()?)
///     .build()?;
/// let retry = PolicyRetry::with_random(policy, SplitMix64::seeded(7));
/// let failed = Verdict::new(Outcome::Failure);
/// assert_eq!(retry.next_delay(1, &failed, Duration::ZERO), Some(Duration::from_millis(100)));
/// assert_eq!(retry.next_delay(2, &failed, Duration::ZERO), Some(Duration::from_millis(200)));
/// assert_eq!(retry.next_delay(3, &failed, Duration::ZERO), None); // 3 attempts made
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
pub struct PolicyRetry {
    policy: RetryPolicy,
    random: Box<dyn Random>,
}

impl fmt::Debug for PolicyRetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyRetry")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl PolicyRetry {
    /// The policy, with jitter drawn from an entropy-seeded generator.
    pub fn new(policy: RetryPolicy) -> Self {
        Self::with_random(policy, SplitMix64::from_entropy())
    }

    /// The policy, with jitter drawn from `random` (seed it for reproducible delays).
    pub fn with_random(policy: RetryPolicy, random: impl Random) -> Self {
        Self {
            policy,
            random: Box::new(random),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }
}

impl TierRetry for PolicyRetry {
    fn next_delay(&self, attempt: u32, failure: &Verdict, elapsed: Duration) -> Option<Duration> {
        if attempt == 0 || attempt >= self.policy.max_attempts() {
            return None;
        }
        if attempt == 1
            && let Some(budget) = self.policy.budget()
        {
            budget.deposit();
        }
        // The delay before attempt k + 1 is the k-th of the schedule.
        let scheduled = self
            .policy
            .backoff()
            .delays(&*self.random)
            .nth(attempt as usize - 1)
            .unwrap_or(Duration::ZERO);
        self.policy.next_delay(scheduled, failure.retry_after, elapsed)
    }

    fn needs_elapsed(&self) -> bool {
        self.policy.max_elapsed().is_some()
    }
}
