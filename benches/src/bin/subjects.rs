//! Runs N calls of one subject in one scenario, for `valgrind --tool=callgrind`.
//!
//! ```text
//! subjects list                       # every "subject scenario" pair, one a line
//! subjects run <subject> <scenario> <N>
//! subjects scale <subject> <N> <ROUNDS>   # 1 vs 2 pinned threads, long runs
//! subjects versus <subject> <N> <ROUNDS>  # open rejection vs closed success, interleaved
//! subjects cpus <subject> <N> <ROUNDS>    # each CPU alone, then both, per-thread rates
//! subjects host <CPU> <ROUNDS>            # is the host's core shared? (x86_64)
//! subjects tokio <async subject> <N>      # N awaited calls: 2 tokio workers, 64 tasks, one breaker
//! subjects sizes                          # bytes of each breaker's call future and of cb's output
//! subjects stack <row> <N>                # N awaited calls of one template-stack row, one runtime
//! ```
//!
//! `callgrind.sh` runs each pair at two N's and divides the difference in
//! instructions by the difference in N, so building the subject, tripping it
//! and process start-up cancel out. Uses the system allocator, like the
//! criterion bench.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use cb_bench::async_subject::{AsyncKind, AsyncSubject, AsyncVisit, build_async, run_tasks};
use cb_bench::{Kind, Start, Subject, Visit, build};

struct Run {
    n: u64,
}

/// One thread against two threads on ONE breaker, each pinned to its own
/// CPU, in `rounds` groups of short bursts of `n` calls per thread: one
/// thread alone on CPU 0, one alone on CPU 1, and both together, in an order
/// that rotates from group to group.
///
/// A group's ratio is the pair's throughput while both ran (the calls both
/// had completed when the first finished, over the time from the first start
/// to that moment) against the mean rate of a lone thread on either CPU; the
/// median over the groups is the figure. This machine's vCPUs share physical
/// cores with other tenants' threads, which slows a high-IPC loop such as a
/// breaker's success path by up to 2.5x on one CPU for seconds at a time
/// (`subjects host`); a group lasts tens of milliseconds, so both sides of
/// its ratio see the same host, CPU by CPU. Also printed: the ratio by wall
/// time (2N over first start to last end), which a slowed CPU holds back.
struct Scale {
    n: u64,
    rounds: u32,
}

impl Visit for Scale {
    type Out = ();

    fn visit<S: Subject>(self, s: S) {
        let n = self.n as f64;
        let lone = |cpu: usize| cb_bench::run_pinned_on(&s, &[cpu], self.n)[0].rate(self.n);
        let (mut alone, mut pairs, mut by_overlap, mut by_wall) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for group in 0..self.rounds {
            let (mut a0, mut a1, mut both) = (0.0, 0.0, Vec::new());
            for step in 0..3 {
                match (step + group) % 3 {
                    0 => a0 = lone(0),
                    1 => a1 = lone(1),
                    _ => both = cb_bench::run_pinned_on(&s, &[0, 1], self.n),
                }
            }
            let one = (a0 + a1) / 2.0;
            let first = both.iter().map(|s| s.start).min().expect("two workers");
            let first_end = both.iter().map(|s| s.end).min().expect("two workers");
            let last_end = both.iter().map(|s| s.end).max().expect("two workers");
            let calls: u64 = both.iter().map(|s| s.calls_by_first_end).sum();
            let pair = calls as f64 / (first_end - first).as_secs_f64() / 1e6;
            let wall = 2.0 * n / (last_end - first).as_secs_f64() / 1e6;
            alone.push(one);
            pairs.push(pair);
            by_overlap.push(pair / one);
            by_wall.push(wall / one);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let ratio = median(&mut by_overlap);
        let (lo, hi) = (
            by_overlap[by_overlap.len() / 10],
            by_overlap[by_overlap.len() * 9 / 10],
        );
        println!(
            "1 thread {:.1} M calls/s, 2 threads {:.1} M calls/s (medians of {} groups)",
            median(&mut alone),
            median(&mut pairs),
            self.rounds
        );
        println!("ratio while both ran: median {ratio:.2}, groups p10 {lo:.2} p90 {hi:.2}");
        println!("ratio by wall time: median {:.2}", median(&mut by_wall));
    }
}

/// Diagnostic: per round, one thread on each CPU alone, then both together,
/// with each worker's own rate.
struct Cpus {
    n: u64,
    rounds: u32,
}

impl Visit for Cpus {
    type Out = ();

