//! Runs N calls of one subject in one scenario, for `valgrind --tool=callgrind`.
//!
//! ```text
//! subjects list                       # every "subject scenario" pair, one a line
//! subjects run <subject> <scenario> <N>
//! subjects scale <subject> <N> <ROUNDS>   # 1 vs 2 pinned threads, long runs
//! subjects versus <subject> <N> <ROUNDS>  # open rejection vs closed success, interleaved
//! ```
//!
//! `callgrind.sh` runs each pair at two N's and divides the difference in
//! instructions by the difference in N, so building the subject, tripping it
//! and process start-up cancel out. Uses the system allocator, like the
//! criterion bench.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use cb_bench::{Kind, Start, Subject, Visit, build};

struct Run {
    n: u64,
}

/// One thread, then two threads on one breaker, each pinned to its own CPU,
/// `n` calls per thread, `rounds` times interleaved; prints calls/s and ratios.
struct Scale {
    n: u64,
    rounds: u32,
}

impl Visit for Scale {
    type Out = ();

    fn visit<S: Subject>(self, s: S) {
        let timed = |threads: usize| -> f64 {
            let elapsed = cb_bench::run_pinned(&s, threads, self.n);
            (threads as f64 * self.n as f64) / elapsed.as_secs_f64() / 1e6
        };
        let mut ratios = Vec::new();
        for round in 1..=self.rounds {
            let one = timed(1);
            let two = timed(2);
            ratios.push(two / one);
            println!(
                "round {round}: 1 thread {one:.1} M calls/s, 2 threads {two:.1} M calls/s, ratio {:.2}",
                two / one
            );
        }
        ratios.sort_by(f64::total_cmp);
        println!("median ratio {:.2}", ratios[ratios.len() / 2]);
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
        _ => {
            eprintln!(
                "usage: subjects list | subjects run <subject> <scenario> <N> | subjects scale <subject> <N> <ROUNDS> | subjects versus <subject> <N> <ROUNDS>"
            );
            ExitCode::FAILURE
        }
    }
}
