//! The main demo: a breaker in front of a flaky downstream trips, rejects
//! fast while open, probes after its open duration and recovers. It runs on
//! tokio's paused clock, so a minute of simulated time takes milliseconds and
//! the timeline is the same on every run.
//!
//! Run it with `cargo run -p cb-examples --example demo`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cb_core::{CircuitBreaker, Error, EventKind, State};

#[derive(Debug)]
struct Unavailable;

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("503 Service Unavailable")
    }
}

/// The downstream: healthy, then down between t=2 s and t=40 s, then healthy.
async fn downstream(start: tokio::time::Instant) -> Result<&'static str, Unavailable> {
    tokio::time::sleep(Duration::from_millis(120)).await;
    let t = start.elapsed();
    if t >= Duration::from_secs(2) && t < Duration::from_secs(40) {
        Err(Unavailable)
    } else {
        Ok("200 OK")
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()?;
    runtime.block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let start = tokio::time::Instant::now();
    let stamp = move || format!("t={:>6.2}s", start.elapsed().as_secs_f64());
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));

    let breaker = CircuitBreaker::builder("inventory-api")
        .failure_threshold(3)
        .open_duration(Duration::from_secs(15))
        .half_open_max_calls(1)
        .success_threshold(2)
        .build()?;
    let log = lines.clone();
    breaker.subscribe(move |e: &cb_core::Event| {
        if let EventKind::Transition { from, to, reason } = &e.kind {
            let line = format!(
                "t={:>6.2}s  ── {from} → {to} ({reason})",
                start.elapsed().as_secs_f64()
            );
            log.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        }
    });

    println!(
        "cb demo: breaker `inventory-api` (trip after 3 consecutive failures, open 15 s, close after 2 good probes)"
    );
    println!("the downstream is down from t=2s to t=40s\n");
    let mut rejected_in_a_row = 0u32;
    for _ in 0..56 {
        let before = tokio::time::Instant::now();
        let result = breaker.call(downstream(start)).await;
        let took = before.elapsed();
        let transitions: Vec<String> = lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        if !transitions.is_empty() {
            flush_rejections(&mut rejected_in_a_row);
        }
        for line in transitions {
            println!("{line}");
        }
        match result {
            Ok(body) => {
                flush_rejections(&mut rejected_in_a_row);
                println!(
                    "{}  call ok      {body} in {took:?} [{}]",
                    stamp(),
                    breaker.state()
                );
            }
            Err(Error::Inner(e)) => {
                flush_rejections(&mut rejected_in_a_row);
                println!("{}  call failed  {e} in {took:?} [{}]", stamp(), breaker.state());
            }
            Err(Error::Rejected(r)) => {
                if rejected_in_a_row == 0 {
                    println!("{}  rejected     in {took:?}, no downstream call: {r}", stamp());
                }
                rejected_in_a_row += 1;
            }
            Err(other) => println!("{}  error {other}", stamp()),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    flush_rejections(&mut rejected_in_a_row);

    let m = breaker.metrics();
    println!(
        "\nfinal state {}; {} calls: {} ok, {} failed, {} rejected without touching the downstream",
        m.state,
        m.calls.calls_total(),
        m.calls.successes,
        m.calls.failures,
        m.calls.rejected()
    );
    // The story the timeline tells, checked (CI runs this demo).
    assert_eq!(m.state, State::Closed, "recovered");
    assert_eq!(
        m.transitions_between(State::Closed, State::Open),
        1,
        "tripped once"
    );
    assert!(m.calls.rejected() > 0, "rejected while open");
    assert_eq!(
        m.transitions_between(State::HalfOpen, State::Closed),
        1,
        "closed by its probes"
    );
    Ok(())
}

fn flush_rejections(n: &mut u32) {
    if *n > 1 {
        println!("           … and {} more calls rejected the same way", *n - 1);
    }
    *n = 0;
}
