//! One test (at least) per breaker rule of the rule book (docs/semantics.md,
//! R1–R43, R93–R95), named after the rule, on the manual clock.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cb_core::Predicates;
use cb_core::clock::ManualClock;
use cb_core::testing::Timeline;
use cb_core::{
    CircuitBreaker, CircuitBreakerBuilder, Error, Event, EventKind, Outcome, RejectReason, State,
    TransitionReason,
};

pub(crate) const SEC: Duration = Duration::from_secs(1);

pub(crate) fn breaker(
    clock: &ManualClock,
    configure: impl FnOnce(CircuitBreakerBuilder) -> CircuitBreakerBuilder,
) -> CircuitBreaker {
    configure(CircuitBreaker::builder("test").clock(clock.clone()))
        .build()
        .expect("valid test configuration")
}

pub(crate) fn fail(b: &CircuitBreaker) -> Result<(), Error<&'static str>> {
    b.call_sync(|| Err("boom"))
}

pub(crate) fn succeed(b: &CircuitBreaker) -> Result<(), Error<&'static str>> {
    b.call_sync(|| Ok(()))
}

fn events(b: &CircuitBreaker) -> Arc<Mutex<Vec<EventKind>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    b.subscribe(move |e: &Event| sink.lock().unwrap().push(e.kind.clone()));
    seen
}

fn transitions(seen: &Arc<Mutex<Vec<EventKind>>>) -> Vec<(State, State)> {
    seen.lock()
        .unwrap()
        .iter()
        .filter_map(|k| match k {
            EventKind::Transition { from, to, .. } => Some((*from, *to)),
            _ => None,
        })
        .collect()
}

/// Trips a consecutive-count breaker and moves it to half-open.
fn half_open(clock: &ManualClock, b: &CircuitBreaker) {
    while b.state() == State::Closed {
        let _ = fail(b);
    }
    clock.advance(b.retry_after().expect("open"));
    assert_eq!(b.state(), State::HalfOpen);
}

// ---------------------------------------------------------------- A-1 outcomes

#[test]
fn r1_every_call_ends_in_exactly_one_outcome_class() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(100));
    succeed(&b).unwrap();
    fail(&b).unwrap_err();
    b.try_acquire().unwrap().excluded();
    drop(b.try_acquire().unwrap()); // cancelled
    let panic = std::panic::catch_unwind(|| b.call_sync(|| -> Result<(), &str> { panic!("bug") }));
    assert!(panic.is_err());
    b.force_open();
    let _ = succeed(&b);
    let c = b.metrics().calls;
    assert_eq!(
        (
            c.successes,
            c.failures,
            c.excluded,
            c.cancelled,
            c.panicked,
            c.rejected_forced_open
        ),
        (1, 1, 1, 1, 1, 1)
    );
    assert_eq!(c.calls_total(), 6);
}

#[test]
fn r2_excluded_outcomes_are_neutral() {
    let clock = ManualClock::new();
    // gobreaker TestCustomCircuitBreaker: after S, F, X×5 the streak is 1.
    let b = breaker(&clock, |b| b.failure_threshold(2));
    succeed(&b).unwrap();
    fail(&b).unwrap_err();
    for _ in 0..5 {
        b.try_acquire().unwrap().excluded();
    }
    assert_eq!(
        b.metrics().consecutive_failures,
        1,
        "excluded neither resets nor extends the streak"
    );
    assert_eq!(b.state(), State::Closed);

    // Excluded calls do not count toward minimum_calls.
    let w = breaker(&clock, |b| {
        b.no_failure_threshold()
            .failure_rate_threshold(0.5)
            .sliding_window_size(10)
            .minimum_calls(3)
    });
    fail(&w).unwrap_err();
    for _ in 0..5 {
        w.try_acquire().unwrap().excluded();
    }
    let m = w.metrics();
    assert_eq!((m.buffered_calls, m.failure_rate), (1, None));
}

#[test]
fn r3_exclusion_beats_failure_when_both_match() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1));
    let classify = Predicates::<(), u16>::new()
        .failure_if(|_| true)
        .exclude_if(|code| *code == 404);
    let _ = b.call_sync_with(|| Err(404), &classify);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().calls.excluded, 1);
    let _ = b.call_sync_with(|| Err(500), &classify);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn r4_a_successful_result_can_be_classified_as_failure() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(2));
    let classify = Predicates::<u16, ()>::new().failure_if_ok(|status| *status >= 500);
    for _ in 0..2 {
        // The caller still gets its Ok(503): classification is for the breaker only.
        assert_eq!(b.call_sync_with(|| Ok(503), &classify).unwrap(), 503);
    }
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn r5_a_dropped_call_is_cancelled_not_failed() {
    let b = CircuitBreaker::builder("r5")
        .failure_threshold(1)
        .build()
        .unwrap();
    let slow = b.call(async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Err::<(), _>("never")
    });
    // The caller gives up after 1 s: the call future is dropped.
    assert!(tokio::time::timeout(SEC, slow).await.is_err());
    let m = b.metrics();
    assert_eq!(
        (m.calls.cancelled, m.calls.failures, m.state),
        (1, 0, State::Closed)
    );
}

