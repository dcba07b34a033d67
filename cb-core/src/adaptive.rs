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
//! the breaker: [`BreakerBuilder::open_duration_backoff`](crate::BreakerBuilder::open_duration_backoff).
//!
//! All three take their time from an injected clock and their randomness from
//! an injected [`Random`] (R95); none holds a lock across an `.await` (R93).

use crate::sync::MutexExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::{Clock, ClockHandle, Nanos, to_nanos};
use crate::error::{ConfigError, Name, RejectReason, Rejected, Violations};
use crate::random::{Random, SplitMix64};

// ---------------------------------------------------------------- throttle

/// Client-side adaptive throttling (R38).
///
/// Over a sliding time window it counts `requests` (every call offered,
/// shed ones included) and `accepts` (calls the downstream answered
/// successfully), and sheds a new call with probability
///
/// ```text
/// p = min(max_reject, max(0, (requests − accepts / success_rate_threshold) / (requests + 1)))
/// ```
///
/// once `requests >= execution_threshold`. A healthy downstream is never
/// throttled; one that accepts half of what it gets, with a threshold of 0.5,
/// is just at the edge.
///
/// ```
/// use cb_core::adaptive::AdaptiveThrottle;
/// use cb_core::clock::ManualClock;
/// use cb_core::random::SplitMix64;
///
/// let throttle = AdaptiveThrottle::builder("llm")
///     .success_rate_threshold(0.5)
///     .execution_threshold(10)
///     .clock(ManualClock::new())
///     .random(SplitMix64::seeded(1))
///     .build()?;
/// for _ in 0..100 {
///     let _ = throttle.try_admit(); // a downstream that accepts nothing
/// }
/// assert!(throttle.rejection_probability() > 0.8);
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
pub struct AdaptiveThrottle {
    name: Name,
    config: ThrottleConfig,
    bucket_nanos: Nanos,
    clock: ClockHandle,
    random: Arc<dyn Random>,
    state: Mutex<Buckets>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct ThrottleConfig {
    window: Duration,
    buckets: u32,
    success_rate_threshold: f64,
    max_reject: f64,
    execution_threshold: u32,
}

#[derive(Debug)]
struct Buckets {
    /// Index of the current bucket's start time, in bucket widths.
    epoch: u64,
    requests: Vec<u64>,
    accepts: Vec<u64>,
}

impl Buckets {
    fn roll(&mut self, epoch: u64) {
        let n = self.requests.len() as u64;
        if epoch <= self.epoch {
            return;
        }
        let stale = (epoch - self.epoch).min(n);
        for i in 1..=stale {
            let idx = ((self.epoch + i) % n) as usize;
            self.requests[idx] = 0;
            self.accepts[idx] = 0;
        }
        self.epoch = epoch;
    }
    fn current(&self) -> usize {
        (self.epoch % self.requests.len() as u64) as usize
    }
}

impl std::fmt::Debug for AdaptiveThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdaptiveThrottle")
            .field("name", &self.name)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AdaptiveThrottle {
    /// Starts a throttle: a 2-minute window in 12 buckets, threshold 0.5
    /// (Google SRE's K = 2), at most 90 % shed, judged from 20 requests.
    pub fn builder(name: impl Into<Name>) -> AdaptiveThrottleBuilder {
        AdaptiveThrottleBuilder {
            name: name.into(),
            config: ThrottleConfig {
                window: Duration::from_secs(120),
                buckets: 12,
                success_rate_threshold: 0.5,
                max_reject: 0.9,
                execution_threshold: 20,
            },
            clock: None,
            random: None,
        }
    }

    fn totals(&self, b: &mut Buckets) -> (u64, u64) {
        let epoch = self.clock.now() / self.bucket_nanos;
        b.roll(epoch);
        (b.requests.iter().sum(), b.accepts.iter().sum())
    }

    fn probability(&self, requests: u64, accepts: u64) -> f64 {
        if requests < u64::from(self.config.execution_threshold) {
            return 0.0;
        }
        let (r, a) = (requests as f64, accepts as f64);
        ((r - a / self.config.success_rate_threshold) / (r + 1.0)).clamp(0.0, self.config.max_reject)
    }

    /// The probability that the next call is shed.
    pub fn rejection_probability(&self) -> f64 {
        let mut b = self.state.lock_unpoisoned();
        let (r, a) = self.totals(&mut b);
        self.probability(r, a)
    }

    /// Counts a request and decides whether it may go ahead.
    pub fn try_admit(&self) -> Result<(), Rejected> {
        let p = {
            let mut b = self.state.lock_unpoisoned();
            let (r, a) = self.totals(&mut b);
            let i = b.current();
            b.requests[i] += 1;
            self.probability(r, a)
        };
        if p > 0.0 && self.random.next_f64() < p {
            return Err(Rejected::new(self.name.clone(), RejectReason::Throttled, None));
        }
        Ok(())
    }

    /// Counts a call the downstream accepted (a success).
    pub fn record_accept(&self) {
        let mut b = self.state.lock_unpoisoned();
        let _ = self.totals(&mut b);
        let i = b.current();
        b.accepts[i] += 1;
    }
}

/// Builds an [`AdaptiveThrottle`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct AdaptiveThrottleBuilder {
    name: Name,
    config: ThrottleConfig,
    clock: Option<ClockHandle>,
    random: Option<Arc<dyn Random>>,
}

