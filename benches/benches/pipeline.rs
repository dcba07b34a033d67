//! A full pipeline (breaker + retry + timeout + bulkhead) on the success
//! path: cb's `Pipeline`, the same four layers of tower-resilience 0.13, and
//! a bare call, in one run. Also counts heap allocations per call.
//!
//! `cargo bench -p cb-bench --bench pipeline`; results in `benches/PIPELINE.md`.

#![allow(clippy::unwrap_used)] // a benchmark: a bad setup should stop it loudly

use std::hint::black_box;
use std::time::Duration;

use cb_core::retry::{Backoff, RetryPolicy};
use cb_core::{Bulkhead, CircuitBreaker, Pipeline};
use criterion::{Criterion, criterion_group, criterion_main};
use tower::{Service, ServiceBuilder, ServiceExt};

use cb_tests::alloc::allocs_per_call;

#[global_allocator]
static GLOBAL: cb_tests::alloc::Counting = cb_tests::alloc::Counting;

#[derive(Debug, Clone)]
struct DownstreamError;
impl std::fmt::Display for DownstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("downstream error")
    }
}
impl std::error::Error for DownstreamError {}

#[inline(never)]
async fn downstream(x: u64) -> Result<u64, DownstreamError> {
    Ok(black_box(x))
}

fn ours() -> Pipeline<u64, DownstreamError> {
    Pipeline::builder("bench")
        .retry(
            RetryPolicy::builder()
                .max_attempts(3)
                .backoff(Backoff::exponential(Duration::from_millis(10)).build().unwrap())
                .build()
                .unwrap(),
        )
        .breaker(
            CircuitBreaker::builder("bench")
                .failure_threshold(5)
                .build()
                .unwrap(),
        )
        .timeout(Duration::from_secs(1))
        .bulkhead(Bulkhead::builder("bench").max_concurrent(100).build().unwrap())
        .build()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();

    let pipeline = ours();

    use tower_resilience::bulkhead::BulkheadLayer;
    use tower_resilience::circuitbreaker::CircuitBreakerLayer;
    use tower_resilience::retry::RetryLayer;
    use tower_resilience::timelimiter::TimeLimiterLayer;
    let svc = rt.block_on(async {
        ServiceBuilder::new()
            .layer(
                RetryLayer::builder()
                    .max_attempts(3)
                    .exponential_backoff(Duration::from_millis(10))
                    .build(),
            )
            .layer(
                CircuitBreakerLayer::builder()
                    .consecutive_failures(5)
                    .build()
                    .unwrap(),
            )
            .layer(
                TimeLimiterLayer::builder()
                    .timeout_duration(Duration::from_secs(1))
                    .build(),
            )
            .layer(
                BulkheadLayer::builder()
                    .max_concurrent_calls(100)
                    .build()
                    .unwrap(),
            )
            .service(tower::service_fn(downstream))
    });

    let bare_allocs = allocs_per_call(|| {
        rt.block_on(async { black_box(downstream(1).await.unwrap()) });
    });
    let ours_allocs = allocs_per_call(|| {
        rt.block_on(async { black_box(pipeline.call(|| downstream(1)).await.unwrap()) });
    });
    let tower_allocs = allocs_per_call(|| {
        let mut svc = svc.clone();
        rt.block_on(async { black_box(svc.ready().await.unwrap().call(1).await.unwrap()) });
    });
    eprintln!(
        "allocations per call (block_on included): bare {bare_allocs:.2}, cb pipeline {ours_allocs:.2}, \
         tower-resilience {tower_allocs:.2}"
    );

    let mut g = c.benchmark_group("pipeline_success");
    g.bench_function("bare_call", |b| {
        b.to_async(&rt).iter(|| async { black_box(downstream(1).await) })
    });
    g.bench_function("cb_pipeline", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(pipeline.call(|| downstream(1)).await) })
    });
    g.bench_function("tower_resilience_0_13", |b| {
        b.to_async(&rt).iter(|| {
            let mut svc = svc.clone();
            async move { black_box(svc.ready().await.unwrap().call(1).await) }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
