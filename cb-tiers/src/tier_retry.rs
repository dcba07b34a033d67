//! A retry inside one tier (R62). It runs inside that tier, and each attempt
//! passes through the tier's breaker (R61). The retry loop is cb-core's
//! [`retry::run`](cb_core::retry::run), the same as a pipeline's.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cb_core::Verdict;
use cb_core::random::Random;
use cb_core::retry::RetryPolicy;

/// The seam for a retry policy of your own inside one tier. For cb-core's
/// [`RetryPolicy`], use [`Tier::retry_policy`](crate::Tier::retry_policy).
///
/// After attempt `attempt` (1 is the first call) fails or times out, the
/// chain asks how long to wait before another attempt. `None` moves on to
/// the next tier. If the breaker refuses a later attempt, the tier ends with
/// its last failure.
///
/// ```
/// use cb_core::Verdict;
/// use cb_tiers::TierRetry;
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

    /// Whether `next_delay` reads `elapsed`. If it does, the chain records
    /// the time of the tier's first attempt, on the tier breaker's clock.
    fn needs_elapsed(&self) -> bool {
        false
    }
}

/// A tier's retry: cb-core's policy, or a [`TierRetry`] of your own.
#[derive(Clone, Debug)]
pub(crate) enum Retry {
    /// Jitter is drawn from `random`.
    Policy {
        policy: RetryPolicy,
        random: Arc<dyn Random>,
    },
    Custom(Arc<dyn TierRetry>),
}
