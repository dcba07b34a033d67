//! Memory per breaker and heap allocations per call, as markdown tables.
//!
//! ```text
//! cargo run -p cb-bench --release --bin memory
//! ```
//!
//! Heap figures come from the counting global allocator the tests use
//! (`cb_tests::alloc`), which counts the main thread: the live bytes a
//! breaker holds after it is built and its window has been filled with
//! successful calls, so lazily grown buffers are included. For cb-core they
//! are shown next to what `memory_usage()` reports, and, by CPU count, from
//! the counters' sizing rule (`cb_core::metrics::counter_heap_bytes`), since
//! a breaker's counter stripes are the only part that depends on the CPUs.

use std::hint::black_box;
use std::mem::size_of;

use cb_bench::subject::{
    BareService, FailsafeConsecutive, FailsafeDefaultPolicy, OPEN_FOR, TowerBreaker, op,
};
use cb_bench::{Kind, Start, Subject, Visit, build};
use cb_tests::alloc::{Counting, allocs_per_call, measure};
use failsafe::CircuitBreaker as _;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Live heap bytes held by what `make` returns, after `fill` calls through it.
///
/// A throw-away round goes first, so that what a crate allocates once per
/// process or per thread (crossbeam-epoch's thread record, a thread's counter
/// slot) is not charged to the breaker.
fn heap_of<T>(make: impl Fn() -> T, fill: impl Fn(&T)) -> (T, i64) {
    let warm = make();
    fill(&warm);
    drop(warm);
    let (t, counts) = measure(|| {
        let t = make();
        fill(&t);
        t
    });
    (t, counts.net_bytes)
}

fn cb(window: Option<u32>) -> cb_core::CircuitBreaker {
    let b = cb_core::CircuitBreaker::builder("bench");
    let b = match window {
        Some(n) => b
            .no_failure_threshold()
            .failure_rate_threshold(0.5)
            .sliding_window_size(n)
            .minimum_calls(10),
        None => b.failure_threshold(5),
    };
    b.build().expect("a valid configuration")
}

fn fill_cb(n: u32) -> impl Fn(&cb_core::CircuitBreaker) {
    move |b| {
        for _ in 0..n {
            let _ = black_box(b.call_sync(|| op(1)));
        }
    }
}

fn fill_failsafe<P: failsafe::failure_policy::FailurePolicy>(b: &failsafe::StateMachine<P, ()>) {
    for _ in 0..100 {
        let _ = black_box(b.call(|| op(1)));
    }
}

fn recloser(n: usize) -> recloser::Recloser {
    recloser::Recloser::custom()
        .error_rate(0.5)
        .closed_len(n)
        .open_wait(OPEN_FOR)
        .build()
}

fn tower(n: usize) -> cb_bench::subject::TowerSvc<TowerBreaker> {
    let layer = tower_resilience::circuitbreaker::CircuitBreakerLayer::builder()
        .failure_rate_threshold(0.5)
        .sliding_window_size(n)
        .minimum_number_of_calls(10)
        .wait_duration_in_open(OPEN_FOR)
        .build()
        .expect("a valid configuration");
    let svc: BareService = tower::service_fn(|x| std::future::ready(op(x)));
    cb_bench::subject::TowerSvc(tower::Layer::layer(&layer, svc))
}

