//! The lifetime counters' storage, grown on contention. A breaker starts
//! with one inline stripe, owned by the first thread that counts through
//! it: an idle or single-threaded breaker holds no counter heap at all,
//! whatever the machine's CPU count (a process with thousands of keyed
//! breakers pays 80 bytes of counters per key, not a stripe per CPU), and
//! its thread bumps a counter with a plain load and store. The first time
//! another thread counts, the breaker allocates per-thread stripes, each on
//! its own cache lines (their number from [`stripe_count`]); a thread that
//! owns one is its only writer and, again, bumps it without a locked
//! read-modify-write, and threads beyond the owned stripes share the last
//! one with `fetch_add`. A read sums every stripe; every counter is
//! monotonic (R39) and, once calls have finished, the sums satisfy the
//! conservation invariant exactly (R42): each count lands in one stripe,
//! written by its one owner or atomically.

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

/// Monotonic counters: one inline stripe for the first thread, per-thread
/// stripes once another thread counts.
///
/// In this order (`repr(C)`): what every call reads (`first`, `owned`),
/// then `cold`, the owner's data that no call reads or writes, then the
/// inline stripe the first thread writes on every call. Not cache-line
/// aligned (the padding would cost every breaker up to 127 bytes), `cold`
/// keeps the two apart instead: at least a cache line of it means the
/// first thread's counting never invalidates the line the other threads
/// find their stripes through.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Counters<Cold> {
    /// The slot of the first thread that counted; [`UNCLAIMED`] before.
    first: AtomicUsize,
    /// Allocated once, when another thread counts.
    owned: OnceLock<Owned>,
    /// The owner's data, off the call path.
    pub(crate) cold: Cold,
    /// Written only by the thread in slot `first`.
    first_stripe: [AtomicU64; SLOTS],
}

/// No thread has counted yet: a value no slot takes (slots are small
/// numbers; `usize::MAX` is an exiting thread's, which never claims the
/// inline stripe).
const UNCLAIMED: usize = usize::MAX - 1;

/// Stripe `i < len - 1` is owned by the thread in slot `i`, its only
/// writer; the last one is written by every other thread. (No separate
/// index of the shared stripe: comparing a slot with `len - 1` lets the
/// compiler drop the bounds check.)
#[derive(Debug)]
struct Owned(Box<[Stripe]>);

impl Owned {
    #[inline(always)]
    fn add(&self, slot: usize, c: Counter) {
        let shared = self.0.len() - 1;
        if slot < shared {
            bump(&self.0[slot].0[c as usize]);
        } else {
            self.0[shared].0[c as usize].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Adds one to a counter its caller is the only writer of: no locked
/// instruction.
#[inline(always)]
fn bump(a: &AtomicU64) {
    a.store(a.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
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
/// assert_eq!(counter_heap_bytes(64, 2), 32 * 128);
/// ```
pub fn counter_heap_bytes(cpus: usize, threads: usize) -> usize {
    if threads < 2 {
        0
    } else {
        stripe_count(cpus, cpus) * size_of::<Stripe>()
    }
}

impl<Cold> Counters<Cold> {
    /// Zeroed counters around `cold`.
    pub(crate) fn new(cold: Cold) -> Self {
        Self {
            first: AtomicUsize::new(UNCLAIMED),
            owned: OnceLock::new(),
            cold,
            first_stripe: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    // Always inlined: it is most of a closed success and of a rejection, and
    // a call to it would cost as much again.
    #[inline(always)]
    pub(crate) fn add(&self, c: Counter) {
        let slot = thread_slot();
        if slot == self.first.load(Ordering::Relaxed) {
            bump(&self.first_stripe[c as usize]);
        } else if let Some(owned) = self.owned.get() {
            owned.add(slot, c);
        } else {
            self.add_first_time(slot, c);
        }
    }

    /// The breaker's first count, or the first by another thread: claims
    /// the inline stripe, or grows the owned stripes. Out of line: it runs
    /// at most a few times per breaker.
    #[cold]
    #[inline(never)]
    fn add_first_time(&self, slot: usize, c: Counter) {
        let claimed = slot != usize::MAX
            && self
                .first
                .compare_exchange(UNCLAIMED, slot, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok();
        if claimed {
            bump(&self.first_stripe[c as usize]);
            return;
        }
        let owned = self.owned.get_or_init(|| {
            let available = std::thread::available_parallelism().map_or(4, |n| n.get());
            let n = stripe_count(available, online_cpus());
            Owned((0..n).map(|_| Stripe::default()).collect())
        });
        owned.add(slot, c);
    }

    pub(crate) fn get(&self, c: Counter) -> u64 {
        let first = self.first_stripe[c as usize].load(Ordering::Relaxed);
        self.owned_stripes()
            .iter()
            .map(|s| s.0[c as usize].load(Ordering::Relaxed))
            .fold(first, u64::wrapping_add)
    }

    fn owned_stripes(&self) -> &[Stripe] {
        self.owned.get().map_or(&[], |o| &o.0)
    }

    /// Whether another thread has counted and the owned stripes exist.
    #[cfg(test)]
    pub(crate) fn grown(&self) -> bool {
        self.owned.get().is_some()
    }

    /// The stripe the calling thread writes, as an index into
    /// [`stripe_values`](Self::stripe_values): 0 for the inline one, `1 + i`
    /// for owned stripe `i` (the last of which is shared).
    #[cfg(test)]
    pub(crate) fn stripe_of_this_thread(&self) -> usize {
        let slot = thread_slot();
        match self.owned_stripes().len() {
            _ if slot == self.first.load(Ordering::Relaxed) => 0,
            0 => 0,
            n => 1 + slot.min(n - 1),
        }
    }

    /// Every counter of every stripe, the inline one first, for tests that
    /// check what a call wrote.
    #[cfg(test)]
    pub(crate) fn stripe_values(&self) -> Vec<[u64; SLOTS]> {
        let load = |s: &[AtomicU64; SLOTS]| std::array::from_fn(|i| s[i].load(Ordering::Relaxed));
        std::iter::once(load(&self.first_stripe))
            .chain(self.owned_stripes().iter().map(|s| load(&s.0)))
            .collect()
    }

    /// The owned stripes' heap: none until another thread counts.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.owned.get().map_or(0, |o| size_of_val(&*o.0))
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
        assert_eq!(counter_heap_bytes(2, 2), 4 * 128);
        assert_eq!(counter_heap_bytes(16, 2), 32 * 128);
        assert_eq!(counter_heap_bytes(64, 8), 32 * 128);
    }

    #[test]
    fn counters_grow_when_a_second_thread_counts_and_match_the_sizing_rule() {
        let counters = Counters::new([0u8; 64]);
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
        assert_eq!(counters.heap_bytes(), n * size_of::<Stripe>());
        assert_eq!(counters.get(Counter::Success), 3);
        assert_eq!(counters.get(Counter::Failure), 1);
    }

    #[test]
    fn r42_counts_are_exact_across_owned_and_shared_stripes_and_reused_slots() {
        let counters = Counters::new([0u8; 64]);
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
