//! A global allocator that counts the allocations of the thread that asked,
//! so another thread (libtest's own bookkeeping runs beside the test) cannot
//! add to the count. Include it with `#[path]` in a test binary of its own.
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

/// Starts counting this thread's allocations.
pub(crate) fn start() {
    COUNT.with(|c| c.set(Some(0)));
}

/// Stops counting; returns how many allocations this thread made since `start`.
pub(crate) fn stop() -> u64 {
    COUNT.with(|c| c.replace(None)).unwrap_or(0)
}
