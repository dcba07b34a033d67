//! What `#[circuit_breaker]` adds per call: a generated function against
//! the hand-written `breaker.call(...)` on a breaker held in a static, and a
//! bare call, in one run (async and blocking). Also counts heap allocations.
//!
//! `cargo bench -p cb-bench --bench macros`; results in `benches/MACROS.md`.

#![allow(clippy::unwrap_used, missing_docs)] // a benchmark: a bad setup should stop it loudly

use std::hint::black_box;
use std::sync::OnceLock;

use cb_core::{CircuitBreaker, Registry, circuit_breaker};
use criterion::{Criterion, criterion_group, criterion_main};

use cb_tests::alloc::allocs_per_call;

#[global_allocator]
static GLOBAL: cb_tests::alloc::Counting = cb_tests::alloc::Counting;

#[derive(Debug)]
struct DownstreamError;

#[inline(never)]
async fn downstream(x: u64) -> Result<u64, DownstreamError> {
    Ok(black_box(x))
}

#[inline(never)]
fn downstream_sync(x: u64) -> Result<u64, DownstreamError> {
    Ok(black_box(x))
}

#[circuit_breaker(name = "bench.macro", failure_threshold = 5)]
async fn generated(x: u64) -> Result<u64, DownstreamError> {
    downstream(x).await
}

#[circuit_breaker(name = "bench.macro_sync", failure_threshold = 5)]
fn generated_sync(x: u64) -> Result<u64, DownstreamError> {
    downstream_sync(x)
}

/// The hand-written equivalent: a breaker built once, kept in a static.
fn hand_written() -> &'static CircuitBreaker {
    static B: OnceLock<CircuitBreaker> = OnceLock::new();
    B.get_or_init(|| {
        Registry::global()
            .get_or_create("bench.hand", |b| b.failure_threshold(5))
            .unwrap()
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let hand = hand_written();

    let bare = allocs_per_call(|| {
        rt.block_on(async { black_box(downstream(1).await.unwrap()) });
    });
    let by_hand = allocs_per_call(|| {
        rt.block_on(async { black_box(hand.call(downstream(1)).await.unwrap()) });
    });
    let by_macro = allocs_per_call(|| {
        rt.block_on(async { black_box(generated(1).await.unwrap()) });
    });
    let by_macro_sync = allocs_per_call(|| {
        black_box(generated_sync(1).unwrap());
    });
    eprintln!(
        "allocations per call (block_on included): bare {bare:.2}, hand-written {by_hand:.2}, \
         #[circuit_breaker] {by_macro:.2}, #[circuit_breaker] fn {by_macro_sync:.2}"
    );

    let mut g = c.benchmark_group("macro_async");
    g.bench_function("bare_call", |b| {
        b.to_async(&rt).iter(|| async { black_box(downstream(1).await) })
    });
    g.bench_function("hand_written_breaker_call", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(hand.call(downstream(1)).await) })
    });
    g.bench_function("circuit_breaker_macro", |b| {
        b.to_async(&rt).iter(|| async { black_box(generated(1).await) })
    });
    g.finish();

    let mut g = c.benchmark_group("macro_sync");
    g.bench_function("bare_call", |b| b.iter(|| black_box(downstream_sync(1))));
    g.bench_function("hand_written_breaker_call_sync", |b| {
        b.iter(|| black_box(hand.call_sync(|| downstream_sync(1))))
    });
    g.bench_function("circuit_breaker_macro", |b| {
        b.iter(|| black_box(generated_sync(1)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
