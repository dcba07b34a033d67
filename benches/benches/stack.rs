//! The `ai_provider` template's whole stack (breaker, retry, call timeout,
//! bulkhead) on an async function that succeeds, against the bare async
//! breaker call, the same stack built by hand, tower-resilience's layers, and
//! a call that fails once and succeeds on an immediate retry; all in one run
//! on one tokio current-thread runtime. Also counts heap allocations per call.
//!
//! `cargo bench -p cb-bench --bench stack`; results in `benches/RESULTS.md`,
//! "The template's whole stack".

#![allow(clippy::unwrap_used)] // a benchmark: a bad setup should stop it loudly

use std::hint::black_box;

use cb_bench::stack::{Row, stack};
use criterion::{Criterion, criterion_group, criterion_main};

use cb_tests::alloc::allocs_per_call;

#[global_allocator]
static GLOBAL: cb_tests::alloc::Counting = cb_tests::alloc::Counting;

fn bench(c: &mut Criterion) {
    let s = stack();
    let rt = s.runtime();
    for row in Row::ALL {
        assert_eq!(s.run(row, 10), 10, "{} must succeed", row.name());
        let allocs = allocs_per_call(|| {
            rt.block_on(async { black_box(s.call(row, 1).await) });
        });
        eprintln!(
            "allocations per call (block_on included): {} {allocs:.2}",
            row.name()
        );
    }
    let mut g = c.benchmark_group("template_stack");
    for row in Row::ALL {
        g.bench_function(row.name(), |b| {
            b.to_async(rt)
                .iter(|| async { black_box(s.call(row, black_box(1)).await) })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
