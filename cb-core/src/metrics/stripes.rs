//! The lifetime counters' storage: per-thread stripes, each on its own cache
//! lines, so two threads calling through one breaker never write the same
//! line on the success path. A thread that owns a stripe is its only writer
//! and bumps a counter with a plain load and store, not a locked
//! read-modify-write; threads beyond the owned stripes share the last one with
//! `fetch_add`. A read sums the stripes; every counter is monotonic (R39) and,
//! once calls have finished, the sums satisfy the conservation invariant
//! exactly (R42).

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

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
/// The cached slot is read inline on every count (the closed success and
/// the rejection both make one); the first look-up is out of line.
#[inline(always)]
fn thread_slot() -> usize {
    let cached = CACHED_SLOT.try_with(Cell::get).unwrap_or(usize::MAX);
    if cached != usize::MAX {
        return cached;
    }
    thread_slot_uncached()
}

#[cold]
#[inline(never)]
fn thread_slot_uncached() -> usize {
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
        let n = stripe_count(available, online_cpus());
        Self {
            stripes: (0..n).map(|_| Stripe::default()).collect(),
        }
    }

    // Always inlined: it is most of a closed success and of a rejection, and
    // a call to it would cost as much again.
    #[inline(always)]
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
}

/// CPUs online in the machine, whatever this thread's affinity or the
/// process's CPU quota (which `available_parallelism` reflects): threads
/// of a process limited to one CPU's worth of time still run on all of them.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // one `sysconf` call: the standard library has no portable way to ask
fn online_cpus() -> usize {
    // SAFETY: sysconf reads a system constant; it has no pointer arguments.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(0)
}

/// Unknown elsewhere: [`stripe_count`] then goes by `available_parallelism`.
#[cfg(not(target_os = "linux"))]
fn online_cpus() -> usize {
    0
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
