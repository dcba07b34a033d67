//! The statistics the rate detectors judge: a ring of the last N outcomes or a
//! ring of time buckets. Both are O(1) per outcome, subtract-on-evict (R10).
//! They are used under the breaker's core lock, so they hold plain integers.

use super::config::Window as WindowConfig;
use crate::clock::{Nanos, to_nanos};

const FAILED: u8 = 1;
const SLOW: u8 = 2;

/// Totals of the outcomes currently in a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
}

impl Totals {
    fn add(&mut self, bits: u8) {
        self.calls += 1;
        self.failures += u32::from(bits & FAILED);
        self.slow += u32::from((bits & SLOW) >> 1);
    }
    fn sub(&mut self, bits: u8) {
        self.calls -= 1;
        self.failures -= u32::from(bits & FAILED);
        self.slow -= u32::from((bits & SLOW) >> 1);
    }
    fn sub_totals(&mut self, other: Totals) {
        self.calls -= other.calls;
        self.failures -= other.failures;
        self.slow -= other.slow;
    }
    /// Failure rate as a fraction, `None` below `min_calls` (R40).
    /// A fraction like the thresholds, so `2 / 5` meets `0.4` exactly.
    pub(crate) fn failure_rate(&self, min_calls: u32) -> Option<f64> {
        (self.calls >= min_calls && self.calls > 0).then(|| f64::from(self.failures) / f64::from(self.calls))
    }
    /// Slow-call rate as a fraction, `None` below `min_calls`.
    pub(crate) fn slow_rate(&self, min_calls: u32) -> Option<f64> {
        (self.calls >= min_calls && self.calls > 0).then(|| f64::from(self.slow) / f64::from(self.calls))
    }
}

/// The last `size` outcomes: one byte each.
#[derive(Debug)]
pub(crate) struct CountWindow {
    ring: Box<[u8]>,
    next: usize,
    totals: Totals,
}

impl CountWindow {
    fn new(size: u32) -> Self {
        Self {
            ring: vec![0; size.max(1) as usize].into_boxed_slice(),
            next: 0,
            totals: Totals::default(),
        }
    }
    fn record(&mut self, bits: u8) {
        if self.totals.calls as usize == self.ring.len() {
            self.totals.sub(self.ring[self.next]);
        }
        self.ring[self.next] = bits;
        self.totals.add(bits);
        self.next = (self.next + 1) % self.ring.len();
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    totals: Totals,
}

/// Outcomes of the last `length`, in `buckets` buckets of width `length / buckets`.
/// An outcome at time `t` lands in bucket epoch `k = (t - start) / width` and
/// is counted while `(now - start) / width < k + buckets` (R10).
///
/// Buckets are measured from `start`, the moment the window started (the
/// breaker's build or its last transition), not from the clock's zero: a
/// bucket aligned to the clock could have begun before the window did, and
/// its outcomes would then leave early, making a window right after a close
/// shorter than configured.
#[derive(Debug)]
pub(crate) struct TimeWindow {
    buckets: Box<[Bucket]>,
    width: Nanos,
    start: Nanos,
    epoch: u64,
    totals: Totals,
}

impl TimeWindow {
    fn new(length: std::time::Duration, buckets: u32, start: Nanos) -> Self {
        let n = buckets.max(1);
        Self {
            buckets: vec![Bucket::default(); n as usize].into_boxed_slice(),
            width: (to_nanos(length) / u64::from(n)).max(1),
            start,
            epoch: 0,
            totals: Totals::default(),
        }
    }
    /// Moves the window to `now`, evicting buckets that fell out of it.
    fn advance(&mut self, now: Nanos) {
        let epoch = now.saturating_sub(self.start) / self.width;
        if epoch <= self.epoch {
            return;
        }
        let n = self.buckets.len() as u64;
        let steps = (epoch - self.epoch).min(n);
        for i in 1..=steps {
            let idx = ((self.epoch + i) % n) as usize;
            let old = std::mem::take(&mut self.buckets[idx]);
            self.totals.sub_totals(old.totals);
        }
        self.epoch = epoch;
    }
    fn record(&mut self, now: Nanos, bits: u8) {
        self.advance(now);
        let idx = (self.epoch % self.buckets.len() as u64) as usize;
        self.buckets[idx].totals.add(bits);
        self.totals.add(bits);
    }
}

/// The window a breaker's rate detectors use.
#[derive(Debug)]
pub(crate) enum Window {
    Count(CountWindow),
    Time(TimeWindow),
}

impl Window {
    /// An empty window that starts at `start`.
    pub(crate) fn new(config: WindowConfig, start: Nanos) -> Self {
        match config {
            WindowConfig::Count { size } => Window::Count(CountWindow::new(size)),
            WindowConfig::Time { length, buckets } => Window::Time(TimeWindow::new(length, buckets, start)),
        }
    }

