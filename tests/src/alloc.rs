//! A global allocator that counts the allocations (and the net bytes) of the
//! thread that asked, so that another thread (libtest's own bookkeeping, a
//! runtime's worker) cannot add to the count.
//!
//! A binary opts in by declaring it as its global allocator; the counting
//! functions report nothing (zero) in a binary that has not:
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: cb_tests::alloc::Counting = cb_tests::alloc::Counting;
//! ```
//!
//! The allocator lives here and not in each binary so that the tests and the
//! benchmarks count the same way.

// The only unsafe code of this crate: a `GlobalAlloc` that forwards every
// request unchanged to `System`. Counting needs a global allocator, and
// implementing `GlobalAlloc` is `unsafe` by definition.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// What one thread allocated while it counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub allocations: u64,
    /// Bytes allocated minus bytes freed, so a negative value means the
    /// thread freed more than it allocated while counting.
    pub net_bytes: i64,
}

thread_local! {
    /// `Some(counts)` while this thread counts.
    static COUNTS: Cell<Option<Counts>> = const { Cell::new(None) };
}

/// Adds to this thread's counts if it is counting. `try_with` because the
/// allocator also runs while thread-locals are torn down.
fn record(allocations: u64, bytes: i64) {
    let _ = COUNTS.try_with(|c| {
        if let Some(n) = c.get() {
            c.set(Some(Counts {
                allocations: n.allocations + allocations,
                net_bytes: n.net_bytes + bytes,
            }));
        }
    });
}

fn size(layout: Layout) -> i64 {
    i64::try_from(layout.size()).unwrap_or(i64::MAX)
}

/// The counting allocator; declare it with `#[global_allocator]` in the
/// binary that counts.
#[derive(Debug)]
pub struct Counting;

// SAFETY: every method forwards its arguments unchanged to `System`, which
// upholds the `GlobalAlloc` contract; counting touches only a const-initialised
// thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(1, size(layout));
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(1, size(layout));
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(0, -size(layout));
        // SAFETY: forwarded unchanged; `ptr` came from this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(1, i64::try_from(new_size).unwrap_or(i64::MAX) - size(layout));
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Starts counting this thread's allocations (from zero).
pub fn start() {
    COUNTS.with(|c| c.set(Some(Counts::default())));
}

/// Stops counting; returns how many allocations this thread made since
/// [`start`].
pub fn stop() -> u64 {
    stop_counts().allocations
}

/// Stops counting; returns everything this thread counted since [`start`].
pub fn stop_counts() -> Counts {
    COUNTS.with(|c| c.replace(None)).unwrap_or_default()
}

/// Runs `f` on this thread and returns its result with what it allocated.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Counts) {
    start();
    let out = f();
    (out, stop_counts())
}

/// Allocations per call of `f` on this thread, after a warm-up of 1000
/// calls, so that lazily initialised state is not charged to the call.
pub fn allocs_per_call<F: FnMut()>(mut f: F) -> f64 {
    for _ in 0..1000 {
        f();
    }
    let n = 100_000;
    start();
    for _ in 0..n {
        f();
    }
    stop() as f64 / f64::from(n)
}
