//! Latency-relative slow calls (R38b): slow means slower than this
//! downstream's own recent normal.

use crate::sync::MutexExt;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{ConfigError, Violations};

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
