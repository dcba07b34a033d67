//! The lifetime counters' storage, grown on contention. A breaker starts
//! with one inline stripe, bumped with `fetch_add`: an idle or
//! single-threaded breaker holds no counter heap at all, whatever the
//! machine's CPU count (a process with thousands of keyed breakers pays
//! 80 bytes of counters per key, not a stripe per CPU). The first time a
//! second thread counts, the breaker allocates per-thread stripes, each on
//! its own cache lines (their number from [`stripe_count`]); from then on a
//! thread that owns a stripe is its only writer and bumps a counter with a
//! plain load and store, not a locked read-modify-write, and threads beyond
//! the owned stripes keep sharing the inline one. A read sums the inline
//! stripe and the owned ones; every counter is monotonic (R39) and, once
//! calls have finished, the sums satisfy the conservation invariant exactly
//! (R42): a count lands in exactly one place, before or after the growth.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

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

/// Monotonic counters: one inline stripe, per-thread stripes once two
/// threads have counted.
#[derive(Debug)]
pub(crate) struct Counters {
    /// Written with `fetch_add` by every thread without an owned stripe:
    /// all of them until the breaker grows, the ones beyond the owned
    /// stripes after.
    shared: [AtomicU64; SLOTS],
    /// The slot of the first thread that counted (`usize::MAX` before):
    /// another slot counting means two threads use the breaker.
    first: AtomicUsize,
    /// Allocated once, when a second thread counts. (Behind a thin box:
    /// 8 bytes less per breaker than a slice's fat pointer, for one more
    /// load on a grown breaker's count.)
    owned: OnceLock<Box<Owned>>,
}

/// Stripe `i` is owned by the thread in slot `i`, its only writer.
#[derive(Debug)]
struct Owned(Box<[Stripe]>);

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

/// How many stripes a breaker owns once a second thread counts through it:
/// enough that threads on different cores rarely share one, twice the
/// CPUs, counted as the larger of `available` (`available_parallelism`)
/// and `online`. `available_parallelism` shrinks with the creating thread's
/// affinity and the process's CPU quota, while the process's threads still
/// run on every CPU online; sized by it alone, a breaker grown on a pinned
/// thread would make all other threads share one stripe. Only contended
/// breakers pay for these; an idle one holds none (see [`counter_heap_bytes`]).
pub(crate) fn stripe_count(available: usize, online: usize) -> usize {
    (available.max(online) * 2).next_power_of_two().clamp(4, 32)
}

/// The counter heap of a breaker through which `threads` threads have
/// counted, on a machine with `cpus` CPUs online (and available to the
/// process): none for an idle or single-threaded breaker, whatever `cpus`
/// is; once a second thread counts, a 128-byte stripe per owned slot, twice
/// the CPUs rounded up to a power of two, at least 4 and at most 32. The
/// rule a breaker's counters follow, as a function of the CPU count, so that
/// the memory per breaker can be stated for machines other than this one.
///
/// ```
/// use cb_core::metrics::counter_heap_bytes;
///
/// // An idle breaker on a 64-CPU server: no counter heap.
/// assert_eq!(counter_heap_bytes(64, 0), 0);
/// // Called from two threads there: 32 stripes.
/// assert_eq!(counter_heap_bytes(64, 2), 16 + 32 * 128);
/// ```
pub fn counter_heap_bytes(cpus: usize, threads: usize) -> usize {
    if threads < 2 {
        0
    } else {
        size_of::<Owned>() + stripe_count(cpus, cpus) * size_of::<Stripe>()
    }
}

impl Counters {
    pub(crate) fn new() -> Self {
        Self {
            shared: std::array::from_fn(|_| AtomicU64::new(0)),
            first: AtomicUsize::new(usize::MAX),
            owned: OnceLock::new(),
        }
    }