#[test]
fn r5_a_cancelled_probe_frees_its_slot() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(1).half_open_max_calls(1).success_threshold(1)
    });
    half_open(&clock, &b);
    let probe = b.try_acquire().unwrap();
    assert_eq!(b.try_acquire().unwrap_err().reason(), RejectReason::HalfOpenFull);
    drop(probe);
    assert_eq!(b.state(), State::HalfOpen, "cancellation judges nothing");
    b.try_acquire().expect("the slot is free again").success();
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn r6_a_panic_is_recorded_as_failure_and_propagates() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1));
    let caught = std::panic::catch_unwind(|| b.call_sync(|| -> Result<(), ()> { panic!("bug in the call") }));
    assert!(caught.is_err(), "the panic is not swallowed");
    assert_eq!(b.metrics().calls.panicked, 1);
    assert_eq!(b.state(), State::Open, "a panic counts as a failure");
}

#[tokio::test]
async fn r6_a_panic_inside_an_async_call_is_recorded_as_panicked() {
    let b = CircuitBreaker::builder("r6-async")
        .failure_threshold(1)
        .build()
        .unwrap();
    let task = tokio::spawn({
        let b = b.clone();
        async move {
            b.call(async {
                tokio::task::yield_now().await;
                if true {
                    panic!("bug in the async call");
                }
                Ok::<(), ()>(())
            })
            .await
        }
    });
    assert!(task.await.unwrap_err().is_panic());
    let m = b.metrics();
    assert_eq!(
        (m.calls.panicked, m.calls.cancelled, m.state),
        (1, 0, State::Open)
    );
}

// ------------------------------------------------------------ A-2 closed state

#[test]
fn r7_the_threshold_th_consecutive_failure_trips_and_a_success_resets_the_streak() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(3));
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    succeed(&b).unwrap();
    assert_eq!(b.metrics().consecutive_failures, 0);
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    assert_eq!(b.state(), State::Closed);
    fail(&b).unwrap_err();
    assert_eq!(b.state(), State::Open, ">= threshold: the 3rd failure trips");
}

#[test]
fn r8_count_window_failure_rate_trips_inclusively() {
    let clock = ManualClock::new();
    // R4J shouldOpenAfterFailureRateThresholdExceeded: 3F + 2S in a window of 5 → 60% → OPEN.
    let b = breaker(&clock, |b| {
        b.no_failure_threshold()
            .failure_rate_threshold(0.6)
            .sliding_window_size(5)
            .minimum_calls(5)
    });
    succeed(&b).unwrap();
    succeed(&b).unwrap();
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    assert_eq!(b.state(), State::Closed, "below minimum_calls nothing is judged");
    fail(&b).unwrap_err();
    assert_eq!(b.state(), State::Open);
}

#[test]
fn r8_the_window_slides_over_the_last_n_outcomes() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.no_failure_threshold()
            .failure_rate_threshold(0.5)
            .sliding_window_size(4)
            .minimum_calls(4)
    });
    fail(&b).unwrap_err();
    for _ in 0..4 {
        succeed(&b).unwrap();
    }
    // The failure has slid out: 0 of the last 4.
    assert_eq!(b.metrics().failure_rate, Some(0.0));
    fail(&b).unwrap_err();
    assert_eq!(b.metrics().failure_rate, Some(0.25));
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn r9_minimum_calls_is_clamped_to_the_count_window() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.no_failure_threshold()
            .failure_rate_threshold(1.0)
            .sliding_window_size(3)
            .minimum_calls(50)
    });
    for _ in 0..3 {
        fail(&b).unwrap_err();
    }
    assert_eq!(b.state(), State::Open, "judged at 3 calls, the window size");
}

#[test]
fn r10_time_window_counts_outcomes_until_their_bucket_expires() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.no_failure_threshold()
            .failure_rate_threshold(1.0)
            .window_duration(5 * SEC)
            .window_buckets(5)
            .minimum_calls(10)
    });
    for _ in 0..5 {
        fail(&b).unwrap_err();
        clock.advance(Duration::from_millis(200));
    }
    // Calls at 0.0..0.8 s: still counted at 4.8 s, gone at 5.8 s.
    clock.set(Duration::from_millis(4800));
    assert_eq!(b.metrics().buffered_calls, 5);
    clock.set(Duration::from_millis(5800));
    assert_eq!(b.metrics().buffered_calls, 0);
}

