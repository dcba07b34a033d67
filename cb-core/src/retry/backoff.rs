//! Backoff schedules: the delays between attempts (R45, R46).
//!
//! A [`Backoff`] is a validated description; [`Backoff::delays`] makes the
//! `Iterator<Item = Duration>` of delays before attempt 2, 3, ... (infinite:
//! the retry policy decides when to stop).

use std::time::Duration;

use cb_syntax::rules::Fact;

use crate::error::{ConfigError, Violations};
use crate::random::Random;

/// How a delay is randomised before the cap is applied again (R45).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// The delay exactly as the schedule gives it.
    None,
    /// `uniform[0, d]` (AWS "full jitter"): the default for growing schedules.
    #[default]
    Full,
    /// `d/2 + uniform[0, d/2]` (AWS "equal jitter").
    Equal,
    /// `min(cap, uniform[base, 3 × previous])` (AWS "decorrelated jitter"):
    /// grows from the previous delay instead of the schedule.
    Decorrelated,
    /// `uniform[d(1 − f), d(1 + f)]` for a factor `f` in `[0, 1]`.
    Proportional(f64),
}

/// As written in configuration files: `none`, `full`, `equal`,
/// `decorrelated`, or the proportional factor.
impl std::fmt::Display for Jitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Jitter::None => f.write_str("none"),
            Jitter::Full => f.write_str("full"),
            Jitter::Equal => f.write_str("equal"),
            Jitter::Decorrelated => f.write_str("decorrelated"),
            Jitter::Proportional(x) => write!(f, "{x}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Constant,
    Linear { step: Duration },
    Exponential { multiplier: f64 },
}

/// A validated backoff schedule.
///
/// The delay before attempt `k + 1` is `raw(k)` capped at `max_delay`,
/// jittered, then capped again: the cap is a hard ceiling (R45). A schedule
/// that would overflow saturates at the cap, or at [`Backoff::MAX_DELAY`] when
/// there is none (R46).
///
/// ```
/// use cb_core::retry::{Backoff, Jitter};
/// use cb_core::random::SplitMix64;
/// use std::time::Duration;
///
/// let backoff = Backoff::exponential(Duration::from_millis(100))
///     .multiplier(2.0)
///     .max_delay(Duration::from_millis(500))
///     .jitter(Jitter::None)
///     .build()?;
/// let rng = SplitMix64::seeded(1);
/// let ms: Vec<u128> = backoff.delays(&rng).take(5).map(|d| d.as_millis()).collect();
/// assert_eq!(ms, [100, 200, 400, 500, 500]);
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    shape: Shape,
    base: Duration,
    max_delay: Option<Duration>,
    jitter: Jitter,
}

impl Backoff {
    /// The ceiling of a schedule without `max_delay`: one day.
    pub const MAX_DELAY: Duration = Duration::from_secs(24 * 60 * 60);

    /// The same delay every time; no jitter unless asked for.
    pub fn constant(delay: Duration) -> BackoffBuilder {
        BackoffBuilder::new(Shape::Constant, delay, Jitter::None)
    }

    /// `base + step × (k − 1)`; full jitter by default.
    pub fn linear(base: Duration, step: Duration) -> BackoffBuilder {
        BackoffBuilder::new(Shape::Linear { step }, base, Jitter::Full)
    }

    /// `base × multiplier^(k − 1)` (multiplier 2 unless set); full jitter by default.
    pub fn exponential(base: Duration) -> BackoffBuilder {
        BackoffBuilder::new(Shape::Exponential { multiplier: 2.0 }, base, Jitter::Full)
    }

    /// Retry at once, without waiting.
    pub fn immediate() -> Backoff {
        Backoff {
            shape: Shape::Constant,
            base: Duration::ZERO,
            max_delay: None,
            jitter: Jitter::None,
        }
    }

    /// The ceiling every delay respects: `max_delay`, or [`Backoff::MAX_DELAY`].
    pub fn cap(&self) -> Duration {
        self.max_delay.unwrap_or(Self::MAX_DELAY)
    }

    /// The jitter applied to every delay.
    pub fn jitter_kind(&self) -> Jitter {
        self.jitter
    }

