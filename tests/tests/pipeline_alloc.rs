//! The pipeline's success path allocates nothing per call (breaker, retry,
//! timeout, bulkhead): its own binary, so the counting allocator sees only it.
#![allow(unsafe_code, clippy::unwrap_used)] // a counting global allocator; test setup unwraps

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cb_core::retry::{Backoff, RetryPolicy};
use cb_core::{Bulkhead, CircuitBreaker, Pipeline};

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

#[test]
fn full_pipeline_success_path_allocates_nothing_per_call() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let p: Pipeline<u64, std::io::Error> = Pipeline::builder("alloc")
        .retry(
            RetryPolicy::builder()
                .max_attempts(3)
                .backoff(Backoff::exponential(Duration::from_millis(10)).build().unwrap())
                .build()
                .unwrap(),
        )
        .breaker(CircuitBreaker::builder("alloc").build().unwrap())
        .timeout(Duration::from_secs(1))
        .bulkhead(Bulkhead::builder("alloc").max_concurrent(4).build().unwrap())
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..100 {
            p.call(|| async { Ok(1) }).await.unwrap(); // warm up tokio's timer wheel
        }
        let before = ALLOCS.load(Ordering::Relaxed);
        for _ in 0..10_000 {
            p.call(|| async { Ok(1) }).await.unwrap();
        }
        assert_eq!(ALLOCS.load(Ordering::Relaxed) - before, 0);
    });
}