#[test]
fn r11_time_window_trips_as_soon_as_minimum_calls_is_reached_and_low_traffic_never_trips() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.no_failure_threshold()
            .failure_rate_threshold(0.5)
            .window_duration(10 * SEC)
            .window_buckets(10)
            .minimum_calls(4)
    });
    // Low traffic: 3 failures per 10 s window, for a minute. Never judged.
    for _ in 0..18 {
        fail(&b).unwrap_err();
        clock.advance(Duration::from_millis(3400));
    }
    assert_eq!(b.state(), State::Closed);
    // Four failures within the window: judged immediately, no waiting for the window to fill.
    for _ in 0..4 {
        let _ = fail(&b);
    }
    assert_eq!(b.state(), State::Open);
}

#[test]
fn r12_slow_calls_trip_even_when_every_call_succeeds() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.no_failure_threshold()
            .slow_call_rate_threshold(0.6)
            .slow_call_duration_threshold(SEC)
            .sliding_window_size(5)
            .minimum_calls(5)
    });
    let call = |took: Duration| {
        let permit = b.try_acquire().unwrap();
        clock.advance(took);
        permit.success();
    };
    call(SEC); // exactly the threshold: not slow (strictly greater)
    call(Duration::from_millis(10));
    call(SEC + Duration::from_millis(1));
    call(2 * SEC);
    assert_eq!(b.state(), State::Closed);
    call(3 * SEC); // 3 of 5 slow = 60%
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().calls.slow, 3);
}

#[test]
fn r12_a_slow_failure_counts_in_both_rates() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.no_failure_threshold()
            .failure_rate_threshold(1.0)
            .slow_call_rate_threshold(1.0)
            .slow_call_duration_threshold(SEC)
            .sliding_window_size(10)
            .minimum_calls(2)
    });
    let p = b.try_acquire().unwrap();
    clock.advance(2 * SEC);
    p.failure();
    let p = b.try_acquire().unwrap();
    p.success();
    let m = b.metrics();
    assert_eq!((m.failure_rate, m.slow_call_rate), (Some(0.5), Some(0.5)));
}

#[test]
fn r13_the_tripping_call_returns_its_own_error() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1));
    let err = b.call_sync(|| Err::<(), _>("the real cause")).unwrap_err();
    assert!(matches!(err, Error::Inner("the real cause")));
    assert!(
        fail(&b).unwrap_err().is_rejection(),
        "only later calls are rejected"
    );
}

/// What users of pybreaker (whose tripping call raises `CircuitBreakerError`
/// and whose `fail_counter` stays at `fail_max` while open) must know: here
/// the tripping call returns its own error, and the snapshot's streak
/// restarts at the trip, so it reads 0 while the circuit is open and counts
/// again from the first failure after it closes.
#[test]
fn r13_the_consecutive_failure_count_restarts_at_the_trip() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(3).open_duration(SEC).success_threshold(1)
    });
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    assert_eq!(b.metrics().consecutive_failures, 2);
    assert!(matches!(fail(&b).unwrap_err(), Error::Inner("boom")));
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().consecutive_failures, 0, "restarted at the trip");
    assert!(fail(&b).unwrap_err().is_rejection());
    assert_eq!(b.metrics().consecutive_failures, 0, "rejections are not failures");
    clock.advance(SEC);
    succeed(&b).unwrap();
    assert_eq!(b.state(), State::Closed);
    fail(&b).unwrap_err();
    assert_eq!(b.metrics().consecutive_failures, 1);
}

#[test]
fn r14_entering_closed_starts_a_fresh_window() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(3)
            .failure_rate_threshold(0.5)
            .sliding_window_size(10)
            .minimum_calls(4)
            .success_threshold(1)
    });
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    assert_eq!(b.state(), State::Open);
    clock.advance(b.retry_after().unwrap());
    succeed(&b).unwrap();
    let m = b.metrics();
    assert_eq!(m.state, State::Closed);
    assert_eq!(
        (m.buffered_calls, m.consecutive_failures, m.failure_rate),
        (0, 0, None)
    );
    // One failure after recovery does not trip on the old history.
    fail(&b).unwrap_err();
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn r15_a_trip_happens_once_even_when_failures_race() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(2));
    let timeline = Timeline::attach(&b);
    // Four calls admitted while closed, all failing after the trip.
    let permits: Vec<_> = (0..4).map(|_| b.try_acquire().unwrap()).collect();
    for p in permits {
        p.failure();
    }
    assert_eq!(timeline.count(State::Closed, State::Open), 1);
    assert_eq!(b.metrics().transitions_between(State::Closed, State::Open), 1);
}