fn memory() {
    println!("## cb-core");
    println!();
    println!(
        "| configuration | size_of handle | memory_usage(): shared + heap | measured heap (allocator) |"
    );
    println!("|---|---:|---:|---:|");
    let mut heaps = Vec::new();
    for (label, window) in [
        ("consecutive (threshold 5)", None),
        ("count window 100", Some(100)),
        ("count window 10_000", Some(10_000)),
    ] {
        let fill = window.unwrap_or(100);
        let (b, heap) = heap_of(|| cb(window), fill_cb(fill));
        let m = b.memory_usage();
        println!(
            "| {label} | {} | {} + {} = {} | {heap} |",
            m.handle_bytes,
            m.shared_bytes,
            m.heap_bytes,
            m.shared_bytes + m.heap_bytes
        );
        heaps.push((m.shared_bytes + m.heap_bytes, heap));
    }
    by_cpus(heaps[0].1);
    let per = (heaps[2].0 as f64 - heaps[1].0 as f64) / 9_900.0;
    let per_measured = (heaps[2].1 - heaps[1].1) as f64 / 9_900.0;
    println!();
    println!(
        "Count window, bytes per outcome ((10_000 - 100) outcomes): {per:.2} by memory_usage(), {per_measured:.2} measured."
    );
    println!();

    println!("## Peers");
    println!();
    println!("| breaker | handle type | size_of handle | measured heap |");
    println!("|---|---|---:|---:|");
    let (_, h) = heap_of(
        || {
            let policy =
                failsafe::failure_policy::consecutive_failures(5, failsafe::backoff::constant(OPEN_FOR));
            failsafe::Config::new().failure_policy(policy).build()
        },
        fill_failsafe,
    );
    println!(
        "| failsafe, consecutive 5 | `StateMachine<ConsecutiveFailures<Constant>, ()>` | {} | {h} |",
        size_of::<failsafe::StateMachine<FailsafeConsecutive, ()>>()
    );
    let (_, h) = heap_of(|| failsafe::Config::new().build(), fill_failsafe);
    println!(
        "| failsafe, default policy | `StateMachine<OrElse<..>, ()>` | {} | {h} |",
        size_of::<failsafe::StateMachine<FailsafeDefaultPolicy, ()>>()
    );
    let mut rec = Vec::new();
    for n in [100, 10_000] {
        let (_, h) = heap_of(
            || recloser(n),
            |r| {
                for _ in 0..n {
                    let _ = black_box(r.call(|| op(1)));
                }
            },
        );
        println!(
            "| recloser, ring of {n} | `Recloser` (users share it in an `Arc`) | {} | {h} |",
            size_of::<recloser::Recloser>()
        );
        rec.push(h);
    }
    let mut tow = Vec::new();
    for n in [100, 10_000] {
        let (_, h) = heap_of(
            || tower(n),
            |t| {
                let mut t = t.clone();
                for _ in 0..n {
                    black_box(t.call(1));
                }
            },
        );
        println!(
            "| tower-resilience, count window {n} | `CircuitBreaker<ServiceFn<_>, DefaultClassifier>` | {} | {h} |",
            size_of::<TowerBreaker>()
        );
        tow.push(h);
    }
    println!();
    println!(
        "Bytes per outcome ((10_000 - 100) outcomes): recloser {:.2}, tower-resilience {:.2}.",
        (rec[1] - rec[0]) as f64 / 9_900.0,
        (tow[1] - tow[0]) as f64 / 9_900.0
    );
    println!();
}

/// The consecutive breaker's heap by CPU count: `idle` is its measured heap
/// on one thread (its counters then hold no heap on any machine); a second
/// thread counting through it adds the per-thread stripes the sizing rule
/// gives for that many CPUs.
fn by_cpus(idle: i64) {
    use cb_core::metrics::counter_heap_bytes;
    println!();
    println!("Consecutive breaker's heap by CPU count (sizing rule):");
    println!();
    println!("| CPUs | idle or one thread | called from two or more threads |");
    println!("|---:|---:|---:|");
    let here = std::thread::available_parallelism().map_or(1, |n| n.get());
    for cpus in [2, 16, 64] {
        let one = idle + (counter_heap_bytes(cpus, 1) as i64 - counter_heap_bytes(here, 1) as i64);
        println!(
            "| {cpus} | {one} | {} |",
            one + counter_heap_bytes(cpus, 2) as i64
        );
    }
}

/// Heap allocations per call, after a warm-up.
struct Allocs;

impl Visit for Allocs {
    type Out = f64;

    fn visit<S: Subject>(self, mut s: S) -> f64 {
        allocs_per_call(|| {
            black_box(s.call(black_box(1)));
        })
    }
}

fn allocs() {
    println!("## Heap allocations per call (one thread)");
    println!();
    println!("| subject | closed | open | forced-open |");
    println!("|---|---:|---:|---:|");
    for kind in Kind::ALL {
        let cells: Vec<String> = Start::ALL
            .into_iter()
            .map(|start| build(kind, start, Allocs).map_or("—".to_owned(), |a| format!("{a:.2}")))
            .collect();
        println!("| {} | {} |", kind.name(), cells.join(" | "));
    }
    println!();
}

fn main() {
    memory();
    allocs();
}
