//! The fail-fast path as a user's crate gets it: this binary calls cb-core
//! the way an application does (cb-core a separate crate, its code reached
//! through `#[inline]` hints only) and is built with the `nolto` profile (no
//! LTO, 16 codegen units: cargo's release defaults, pinned so that a change
//! to the workspace's release profile does not change this measurement).
//!
//! ```sh
//! cargo build -p cb-bench --profile nolto --bin reject_nolto
//! benches/reject_nolto.sh            # instructions per call under callgrind
//! target/nolto/reject_nolto time 5000000 9   # interleaved timing, open/closed ratios
//! ```
//!
//! `run <sync|async> <closed|open|forced-open> <cache-on|cache-off> <N>` makes
//! N calls of one kind (for callgrind: run it at two N's and divide the
//! difference); `time <N> <ROUNDS>` times closed successes against open
//! rejections, alternating, and prints the ratios.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::process::ExitCode;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use cb_core::CircuitBreaker;
use cb_core::clock::{rejection_cache_running, set_rejection_cache};

/// The protected operation: the same for every call, not inlined.
#[inline(never)]
fn op(x: u64) -> Result<u64, ()> {
    Ok(x)
}

/// Polls `fut` to its end with a no-op waker: no runtime, so an async call
/// counts the breaker's instructions only.
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Path {
    Sync,
    Async,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Closed,
    Open,
    ForcedOpen,
}

fn breaker(state: State) -> CircuitBreaker {
    let b = CircuitBreaker::builder("reject-nolto")
        .build()
        .expect("a valid configuration");
    match state {
        State::Closed => {}
        State::Open => b.open_for(Some(Duration::from_secs(3600))),
        State::ForcedOpen => b.force_open(),
    }
    b
}

/// One call; `true` when it ran (closed), `false` when it was rejected.
#[inline]
fn call(b: &CircuitBreaker, path: Path) -> bool {
    match path {
        Path::Sync => call_sync(b),
        Path::Async => call_async(b),
    }
}

/// A sync call site of its own, as in a user's function: what the compiler
/// makes of it does not depend on the async one.
#[inline(never)]
fn call_sync(b: &CircuitBreaker) -> bool {
    let x = black_box(1);
    b.call_sync(|| op(x)).is_ok()
}

/// An async call site of its own, awaited without a runtime.
#[inline(never)]
fn call_async(b: &CircuitBreaker) -> bool {
    let x = black_box(1);
    block_on(b.call(async move { op(x) })).is_ok()
}

/// Sets the rejection cache and, when on, rejects until a storm has started
/// it, so that the measured calls all see it running.
fn cache(on: bool) {
    set_rejection_cache(on);
    if !on {
        return;
    }
    let open = breaker(State::Open);
    for _ in 0..10_000 {
        if rejection_cache_running() {
            return;
        }
        for _ in 0..2_000 {
            black_box(open.try_acquire().is_ok());
        }
    }
    eprintln!("warning: the rejection cache did not start");
}

fn run(path: Path, state: State, n: u64) -> u64 {
    let b = breaker(state);
    let expect = state == State::Closed;
    let mut ran = 0;
    for _ in 0..n {
        let ok = call(&b, path);
        assert_eq!(ok, expect, "the breaker must be in the state measured");
        ran += u64::from(ok);
    }
    ran
}

fn ns_per_call(b: &CircuitBreaker, path: Path, n: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(call(b, path));
    }
    start.elapsed().as_secs_f64() * 1e9 / n as f64
}

/// Closed successes against open rejections, alternating which goes first,
/// `rounds` times per path and cache setting; prints the median ratio.
fn time(n: u64, rounds: u32) {
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for on in [false, true] {
        cache(on);
        for (path, name) in [(Path::Sync, "sync"), (Path::Async, "async")] {
            let (closed, open) = (breaker(State::Closed), breaker(State::Open));
            ns_per_call(&closed, path, n);
            ns_per_call(&open, path, n);
            let (mut cs, mut os, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for round in 0..rounds {
                let (c, o) = if round % 2 == 0 {
                    let c = ns_per_call(&closed, path, n);
                    (c, ns_per_call(&open, path, n))
                } else {
                    let o = ns_per_call(&open, path, n);
                    (ns_per_call(&closed, path, n), o)
                };
                cs.push(c);
                os.push(o);
                ratios.push(o / c);
            }
            println!(
                "{name} cache-{}: closed {:.2} ns, open {:.2} ns, open/closed {:.2} (medians of {rounds})",
                if on { "on" } else { "off" },
                median(&mut cs),
                median(&mut os),
                median(&mut ratios)
            );
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["run", path, state, cache_setting, n] => {
            let path = match *path {
                "sync" => Path::Sync,
                "async" => Path::Async,
                _ => return usage(),
            };
            let state = match *state {
                "closed" => State::Closed,
                "open" => State::Open,
                "forced-open" => State::ForcedOpen,
                _ => return usage(),
            };
            let on = match *cache_setting {
                "cache-on" => true,
                "cache-off" => false,
                _ => return usage(),
            };
            let Ok(n) = n.parse() else { return usage() };
            cache(on);
            let ran = run(path, state, n);
            println!("n={n} ran={ran} cache_running={}", rejection_cache_running());
            ExitCode::SUCCESS
        }
        ["time", n, rounds] => {
            let (Ok(n), Ok(rounds)) = (n.parse(), rounds.parse()) else {
                return usage();
            };
            time(n, rounds);
            ExitCode::SUCCESS
        }
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: reject_nolto run <sync|async> <closed|open|forced-open> <cache-on|cache-off> <N> | reject_nolto time <N> <ROUNDS>"
    );
    ExitCode::FAILURE
}