// -------------------------------------------------------------- A-3 open state

#[test]
fn r16_open_rejects_without_calling_and_reports_retry_after() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1).open_duration(60 * SEC));
    fail(&b).unwrap_err();
    clock.advance(Duration::from_millis(1));
    let mut called = false;
    let err = b
        .call_sync(|| {
            called = true;
            Ok::<_, ()>(())
        })
        .unwrap_err();
    assert!(!called, "the downstream is never invoked");
    let r = err.rejection().unwrap();
    assert_eq!(r.reason(), RejectReason::CircuitOpen);
    assert_eq!(r.name(), "test");
    assert_eq!(r.retry_after(), Some(60 * SEC - Duration::from_millis(1)));
    assert_eq!(b.metrics().calls.rejected_open, 1);
}

#[test]
fn r17_open_becomes_half_open_exactly_at_open_until() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1).open_duration(30 * SEC));
    fail(&b).unwrap_err();
    clock.advance(30 * SEC - Duration::from_nanos(1));
    assert_eq!(fail(&b).unwrap_err().retry_after(), Some(Duration::from_nanos(1)));
    clock.advance(Duration::from_nanos(1));
    // A caller who waited exactly retry_after is admitted.
    assert!(b.try_acquire().unwrap().is_probe());
}

#[test]
fn r18_state_reads_evaluate_the_open_timer_without_calls() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1).open_duration(30 * SEC));
    let timeline = Timeline::attach(&b);
    fail(&b).unwrap_err();
    clock.advance(30 * SEC);
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(b.metrics().state, State::HalfOpen);
    assert_eq!(timeline.states(), [State::Closed, State::Open, State::HalfOpen]);
}

#[test]
fn r19_late_results_from_before_the_trip_do_not_extend_the_open_period() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1).open_duration(10 * SEC));
    let seen = events(&b);
    let early = b.try_acquire().unwrap();
    fail(&b).unwrap_err();
    clock.advance(5 * SEC);
    early.failure(); // admitted before the trip, finishes while open
    assert_eq!(b.retry_after(), Some(5 * SEC), "the open timer is not restarted");
    assert_eq!(
        transitions(&seen),
        [(State::Closed, State::Open)],
        "no second `opened`"
    );
    assert_eq!(b.metrics().calls.late_results, 1);
}

// ---------------------------------------------------------- A-4 half-open state

#[test]
fn r21_half_open_caps_concurrent_probes_not_total_probes() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(1).half_open_max_calls(2).success_threshold(3)
    });
    half_open(&clock, &b);
    let p1 = b.try_acquire().unwrap();
    let p2 = b.try_acquire().unwrap();
    let err = b.try_acquire().unwrap_err();
    assert_eq!(
        (err.reason(), err.retry_after()),
        (RejectReason::HalfOpenFull, None)
    );
    p1.success();
    // A finished probe frees its slot: success_threshold 3 > max_calls 2 cannot deadlock.
    let p3 = b.try_acquire().unwrap();
    p2.success();
    p3.success();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().calls.rejected_half_open_full, 1);
}

#[test]
fn r22_half_open_closes_after_success_threshold_and_reopens_on_the_first_failure() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(2)
            .open_duration(10 * SEC)
    });
    half_open(&clock, &b);
    succeed(&b).unwrap();
    assert_eq!(b.state(), State::HalfOpen);
    clock.advance(SEC);
    fail(&b).unwrap_err();
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        b.retry_after(),
        Some(10 * SEC),
        "a new open timer from the failure"
    );
    clock.advance(10 * SEC);
    succeed(&b).unwrap();
    succeed(&b).unwrap();
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn r23_an_excluded_probe_releases_its_permit_and_counts_nothing() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(1).half_open_max_calls(1).success_threshold(1)
    });
    half_open(&clock, &b);
    b.try_acquire().unwrap().excluded();
    assert_eq!(b.state(), State::HalfOpen);
    b.try_acquire().expect("slot released").success();
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn r24_a_slow_probe_is_a_failed_probe() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(1)
            .slow_call_rate_threshold(1.0)
            .slow_call_duration_threshold(SEC)
            .half_open_max_calls(1)
            .success_threshold(1)
    });
    half_open(&clock, &b);
    let probe = b.try_acquire().unwrap();
    clock.advance(2 * SEC);
    probe.success();
    assert_eq!(b.state(), State::Open);
}

