//! A `#[circuit_breaker]` call allocates nothing per call: the breaker is a
//! static resolved once, and the call is the hand-written `breaker.call`.
//! Its own binary, so the counting allocator sees only it.
#![allow(missing_docs, unsafe_code, clippy::unwrap_used)] // a counting global allocator

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use cb_core::circuit_breaker;

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[circuit_breaker(name = "alloc.async")]
async fn answer(x: u64) -> Result<u64, std::io::Error> {
    Ok(x + 1)
}

#[circuit_breaker(name = "alloc.sync")]
fn answer_sync(x: u64) -> Result<u64, std::io::Error> {
    Ok(x + 1)
}

#[test]
fn a_generated_call_allocates_nothing_after_the_first() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        for i in 0..100 {
            // the first call resolves the breaker; the rest warm up tokio and the breaker's window
            answer(i).await.unwrap();
            answer_sync(i).unwrap();
        }
        let before = ALLOCS.load(Ordering::Relaxed);
        for i in 0..10_000 {
            assert_eq!(answer(i).await.unwrap(), i + 1);
            assert_eq!(answer_sync(i).unwrap(), i + 1);
        }
        assert_eq!(ALLOCS.load(Ordering::Relaxed) - before, 0);
    });
}
