//! The pipeline's builder: one method per stage, every value checked at
//! `build` (R76).

use std::sync::Arc;
use std::time::Duration;

use super::{Limit, Pipeline, Stages};
use crate::adaptive::{AdaptiveThrottle, ConcurrencyLimit, LatencyBaseline};
use crate::breaker::CircuitBreaker;
use crate::bulkhead::Bulkhead;
use crate::classify::Classifier;
use crate::clock::{Clock, ClockHandle};
use crate::error::{ConfigError, Error, Violations};
use crate::random::Random;
use crate::rescue::Rescue;
use crate::retry::RetryPolicy;

/// Builds a [`Pipeline`]; [`build`](Self::build) reports every invalid value.
#[must_use = "a builder does nothing until `build` is called"]
pub struct PipelineBuilder<T, E> {
    pub(super) stages: Stages<T, E>,
    pub(super) violations: Violations,
}

impl<T, E> std::fmt::Debug for PipelineBuilder<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("name", &self.stages.name)
            .finish_non_exhaustive()
    }
}

impl<T, E> PipelineBuilder<T, E> {
    /// Runs `rescue` for the refusals and failures it handles.
    pub fn rescue(mut self, rescue: Rescue<T, E>) -> Self {
        self.stages.rescue = Some(rescue);
        self
    }
    /// A limit on the whole call, retries and waits included (`> 0`).
    pub fn total_timeout(mut self, after: Duration) -> Self {
        self.violations.positive("total_timeout", after);
        self.stages.total_timeout = Some(after);
        self
    }
    /// Retries with `policy`.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.stages.retry = Some(policy);
        self
    }
    /// Which errors are retried (default: every error, timeouts included,
    /// but no local rejection unless the policy says so, R48).
    pub fn retry_if(mut self, predicate: impl Fn(&Error<E>) -> bool + Send + Sync + 'static) -> Self {
        self.stages.retry_if = Some(Arc::new(predicate));
        self
    }
    /// Which successful results are retried (e.g. an empty answer). When
    /// attempts run out, the last result is returned as it is.
    pub fn retry_on_result(mut self, predicate: impl Fn(&T) -> bool + Send + Sync + 'static) -> Self {
        self.stages.retry_on_result = Some(Arc::new(predicate));
        self
    }
    /// Reads a server's hint from an error (e.g. HTTP 429/503 `Retry-After`):
    /// the next delay is at least the hint, capped at the backoff's `max_delay`.
    pub fn retry_after_hint(mut self, hint: impl Fn(&E) -> Option<Duration> + Send + Sync + 'static) -> Self {
        self.stages.retry_after_hint = Some(Arc::new(hint));
        self
    }
    /// Sheds attempts by client-side adaptive throttling (R38).
    pub fn throttle(mut self, throttle: AdaptiveThrottle) -> Self {
        self.stages.throttle = Some(Arc::new(throttle));
        self
    }
    /// Guards every attempt with `breaker`.
    pub fn breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.stages.breaker = Some(breaker);
        self
    }
    /// Decides how each attempt counts for the breaker (R4); default: `Ok`
    /// succeeds, `Err` fails. Excluded errors also skip the rescue (R58).
    pub fn classifier(mut self, classifier: impl Classifier<T, E> + Send + Sync + 'static) -> Self {
        self.stages.classifier = Some(Arc::new(classifier));
        self
    }
    /// Counts successes much slower than their own baseline as breaker
    /// failures (R38b).
    pub fn latency_baseline(mut self, baseline: LatencyBaseline) -> Self {
        self.stages.latency = Some(Arc::new(baseline));
        self
    }
    /// A limit on each attempt (`> 0`); a timeout is a breaker failure (R55).
    pub fn timeout(mut self, after: Duration) -> Self {
        self.violations.positive("timeout", after);
        self.stages.timeout = Some(after);
        self
    }
    /// Limits concurrent attempts with a bulkhead (replaces a concurrency limit).
    pub fn bulkhead(mut self, bulkhead: Bulkhead) -> Self {
        self.stages.limit = Some(Limit::Bulkhead(bulkhead));
        self
    }
    /// Limits concurrent attempts with an adaptive limit (replaces a bulkhead).
    pub fn concurrency_limit(mut self, limit: ConcurrencyLimit) -> Self {
        self.stages.limit = Some(Limit::Adaptive(limit));
        self
    }
    /// Whether waiting for a bulkhead slot counts toward the per-attempt
    /// timeout (default `true`).
    pub fn queue_wait_counts_toward_timeout(mut self, yes: bool) -> Self {
        self.stages.queue_wait_in_timeout = yes;
        self
    }
    /// The clock for `max_elapsed` and latencies.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.stages.clock = ClockHandle::from_clock(clock);
        self
    }
    /// The random source for retry jitter (R95).
    pub fn random(mut self, random: impl Random) -> Self {
        self.stages.random = Arc::new(random);
        self
    }
    /// Checks every value (R76) and builds the pipeline.
    pub fn build(self) -> Result<Pipeline<T, E>, ConfigError> {
        self.violations.finish()?;
        Ok(Pipeline {
            stages: Arc::new(self.stages),
        })
    }
}
