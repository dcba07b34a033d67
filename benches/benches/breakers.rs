//! `cargo bench -p cb-bench`: every subject on every scenario, in one run.
//!
//! - `closed/<subject>`: closed breaker, every call succeeds, one thread;
//! - `closed-2t/<subject>`: two threads on ONE shared breaker; the time
//!   reported per call is elapsed / (2 N), so aggregate calls/s = 1 / that;
//! - `open/<subject>` (and `open/<subject>-forced` for cb-core's forced-open
//!   state): every call is rejected, one thread.
//!
//! `benches/summarize.py` turns criterion's medians into the RESULTS.md tables.

use std::hint::black_box;
use std::time::Duration;

use cb_bench::{Kind, Start, Subject, Visit, build};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};

/// One thread, `N` calls.
struct OneThread<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    id: String,
}

impl Visit for OneThread<'_, '_> {
    type Out = ();

    fn visit<S: Subject>(self, mut s: S) {
        self.group
            .bench_function(self.id, |b| b.iter(|| s.call(black_box(1))));
    }
}

/// Two threads on one breaker, started together behind a barrier.
struct TwoThreads<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    id: String,
}

impl Visit for TwoThreads<'_, '_> {
    type Out = ();

    fn visit<S: Subject>(self, s: S) {
        self.group
            .bench_function(self.id, |b| b.iter_custom(|iters| two_threads(&s, iters)));
    }
}

/// Runs `iters` calls on each of two threads sharing `s`'s breaker; returns
/// the wall time from the first thread's start to the last one's end, halved,
/// so that criterion's per-iteration figure is time per call in aggregate.
///
/// Each worker is pinned to its own CPU ([`cb_bench::pin_to_cpu`]), and the
/// two start together by spinning on a shared counter rather than waiting on a
/// `Barrier`: waking a parked thread on another (virtual) CPU takes tens of
/// microseconds, which skewed the starts and understated two-thread throughput
/// in short samples (the direct call, which shares nothing, measured only
/// 1.5x).
fn two_threads<S: Subject>(s: &S, iters: u64) -> Duration {
    cb_bench::run_pinned(s, 2, iters) / 2
}

fn closed(c: &mut Criterion) {
    // One-thread groups run on the main thread, pinned like the workers of
    // the two-thread group, so a migration between CPUs does not land in a sample.
    cb_bench::pin_to_cpu(0);
    let mut group = c.benchmark_group("closed");
    for kind in Kind::ALL {
        let id = kind.name().to_owned();
        build(
            kind,
            Start::Closed,
            OneThread {
                group: &mut group,
                id,
            },
        );
    }
    group.finish();
}

fn closed_two_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("closed-2t");
    for kind in Kind::ALL {
        let id = kind.name().to_owned();
        build(
            kind,
            Start::Closed,
            TwoThreads {
                group: &mut group,
                id,
            },
        );
    }
    group.finish();
}

fn open(c: &mut Criterion) {
    let mut group = c.benchmark_group("open");
    for kind in Kind::ALL {
        for (start, suffix) in [(Start::Open, ""), (Start::ForcedOpen, "-forced")] {
            let id = format!("{}{suffix}", kind.name());
            build(
                kind,
                start,
                OneThread {
                    group: &mut group,
                    id,
                },
            );
        }
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = closed, closed_two_threads, open
}
criterion_main!(benches);