    // Always inlined: it is most of a closed success and of a rejection, and
    // a call to it would cost as much again.
    #[inline(always)]
    pub(crate) fn add(&self, c: Counter) {
        let slot = thread_slot();
        if let Some(owned) = self.owned.get() {
            if let Some(stripe) = owned.0.get(slot) {
                // This thread is the stripe's only writer: no locked instruction.
                let a = &stripe.0[c as usize];
                a.store(a.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
                return;
            }
        } else if slot != self.first.load(Ordering::Relaxed) {
            self.second_thread(slot);
        }
        self.shared[c as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A thread other than the first one counted (or the first one is
    /// counting for the first time): records the first thread, or grows the
    /// owned stripes. Out of line: it runs at most a few times per breaker.
    #[cold]
    #[inline(never)]
    fn second_thread(&self, slot: usize) {
        if slot == usize::MAX {
            return; // an exiting thread: it counts in the shared stripe
        }
        if let Err(first) =
            self.first
                .compare_exchange(usize::MAX, slot, Ordering::Relaxed, Ordering::Relaxed)
            && first != slot
        {
            self.owned.get_or_init(|| {
                let available = std::thread::available_parallelism().map_or(4, |n| n.get());
                let n = stripe_count(available, online_cpus());
                Box::new(Owned((0..n).map(|_| Stripe::default()).collect()))
            });
        }
    }

    pub(crate) fn get(&self, c: Counter) -> u64 {
        let owned = self.owned.get().map_or(&[][..], |o| &o.0[..]);
        owned
            .iter()
            .map(|s| s.0[c as usize].load(Ordering::Relaxed))
            .fold(self.shared[c as usize].load(Ordering::Relaxed), u64::wrapping_add)
    }

    /// Whether a second thread has counted and the owned stripes exist.
    #[cfg(test)]
    pub(crate) fn grown(&self) -> bool {
        self.owned.get().is_some()
    }

    /// The stripe the calling thread writes, as an index into
    /// [`stripe_values`](Self::stripe_values): 0 for the shared one, `1 + slot`
    /// for an owned one.
    #[cfg(test)]
    pub(crate) fn stripe_of_this_thread(&self) -> usize {
        let slot = thread_slot();
        match self.owned.get() {
            Some(owned) if slot < owned.0.len() => 1 + slot,
            _ => 0,
        }
    }

    /// Every counter of every stripe, the shared one first, for tests that
    /// check what a call wrote.
    #[cfg(test)]
    pub(crate) fn stripe_values(&self) -> Vec<[u64; SLOTS]> {
        let load = |s: &[AtomicU64; SLOTS]| std::array::from_fn(|i| s[i].load(Ordering::Relaxed));
        let owned = self.owned.get().map_or(&[][..], |o| &o.0[..]);
        std::iter::once(load(&self.shared))
            .chain(owned.iter().map(|s| load(&s.0)))
            .collect()
    }

    /// The owned stripes' heap: none until a second thread counts.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.owned
            .get()
            .map_or(0, |o| size_of::<Owned>() + size_of_val(&*o.0))
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
        // Grown on a thread pinned to 1 of 8 CPUs: still a stripe per CPU.
        assert_eq!(stripe_count(1, 8), 16);
        assert_eq!(stripe_count(8, 8), 16);
        // Unknown online count (0): what the process may use.
        assert_eq!(stripe_count(6, 0), 16);
        // Never fewer than 4, never more than 32.
        assert_eq!(stripe_count(1, 1), 4);
        assert_eq!(stripe_count(64, 128), 32);
    }

    #[test]
    fn an_idle_or_single_threaded_breakers_counters_take_no_heap_whatever_the_cpu_count() {
        for cpus in [1, 2, 16, 64, 256] {
            assert_eq!(counter_heap_bytes(cpus, 0), 0, "{cpus} CPUs, idle");
            assert_eq!(counter_heap_bytes(cpus, 1), 0, "{cpus} CPUs, one thread");
        }
        // Contended: a 128-byte stripe per owned slot, twice the CPUs, 4 to 32.
        // (plus the 16-byte slice pointer they hang from).
        assert_eq!(counter_heap_bytes(2, 2), 16 + 4 * 128);
        assert_eq!(counter_heap_bytes(16, 2), 16 + 32 * 128);
        assert_eq!(counter_heap_bytes(64, 8), 16 + 32 * 128);
    }

    #[test]
    fn counters_grow_when_a_second_thread_counts_and_match_the_sizing_rule() {
        let counters = Counters::new();
        for _ in 0..3 {
            counters.add(Counter::Success);
        }
        assert!(!counters.grown());
        assert_eq!(counters.heap_bytes(), counter_heap_bytes(64, 1));
        std::thread::scope(|s| {
            s.spawn(|| counters.add(Counter::Failure));
        });
        assert!(counters.grown());
        let available = std::thread::available_parallelism().map_or(4, |n| n.get());
        let n = stripe_count(available, online_cpus());
        assert_eq!(counters.heap_bytes(), 16 + n * size_of::<Stripe>());
        assert_eq!(counters.get(Counter::Success), 3);
        assert_eq!(counters.get(Counter::Failure), 1);
    }

    #[test]
    fn r42_counts_are_exact_across_owned_and_shared_stripes_and_reused_slots() {
        let counters = Counters::new();
        let owned = {
            let available = std::thread::available_parallelism().map_or(4, |n| n.get());
            stripe_count(available, online_cpus())
        };
        // More threads than owned stripes, in several waves so slots are
        // reused; the first wave races the growth itself.
        for _wave in 0..4 {
            std::thread::scope(|s| {
                for _ in 0..(owned + 3) {
                    s.spawn(|| {
                        for _ in 0..10_000 {
                            counters.add(Counter::Success);
                        }
                    });
                }
            });
        }
        assert!(counters.grown());
        assert_eq!(counters.get(Counter::Success), 4 * (owned as u64 + 3) * 10_000);
    }
}
