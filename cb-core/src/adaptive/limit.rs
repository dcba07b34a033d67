//! A concurrency limit that moves with latency and failures (AIMD or
//! gradient).

use crate::sync::MutexExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::{Clock, ClockHandle, Nanos};
use crate::error::{ConfigError, Name, RejectReason, Rejected, Violations};

/// How a [`ConcurrencyLimit`] moves its limit.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum LimitAlgorithm {
    /// Additive increase, multiplicative decrease: +1 after a success while
    /// at least half the limit is in use; × `backoff_ratio` after a failure,
    /// a timeout, or a success slower than `latency_threshold`.
    Aimd {
        /// The factor applied on a drop, in `(0, 1)`.
        backoff_ratio: f64,
        /// Successes slower than this count as drops.
        latency_threshold: Option<Duration>,
    },
    /// Gradient: `limit × clamp(tolerance × long_rtt / rtt, 0.5, 1) + √limit`,
    /// smoothed; a failure multiplies the limit by 0.9.
    Gradient {
        /// How much slower than the long-term latency a sample may be before
        /// the limit shrinks (`>= 1`).
        tolerance: f64,
        /// Weight of each new limit, in `(0, 1]`.
        smoothing: f64,
    },
}

/// How a call under a [`ConcurrencyLimit`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitOutcome {
    /// The downstream answered: the latency is a sample.
    Success,
    /// The downstream failed or timed out: a sign of overload.
    Dropped,
    /// Says nothing about load (excluded, cancelled).
    Ignored,
}

/// A concurrency limit that adapts (AIMD or gradient). Cheap to clone;
/// clones share the limit. Over the limit, a call is refused at once with
/// `BulkheadFull`.
///
/// ```
/// use cb_core::adaptive::{ConcurrencyLimit, LimitOutcome};
///
/// let limit = ConcurrencyLimit::aimd("llm").initial_limit(4).min_limit(1).max_limit(64).build()?;
/// let p = limit.try_acquire().unwrap();
/// p.record(LimitOutcome::Dropped); // overload: 4 × 0.9 rounds down to 3
/// assert_eq!(limit.limit(), 3);
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ConcurrencyLimit {
    inner: Arc<LimitInner>,
}

struct LimitInner {
    name: Name,
    algorithm: LimitAlgorithm,
    min: u32,
    max: u32,
    limit: AtomicU32,
    in_flight: AtomicU32,
    clock: ClockHandle,
    /// (limit as a real number, long-term latency EWMA in seconds)
    state: Mutex<(f64, f64)>,
}

impl std::fmt::Debug for ConcurrencyLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConcurrencyLimit")
            .field("name", &self.inner.name)
            .field("algorithm", &self.inner.algorithm)
            .field("limit", &self.limit())
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

/// A slot under a [`ConcurrencyLimit`]. Dropped without an outcome, it counts
/// as `Dropped`: a timeout drops the call's future, and a timeout is the
/// overload signal the limit must see.
#[must_use = "record how the call ended"]
#[derive(Debug)]
pub struct LimitPermit<'a> {
    limit: &'a ConcurrencyLimit,
    start: Nanos,
    done: bool,
}

impl LimitPermit<'_> {
    /// Releases the slot and adjusts the limit from the outcome and latency.
    pub fn record(mut self, outcome: LimitOutcome) {
        self.done = true;
        self.limit.complete(self.start, outcome);
    }
}

impl Drop for LimitPermit<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.limit.complete(self.start, LimitOutcome::Dropped);
        }
    }
}

impl ConcurrencyLimit {
    /// An AIMD limit (backoff 0.9, no latency threshold), from 10 in `[1, 1000]`.
    pub fn aimd(name: impl Into<Name>) -> ConcurrencyLimitBuilder {
        ConcurrencyLimitBuilder::new(
            name.into(),
            LimitAlgorithm::Aimd {
                backoff_ratio: 0.9,
                latency_threshold: None,
            },
        )
    }

    /// A gradient limit (tolerance 1.5, smoothing 0.2), from 10 in `[1, 1000]`.
    pub fn gradient(name: impl Into<Name>) -> ConcurrencyLimitBuilder {
        ConcurrencyLimitBuilder::new(
            name.into(),
            LimitAlgorithm::Gradient {
                tolerance: 1.5,
                smoothing: 0.2,
            },
        )
    }

    /// The current limit.
    pub fn limit(&self) -> u32 {
        self.inner.limit.load(Ordering::Acquire)
    }

    /// Calls in flight.
    pub fn in_flight(&self) -> u32 {
        self.inner.in_flight.load(Ordering::Acquire)
    }