#[test]
fn r25_a_stuck_probe_reopens_the_circuit_after_the_deadline() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(1)
            .half_open_max_calls(1)
            .half_open_max_wait(5 * SEC)
            .open_duration(10 * SEC)
    });
    let timeline = Timeline::attach(&b);
    half_open(&clock, &b);
    let stuck = b.try_acquire().unwrap();
    clock.advance(5 * SEC - Duration::from_nanos(1));
    assert_eq!(b.state(), State::HalfOpen);
    clock.advance(Duration::from_nanos(1));
    assert_eq!(
        b.state(),
        State::Open,
        "the wedged probe no longer blocks the breaker"
    );
    assert_eq!(
        timeline.entries().last().unwrap().reason,
        TransitionReason::StuckProbe
    );
    stuck.success(); // arrives late: changes nothing
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().calls.late_results, 1);
    // The next episode probes normally.
    clock.advance(10 * SEC);
    b.try_acquire().unwrap().success();
}

#[test]
fn r25_the_probe_deadline_defaults_to_the_open_duration() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1).open_duration(7 * SEC));
    half_open(&clock, &b);
    let _stuck = b.try_acquire().unwrap();
    clock.advance(7 * SEC);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn r26_a_rejected_probe_surfaces_half_open_full() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1).half_open_max_calls(1));
    half_open(&clock, &b);
    let _probe = b.try_acquire().unwrap();
    let err = succeed(&b).unwrap_err();
    assert_eq!(err.rejection().unwrap().reason(), RejectReason::HalfOpenFull);
}

#[test]
fn r27_an_immediate_probe_is_asked_for_by_opening_with_zero_wait() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.success_threshold(1));
    let timeline = Timeline::attach(&b);
    b.open_for(Some(Duration::ZERO));
    assert!(b.try_acquire().unwrap().is_probe());
    // Closed never goes to half-open directly: the path is always through open.
    assert_eq!(timeline.states(), [State::Closed, State::Open, State::HalfOpen]);
}

#[test]
fn r28_half_open_starts_with_zero_probe_statistics() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(1).half_open_max_calls(2).success_threshold(2)
    });
    half_open(&clock, &b);
    succeed(&b).unwrap(); // one success in this episode
    let p = b.try_acquire().unwrap();
    clock.advance(SEC);
    p.failure(); // reopen
    clock.advance(b.retry_after().unwrap());
    succeed(&b).unwrap();
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "the earlier episode's success does not carry over"
    );
    assert_eq!(b.metrics().buffered_calls, 0);
}

// ------------------------------------------------------- A-5 generations

#[test]
fn r29_a_result_from_an_older_generation_changes_no_state() {
    let clock = ManualClock::new();
    // gobreaker TestGeneration.
    let b = breaker(&clock, |b| b.failure_threshold(1));
    let old = b.try_acquire().unwrap();
    b.reset();
    old.failure();
    assert_eq!(
        b.state(),
        State::Closed,
        "the old generation's failure does not trip"
    );
}

#[test]
fn r29_a_stale_probe_does_not_free_a_slot_of_the_new_episode() {
    let clock = ManualClock::new();
    // denoland/std #7306: a stale success freed a slot the new period never handed out.
    let b = breaker(&clock, |b| {
        b.failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(2)
            .open_duration(10 * SEC)
    });
    half_open(&clock, &b);
    let stale = b.try_acquire().unwrap();
    let other = b.try_acquire();
    assert!(other.is_err());
    b.open_for(Some(Duration::ZERO)); // a new episode begins
    let fresh = b.try_acquire().unwrap();
    stale.success();
    assert_eq!(
        b.try_acquire().unwrap_err().reason(),
        RejectReason::HalfOpenFull,
        "the new episode's only slot is still taken"
    );
    fresh.success();
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "one success of the new episode, not two"
    );
}

#[test]
fn r30_stale_outcomes_count_in_lifetime_counters_and_as_late() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1));
    let seen = events(&b);
    let old = b.try_acquire().unwrap();
    b.force_open();
    old.success();
    let m = b.metrics();
    assert_eq!((m.calls.successes, m.calls.late_results), (1, 1));
    assert!(seen.lock().unwrap().contains(&EventKind::LateResult {
        outcome: Outcome::Success
    }));
}

#[test]
fn r31_the_generation_bumps_on_every_change_reset_and_force() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1).success_threshold(1));
    let mut last = b.metrics().generation;
    let mut bumped = |what: &str| {
        let g = b.metrics().generation;
        assert!(g > last, "{what} bumps the generation");
        last = g;
    };
    fail(&b).unwrap_err();
    bumped("closed → open");
    clock.advance(b.retry_after().unwrap());
    b.state();
    bumped("open → half-open");
    succeed(&b).unwrap();
    bumped("half-open → closed");
    b.reset();
    bumped("reset while closed");
    b.force_closed();
    bumped("force closed while closed");
    b.disable();
    bumped("disable");
}

