//! The pipeline's success path allocates nothing per call (breaker, retry,
//! timeout, bulkhead): its allocator counts only the test thread's allocations.
#![allow(clippy::unwrap_used)] // test setup unwraps

use cb_core::retry::{Backoff, RetryPolicy};
use cb_core::{Bulkhead, CircuitBreaker, Pipeline};
use std::time::Duration;

use cb_tests::alloc as counting_alloc;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn full_pipeline_success_path_allocates_nothing_per_call() {
    // The counter counts: one box, one allocation.
    counting_alloc::start();
    drop(std::hint::black_box(Box::new(1u64)));
    assert_eq!(counting_alloc::stop(), 1);

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
        counting_alloc::start();
        for _ in 0..10_000 {
            p.call(|| async { Ok(1) }).await.unwrap();
        }
        assert_eq!(counting_alloc::stop(), 0);
    });
}

#[test]
fn a_call_that_fails_once_and_succeeds_on_its_retry_allocates_nothing() {
    // Paused time: the exponential backoff's waits pass at once.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let p: Pipeline<u64, std::io::Error> = Pipeline::builder("alloc.retried")
        .retry(
            RetryPolicy::builder()
                .max_attempts(3)
                .backoff(Backoff::exponential(Duration::from_millis(10)).build().unwrap())
                .build()
                .unwrap(),
        )
        .breaker(
            CircuitBreaker::builder("alloc.retried")
                .failure_threshold(5)
                .build()
                .unwrap(),
        )
        .timeout(Duration::from_secs(1))
        .bulkhead(
            Bulkhead::builder("alloc.retried")
                .max_concurrent(4)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let attempts = std::cell::Cell::new(0u64);
    let fail_then_succeed = || {
        let n = attempts.get() + 1;
        attempts.set(n);
        // an error without an allocation of its own
        async move {
            if n % 2 == 1 {
                Err(std::io::ErrorKind::ConnectionReset.into())
            } else {
                Ok(n)
            }
        }
    };
    rt.block_on(async {
        for _ in 0..100 {
            p.call(fail_then_succeed).await.unwrap(); // warm up tokio's timer wheel
        }
        counting_alloc::start();
        for _ in 0..10_000 {
            p.call(fail_then_succeed).await.unwrap();
        }
        assert_eq!(counting_alloc::stop(), 0);
    });
    assert_eq!(attempts.get(), 2 * 10_100);
}
