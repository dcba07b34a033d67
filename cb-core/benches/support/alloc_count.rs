//! Allocations per call, for the benches: a global allocator that counts the
//! allocations of the thread that asked (so no other thread can add to the
//! count) and `allocs_per_call`. Include with `#[path]` in a bench binary.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// `Some(n)` while this thread counts.
    static COUNT: Cell<Option<u64>> = const { Cell::new(None) };
}

// SAFETY: forwards to the system allocator unchanged; counting touches only a
// const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = COUNT.try_with(|c| {
            if let Some(n) = c.get() {
                c.set(Some(n + 1));
            }
        });
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations per call of `f` on this thread, after a warm-up of 1000 calls.
pub(crate) fn allocs_per_call<F: FnMut()>(mut f: F) -> f64 {
    for _ in 0..1000 {
        f();
    }
    let n = 100_000;
    COUNT.with(|c| c.set(Some(0)));
    for _ in 0..n {
        f();
    }
    COUNT.with(|c| c.replace(None)).unwrap_or(0) as f64 / n as f64
}
