//! Behaviours a template user relies on, each named after its rule: what a
//! breaker, a retry and a rescue do at the edges the rule book pins down
//! (a retry around an opening breaker, a stuck probe nobody looks at, a
//! window right after a close, ...), on the manual clock or paused time.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::breaker_rules::{SEC, breaker, fail, succeed};
use cb_core::clock::ManualClock;
use cb_core::config::{ConfigFile, LoadError};
use cb_core::rescue::Cause;
use cb_core::retry::{Backoff, RetryPolicy};
use cb_core::{
    Bulkhead, CircuitBreaker, CircuitBreakerBuilder, Error, Pipeline, RejectReason, Rescue, RescueError,
    State,
};

const MS: Duration = Duration::from_millis(1);

// ------------------------------------------------------------ R25 stuck probe

#[test]
fn r25_a_stuck_probe_reopens_as_of_its_deadline_not_when_next_looked_at() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(1)
            .open_duration(10 * SEC)
            .half_open_max_calls(1)
            .half_open_max_wait(5 * SEC)
    });
    let _ = fail(&b);
    clock.advance(10 * SEC);
    let _stuck = b.try_acquire().unwrap(); // t = 10 s; its deadline is t = 15 s
    // Nobody looks until t = 20 s: the circuit reopened at 15 s, so its open
    // period ends at 25 s, not 30 s.
    clock.advance(10 * SEC);
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.retry_after(), Some(5 * SEC));
    clock.advance(5 * SEC);
    assert_eq!(b.state(), State::HalfOpen);
}

#[test]
fn r25_a_stuck_probe_looked_at_after_the_next_open_period_half_opens() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.failure_threshold(1)
            .open_duration(10 * SEC)
            .half_open_max_calls(1)
            .half_open_max_wait(5 * SEC)
    });
    let _ = fail(&b);
    clock.advance(10 * SEC);
    let _stuck = b.try_acquire().unwrap();
    // Reopened at 15 s, open until 25 s: at 30 s both lapses are due.
    clock.advance(20 * SEC);
    assert_eq!(b.state(), State::HalfOpen);
    b.try_acquire().unwrap().success();
}

#[test]
fn r25_a_zero_half_open_max_wait_is_refused_and_says_why() {
    let err = CircuitBreaker::builder("zero")
        .half_open_max_wait(Duration::ZERO)
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("half_open_max_wait = 0ns: must be > 0: every half-open probe has a deadline (R25)"),
        "{text}"
    );
    // A file reads the same field table: zero is refused there too.
    let file = ConfigFile::from_yaml("half_open_max_wait: 0", &HashMap::new());
    let Err(LoadError::Invalid(e)) = file else {
        panic!("a zero deadline in a file must be refused");
    };
    assert!(
        e.to_string()
            .contains("half_open_max_wait = 0: must be a duration > 0"),
        "{e}"
    );
}

// ---------------------------------------------------------- R8/R10 rate trips

#[test]
fn r10_a_success_never_trips_the_failure_rate() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.no_failure_threshold()
            .failure_rate_threshold(0.5)
            .window_duration(10 * SEC)
            .window_buckets(10)
            .minimum_calls(3)
    });
    for _ in 0..3 {
        let _ = succeed(&b); // t = 0: bucket [0, 1 s)
    }
    clock.advance(5 * SEC);
    let _ = fail(&b);
    let _ = fail(&b); // 2 of 5: 40 %
    assert_eq!(b.state(), State::Closed);
    // The three successes leave the window; the next success reads 2 of 3
    // failed, but a success says nothing bad about the downstream.
    clock.advance(5 * SEC);
    assert!(succeed(&b).is_ok());
    assert_eq!(b.state(), State::Closed);
    // A failure, on the other hand, trips on that rate.
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn r10_r14_a_time_window_right_after_a_close_is_as_long_as_configured() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| {
        b.no_failure_threshold()
            .failure_rate_threshold(0.5)
            .window_duration(10 * SEC)
            .window_buckets(10)
            .minimum_calls(2)
            .open_duration(SEC)
            .half_open_max_calls(1)
            .success_threshold(1)
    });
    let _ = fail(&b);
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open);
    clock.advance(1500 * MS);
    b.try_acquire().unwrap().success(); // closes at t = 1.5 s: a fresh window
    assert_eq!(b.state(), State::Closed);
    clock.advance(100 * MS);
    let _ = fail(&b); // t = 1.6 s
    // 9.8 s later the first failure is still inside the 10 s window.
    clock.advance(9800 * MS);
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open, "two failures within 10 s");
}

