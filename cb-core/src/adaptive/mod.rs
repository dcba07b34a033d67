//! Adaptive protection for downstreams without a fixed notion of "too
//! many" or "too slow", such as AI providers.
//!
//! - [`AdaptiveThrottle`]: client-side adaptive throttling (R38, Google SRE):
//!   sheds calls locally with a probability that grows as the downstream
//!   accepts fewer of them. Opt-in.
//! - [`LatencyBaseline`]: latency-relative slow calls (R38b): a success slower
//!   than `max(floor, k × baseline)` counts as a failure for the pipeline's
//!   breaker, where the baseline is an EWMA of recent successful latencies.
//! - [`ConcurrencyLimit`]: a concurrency limit that adapts to latency and
//!   failures (AIMD or gradient), usable in a pipeline in place of a fixed
//!   [`Bulkhead`](crate::Bulkhead).
//!
//! The growing open duration on repeated failed recoveries (R37) belongs to
//! the breaker: [`CircuitBreakerBuilder::open_duration_multiplier`](crate::CircuitBreakerBuilder::open_duration_multiplier).
//!
//! All three take their time from an injected clock and their randomness from
//! an injected [`Random`](crate::random::Random) (R95); none holds a lock across an `.await` (R93).

mod baseline;
mod limit;
mod throttle;

pub use baseline::{LatencyBaseline, LatencyBaselineBuilder};
pub use limit::{ConcurrencyLimit, ConcurrencyLimitBuilder, LimitAlgorithm, LimitOutcome, LimitPermit};
pub use throttle::{AdaptiveThrottle, AdaptiveThrottleBuilder};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r76_adaptive_values_are_validated() {
        assert!(AdaptiveThrottle::builder("t").max_reject(1.5).build().is_err());
        assert!(
            AdaptiveThrottle::builder("t")
                .success_rate_threshold(0.0)
                .build()
                .is_err()
        );
        assert!(LatencyBaseline::builder().multiplier(0.5).build().is_err());
        let err = ConcurrencyLimit::aimd("l")
            .min_limit(0)
            .max_limit(0)
            .initial_limit(0)
            .build()
            .unwrap_err();
        assert_eq!(err.violations()[0].field, "min_limit");
    }
}