impl std::fmt::Debug for AdaptiveThrottleBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdaptiveThrottleBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AdaptiveThrottleBuilder {
    /// The sliding window requests and accepts are counted over, and its buckets.
    pub fn window(mut self, length: Duration, buckets: u32) -> Self {
        self.config.window = length;
        self.config.buckets = buckets;
        self
    }
    /// The accepted fraction below which shedding starts, in `(0, 1]`.
    pub fn success_rate_threshold(mut self, t: f64) -> Self {
        self.config.success_rate_threshold = t;
        self
    }
    /// The highest shedding probability, in `[0, 1]`.
    pub fn max_reject(mut self, p: f64) -> Self {
        self.config.max_reject = p;
        self
    }
    /// Requests in the window before anything is shed (`>= 1`).
    pub fn execution_threshold(mut self, n: u32) -> Self {
        self.config.execution_threshold = n;
        self
    }
    /// The clock the window follows.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(ClockHandle::from_clock(clock));
        self
    }
    /// The random source shedding draws from.
    pub fn random(mut self, random: impl Random) -> Self {
        self.random = Some(Arc::new(random));
        self
    }
    /// Checks every value (R76).
    pub fn build(self) -> Result<AdaptiveThrottle, ConfigError> {
        let c = self.config;
        let mut v = Violations::new();
        if !(c.success_rate_threshold.is_finite()
            && c.success_rate_threshold > 0.0
            && c.success_rate_threshold <= 1.0)
        {
            v.push(
                "success_rate_threshold",
                c.success_rate_threshold,
                "must be > 0 and <= 1",
            );
        }
        v.fraction("max_reject", c.max_reject);
        v.at_least_one("execution_threshold", c.execution_threshold.into());
        v.at_least_one("window.buckets", c.buckets.into());
        if c.buckets >= 1 && c.window < Duration::from_millis(u64::from(c.buckets)) {
            v.push(
                "window.length",
                format_args!("{:?}", c.window),
                "must be >= 1ms per bucket",
            );
        }
        v.finish()?;
        let n = c.buckets as usize;
        let clock = self.clock.unwrap_or_else(ClockHandle::default_clock);
        let bucket_nanos = (to_nanos(c.window) / u64::from(c.buckets)).max(1);
        let epoch = clock.now() / bucket_nanos;
        Ok(AdaptiveThrottle {
            name: self.name,
            config: c,
            bucket_nanos,
            clock,
            random: self
                .random
                .unwrap_or_else(|| Arc::new(SplitMix64::from_entropy())),
            state: Mutex::new(Buckets {
                epoch,
                requests: vec![0; n],
                accepts: vec![0; n],
            }),
        })
    }
}

// ---------------------------------------------------------------- latency

/// Latency-relative slow calls (R38b).
///
/// The baseline is an exponentially weighted moving average of successful
/// latencies. Once `warmup` successes have been seen, a success longer than
/// `max(floor, k × baseline)` is slow. A normal success moves the baseline
/// with weight `alpha`; a slow one only with weight `alpha / k`, so a burst of
/// slow calls is judged against the old normal, while a provider that stays
/// slower for long still becomes the new normal (rather than keeping its
/// circuit open forever).
///
/// ```
/// use cb_core::adaptive::LatencyBaseline;
/// use std::time::Duration;
///
/// let ms = Duration::from_millis;
/// let baseline = LatencyBaseline::builder().multiplier(3.0).floor(ms(50)).warmup(5).build()?;
/// for _ in 0..5 {
///     assert!(!baseline.observe(ms(200)));
/// }
/// assert_eq!(baseline.threshold(), Some(ms(600)));
/// assert!(baseline.observe(ms(900))); // 4.5× its normal: slow
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct LatencyBaseline {
    multiplier: f64,
    floor: Duration,
    alpha: f64,
    warmup: u32,
    state: Mutex<(f64, u32)>,
}