    fn visit<S: Subject>(self, s: S) {
        let rate = |span: &cb_bench::Span| span.rate(self.n);
        for round in 1..=self.rounds {
            let a = rate(&cb_bench::run_pinned_on(&s, &[0], self.n)[0]);
            let b = rate(&cb_bench::run_pinned_on(&s, &[1], self.n)[0]);
            let both = cb_bench::run_pinned_on(&s, &[0, 1], self.n);
            let (x, y) = (rate(&both[0]), rate(&both[1]));
            println!(
                "round {round}: cpu0 alone {a:.1}, cpu1 alone {b:.1}, together {x:.1} + {y:.1} = {:.1} M calls/s",
                x + y
            );
        }
    }
}

/// Host check: the same CPU runs two register-only loops of fixed work, one
/// wide (12 independent ALU instructions per iteration, limited by how many
/// instructions the core issues per cycle) and one narrow (a chain of
/// dependent multiplies, limited by their latency). A physical core shared
/// with another tenant's busy thread slows the wide loop by up to 2.5x and
/// leaves the narrow one alone; a slower clock would slow both. Prints ns
/// per iteration of each, per round, on CPU `cpu`.
#[cfg(target_arch = "x86_64")]
fn host(cpu: usize, rounds: u32) {
    const N: u64 = 100_000_000;
    cb_bench::pin_to_cpu(cpu);
    let time = |wide: bool| {
        let start = Instant::now();
        let (mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h) =
            (1u64, 2u64, 3u64, 4u64, 5u64, 6u64, 7u64, 8u64);
        for _ in 0..N {
            if wide {
                // SAFETY: register arithmetic only; no memory, no stack, no flags kept.
                #[allow(unsafe_code)]
                unsafe {
                    std::arch::asm!(
                        "add {a}, 1", "add {b}, 3", "add {c}, 5", "add {d}, 7",
                        "add {e}, 1", "add {f}, 3", "add {g}, 5", "add {h}, 7",
                        "xor {a}, {b}", "xor {c}, {d}", "xor {e}, {f}", "xor {g}, {h}",
                        a = inout(reg) a, b = inout(reg) b, c = inout(reg) c, d = inout(reg) d,
                        e = inout(reg) e, f = inout(reg) f, g = inout(reg) g, h = inout(reg) h,
                        options(nomem, nostack),
                    );
                }
            } else {
                // SAFETY: as above.
                #[allow(unsafe_code)]
                unsafe {
                    std::arch::asm!(
                        "imul {a}, {a}", "add {a}, 1", "imul {a}, {a}", "add {a}, 1",
                        a = inout(reg) a,
                        options(nomem, nostack),
                    );
                }
            }
        }
        black_box((a, b, c, d, e, f, g, h));
        start.elapsed().as_secs_f64() * 1e9 / N as f64
    };
    for round in 1..=rounds {
        let (wide, narrow) = (time(true), time(false));
        println!("round {round}: cpu{cpu} wide {wide:.2} ns/iter, narrow {narrow:.2} ns/iter");
    }
}

impl Visit for Run {
    type Out = u64;

    fn visit<S: Subject>(self, mut s: S) -> u64 {
        let mut ran = 0;
        for _ in 0..self.n {
            ran += u64::from(black_box(s.call(black_box(1))).is_some());
        }
        ran
    }
}

/// The closed success and the open rejection of one subject, measured in
/// alternating order, `rounds` times, on one pinned thread: the ratio of the
/// two within a round does not move with the host's speed from minute to
/// minute, as two separately timed criterion benchmarks do.
struct Versus {
    kind: Kind,
    n: u64,
    rounds: u32,
}

impl Visit for Versus {
    type Out = ();

    fn visit<S: Subject>(self, closed: S) {
        let (n, rounds) = (self.n, self.rounds);
        build(self.kind, Start::Open, VersusOpen { closed, n, rounds });
    }
}

struct VersusOpen<C> {
    closed: C,
    n: u64,
    rounds: u32,
}

fn ns_per_call<S: Subject>(s: &mut S, n: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(s.call(black_box(1)));
    }
    start.elapsed().as_secs_f64() * 1e9 / n as f64
}

impl<C: Subject> Visit for VersusOpen<C> {
    type Out = ();

    fn visit<S: Subject>(self, mut open: S) {
        let mut closed = self.closed;
        cb_bench::pin_to_cpu(0);
        // Warm-up: caches, branch predictors, and (cb-core) the rejection cache.
        ns_per_call(&mut closed, self.n);
        ns_per_call(&mut open, self.n);
        let (mut cs, mut os, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 1..=self.rounds {
            let (c, o) = if round % 2 == 1 {
                let c = ns_per_call(&mut closed, self.n);
                (c, ns_per_call(&mut open, self.n))
            } else {
                let o = ns_per_call(&mut open, self.n);
                (ns_per_call(&mut closed, self.n), o)
            };
            println!(
                "round {round}: closed {c:.2} ns, open {o:.2} ns, open/closed {:.2}",
                o / c
            );
            cs.push(c);
            os.push(o);
            ratios.push(o / c);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "median closed {:.2} ns, open {:.2} ns, open/closed {:.2}",
            median(&mut cs),
            median(&mut os),
            median(&mut ratios)
        );
    }
}

/// The multi-task tokio workload (2 workers, 64 tasks on one breaker), N
/// calls in all: run under callgrind at two N's, it gives the instructions
/// per call of the whole workload, runtime included.
struct TokioRun {
    n: u64,
}

impl AsyncVisit for TokioRun {
    type Out = ();

    fn visit<A: AsyncSubject>(self, a: A) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("a tokio runtime");
        let elapsed = run_tasks(&runtime, &a, 64, self.n.div_ceil(64));
        println!("n={} elapsed={elapsed:?}", self.n);
    }
}