    /// The capped delay before attempt `k + 1`, before jitter (`k >= 1`).
    pub fn raw(&self, k: u32) -> Duration {
        let cap = self.cap();
        let n = k.saturating_sub(1);
        let d = match self.shape {
            Shape::Constant => self.base,
            Shape::Linear { step } => step
                .checked_mul(n)
                .and_then(|s| s.checked_add(self.base))
                .unwrap_or(cap),
            Shape::Exponential { multiplier } => {
                let nanos = self.base.as_nanos() as f64 * multiplier.powi(n.min(i32::MAX as u32) as i32);
                if !nanos.is_finite() || nanos >= cap.as_nanos() as f64 {
                    cap
                } else {
                    // `as` saturates: a finite value below the cap fits.
                    Duration::from_nanos(nanos as u64)
                }
            }
        };
        d.min(cap)
    }

    /// The delays before attempts 2, 3, ..., drawing jitter from `rng`.
    pub fn delays<'a>(&'a self, rng: &'a dyn Random) -> Delays<'a> {
        Delays {
            backoff: self,
            rng,
            k: 0,
            prev: self.base,
        }
    }
}

/// Builds a [`Backoff`]; [`build`](Self::build) reports every invalid value.
///
/// ```
/// use cb_core::retry::{Backoff, Jitter};
/// use std::time::Duration;
///
/// let err = Backoff::exponential(Duration::from_secs(1))
///     .multiplier(0.5)
///     .max_delay(Duration::from_millis(10))
///     .jitter(Jitter::Proportional(1.5))
///     .build()
///     .unwrap_err();
/// assert_eq!(err.violations().len(), 3);
/// assert!(err.to_string().contains("multiplier = 0.5: must be a finite number >= 1"));
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct BackoffBuilder {
    backoff: Backoff,
}

impl BackoffBuilder {
    fn new(shape: Shape, base: Duration, jitter: Jitter) -> Self {
        Self {
            backoff: Backoff {
                shape,
                base,
                max_delay: None,
                jitter,
            },
        }
    }

    /// The growth factor of an exponential schedule (finite, `>= 1`).
    /// Ignored by other shapes.
    pub fn multiplier(mut self, m: f64) -> Self {
        if let Shape::Exponential { multiplier } = &mut self.backoff.shape {
            *multiplier = m;
        }
        self
    }

    /// The hard ceiling of every delay, after jitter too (`>= base`).
    pub fn max_delay(mut self, cap: Duration) -> Self {
        self.backoff.max_delay = Some(cap);
        self
    }

    /// How delays are randomised.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.backoff.jitter = jitter;
        self
    }

    /// Checks every value (R76) and returns the schedule.
    pub fn build(self) -> Result<Backoff, ConfigError> {
        let mut v = Violations::new();
        let b = &self.backoff;
        v.positive("base_delay", b.base);
        if let Shape::Exponential { multiplier } = b.shape {
            v.multiplier("multiplier", multiplier);
        }
        v.rules("retry.", |path| match path {
            "retry.base_delay" => Fact::Duration(b.base),
            "retry.max_delay" => b.max_delay.map_or(Fact::Unset, Fact::Duration),
            _ => Fact::Unknown,
        });
        if let Jitter::Proportional(f) = b.jitter {
            v.fraction("jitter", f);
        }
        v.finish()?;
        Ok(self.backoff)
    }
}

/// The delays of a [`Backoff`], one per retry: an infinite iterator.
#[derive(Debug)]
pub struct Delays<'a> {
    backoff: &'a Backoff,
    rng: &'a dyn Random,
    k: u32,
    prev: Duration,
}