    /// The limit's name, as rejections report it.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// A slot if fewer than `limit` calls are in flight, else `BulkheadFull`.
    pub fn try_acquire(&self) -> Result<LimitPermit<'_>, Rejected> {
        let i = &self.inner;
        let limit = i.limit.load(Ordering::Acquire);
        let admitted = i
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            return Err(Rejected::new(i.name.clone(), RejectReason::BulkheadFull, None));
        }
        Ok(LimitPermit {
            limit: self,
            start: i.clock.now(),
            done: false,
        })
    }

    fn complete(&self, start: Nanos, outcome: LimitOutcome) {
        let i = &self.inner;
        let in_flight = i.in_flight.fetch_sub(1, Ordering::AcqRel);
        if outcome == LimitOutcome::Ignored {
            return;
        }
        let rtt = Duration::from_nanos(i.clock.now().saturating_sub(start)).as_secs_f64();
        let (min, max) = (f64::from(i.min), f64::from(i.max));
        let mut s = i.state.lock_unpoisoned();
        let (mut limit, mut long) = *s;
        match i.algorithm {
            LimitAlgorithm::Aimd {
                backoff_ratio,
                latency_threshold,
            } => {
                let slow = latency_threshold.is_some_and(|t| rtt > t.as_secs_f64());
                if outcome == LimitOutcome::Dropped || slow {
                    limit = (limit * backoff_ratio).floor();
                } else if f64::from(in_flight) * 2.0 >= limit {
                    limit += 1.0;
                }
            }
            LimitAlgorithm::Gradient { tolerance, smoothing } => {
                if outcome == LimitOutcome::Dropped {
                    limit = (limit * 0.9).floor();
                } else {
                    long = if long == 0.0 {
                        rtt
                    } else {
                        long + 0.05 * (rtt - long)
                    };
                    let gradient = if rtt <= 0.0 {
                        1.0
                    } else {
                        (tolerance * long / rtt).clamp(0.5, 1.0)
                    };
                    let mut next = limit * gradient + limit.sqrt();
                    if f64::from(in_flight) * 2.0 < limit {
                        next = next.min(limit); // app-limited: no evidence for more
                    }
                    limit = limit * (1.0 - smoothing) + next * smoothing;
                }
            }
        }
        limit = limit.clamp(min, max);
        *s = (limit, long);
        i.limit.store(limit as u32, Ordering::Release);
    }
}

/// Builds a [`ConcurrencyLimit`].
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Debug)]
pub struct ConcurrencyLimitBuilder {
    name: Name,
    algorithm: LimitAlgorithm,
    initial: u32,
    min: u32,
    max: u32,
    clock: Option<ClockHandle>,
}

impl ConcurrencyLimitBuilder {
    fn new(name: Name, algorithm: LimitAlgorithm) -> Self {
        Self {
            name,
            algorithm,
            initial: 10,
            min: 1,
            max: 1000,
            clock: None,
        }
    }
    /// The limit to start from.
    pub fn initial_limit(mut self, n: u32) -> Self {
        self.initial = n;
        self
    }
    /// The lowest the limit goes (`>= 1`).
    pub fn min_limit(mut self, n: u32) -> Self {
        self.min = n;
        self
    }
    /// The highest the limit goes.
    pub fn max_limit(mut self, n: u32) -> Self {
        self.max = n;
        self
    }
    /// Replaces the algorithm's parameters.
    pub fn algorithm(mut self, algorithm: LimitAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }
    /// The clock latencies are measured with.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(ClockHandle::from_clock(clock));
        self
    }
    /// Checks every value (R76).
    pub fn build(self) -> Result<ConcurrencyLimit, ConfigError> {
        let mut v = Violations::new();
        v.at_least_one("min_limit", self.min.into());
        if self.max < self.min {
            v.push(
                "max_limit",
                self.max,
                format!("must be >= min_limit ({})", self.min),
            );
        }
        if self.initial < self.min || self.initial > self.max {
            v.push(
                "initial_limit",
                self.initial,
                format!(
                    "must be >= min_limit ({}) and <= max_limit ({})",
                    self.min, self.max
                ),
            );
        }
        match self.algorithm {
            LimitAlgorithm::Aimd { backoff_ratio, .. } => {
                if !(backoff_ratio.is_finite() && backoff_ratio > 0.0 && backoff_ratio < 1.0) {
                    v.push("backoff_ratio", backoff_ratio, "must be > 0 and < 1");
                }
            }
            LimitAlgorithm::Gradient { tolerance, smoothing } => {
                v.multiplier("tolerance", tolerance);
                if !(smoothing.is_finite() && smoothing > 0.0 && smoothing <= 1.0) {
                    v.push("smoothing", smoothing, "must be > 0 and <= 1");
                }
            }
        }
        v.finish()?;
        Ok(ConcurrencyLimit {
            inner: Arc::new(LimitInner {
                name: self.name,
                algorithm: self.algorithm,
                min: self.min,
                max: self.max,
                limit: AtomicU32::new(self.initial),
                in_flight: AtomicU32::new(0),
                clock: self.clock.unwrap_or_else(ClockHandle::default_clock),
                state: Mutex::new((f64::from(self.initial), 0.0)),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn aimd_limit_grows_under_load_and_shrinks_on_drops() {
        let l = ConcurrencyLimit::aimd("l")
            .initial_limit(4)
            .max_limit(6)
            .clock(ManualClock::new())
            .build()
            .unwrap();
        for _ in 0..5 {
            let held: Vec<_> = (0..l.limit()).map(|_| l.try_acquire().unwrap()).collect();
            assert!(l.try_acquire().is_err(), "never above the limit");
            held.into_iter().for_each(|p| p.record(LimitOutcome::Success));
        }
        assert_eq!(l.limit(), 6); // capped at max
        drop(l.try_acquire().unwrap()); // dropped without outcome: a drop
        assert_eq!(l.limit(), 5);
        assert_eq!(l.in_flight(), 0);
    }

    #[test]
    fn gradient_limit_shrinks_when_latency_rises() {
        let clock = ManualClock::new();
        let l = ConcurrencyLimit::gradient("g")
            .initial_limit(20)
            .clock(clock.clone())
            .build()
            .unwrap();
        let run = |ms: u64| {
            let held: Vec<_> = (0..l.limit().min(12)).map(|_| l.try_acquire().unwrap()).collect();
            clock.advance(Duration::from_millis(ms));
            held.into_iter().for_each(|p| p.record(LimitOutcome::Success));
        };
        for _ in 0..5 {
            run(10);
        }
        let before = l.limit();
        for _ in 0..5 {
            run(200);
        }
        assert!(l.limit() < before, "{} !< {before}", l.limit());
    }
}
