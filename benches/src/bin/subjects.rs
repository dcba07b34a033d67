//! Runs N calls of one subject in one scenario, for `valgrind --tool=callgrind`.
//!
//! ```text
//! subjects list                       # every "subject scenario" pair, one a line
//! subjects run <subject> <scenario> <N>
//! ```
//!
//! `callgrind.sh` runs each pair at two N's and divides the difference in
//! instructions by the difference in N, so building the subject, tripping it
//! and process start-up cancel out. Uses the system allocator, like the
//! criterion bench.

use std::hint::black_box;
use std::process::ExitCode;

use cb_bench::{Kind, Start, Subject, Visit, build};

struct Run {
    n: u64,
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
        _ => {
            eprintln!("usage: subjects list | subjects run <subject> <scenario> <N>");
            ExitCode::FAILURE
        }
    }
}