// ------------------------------------------------- R48a retry around a breaker

fn constant_retry(max_attempts: u32, delay: Duration, rejections: bool) -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(max_attempts)
        .backoff(Backoff::constant(delay).build().unwrap())
        .retry_rejections(rejections)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn r48a_a_retry_does_not_sleep_before_an_attempt_the_open_breaker_refuses() {
    let b = CircuitBreaker::builder("r48a")
        .failure_threshold(2)
        .open_duration(60 * SEC)
        .build()
        .unwrap();
    let calls = AtomicU32::new(0);
    let p: Pipeline<(), &str> = Pipeline::builder("r48a")
        .retry(constant_retry(5, SEC, false))
        .breaker(b.clone())
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let err = p
        .call(|| {
            calls.fetch_add(1, Ordering::Relaxed);
            async { Err("down") }
        })
        .await
        .unwrap_err();
    // One backoff between the two failures; none after the second opened
    // the circuit: the refusal comes at once, as R48 returns it.
    assert_eq!(start.elapsed(), SEC);
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    assert_eq!(err.rejection().unwrap().reason(), RejectReason::CircuitOpen);
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn r48a_a_retry_around_a_forced_open_breaker_returns_at_once() {
    let b = CircuitBreaker::builder("r48a-forced").build().unwrap();
    let p: Pipeline<(), &str> = Pipeline::builder("r48a-forced")
        .retry(constant_retry(5, SEC, false))
        .breaker(b.clone())
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let forced = b.clone();
    let err = p
        .call(move || {
            forced.force_open(); // the first attempt runs, then the circuit is forced open
            async { Err("down") }
        })
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(err.rejection().unwrap().reason(), RejectReason::ForcedOpen);
}

#[tokio::test(start_paused = true)]
async fn r48a_with_the_opt_in_a_retry_waits_the_open_period_not_the_backoff() {
    let b = CircuitBreaker::builder("r48a-opt-in")
        .failure_threshold(1)
        .open_duration(5 * SEC)
        .success_threshold(1)
        .build()
        .unwrap();
    let calls = AtomicU32::new(0);
    let p: Pipeline<u32, &str> = Pipeline::builder("r48a-opt-in")
        .retry(constant_retry(2, SEC, true))
        .breaker(b.clone())
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let served = p
        .call(|| {
            let n = calls.fetch_add(1, Ordering::Relaxed);
            async move { if n == 0 { Err("down") } else { Ok(n) } }
        })
        .await;
    // The second attempt is the half-open probe, admitted after 5 s: not
    // refused after a 1 s backoff, which would have used the last attempt.
    assert_eq!(served.unwrap(), 1);
    assert_eq!(start.elapsed(), 5 * SEC);
    assert_eq!(b.state(), State::Closed);
}

// ------------------------------------------------------ R59 failing fallback

#[derive(Debug)]
struct Down(&'static str);

impl std::fmt::Display for Down {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Down {}

#[tokio::test(start_paused = true)]
async fn r59_both_errors_of_a_failed_rescue_are_on_the_source_chain() {
    let p: Pipeline<u32, Down> = Pipeline::builder("r59")
        .retry(constant_retry(2, MS, false))
        .rescue(Rescue::from_fn(|_: &Cause<'_, Down>| Err(Down("cache down"))))
        .build()
        .unwrap();
    let err = p.call(|| async { Err(Down("primary down")) }).await.unwrap_err();
    let chain: Vec<String> = std::iter::successors(std::error::Error::source(&err), |e| e.source())
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        chain,
        [
            "cache down",
            "gave up after 2 attempts: primary down",
            "primary down"
        ],
        "the fallback's error, then the call's, with its own chain"
    );
    // Each is also reachable as a value, not only as text.
    let fallback = std::error::Error::source(&err).unwrap();
    assert!(fallback.downcast_ref::<RescueError<Down>>().is_some());
    let primary = fallback.source().unwrap().downcast_ref::<Error<Down>>().unwrap();
    assert_eq!(primary.attempts(), Some(2));
}

// ------------------------------------------ R53 bulkhead refusal in a pipeline

#[tokio::test(start_paused = true)]
async fn r53_a_bulkhead_refusal_inside_a_pipeline_is_not_a_breaker_call() {
    let b = CircuitBreaker::builder("r53")
        .failure_threshold(1)
        .open_duration(SEC)
        .half_open_max_calls(1)
        .success_threshold(1)
        .build()
        .unwrap();
    let pool = Bulkhead::builder("r53-pool").max_concurrent(1).build().unwrap();
    let p: Pipeline<(), &str> = Pipeline::builder("r53")
        .breaker(b.clone())
        .bulkhead(pool.clone())
        .build()
        .unwrap();
    let seen = AtomicU32::new(0);
    let call = |fail: bool| {
        let seen = &seen;
        p.call(move || async move {
            seen.fetch_add(1, Ordering::Relaxed);
            if fail { Err("down") } else { Ok(()) }
        })
    };
    let held = pool.try_acquire().unwrap();
    let err = call(false).await.unwrap_err();
    assert_eq!(err.rejection().unwrap().reason(), RejectReason::BulkheadFull);
    drop(held);
    assert!(call(false).await.is_ok());
    let _ = call(true).await; // trips
    clock_skip(SEC).await;
    // Half-open with one probe slot: a bulkhead refusal must not use it up.
    let held = pool.try_acquire().unwrap();
    assert!(call(false).await.unwrap_err().rejection().is_some());
    assert_eq!(b.state(), State::HalfOpen);
    drop(held);
    assert!(call(false).await.is_ok(), "the probe slot is still free");
    assert_eq!(b.state(), State::Closed);

    let c = b.metrics().calls;
    assert_eq!((c.successes, c.failures, c.excluded, c.rejected()), (2, 1, 0, 0));
    assert_eq!(
        c.calls_total(),
        c.successes + c.failures + c.excluded + c.cancelled + c.panicked + c.rejected()
    );
    assert_eq!(
        c.downstream_invocations(),
        u64::from(seen.load(Ordering::Relaxed)),
        "the breaker counts what the downstream saw"
    );
}

async fn clock_skip(d: Duration) {
    tokio::time::sleep(d).await;
}

// ------------------------------------------- closed counts expire (interval)

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn r7_a_failure_streak_starts_over_after_the_closed_count_interval() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(5).closed_count_interval(HOUR));
    for _ in 0..4 {
        let _ = fail(&b);
    }
    clock.advance(HOUR);
    let _ = fail(&b);
    assert_eq!(b.state(), State::Closed, "four old failures and one new one");
    assert_eq!(b.metrics().consecutive_failures, 1);
    // Within the interval, failures add up as usual.
    for _ in 0..3 {
        clock.advance(HOUR - MS);
        let _ = fail(&b);
    }
    assert_eq!(b.state(), State::Closed);
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn r7_without_the_interval_counts_never_expire() {
    let clock = ManualClock::new();
    let b = breaker(&clock, |b| b.failure_threshold(5));
    for _ in 0..4 {
        let _ = fail(&b);
    }
    clock.advance(HOUR * 24);
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn r8_a_count_window_starts_over_after_the_closed_count_interval() {
    let rate = |b: CircuitBreakerBuilder| {
        b.no_failure_threshold()
            .failure_rate_threshold(0.5)
            .sliding_window_size(10)
            .minimum_calls(4)
    };
    let clock = ManualClock::new();
    let plain = breaker(&clock, rate);
    let expiring = breaker(&clock, |b| rate(b).closed_count_interval(HOUR));
    for b in [&plain, &expiring] {
        let _ = succeed(b);
        let _ = succeed(b);
        let _ = fail(b);
    }
    clock.advance(HOUR);
    for b in [&plain, &expiring] {
        let _ = fail(b);
    }
    assert_eq!(plain.state(), State::Open, "2 of 4 failed");
    assert_eq!(expiring.state(), State::Closed, "the window started over: 1 call");
    assert_eq!(expiring.metrics().buffered_calls, 1);
}

#[test]
fn closed_count_interval_is_settable_by_builder_and_file_and_zero_is_refused() {
    let b = CircuitBreaker::builder("interval")
        .closed_count_interval(HOUR)
        .build()
        .unwrap();
    assert_eq!(b.config().closed_count_interval, Some(HOUR));
    assert_eq!(
        cb_core::BreakerConfig::default().closed_count_interval,
        None,
        "off by default"
    );
    let err = CircuitBreaker::builder("interval")
        .closed_count_interval(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("closed_count_interval = 0ns: must be > 0"),
        "{err}"
    );
    let file = ConfigFile::from_yaml("closed_count_interval: 0", &HashMap::new());
    assert!(matches!(file, Err(LoadError::Invalid(_))));
}
