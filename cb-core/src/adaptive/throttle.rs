//! Client-side adaptive throttling (R38): shed locally as the downstream
//! accepts less.

use crate::sync::MutexExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::{Clock, ClockHandle, Nanos, to_nanos};
use crate::error::{ConfigError, Name, RejectReason, Rejected, Violations};
use crate::random::{Random, SplitMix64};

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
}
