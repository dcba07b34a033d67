//! The process-wide rejection cache (`cb_core::clock::set_rejection_cache`)
//! on a real breaker with the real OS clock: it starts under a rejection
//! storm, never admits a call early, never reports a short `retry_after`, and
//! stops when turned off. The cache's decision rule, pressure detection, idle
//! stop and fork reset are unit-tested on injected time in
//! `cb-core/src/clock/rejection_cache.rs`; this file checks the real thread
//! and the breaker together. Its own test binary, because the cache is
//! process-wide.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use cb_core::CircuitBreaker;
use cb_core::clock::{self, Clock, SystemClock};

/// The cache is one per process: these tests take turns.
static SERIAL: Mutex<()> = Mutex::new(());

/// Polls `cond` while `step` runs, up to a generous real-time deadline.
fn eventually(what: &str, mut step: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !step() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
    }
}

fn reject_once(breaker: &CircuitBreaker) -> Duration {
    let err = breaker
        .call_sync(|| Ok::<_, ()>(()))
        .expect_err("an open circuit rejects");
    err.retry_after().expect("an open circuit says when to retry")
}

/// A breaker on the OS clock, open for `open` from now.
fn open_on_system_clock(name: &'static str, open: Duration) -> CircuitBreaker {
    let breaker = CircuitBreaker::builder(name)
        .clock(SystemClock)
        .build()
        .expect("a valid breaker");
    breaker.open_for(Some(open));
    breaker
}

/// Rejects calls on `breaker` until the rejection cache's thread runs.
fn storm_until_the_cache_runs(breaker: &CircuitBreaker) {
    eventually("a rejection storm starts the cb-clock thread", || {
        for _ in 0..10_000 {
            reject_once(breaker);
        }
        clock::rejection_cache_running()
    });
}

#[test]
fn r16_a_rejection_storm_starts_the_cache_and_retry_after_is_never_short() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    clock::set_rejection_cache(true);
    let open = Duration::from_secs(3600);
    let opened_at = SystemClock.now();
    let breaker = open_on_system_clock("storm", open);
    storm_until_the_cache_runs(&breaker);
    // Rejections now go through the cache; each retry_after, counted from
    // when the caller has it, reaches the end of the open period (R16), and
    // overstates it by no more than the cache's lag.
    for _ in 0..100_000 {
        let retry = reject_once(&breaker);
        let now = SystemClock.now();
        assert!(now + retry >= opened_at + open, "short retry_after {retry:?}");
        assert!(
            retry <= open + Duration::from_secs(1),
            "retry_after {retry:?} beyond the open time"
        );
    }

    clock::set_rejection_cache(false);
    eventually("turned off, the thread stops", || {
        std::thread::sleep(Duration::from_millis(1));
        !clock::rejection_cache_running()
    });
    // Off: rejections are decided on the OS clock, as before.
    assert!(reject_once(&breaker) <= open + SystemClock.resolution());
    clock::set_rejection_cache(true);
}

#[test]
fn r17_with_the_cache_running_no_call_is_admitted_before_the_open_period_ends() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    clock::set_rejection_cache(true);
    // A storm on one long-open breaker keeps the cache running ...
    let storm = open_on_system_clock("keeps-the-cache-busy", Duration::from_secs(3600));
    storm_until_the_cache_runs(&storm);

    // ... while a breaker open for 80 ms is hammered until it admits a probe.
    let open = Duration::from_millis(80);
    let before = SystemClock.now();
    let breaker = open_on_system_clock("short-open", open);
    let after = SystemClock.now();
    let mut rejected = 0u64;
    let mut admitted_at = None;
    eventually("the probe is admitted once the open period ends", || {
        reject_once(&storm);
        match breaker.try_acquire() {
            Ok(permit) => {
                // Admitted no earlier than the end of the open period (R17) ...
                let now = SystemClock.now();
                assert!(now >= before + open, "admitted early");
                admitted_at = Some(now);
                permit.record(cb_core::Outcome::Success);
                true
            }
            Err(rejection) => {
                rejected += 1;
                // ... and every rejection before it pointed at or past that end.
                let retry = rejection.retry_after().expect("open");
                assert!(SystemClock.now() + retry >= before + open);
                false
            }
        }
    });
    assert!(rejected > 0, "the breaker rejected while open");
    // Admitted soon after the end: the cache stops deciding 20 ms before it,
    // so a lagging cached time cannot hold the circuit open (the bound is
    // loose only so that a loaded CI machine cannot fail it).
    let admitted_at = admitted_at.expect("admitted");
    assert!(
        admitted_at < after + open + Duration::from_secs(1),
        "admitted late: {admitted_at:?}"
    );
}