// ------------------------------------------------ A-6 manual states and reset

#[test]
fn r32_forced_open_rejects_without_retry_after_and_never_reopens_itself() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.open_duration(SEC));
    b.force_open();
    clock.advance(Duration::from_secs(86_400));
    assert_eq!(b.state(), State::ForcedOpen);
    let err = succeed(&b).unwrap_err();
    let r = err.rejection().unwrap();
    assert_eq!((r.reason(), r.retry_after()), (RejectReason::ForcedOpen, None));
    assert_eq!(b.retry_after(), None);
}

#[test]
fn r33_disabled_admits_everything_and_never_trips_but_still_counts() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1));
    b.disable();
    for _ in 0..100 {
        fail(&b).unwrap_err();
    }
    let m = b.metrics();
    assert_eq!(m.state, State::Disabled);
    assert_eq!((m.calls.failures, m.consecutive_failures), (100, 0));
}

#[test]
fn metrics_only_judges_but_never_trips() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(1)
            .failure_rate_threshold(0.1)
            .minimum_calls(2)
    });
    b.metrics_only();
    for _ in 0..10 {
        fail(&b).unwrap_err();
    }
    let m = b.metrics();
    assert_eq!(m.state, State::MetricsOnly);
    assert_eq!((m.failure_rate, m.consecutive_failures), (Some(1.0), 10));
}

#[test]
fn r34_reset_closes_clears_the_window_and_keeps_lifetime_counters() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(2));
    let seen = events(&b);
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    assert_eq!(b.state(), State::Open);
    b.reset();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.metrics().calls.failures, 2, "lifetime counters are not reduced");
    let kinds = seen.lock().unwrap().clone();
    let resets = kinds.iter().filter(|k| **k == EventKind::Reset).count();
    assert_eq!(resets, 1);
    assert_eq!(
        transitions(&seen),
        [(State::Closed, State::Open), (State::Open, State::Closed)]
    );
    // R4J #2034: after a reset from open, the breaker still trips.
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    assert_eq!(b.state(), State::Open);
    // Reset while closed: a reset event, no transition event.
    b.reset();
    b.reset();
    assert_eq!(transitions(&seen).len(), 4);
}

#[test]
fn r35_force_closed_gives_a_fresh_window_and_generation() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(3));
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    let g = b.metrics().generation;
    b.force_open();
    b.force_closed();
    let m = b.metrics();
    assert_eq!((m.state, m.consecutive_failures), (State::Closed, 0));
    assert!(m.generation > g);
}

#[test]
fn r36_transition_events_are_published_once_in_order_outside_the_lock() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1).success_threshold(1));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (sink, reader) = (seen.clone(), b.clone());
    b.subscribe(move |e: &Event| {
        if let EventKind::Transition { to, .. } = e.kind {
            // Reading the breaker inside a listener would deadlock if the lock were held.
            let _ = reader.metrics();
            sink.lock().unwrap().push(to);
        }
    });
    b.subscribe(|_: &Event| panic!("a broken listener"));
    fail(&b).unwrap_err();
    clock.advance(b.retry_after().unwrap());
    succeed(&b).unwrap();
    b.force_closed(); // same state: no event
    assert_eq!(
        *seen.lock().unwrap(),
        [State::Open, State::HalfOpen, State::Closed]
    );
}

// ------------------------------------------------------------ A-7 adaptive

#[test]
fn r37_the_open_duration_grows_with_failed_recoveries_and_resets_on_close() {
    let clock = ManualClock::new();
    // R4J shouldTransitionToHalfOpenAfterWaitInterval: 5 s, then 7.5 s.
    let b = breaker(&clock, |b| {
        b.failure_threshold(1)
            .success_threshold(1)
            .open_duration(5 * SEC)
            .open_duration_multiplier(1.5)
            .max_open_duration(60 * SEC)
    });
    fail(&b).unwrap_err();
    assert_eq!(b.retry_after(), Some(5 * SEC));
    clock.advance(5 * SEC);
    fail(&b).unwrap_err(); // the probe fails
    assert_eq!(b.retry_after(), Some(Duration::from_millis(7500)));
    clock.advance(Duration::from_millis(7500));
    succeed(&b).unwrap(); // recovered
    fail(&b).unwrap_err();
    assert_eq!(b.retry_after(), Some(5 * SEC), "back to the base after a close");
}

// ------------------------------------------------------------ A-8 metrics

