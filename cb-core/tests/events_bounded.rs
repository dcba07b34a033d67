//! Event delivery stays bounded when a listener is far slower than the calls
//! it hears about. Found by porting another breaker library's suite: there,
//! one caller delivered for a whole storm while the queue grew without limit
//! (171 000 events in 100 ms, one call held 248 ms).
//!
//! A load test, bounded in count and time: threads call in a tight loop while
//! the only listener takes a few milliseconds per event, and the breaker is
//! tripped and recovered several times in between. It checks what a user can
//! see: how many slow listener runs any one call sat through, how long any
//! call took, the backlog (from the snapshot's counts), the drop counter, and
//! that every transition arrived, in order.
#![allow(clippy::unwrap_used)]

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use cb_core::clock::ManualClock;
use cb_core::{CircuitBreaker, EVENT_QUEUE_BOUND, Event, EventKind, MetricsSnapshot, State};

const THREADS: usize = 4;
/// What the slow listener spends on each event: long next to a preempted
/// thread's wait on a busy machine, so "ten periods" is a structural bound,
/// not a timing one.
const PERIOD: Duration = Duration::from_millis(25);
/// Trips and recoveries during the storm.
const CYCLES: usize = 4;
/// How long the storm lasts at least.
const STORM: Duration = Duration::from_secs(1);
/// How often the controller samples the backlog.
const SAMPLE: Duration = Duration::from_millis(2);
const OPEN: Duration = Duration::from_secs(1);
/// Generous: a wait for other threads that should take milliseconds.
const DEADLINE: Duration = Duration::from_secs(10);

thread_local! {
    /// Slow listener runs on this thread.
    static SLOW_RUNS: Cell<u64> = const { Cell::new(0) };
}

/// What the listener saw.
#[derive(Default)]
struct Seen {
    slow: AtomicBool,
    delivered: AtomicU64,
    transitions: Mutex<Vec<(State, State)>>,
}

impl Seen {
    fn on_event(&self, e: &Event) {
        if let EventKind::Transition { from, to, .. } = e.kind {
            self.transitions.lock().unwrap().push((from, to));
        }
        if self.slow.load(SeqCst) {
            SLOW_RUNS.with(|r| r.set(r.get() + 1));
            std::thread::sleep(PERIOD);
        }
        self.delivered.fetch_add(1, SeqCst);
    }
}

/// Every event the breaker queued so far: one per call (outcome, late
/// result or rejection) and one per transition; no slow-call threshold is set.
fn produced(m: &MetricsSnapshot) -> u64 {
    m.calls.calls_total() + m.transitions_total()
}

/// An upper bound of the events waiting: the delivered count is read first,
/// so it can only be low. Calls are counted just before their event is
/// queued, so up to one per calling thread is counted and not yet queued,
/// and one event is being delivered.
fn backlog_at_most(b: &CircuitBreaker, seen: &Seen) -> u64 {
    let delivered = seen.delivered.load(SeqCst);
    let m = b.metrics();
    produced(&m).saturating_sub(m.dropped_events + delivered)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool, mut meanwhile: impl FnMut()) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting until {what}");
        meanwhile();
        std::thread::yield_now();
    }
}

#[test]
fn a_slow_listener_holds_no_call_and_the_queue_stays_bounded_while_transitions_all_arrive() {
    let clock = ManualClock::new();
    let b = CircuitBreaker::builder("events-bounded")
        .failure_threshold(5)
        .half_open_max_calls(1)
        .success_threshold(1)
        .open_duration(OPEN)
        .clock(clock.clone())
        .build()
        .unwrap();
    let seen = Arc::new(Seen::default());
    seen.slow.store(true, SeqCst);
    let sink = seen.clone();
    b.subscribe(move |e: &Event| sink.on_event(e));

    let failing = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    let start = Barrier::new(THREADS + 1);
    let max_backlog = AtomicU64::new(0);
    let sample = || {
        max_backlog.fetch_max(backlog_at_most(&b, &seen), SeqCst);
    };

    let per_thread: Vec<(u64, u64)> = std::thread::scope(|s| {
        let storm: Vec<_> = (0..THREADS)
            .map(|_| {
                let (b, seen, failing, stop, start) = (&b, &seen, &failing, &stop, &start);
                s.spawn(move || {
                    let (mut calls, mut most_runs) = (0u64, 0u64);
                    start.wait();
                    while !stop.load(SeqCst) {
                        let slow = seen.slow.load(SeqCst);
                        let runs = SLOW_RUNS.with(Cell::get);
                        let _ = b.call_sync(|| if failing.load(SeqCst) { Err(()) } else { Ok(()) });
                        if slow {
                            most_runs = most_runs.max(SLOW_RUNS.with(Cell::get) - runs);
                        }
                        calls += 1;
                    }
                    (calls, most_runs)
                })
            })
            .collect();

        start.wait();
        let storm_start = Instant::now();
        for _ in 0..CYCLES {
            failing.store(true, SeqCst);
            wait_until("the breaker trips", || b.state() == State::Open, sample);
            failing.store(false, SeqCst);
            clock.advance(OPEN);
            wait_until(
                "a probe closes the breaker",
                || b.state() == State::Closed,
                sample,
            );
            let calm = Instant::now();
            while calm.elapsed() < STORM / (2 * CYCLES as u32) {
                sample();
                std::thread::sleep(SAMPLE);
            }
        }
        while storm_start.elapsed() < STORM {
            sample();
            std::thread::sleep(SAMPLE);
        }
        // The listener turns fast, so the backlog drains in moments.
        seen.slow.store(false, SeqCst);
        stop.store(true, SeqCst);
        storm.into_iter().map(|h| h.join().unwrap()).collect()
    });

    // Everything queued is delivered, or was dropped and counted.
    wait_until(
        "the backlog is delivered",
        || {
            let m = b.metrics();
            seen.delivered.load(SeqCst) + m.dropped_events == produced(&m)
        },
        || {},
    );
    let m = b.metrics();
    let calls: u64 = per_thread.iter().map(|t| t.0).sum();
    let most_runs = per_thread.iter().map(|t| t.1).max().unwrap();

    assert!(
        m.dropped_events > 0,
        "a storm the listener could not keep up with: {calls} calls, {} delivered",
        seen.delivered.load(SeqCst)
    );
    // Bounded memory: the backlog never passed the bound (plus the slack of
    // `backlog_at_most`).
    let max_backlog = max_backlog.load(SeqCst);
    assert!(
        max_backlog <= (EVENT_QUEUE_BOUND + THREADS + 1) as u64,
        "the queue held up to {max_backlog} events, bound {EVENT_QUEUE_BOUND}"
    );
    // Bounded caller latency: a call delivers the few events queued when it
    // found delivery idle, at most one more past its budget, and hands over;
    // a call that finds delivery busy runs no listener at all. Before, one
    // call delivered for the whole storm. Counted, not timed: the time a
    // call takes is these runs plus whatever the host's scheduler adds.
    assert!(
        most_runs <= 10,
        "a call sat through {most_runs} slow listener runs"
    );
    // Exact transitions: all of them, in order.
    let expected: Vec<(State, State)> = (0..CYCLES)
        .flat_map(|_| {
            [
                (State::Closed, State::Open),
                (State::Open, State::HalfOpen),
                (State::HalfOpen, State::Closed),
            ]
        })
        .collect();
    assert_eq!(*seen.transitions.lock().unwrap(), expected);
    assert_eq!(m.transitions_total(), expected.len() as u64);
}