/// The size in bytes of the future each breaker's async call returns for
/// `async move { op(x) }`, and of that future's output: what an executor
/// moves into a task and reads back per call.
fn sizes() {
    use failsafe::futures::CircuitBreaker as _;
    let fut = |x: u64| async move { cb_bench::op(x) };
    let cb = cb_core::CircuitBreaker::builder("sizes")
        .build()
        .expect("a valid configuration");
    let failsafe = failsafe::Config::new().build();
    let recloser = recloser::AsyncRecloser::from(recloser::Recloser::custom().build());
    let call = cb.call(fut(1));
    println!("bare future: {} bytes", std::mem::size_of_val(&fut(1)));
    println!(
        "cb-async: future {} bytes, output {} bytes",
        std::mem::size_of_val(&call),
        std::mem::size_of::<Result<u64, cb_core::Error<cb_bench::subject::Fail>>>()
    );
    drop(call);
    println!(
        "failsafe-async: future {} bytes",
        std::mem::size_of_val(&failsafe.call(fut(1)))
    );
    println!(
        "recloser-async: future {} bytes",
        std::mem::size_of_val(&recloser.call(fut(1)))
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["list"] => {
            for kind in Kind::ALL {
                for start in Start::ALL {
                    if build(kind, start, Run { n: 0 }).is_some() {
                        println!("{} {}", kind.name(), start.name());
                    }
                }
            }
            ExitCode::SUCCESS
        }
        ["run", kind, start, n] => {
            let (Some(kind), Some(start), Ok(n)) =
                (Kind::from_name(kind), Start::from_name(start), n.parse())
            else {
                eprintln!("unknown subject or scenario, or N is not a number; try `subjects list`");
                return ExitCode::FAILURE;
            };
            match build(kind, start, Run { n }) {
                Some(ran) => {
                    println!("{} {} n={n} ran={ran}", kind.name(), start.name());
                    ExitCode::SUCCESS
                }
                None => {
                    eprintln!("{} has no {} scenario", kind.name(), start.name());
                    ExitCode::FAILURE
                }
            }
        }
        ["scale", kind, n, rounds] => {
            let (Some(kind), Ok(n), Ok(rounds)) = (Kind::from_name(kind), n.parse(), rounds.parse()) else {
                eprintln!("unknown subject, or N or ROUNDS is not a number; try `subjects list`");
                return ExitCode::FAILURE;
            };
            build(kind, Start::Closed, Scale { n, rounds });
            ExitCode::SUCCESS
        }
        ["cpus", kind, n, rounds] => {
            let (Some(kind), Ok(n), Ok(rounds)) = (Kind::from_name(kind), n.parse(), rounds.parse()) else {
                eprintln!("unknown subject, or N or ROUNDS is not a number; try `subjects list`");
                return ExitCode::FAILURE;
            };
            build(kind, Start::Closed, Cpus { n, rounds });
            ExitCode::SUCCESS
        }
        #[cfg(target_arch = "x86_64")]
        ["host", cpu, rounds] => {
            let (Ok(cpu), Ok(rounds)) = (cpu.parse(), rounds.parse()) else {
                eprintln!("CPU or ROUNDS is not a number");
                return ExitCode::FAILURE;
            };
            host(cpu, rounds);
            ExitCode::SUCCESS
        }
        ["versus", kind, n, rounds] => {
            let (Some(kind), Ok(n), Ok(rounds)) = (Kind::from_name(kind), n.parse(), rounds.parse()) else {
                eprintln!("unknown subject, or N or ROUNDS is not a number; try `subjects list`");
                return ExitCode::FAILURE;
            };
            if build(kind, Start::Closed, Versus { kind, n, rounds }).is_none() {
                eprintln!("{} has no closed scenario", kind.name());
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        ["tokio", kind, n] => {
            let (Some(kind), Ok(n)) = (AsyncKind::from_name(kind), n.parse::<u64>()) else {
                eprintln!("unknown async subject, or N is not a number");
                return ExitCode::FAILURE;
            };
            build_async(kind, Start::Closed, TokioRun { n });
            ExitCode::SUCCESS
        }
        ["stack", row, n] => {
            let (Some(row), Ok(n)) = (cb_bench::stack::Row::from_name(row), n.parse::<u64>()) else {
                eprintln!(
                    "unknown stack row, or N is not a number; rows: bare-breaker template pipeline tower-resilience retried"
                );
                return ExitCode::FAILURE;
            };
            let ok = cb_bench::stack::stack().run(row, n);
            println!("{} n={n} ok={ok}", row.name());
            ExitCode::SUCCESS
        }
        ["sizes"] => {
            sizes();
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "usage: subjects list | subjects sizes | subjects stack <row> <N> | subjects tokio <async subject> <N> | subjects run <subject> <scenario> <N> | subjects scale <subject> <N> <ROUNDS> | subjects versus <subject> <N> <ROUNDS> | subjects cpus <subject> <N> <ROUNDS> | subjects host <CPU> <ROUNDS>"
            );
            ExitCode::FAILURE
        }
    }
}