    /// Records one outcome at `now`.
    pub(crate) fn record(&mut self, now: Nanos, failed: bool, slow: bool) {
        let bits = (u8::from(failed) * FAILED) | (u8::from(slow) * SLOW);
        match self {
            Window::Count(w) => w.record(bits),
            Window::Time(w) => w.record(now, bits),
        }
    }

    /// The totals as of `now` (a time window evicts what has expired).
    pub(crate) fn totals(&mut self, now: Nanos) -> Totals {
        match self {
            Window::Count(w) => w.totals,
            Window::Time(w) => {
                w.advance(now);
                w.totals
            }
        }
    }

    /// Heap bytes held by the window.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Window::Count(w) => w.ring.len(),
            Window::Time(w) => w.buckets.len() * std::mem::size_of::<Bucket>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const MS: u64 = 1_000_000;

    #[test]
    fn r8_count_window_keeps_the_last_n_outcomes() {
        let mut w = Window::new(WindowConfig::Count { size: 5 }, 0);
        for failed in [true, true, true, false, false] {
            w.record(0, failed, false);
        }
        let t = w.totals(0);
        assert_eq!((t.calls, t.failures), (5, 3));
        assert_eq!(t.failure_rate(5), Some(0.6));
        // Three successes push out the three failures.
        for _ in 0..3 {
            w.record(0, false, false);
        }
        assert_eq!(w.totals(0).failures, 0);
        assert_eq!(w.totals(0).calls, 5);
    }

    #[test]
    fn r40_rate_is_unknown_below_minimum_calls() {
        let mut w = Window::new(WindowConfig::Count { size: 10 }, 0);
        w.record(0, true, false);
        assert_eq!(w.totals(0).failure_rate(2), None);
        w.record(0, true, false);
        assert_eq!(w.totals(0).failure_rate(2), Some(1.0));
    }

    #[test]
    fn r10_time_window_counts_until_the_bucket_expires() {
        // The R4J example: a 5 s window of 5 buckets; calls at 0.0..0.8 s are
        // still counted at +4.8 s and gone at +5.8 s.
        let mut w = Window::new(
            WindowConfig::Time {
                length: Duration::from_secs(5),
                buckets: 5,
            },
            0,
        );
        for i in 0..5 {
            w.record(i * 200 * MS, true, i % 2 == 0);
        }
        assert_eq!(w.totals(4_800 * MS).calls, 5);
        assert_eq!(w.totals(4_800 * MS).slow, 3);
        assert_eq!(w.totals(5_800 * MS).calls, 0);
        assert_eq!(w.totals(5_800 * MS).slow, 0);
    }

    #[test]
    fn r10_time_window_evicts_bucket_by_bucket() {
        let mut w = Window::new(
            WindowConfig::Time {
                length: Duration::from_secs(10),
                buckets: 10,
            },
            0,
        );
        w.record(500 * MS, true, false); // epoch 0
        w.record(3_500 * MS, false, false); // epoch 3
        assert_eq!(w.totals(9_999 * MS).calls, 2);
        assert_eq!(w.totals(10_000 * MS).calls, 1, "epoch 0 leaves at 10 s");
        assert_eq!(w.totals(10_000 * MS).failures, 0);
        assert_eq!(w.totals(13_000 * MS).calls, 0, "epoch 3 leaves at 13 s");
        // A jump far past the window clears everything without looping per epoch.
        w.record(14_000 * MS, true, false);
        assert_eq!(w.totals(u64::MAX / 2).calls, 0);
    }

    #[test]
    fn r10_r14_a_time_window_is_never_shorter_than_configured_after_it_starts() {
        // A 10 s window of 10 buckets that starts at 2.5 s: an outcome at
        // 2.6 s is counted for the full 10 s, until 12.5 s, not evicted at
        // 12 s as a bucket aligned to the clock's zero would have it.
        let mut w = Window::new(
            WindowConfig::Time {
                length: Duration::from_secs(10),
                buckets: 10,
            },
            2_500 * MS,
        );
        w.record(2_600 * MS, true, false);
        assert_eq!(w.totals(12_499 * MS).calls, 1);
        assert_eq!(w.totals(12_500 * MS).calls, 0);
    }

    #[test]
    fn count_window_costs_one_byte_per_outcome() {
        let w = Window::new(WindowConfig::Count { size: 1000 }, 0);
        assert_eq!(w.heap_bytes(), 1000);
    }
}
