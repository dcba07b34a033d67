//! Lifetime counters and metric snapshots.
//!
//! Counters live in per-thread stripes, each on its own cache lines, so two
//! threads calling through one breaker never write the same line on the success
//! path. A thread that owns a stripe is its only writer and bumps a counter
//! with a plain load and store, not a locked read-modify-write; threads beyond
//! the owned stripes share the last one with `fetch_add`. A snapshot sums the
//! stripes; every counter is monotonic (R39) and, once calls have finished, the
//! sums satisfy the conservation invariant exactly (R42).

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::breaker::State;
use crate::error::Name;

/// What one counter slot counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Counter {
    Success = 0,
    Failure,
    Excluded,
    Cancelled,
    Panicked,
    RejectedOpen,
    RejectedForced,
    RejectedHalfOpenFull,
    Slow,
    Late,
}

pub(crate) const SLOTS: usize = 10;

#[repr(align(128))]
#[derive(Debug, Default)]
struct Stripe([AtomicU64; SLOTS]);

/// Striped monotonic counters.
#[derive(Debug)]
pub(crate) struct Counters {
    /// Stripes `0..len - 1` each have one owning thread; the last one is
    /// written by every other thread. (No separate index of the shared stripe:
    /// comparing a slot with `len - 1` lets the compiler drop the bounds check.)
    stripes: Box<[Stripe]>,
}

/// A thread's slot: a small number, unique among live threads, returned when
/// the thread exits so a pool of short-lived threads keeps reusing low slots.
struct Slot(usize);

static FREE_SLOTS: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