#[test]
fn r39_lifetime_counters_survive_resets_and_transitions() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1).success_threshold(1));
    fail(&b).unwrap_err();
    let _ = succeed(&b);
    b.reset();
    succeed(&b).unwrap();
    let c = b.metrics().calls;
    assert_eq!((c.failures, c.rejected_open, c.successes), (1, 1, 1));
}

#[test]
fn r40_window_rates_are_unknown_below_minimum_calls() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_rate_threshold(0.5)
            .minimum_calls(3)
            .failure_threshold(99)
    });
    succeed(&b).unwrap();
    succeed(&b).unwrap();
    assert_eq!(b.metrics().failure_rate, None, "unknown, not 0");
    succeed(&b).unwrap();
    assert_eq!(b.metrics().failure_rate, Some(0.0));
    // Without a rate detector the rate is not tracked at all.
    let plain = breaker(&clock, |b| b.failure_threshold(5));
    succeed(&plain).unwrap();
    assert_eq!(plain.metrics().failure_rate, None);
}

#[test]
fn r41_every_rejection_increments_the_not_permitted_counter() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1).half_open_max_calls(1));
    fail(&b).unwrap_err();
    let _ = succeed(&b); // open
    clock.advance(b.retry_after().unwrap());
    let _probe = b.try_acquire().unwrap();
    let _ = succeed(&b); // half-open full
    b.force_open();
    let _ = succeed(&b); // forced open
    let c = b.metrics().calls;
    assert_eq!(
        (c.rejected_open, c.rejected_half_open_full, c.rejected_forced_open),
        (1, 1, 1)
    );
    assert_eq!(c.rejected(), 3);
}

#[test]
fn r42_calls_are_conserved() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(3).success_threshold(1));
    let mut made = 0u64;
    let mut invoked = 0u64;
    for i in 0..500u64 {
        made += 1;
        let _ = b.call_sync(|| {
            invoked += 1;
            if i % 7 < 3 { Err(()) } else { Ok(()) }
        });
        if i % 50 == 0 {
            clock.advance(61 * SEC);
        }
    }
    let c = b.metrics().calls;
    assert_eq!(c.calls_total(), made);
    assert_eq!(c.downstream_invocations(), invoked);
    assert_eq!(c.successes + c.failures + c.rejected(), made);
}

#[test]
fn r43_a_failing_listener_does_not_affect_admission_or_outcomes() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(2));
    b.subscribe(|_: &Event| panic!("exporter down"));
    succeed(&b).unwrap();
    fail(&b).unwrap_err();
    fail(&b).unwrap_err();
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().calls.successes, 1);
}

// ------------------------------------------------------- A-20 Rust invariants

#[tokio::test(start_paused = true)]
async fn r93_no_lock_is_held_across_an_await() {
    let b = CircuitBreaker::builder("r93")
        .failure_threshold(1)
        .half_open_max_calls(1)
        .build()
        .unwrap();
    b.open_for(Some(Duration::ZERO));
    // A probe that stays pending: if admission held a lock across the await,
    // everything below would block.
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let probe = tokio::spawn({
        let b = b.clone();
        async move { b.call(async { rx.await.map_err(|_| "dropped") }).await }
    });
    tokio::task::yield_now().await;
    assert_eq!(b.state(), State::HalfOpen);
    assert!(b.try_acquire().is_err());
    let _ = b.metrics();
    b.subscribe(|_: &Event| {});
    tx.send(()).unwrap();
    probe.await.unwrap().unwrap();
}

#[test]
fn r94_a_dropped_permit_records_cancelled_exactly_once() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1));
    {
        let _permit = b.try_acquire().unwrap();
    }
    b.try_acquire().unwrap().success(); // `success` consumes: a second record does not compile
    let c = b.metrics().calls;
    assert_eq!((c.cancelled, c.successes, c.calls_total()), (1, 1, 2));
}

#[tokio::test(start_paused = true)]
async fn r95_the_default_clock_follows_paused_tokio_time() {
    // The `test-util` feature (on in this package) makes the default clock tokio's.
    let b = CircuitBreaker::builder("r95")
        .failure_threshold(1)
        .open_duration(30 * SEC)
        .build()
        .unwrap();
    let _ = b.call(async { Err::<(), _>("boom") }).await;
    assert_eq!(b.state(), State::Open);
    tokio::time::sleep(30 * SEC).await;
    assert_eq!(b.state(), State::HalfOpen);
}

// ------------------------------------------------------------- bad input

