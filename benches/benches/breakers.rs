//! `cargo bench -p cb-bench`: every subject on every scenario, in one run.
//!
//! - `closed/<subject>`: closed breaker, every call succeeds, one thread;
//! - `closed-2t/<subject>`: two threads on ONE shared breaker; the time
//!   reported per call is elapsed / (2 N), so aggregate calls/s = 1 / that;
//! - `open/<subject>` (and `open/<subject>-forced` for cb-core's forced-open
//!   state): every call is rejected, one thread.
//!
//! The async subjects (`bare-await`, `cb-async`, `failsafe-async`,
//! `recloser-async`, `seatbelt-async`; `tower-resilience` is async already)
//! run in those groups
//! as one task polled without a runtime, and in one more:
//!
//! - `tokio-2w64t/<subject>`: a tokio runtime with 2 workers, 64 tasks
//!   sharing one breaker, each awaiting its share of the calls; the time
//!   reported per call is worker time (2 x elapsed) / calls, so the
//!   breaker's cost is the difference to `bare-await`.
//!
//! `benches/summarize.py` turns criterion's medians into the RESULTS.md tables.

use std::hint::black_box;
use std::time::Duration;

use cb_bench::async_subject::{AsyncKind, AsyncSubject, AsyncVisit, build_async, run_tasks};
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

/// Workers of the tokio runtime in `tokio-2w64t`.
const WORKERS: usize = 2;
/// Tasks sharing one breaker in `tokio-2w64t`.
const TASKS: u64 = 64;

/// The multi-task workload on a tokio runtime of [`WORKERS`] workers.
struct Tokio<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    runtime: &'g tokio::runtime::Runtime,
    id: String,
}

impl AsyncVisit for Tokio<'_, '_> {
    type Out = ();

    fn visit<A: AsyncSubject>(self, a: A) {
        let rt = self.runtime;
        self.group.bench_function(self.id, |b| {
            b.iter_custom(|iters| {
                let per_task = iters.div_ceil(TASKS);
                let elapsed = run_tasks(rt, &a, TASKS, per_task);
                // Worker time: both workers run for the whole span.
                let worker = elapsed * WORKERS as u32;
                // Criterion divides by `iters`; the tasks made `per_task * TASKS`.
                worker.mul_f64(iters as f64 / (per_task * TASKS) as f64)
            })
        });
    }
}

fn tokio_workload(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .expect("a tokio runtime");
    let mut group = c.benchmark_group("tokio-2w64t");
    for kind in AsyncKind::ALL {
        let id = kind.name().to_owned();
        build_async(
            kind,
            Start::Closed,
            Tokio {
                group: &mut group,
                runtime: &runtime,
                id,
            },
        );
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
    targets = closed, closed_two_threads, open, tokio_workload
}
criterion_main!(benches);