impl LatencyBaseline {
    /// Starts a baseline: slow above 3× normal and at least 1 s, EWMA weight
    /// 0.1, judged after 20 successes.
    pub fn builder() -> LatencyBaselineBuilder {
        LatencyBaselineBuilder {
            multiplier: 3.0,
            floor: Duration::from_secs(1),
            alpha: 0.1,
            warmup: 20,
        }
    }

    /// The current baseline, once any success was seen.
    pub fn baseline(&self) -> Option<Duration> {
        let (ewma, n) = *self.state.lock_unpoisoned();
        (n > 0).then(|| Duration::from_secs_f64(ewma))
    }

    /// The current slow threshold, once warmed up.
    pub fn threshold(&self) -> Option<Duration> {
        let (ewma, n) = *self.state.lock_unpoisoned();
        (n >= self.warmup).then(|| self.threshold_of(ewma))
    }

    fn threshold_of(&self, ewma: f64) -> Duration {
        Duration::try_from_secs_f64(ewma * self.multiplier)
            .unwrap_or(Duration::MAX)
            .max(self.floor)
    }

    /// Judges a successful call that took `d` against the baseline, then
    /// folds it in. Returns whether it was slow.
    pub fn observe(&self, d: Duration) -> bool {
        let mut s = self.state.lock_unpoisoned();
        let (ewma, n) = *s;
        let slow = n >= self.warmup && d > self.threshold_of(ewma);
        let x = d.as_secs_f64();
        let weight = if slow {
            self.alpha / self.multiplier
        } else {
            self.alpha
        };
        s.0 = if n == 0 { x } else { ewma + weight * (x - ewma) };
        s.1 = n.saturating_add(1);
        slow
    }
}

/// Builds a [`LatencyBaseline`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct LatencyBaselineBuilder {
    multiplier: f64,
    floor: Duration,
    alpha: f64,
    warmup: u32,
}

impl LatencyBaselineBuilder {
    /// `k`: how many times the baseline a call may take before it is slow (`>= 1`).
    pub fn multiplier(mut self, k: f64) -> Self {
        self.multiplier = k;
        self
    }
    /// No call faster than this is slow, whatever the baseline.
    pub fn floor(mut self, floor: Duration) -> Self {
        self.floor = floor;
        self
    }
    /// The weight of each new sample, in `(0, 1]`.
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
    /// Successes seen before anything is judged slow.
    pub fn warmup(mut self, n: u32) -> Self {
        self.warmup = n;
        self
    }
    /// Checks every value (R76).
    pub fn build(self) -> Result<LatencyBaseline, ConfigError> {
        let mut v = Violations::new();
        v.multiplier("multiplier", self.multiplier);
        if !(self.alpha.is_finite() && self.alpha > 0.0 && self.alpha <= 1.0) {
            v.push("alpha", self.alpha, "must be > 0 and <= 1");
        }
        v.finish()?;
        Ok(LatencyBaseline {
            multiplier: self.multiplier,
            floor: self.floor,
            alpha: self.alpha,
            warmup: self.warmup,
            state: Mutex::new((0.0, 0)),
        })
    }
}

// ---------------------------------------------------------------- limit

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
    fn r38_throttle_sheds_per_the_sre_formula() {
        let clock = ManualClock::new();
        let t = AdaptiveThrottle::builder("t")
            .execution_threshold(10)
            .max_reject(1.0)
            .clock(clock.clone())
            .random(SplitMix64::seeded(9))
            .build()
            .unwrap();
        // 9 requests: below the execution threshold, never shed.
        for _ in 0..9 {
            t.try_admit().unwrap();
        }
        assert_eq!(t.rejection_probability(), 0.0);
        for _ in 0..10 {
            let _ = t.try_admit();
        }
        for _ in 0..4 {
            t.record_accept();
        }
        // requests 19, accepts 4, K = 2: (19 - 8) / 20 = 0.55
        assert!((t.rejection_probability() - 0.55).abs() < 1e-9);
        // The window slides: after it has passed, nothing is remembered.
        clock.advance(Duration::from_secs(121));
        assert_eq!(t.rejection_probability(), 0.0);
    }

    #[test]
    fn r38_throttle_never_sheds_a_healthy_downstream() {
        let t = AdaptiveThrottle::builder("t")
            .clock(ManualClock::new())
            .build()
            .unwrap();
        for _ in 0..1000 {
            t.try_admit().unwrap();
            t.record_accept();
        }
        assert_eq!(t.rejection_probability(), 0.0);
    }

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