impl Slot {
    fn take() -> Slot {
        let reused = FREE_SLOTS.lock().ok().and_then(|mut free| {
            // Lowest first: low slots are the owned stripes.
            let (i, _) = free.iter().enumerate().min_by_key(|(_, s)| **s)?;
            Some(free.swap_remove(i))
        });
        Slot(reused.unwrap_or_else(|| NEXT_SLOT.fetch_add(1, Ordering::Relaxed)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // From here on this thread writes to the shared stripe only (other
        // thread-local destructors may still record outcomes), so the slot's
        // next owner is its stripe's only writer.
        let _ = CACHED_SLOT.try_with(|c| c.set(usize::MAX));
        // The mutex orders this thread's last counter writes before the next
        // owner's first ones.
        if let Ok(mut free) = FREE_SLOTS.lock() {
            free.push(self.0);
        }
    }
}

thread_local! {
    static THREAD_SLOT: Slot = Slot::take();
    static CACHED_SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's slot, or `usize::MAX` once its slot has been given back.
#[inline]
fn thread_slot() -> usize {
    let cached = CACHED_SLOT.try_with(Cell::get).unwrap_or(usize::MAX);
    if cached != usize::MAX {
        return cached;
    }
    let slot = THREAD_SLOT.try_with(|s| s.0).unwrap_or(usize::MAX);
    if slot != usize::MAX {
        let _ = CACHED_SLOT.try_with(|c| c.set(slot));
    }
    slot
}

/// Enough stripes that threads on different cores rarely share one: twice
/// the CPUs, counted as the larger of `available` (`available_parallelism`)
/// and `online`. `available_parallelism` shrinks with the creating thread's
/// affinity and the process's CPU quota, while the process's threads still
/// run on every CPU online; sized by it alone, a breaker built on a pinned
/// thread would make all other threads share one stripe.
fn stripe_count(available: usize, online: usize) -> usize {
    (available.max(online) * 2).next_power_of_two().clamp(4, 32)
}

impl Counters {
    pub(crate) fn new() -> Self {
        let available = std::thread::available_parallelism().map_or(4, |n| n.get());
        let n = stripe_count(available, crate::clock::sys::online_cpus());
        Self {
            stripes: (0..n).map(|_| Stripe::default()).collect(),
        }
    }

    #[inline]
    pub(crate) fn add(&self, c: Counter) {
        let slot = thread_slot();
        let shared = self.stripes.len() - 1;
        if slot < shared {
            // This thread is the stripe's only writer: no locked instruction.
            let a = &self.stripes[slot].0[c as usize];
            a.store(a.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        } else {
            self.stripes[shared].0[c as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn get(&self, c: Counter) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0[c as usize].load(Ordering::Relaxed))
            .fold(0u64, u64::wrapping_add)
    }

    /// The index of the shared stripe: the number of owned ones.
    #[cfg(test)]
    fn shared(&self) -> usize {
        self.stripes.len() - 1
    }

    /// The stripe the calling thread writes: its own, or the shared one.
    #[cfg(test)]
    pub(crate) fn stripe_of_this_thread(&self) -> usize {
        thread_slot().min(self.shared())
    }

    /// Every counter of every stripe, for tests that check what a call wrote.
    #[cfg(test)]
    pub(crate) fn stripe_values(&self) -> Vec<[u64; SLOTS]> {
        self.stripes
            .iter()
            .map(|s| std::array::from_fn(|i| s.0[i].load(Ordering::Relaxed)))
            .collect()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.stripes)
    }

    pub(crate) fn lifetime(&self) -> LifetimeCounters {
        LifetimeCounters {
            successes: self.get(Counter::Success),
            failures: self.get(Counter::Failure),
            excluded: self.get(Counter::Excluded),
            cancelled: self.get(Counter::Cancelled),
            panicked: self.get(Counter::Panicked),
            rejected_open: self.get(Counter::RejectedOpen),
            rejected_forced_open: self.get(Counter::RejectedForced),
            rejected_half_open_full: self.get(Counter::RejectedHalfOpenFull),
            slow: self.get(Counter::Slow),
            late_results: self.get(Counter::Late),
        }
    }
}

/// Monotonic counters over a breaker's whole life (R39): never reduced by
/// `reset()` or by transitions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LifetimeCounters {
    /// Calls classified as success (including late ones, R30).
    pub successes: u64,
    /// Calls classified as failure (including late ones).
    pub failures: u64,
    /// Calls classified as excluded (neutral, R2).
    pub excluded: u64,
    /// Calls whose future was dropped before completing (R5).
    pub cancelled: u64,
    /// Calls that panicked (R6).
    pub panicked: u64,
    /// Calls rejected because the circuit was open.
    pub rejected_open: u64,
    /// Calls rejected because the circuit was forced open.
    pub rejected_forced_open: u64,
    /// Calls rejected because every half-open probe slot was taken.
    pub rejected_half_open_full: u64,
    /// Calls slower than the slow-call threshold (also counted by outcome).
    pub slow: u64,
    /// Outcomes that arrived after the generation they were admitted in (R30).
    pub late_results: u64,
}

impl LifetimeCounters {
    /// Every rejection, whatever the reason (R41).
    pub fn rejected(&self) -> u64 {
        self.rejected_open + self.rejected_forced_open + self.rejected_half_open_full
    }
    /// Every call that finished or was refused (R42):
    /// `success + failure + excluded + cancelled + panicked + rejected`.
    pub fn calls_total(&self) -> u64 {
        self.successes + self.failures + self.excluded + self.cancelled + self.panicked + self.rejected()
    }
    /// Calls that reached the downstream: `calls_total - rejected` (R42).
    pub fn downstream_invocations(&self) -> u64 {
        self.calls_total() - self.rejected()
    }
}

/// A point-in-time view of one breaker.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// The breaker's name.
    pub name: Name,
    /// The state (evaluated lazily, R18).
    pub state: State,
    /// The state's generation (R31).
    pub generation: u64,
    /// The window's failure rate in percent; `None` below `minimum_calls` or
    /// when no rate detector is configured (R40).
    pub failure_rate: Option<f64>,
    /// The window's slow-call rate in percent; `None` as for `failure_rate`.
    pub slow_call_rate: Option<f64>,
    /// Recorded calls currently in the window.
    pub buffered_calls: u32,
    /// The current consecutive-failure streak.
    pub consecutive_failures: u32,
    /// Probes in flight (half-open only).
    pub half_open_in_flight: u32,
    /// Time until an open circuit admits a probe.
    pub retry_after: Option<Duration>,
    /// Lifetime counters.
    pub calls: LifetimeCounters,
    /// Transitions so far, by `(from, to)`.
    pub transitions: Vec<(State, State, u64)>,
    /// Events listeners never got because the breaker's event queue was
    /// full ([`EVENT_QUEUE_BOUND`](crate::event::EVENT_QUEUE_BOUND)): only
    /// per-call events, never transitions. Monotonic; zero without listeners.
    pub dropped_events: u64,
}

impl MetricsSnapshot {
    /// All transitions ever made.
    pub fn transitions_total(&self) -> u64 {
        self.transitions.iter().map(|t| t.2).sum()
    }
    /// Transitions from `from` to `to`.
    pub fn transitions_between(&self, from: State, to: State) -> u64 {
        self.transitions
            .iter()
            .find(|t| t.0 == from && t.1 == to)
            .map_or(0, |t| t.2)
    }
}

/// A breaker's memory: its inline size and what it holds on the heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUsage {
    /// `size_of::<CircuitBreaker>()` (one pointer).
    pub handle_bytes: usize,
    /// The shared state behind the handle.
    pub shared_bytes: usize,
    /// Further heap: counter stripes, window, listeners.
    pub heap_bytes: usize,
}

impl MemoryUsage {
    /// Everything together.
    pub fn total(&self) -> usize {
        self.handle_bytes + self.shared_bytes + self.heap_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_follow_the_cpus_online_not_the_creating_threads_affinity() {
        // Built on a thread pinned to 1 of 8 CPUs: still a stripe per CPU.
        assert_eq!(stripe_count(1, 8), 16);
        assert_eq!(stripe_count(8, 8), 16);
        // Unknown online count (0): what the process may use.
        assert_eq!(stripe_count(6, 0), 16);
        // Never fewer than 4, never more than 32.
        assert_eq!(stripe_count(1, 1), 4);
        assert_eq!(stripe_count(64, 128), 32);
    }

    #[test]
    fn r42_counts_are_exact_across_owned_and_shared_stripes_and_reused_slots() {
        let counters = Counters::new();
        // More threads than owned stripes, in several waves so slots are reused.
        for _wave in 0..4 {
            std::thread::scope(|s| {
                for _ in 0..(counters.shared() + 3) {
                    s.spawn(|| {
                        for _ in 0..10_000 {
                            counters.add(Counter::Success);
                        }
                    });
                }
            });
        }
        assert_eq!(
            counters.get(Counter::Success),
            4 * (counters.shared() as u64 + 3) * 10_000
        );
    }
}