impl Iterator for Delays<'_> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.k = self.k.saturating_add(1);
        let b = self.backoff;
        let cap = b.cap();
        let scale = |d: Duration, x: f64| Duration::from_nanos((d.as_nanos() as f64 * x) as u64);
        let d = match b.jitter {
            Jitter::None => b.raw(self.k),
            Jitter::Full => scale(b.raw(self.k), self.rng.next_f64()),
            Jitter::Equal => {
                let half = b.raw(self.k) / 2;
                half + scale(half, self.rng.next_f64())
            }
            Jitter::Proportional(f) => {
                let d = b.raw(self.k);
                scale(d, 1.0 - f + 2.0 * f * self.rng.next_f64())
            }
            Jitter::Decorrelated => {
                let lo = b.base.min(cap);
                let hi = self.prev.saturating_mul(3).min(cap).max(lo);
                let d = lo + scale(hi - lo, self.rng.next_f64());
                self.prev = d;
                d
            }
        };
        Some(d.min(cap)) // the cap is a hard ceiling after jitter (R45)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SplitMix64;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_cap_below_the_base_reads_as_the_files_rule() {
        let err = Backoff::exponential(Duration::from_secs(2))
            .max_delay(Duration::from_secs(1))
            .build()
            .unwrap_err();
        // Built from a file's `retry` section it is prefixed `retry.`, and
        // then reads exactly as the file's own check says it.
        assert!(
            err.to_string()
                .contains("max_delay = 1s: must be >= retry.base_delay (2s)"),
            "{err}"
        );
    }

    #[test]
    fn r45_linear_and_constant_without_jitter() {
        let rng = SplitMix64::seeded(0);
        let lin = Backoff::linear(MS * 100, MS * 50)
            .jitter(Jitter::None)
            .build()
            .unwrap();
        let got: Vec<_> = lin.delays(&rng).take(4).collect();
        assert_eq!(got, [MS * 100, MS * 150, MS * 200, MS * 250]);
        let c = Backoff::constant(MS * 7).build().unwrap();
        assert!(c.delays(&rng).take(10).all(|d| d == MS * 7));
    }

    #[test]
    fn r46_overflow_saturates_at_the_cap_or_the_documented_maximum() {
        let capped = Backoff::exponential(Duration::from_secs(1))
            .multiplier(1e300)
            .max_delay(Duration::from_secs(30))
            .jitter(Jitter::None)
            .build()
            .unwrap();
        assert_eq!(capped.raw(u32::MAX), Duration::from_secs(30));
        assert_eq!(capped.raw(5), Duration::from_secs(30));
        let uncapped = Backoff::exponential(Duration::from_secs(1)).build().unwrap();
        assert_eq!(uncapped.raw(10_000), Backoff::MAX_DELAY);
        let lin = Backoff::linear(Duration::MAX / 2, Duration::MAX / 2)
            .jitter(Jitter::None)
            .build()
            .unwrap();
        assert_eq!(lin.raw(u32::MAX), Backoff::MAX_DELAY);
        // The iterator keeps going past u32::MAX attempts without panicking.
        let rng = SplitMix64::seeded(3);
        let mut it = capped.delays(&rng);
        it.k = u32::MAX - 1;
        assert_eq!(it.nth(3), Some(Duration::from_secs(30)));
    }

    #[test]
    fn r45_every_jitter_stays_within_its_bounds_and_the_cap() {
        let cap = MS * 1000;
        for (jitter, lo_frac) in [
            (Jitter::Full, 0.0),
            (Jitter::Equal, 0.5),
            (Jitter::Proportional(0.5), 0.5),
            (Jitter::Proportional(1.0), 0.0),
        ] {
            let b = Backoff::exponential(MS * 100)
                .max_delay(cap)
                .jitter(jitter)
                .build()
                .unwrap();
            for seed in 0..200 {
                let rng = SplitMix64::seeded(seed);
                for (i, d) in b.delays(&rng).take(8).enumerate() {
                    let raw = b.raw(i as u32 + 1);
                    assert!(d <= cap, "{jitter:?}: {d:?} above the cap");
                    assert!(
                        d.as_secs_f64() >= raw.as_secs_f64() * lo_frac - 1e-9,
                        "{jitter:?}: {d:?} < {raw:?}"
                    );
                }
            }
        }
        let b = Backoff::exponential(MS * 100)
            .max_delay(cap)
            .jitter(Jitter::Decorrelated)
            .build()
            .unwrap();
        for seed in 0..200 {
            let rng = SplitMix64::seeded(seed);
            assert!(b.delays(&rng).take(20).all(|d| d >= MS * 100 && d <= cap));
        }
    }

    #[test]
    fn r76_bad_backoff_values_are_config_errors() {
        let err = Backoff::linear(Duration::ZERO, MS).build().unwrap_err();
        assert_eq!(err.violations()[0].field, "base_delay");
        let err = Backoff::exponential(MS).multiplier(f64::NAN).build().unwrap_err();
        assert_eq!(err.violations()[0].field, "multiplier");
        for f in [0.0, 1.0] {
            Backoff::exponential(MS)
                .jitter(Jitter::Proportional(f))
                .build()
                .unwrap(); // R77
        }
        assert!(
            Backoff::exponential(MS)
                .jitter(Jitter::Proportional(-0.1))
                .build()
                .is_err()
        );
    }
}
