//! Thread and task storms on one shared breaker: the invariants hold under
//! contention (R15, R21, R42).
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use cb_core::clock::ManualClock;
use cb_core::testing::Timeline;
use cb_core::{CircuitBreaker, Outcome, State};

const THREADS: usize = 8;

#[test]
fn r42_counters_are_exact_under_a_thread_storm() {
    let clock = ManualClock::new();
    let b = CircuitBreaker::builder("storm")
        .failure_threshold(4)
        .failure_rate_threshold(0.6)
        .sliding_window_size(50)
        .half_open_max_calls(2)
        .success_threshold(2)
        .open_duration(Duration::from_millis(5))
        .clock(clock.clone())
        .build()
        .unwrap();
    let invoked = AtomicU64::new(0);
    let made = AtomicU64::new(0);
    let barrier = Barrier::new(THREADS + 1);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (b, invoked, made, barrier) = (&b, &invoked, &made, &barrier);
            s.spawn(move || {
                barrier.wait();
                for i in 0..5_000u64 {
                    made.fetch_add(1, Ordering::Relaxed);
                    if let Ok(permit) = b.try_acquire() {
                        invoked.fetch_add(1, Ordering::Relaxed);
                        match (i + t as u64) % 10 {
                            0..=5 => permit.failure(),
                            6 => permit.excluded(),
                            7 => drop(permit),
                            _ => permit.success(),
                        }
                    }
                }
            });
        }
        // Time moves while the storm runs, so the breaker cycles through its states.
        s.spawn(|| {
            barrier.wait();
            for _ in 0..2_000 {
                clock.advance(Duration::from_millis(1));
                std::thread::yield_now();
            }
        });
    });
    let m = b.metrics();
    assert_eq!(m.calls.calls_total(), made.load(Ordering::Relaxed));
    assert_eq!(m.calls.downstream_invocations(), invoked.load(Ordering::Relaxed));
    assert!(
        m.transitions_total() > 0,
        "the storm made the breaker trip: {m:?}"
    );
}

#[test]
fn r21_half_open_never_admits_more_than_its_cap_under_contention() {
    for cap in [1u32, 3] {
        let clock = ManualClock::new();
        let b = CircuitBreaker::builder("probes")
            .failure_threshold(1)
            .half_open_max_calls(cap)
            .clock(clock.clone())
            .build()
            .unwrap();
        for _round in 0..50 {
            b.open_for(Some(Duration::ZERO));
            let admitted = AtomicUsize::new(0);
            let barrier = Barrier::new(THREADS);
            std::thread::scope(|s| {
                let mut held = Vec::new();
                for _ in 0..THREADS {
                    held.push(s.spawn(|| {
                        barrier.wait();
                        let p = b.try_acquire().ok();
                        if p.is_some() {
                            admitted.fetch_add(1, Ordering::Relaxed);
                        }
                        // Hold the probe until every thread has tried.
                        barrier.wait();
                        if let Some(p) = p {
                            p.record(Outcome::Excluded);
                        }
                    }));
                }
            });
            assert_eq!(
                admitted.load(Ordering::Relaxed),
                cap as usize,
                "exactly `cap` probes admitted"
            );
        }
    }
}

#[test]
fn r15_exactly_one_transition_per_trip_when_threads_fail_together() {
    for _round in 0..50 {
        let b = CircuitBreaker::builder("trip")
            .failure_threshold(3)
            .failure_rate_threshold(0.5)
            .minimum_calls(3)
            .clock(ManualClock::new())
            .build()
            .unwrap();
        let timeline = Timeline::attach(&b);
        let barrier = Barrier::new(THREADS);
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    // Admit first, then fail together: every failure races the trip.
                    let permits: Vec<_> = (0..4).filter_map(|_| b.try_acquire().ok()).collect();
                    barrier.wait();
                    for p in permits {
                        p.failure();
                    }
                });
            }
        });
        assert_eq!(b.state(), State::Open);
        assert_eq!(timeline.count(State::Closed, State::Open), 1, "{timeline}");
        let m = b.metrics();
        assert_eq!(m.transitions_between(State::Closed, State::Open), 1);
        assert_eq!(m.calls.failures, (THREADS * 4) as u64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r42_counters_are_exact_under_a_task_storm() {
    let b = CircuitBreaker::builder("tasks")
        .failure_threshold(5)
        .open_duration(Duration::from_millis(1))
        .success_threshold(1)
        .build()
        .unwrap();
    let invoked = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for t in 0..64u64 {
        let (b, invoked) = (b.clone(), invoked.clone());
        tasks.push(tokio::spawn(async move {
            let mut made = 0u64;
            for i in 0..200u64 {
                made += 1;
                let invoked = invoked.clone();
                let _ = b
                    .call(async move {
                        invoked.fetch_add(1, Ordering::Relaxed);
                        tokio::task::yield_now().await;
                        if (i * 7 + t) % 5 == 0 {
                            Err("flaky")
                        } else {
                            Ok(())
                        }
                    })
                    .await;
            }
            made
        }));
    }
    let mut made = 0;
    for t in tasks {
        made += t.await.unwrap();
    }
    let c = b.metrics().calls;
    assert_eq!(c.calls_total(), made);
    assert_eq!(c.downstream_invocations(), invoked.load(Ordering::Relaxed));
}

#[test]
fn breakers_and_permits_are_send_and_sync_where_it_matters() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<CircuitBreaker>();
    send_sync::<cb_core::Registry>();
    send_sync::<cb_core::Rejected>();
    send_sync::<cb_core::Error<std::io::Error>>();
    let b = CircuitBreaker::builder("send").build().unwrap();
    send(&b.call(async { Ok::<_, ()>(()) }));
    send(&b.try_acquire().unwrap());
}