#[test]
fn every_invalid_builder_value_is_reported_by_field_value_and_range() {
    let err = CircuitBreaker::builder("bad")
        .failure_threshold(0)
        .failure_rate_threshold(0.0)
        .slow_call_rate_threshold(f64::INFINITY)
        .sliding_window_size(0)
        .minimum_calls(0)
        .open_duration(Duration::ZERO)
        .open_duration_multiplier(0.9)
        .max_open_duration(Duration::from_millis(1))
        .half_open_max_calls(0)
        .success_threshold(0)
        .half_open_max_wait(Duration::ZERO)
        .build()
        .unwrap_err();
    let text = err.to_string();
    for expected in [
        "failure_threshold = 0: must be an integer >= 1",
        "failure_rate_threshold = 0: must be > 0 and <= 1 (a fraction: 0.4 means 40%)",
        "slow_call_rate_threshold = inf: must be > 0 and <= 1 (a fraction: 0.4 means 40%)",
        "sliding_window_size = 0: must be an integer >= 1",
        "minimum_calls = 0: must be an integer >= 1",
        "open_duration = 0ns: must be > 0",
        "open_duration_multiplier = 0.9: must be a finite number >= 1",
        "half_open_max_calls = 0: must be an integer >= 1",
        "success_threshold = 0: must be an integer >= 1",
        "half_open_max_wait = 0ns: must be > 0",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert_eq!(err.violations().len(), 10);
}

#[test]
fn set_retry_after_changes_only_an_open_circuit_within_its_episode() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1).open_duration(10 * SEC));
    assert!(!b.set_retry_after(60 * SEC), "closed: nothing to change");
    assert_eq!(b.state(), State::Closed);
    fail(&b).unwrap_err();
    let g = b.metrics().generation;
    assert!(b.set_retry_after(30 * SEC));
    assert_eq!(b.retry_after(), Some(30 * SEC));
    assert!(b.set_retry_after(2 * SEC), "a server may also shorten it");
    assert_eq!(b.retry_after(), Some(2 * SEC));
    assert_eq!(b.metrics().generation, g, "same open episode");
    clock.advance(2 * SEC);
    assert_eq!(b.state(), State::HalfOpen);
    b.force_open();
    assert!(!b.set_retry_after(SEC), "a forced state is left alone");
    assert_eq!(b.state(), State::ForcedOpen);
}

#[test]
fn r16_a_retry_after_hint_of_any_size_is_reported_without_overflow() {
    // A server's hint may be absurdly long; the rejection still says when to
    // come back (saturating), and never turns into "no retry_after".
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(1));
    fail(&b).unwrap_err();
    assert!(b.set_retry_after(Duration::MAX));
    let err = succeed(&b).unwrap_err();
    let retry = err.retry_after().expect("an open circuit reports retry_after");
    assert!(retry > Duration::from_secs(100 * 365 * 24 * 3600));
    assert_eq!(b.retry_after(), Some(retry));
}

#[test]
fn r8_a_full_window_of_successes_still_slides_correctly_around_failures() {
    // A full window of fast successes skips its lock on further successes;
    // the outcome must be the same as recording every one of them.
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.no_failure_threshold()
            .failure_rate_threshold(0.5)
            .sliding_window_size(10)
            .minimum_calls(10)
    });
    for _ in 0..100 {
        succeed(&b).unwrap();
    }
    fail(&b).unwrap_err();
    assert_eq!(b.metrics().failure_rate, Some(0.1));
    for _ in 0..9 {
        succeed(&b).unwrap();
    }
    assert_eq!(
        b.metrics().failure_rate,
        Some(0.1),
        "the failure is still one of the last 10"
    );
    succeed(&b).unwrap();
    assert_eq!(
        b.metrics().failure_rate,
        Some(0.0),
        "and slides out after 10 more outcomes"
    );
    for _ in 0..4 {
        fail(&b).unwrap_err();
    }
    assert_eq!(b.state(), State::Closed);
    fail(&b).unwrap_err();
    assert_eq!(b.state(), State::Open, "5 of the last 10: 50%");
}

#[test]
fn a_rate_written_as_percent_in_code_is_refused_with_the_fraction_hint() {
    // 40 meant as 40 %: files and code share one unit, so the value a
    // file says 0.4 is refused in code too rather than silently 100x off.
    let err = CircuitBreaker::builder("percent")
        .failure_rate_threshold(40.0)
        .slow_call_rate_threshold(f64::NAN)
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("failure_rate_threshold = 40: must be > 0 and <= 1 (a fraction: 0.4 means 40%)"),
        "{text}"
    );
    assert!(
        text.contains("slow_call_rate_threshold = NaN: must be > 0"),
        "{text}"
    );
    let cfg = CircuitBreaker::builder("fraction")
        .failure_rate_threshold(0.4)
        .current_config()
        .clone();
    assert_eq!(cfg.failure_rate_threshold, Some(0.4));
}
