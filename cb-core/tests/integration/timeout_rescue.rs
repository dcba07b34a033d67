//! Timeouts (R55–R57), rescues (R58–R60), adaptive protection (R38, R38b)
//! and the composition order (R61), on paused time.
#![allow(clippy::unwrap_used)] // helpers shared by the tests unwrap like the tests do

use std::error::Error as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use cb_core::adaptive::{AdaptiveThrottle, ConcurrencyLimit, LatencyBaseline};
use cb_core::random::SplitMix64;
use cb_core::rescue::{Cause, CauseKind, FailureKind};
use cb_core::retry::{Backoff, RetryPolicy};
use cb_core::{Bulkhead, CircuitBreaker, Error, Outcome, Pipeline, RejectReason, Rescue, State};

const S: Duration = Duration::from_secs(1);

#[derive(Debug, PartialEq)]
struct Boom(&'static str);
impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for Boom {}

fn breaker(threshold: u32) -> CircuitBreaker {
    CircuitBreaker::builder("b")
        .failure_threshold(threshold)
        .open_duration(S * 30)
        .build()
        .unwrap()
}

async fn slow_ok(d: Duration) -> Result<u32, Boom> {
    tokio::time::sleep(d).await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn r55_timeout_is_a_breaker_failure() {
    let b = breaker(2);
    let p = Pipeline::builder("p")
        .breaker(b.clone())
        .timeout(S)
        .build()
        .unwrap();
    for _ in 0..2 {
        let t = tokio::time::Instant::now();
        let err = p.call(|| slow_ok(S * 5)).await.unwrap_err();
        assert!(matches!(err, Error::Timeout { after } if after == S));
        assert_eq!(t.elapsed(), S);
    }
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.metrics().calls.failures, 2);
}

#[tokio::test(start_paused = true)]
async fn r56_on_timeout_the_inner_future_is_dropped() {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let p: Pipeline<(), Boom> = Pipeline::builder("p").timeout(S).build().unwrap();
    let d = dropped.clone();
    let err = p
        .call(move || {
            let flag = Flag(d.clone());
            async move {
                let _flag = flag;
                std::future::pending::<()>().await;
                Ok(())
            }
        })
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn r57_caller_cancellation_before_the_deadline_is_not_a_timeout() {
    let b = breaker(1);
    let p = Pipeline::builder("p")
        .breaker(b.clone())
        .timeout(S * 10)
        .build()
        .unwrap();
    let gave_up = tokio::time::timeout(S, p.call(|| slow_ok(S * 5))).await;
    assert!(gave_up.is_err());
    let m = b.metrics();
    assert_eq!((m.calls.cancelled, m.calls.failures), (1, 0));
    assert_eq!(b.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn total_timeout_bounds_retries_and_waits() {
    let calls = AtomicU32::new(0);
    let p: Pipeline<u32, Boom> = Pipeline::builder("p")
        .total_timeout(S * 5)
        .retry(
            RetryPolicy::builder()
                .max_attempts(100)
                .backoff(Backoff::constant(S).build().unwrap())
                .build()
                .unwrap(),
        )
        .timeout(S)
        .build()
        .unwrap();
    let t = tokio::time::Instant::now();
    let err = p
        .call(|| {
            calls.fetch_add(1, Ordering::Relaxed);
            slow_ok(S * 60)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { after } if after == S * 5));
    assert_eq!(t.elapsed(), S * 5);
    assert_eq!(calls.load(Ordering::Relaxed), 3); // 0-1 s, 2-3 s, 4-5 s
}

/// A rescue that reports the cause it was given.
fn reporting() -> Rescue<String, Boom> {
    Rescue::from_fn(|c: &Cause<'_, Boom>| {
        Ok(format!(
            "{:?} after {} attempt(s), retry_after {:?}",
            c.kind(),
            c.attempts(),
            c.retry_after()
        ))
    })
}

#[tokio::test(start_paused = true)]
async fn r58_rescue_is_told_every_refusal_kind() {
    // Open, with the time left.
    let b = breaker(1);
    let _ = b.call(async { Err::<(), _>("trip") }).await;
    tokio::time::sleep(S * 10).await;
    let p = Pipeline::builder("p")
        .breaker(b.clone())
        .rescue(reporting())
        .build()
        .unwrap();
    let got = p.call(|| async { Ok("never".to_string()) }).await.unwrap();
    assert_eq!(
        got,
        "Refused(CircuitOpen) after 1 attempt(s), retry_after Some(20s)"
    );

    // Forced open.
    b.force_open();
    let got = p.call(|| async { Ok("never".to_string()) }).await.unwrap();
    assert_eq!(got, "Refused(ForcedOpen) after 1 attempt(s), retry_after None");

    // Half-open with its only probe slot taken.
    let hb = CircuitBreaker::builder("h")
        .failure_threshold(1)
        .open_duration(S)
        .half_open_max_calls(1)
        .build()
        .unwrap();
    let _ = hb.call(async { Err::<(), _>("trip") }).await;
    tokio::time::sleep(S).await;
    let probe = hb.try_acquire().unwrap();
    let p = Pipeline::builder("p")
        .breaker(hb.clone())
        .rescue(reporting())
        .build()
        .unwrap();
    let got = p.call(|| async { Ok("never".to_string()) }).await.unwrap();
    assert!(got.starts_with("Refused(HalfOpenFull)"), "{got}");
    probe.record(Outcome::Success);

    // Bulkhead full.
    let pool = Bulkhead::builder("pool").max_concurrent(1).build().unwrap();
    let _slot = pool.try_acquire().unwrap();
    let p = Pipeline::builder("p")
        .bulkhead(pool.clone())
        .rescue(reporting())
        .build()
        .unwrap();
    let got = p.call(|| async { Ok("never".to_string()) }).await.unwrap();
    assert!(got.starts_with("Refused(BulkheadFull)"), "{got}");

    // Throttled.
    let throttle = AdaptiveThrottle::builder("t")
        .execution_threshold(1)
        .max_reject(1.0)
        .random(SplitMix64::seeded(1))
        .build()
        .unwrap();
    for _ in 0..1000 {
        let _ = throttle.try_admit();
    }
    let p = Pipeline::builder("p")
        .throttle(throttle)
        .rescue(reporting())
        .build()
        .unwrap();
    let got = p.call(|| async { Ok("never".to_string()) }).await.unwrap();
    assert!(got.starts_with("Refused(Throttled)"), "{got}");
}

#[tokio::test(start_paused = true)]
async fn r58_rescue_is_told_every_failure_kind() {
    let fb = reporting();
    let p = Pipeline::builder("p").rescue(fb.clone()).build().unwrap();
    let got = p.call(|| async { Err(Boom("x")) }).await.unwrap();
    assert_eq!(got, "Failed(Error) after 1 attempt(s), retry_after None");

    let p = Pipeline::builder("p")
        .timeout(S)
        .rescue(fb.clone())
        .build()
        .unwrap();
    let got = p
        .call(|| async {
            tokio::time::sleep(S * 2).await;
            Ok("late".to_string())
        })
        .await
        .unwrap();
    assert!(got.starts_with("Failed(Timeout)"), "{got}");

    let p = Pipeline::builder("p")
        .retry(
            RetryPolicy::builder()
                .max_attempts(3)
                .backoff(Backoff::immediate())
                .build()
                .unwrap(),
        )
        .rescue(fb.clone())
        .build()
        .unwrap();
    let got = p.call(|| async { Err(Boom("x")) }).await.unwrap();
    assert_eq!(
        got,
        "Failed(RetriesExhausted) after 3 attempt(s), retry_after None"
    );

    // Success does not run it (R58); activations are counted by kind.
    let got = p.call(|| async { Ok("fine".to_string()) }).await.unwrap();
    assert_eq!(got, "fine");
    assert_eq!(
        (
            fb.activations_failed(),
            fb.activations_refused(),
            fb.activations()
        ),
        (3, 0, 3)
    );
}

#[tokio::test(start_paused = true)]
async fn r58_excluded_errors_skip_the_rescue_unless_asked() {
    let classify = |r: &Result<String, Boom>| match r {
        Err(Boom("404")) => Outcome::Excluded,
        Err(_) => Outcome::Failure,
        Ok(_) => Outcome::Success,
    };
    let p = Pipeline::builder("p")
        .classifier(classify)
        .rescue(Rescue::value("cached".to_string()))
        .build()
        .unwrap();
    assert!(matches!(
        p.call(|| async { Err(Boom("404")) }).await,
        Err(Error::Inner(Boom("404")))
    ));
    assert_eq!(p.call(|| async { Err(Boom("500")) }).await.unwrap(), "cached");
    let p = Pipeline::builder("p")
        .classifier(classify)
        .rescue(Rescue::value("cached".to_string()).on_excluded(true))
        .build()
        .unwrap();
    assert_eq!(p.call(|| async { Err(Boom("404")) }).await.unwrap(), "cached");
}

#[tokio::test(start_paused = true)]
async fn r59_a_failing_rescue_keeps_both_causes() {
    let b = breaker(5);
    let p = Pipeline::builder("p")
        .breaker(b.clone())
        .rescue(Rescue::from_async(|_: &Cause<'_, Boom>| async {
            Err::<u32, _>(Boom("cache down"))
        }))
        .build()
        .unwrap();
    let err = p.call(|| async { Err(Boom("primary down")) }).await.unwrap_err();
    let Error::RescueFailed(failed) = &err else {
        panic!("{err:?}")
    };
    assert!(matches!(failed.primary(), Error::Inner(Boom("primary down"))));
    assert_eq!(*failed.rescue(), Boom("cache down"));
    assert_eq!(
        err.to_string(),
        "the rescue failed: cache down; it ran because: primary down"
    );
    // Both through `source()`, in the order `Display` tells them.
    assert_eq!(err.source().unwrap().to_string(), "cache down");
    assert_eq!(
        err.source().unwrap().source().unwrap().to_string(),
        "primary down"
    );
    // The rescue's failure is not recorded by the primary's breaker (R59).
    assert_eq!(b.metrics().calls.failures, 1);
}

#[tokio::test(start_paused = true)]
async fn r60_rescue_runs_at_most_once_with_the_attempt_count() {
    let runs = Arc::new(AtomicU32::new(0));
    let r = runs.clone();
    let p = Pipeline::builder("p")
        .retry(
            RetryPolicy::builder()
                .max_attempts(4)
                .backoff(Backoff::immediate())
                .build()
                .unwrap(),
        )
        .rescue(Rescue::from_fn(move |c: &Cause<'_, Boom>| {
            r.fetch_add(1, Ordering::Relaxed);
            assert_eq!(c.kind(), CauseKind::Failed(FailureKind::RetriesExhausted));
            Ok(c.attempts())
        }))
        .build()
        .unwrap();
    assert_eq!(p.call(|| async { Err(Boom("x")) }).await.unwrap(), 4);
    assert_eq!(runs.load(Ordering::Relaxed), 1);
}

#[tokio::test(start_paused = true)]
async fn r61_each_retry_attempt_passes_through_the_breaker() {
    let b = breaker(2);
    let calls = AtomicU32::new(0);
    let p: Pipeline<(), Boom> = Pipeline::builder("p")
        .retry(
            RetryPolicy::builder()
                .max_attempts(5)
                .backoff(Backoff::immediate())
                .build()
                .unwrap(),
        )
        .breaker(b.clone())
        .build()
        .unwrap();
    let err = p
        .call(|| {
            calls.fetch_add(1, Ordering::Relaxed);
            async { Err(Boom("x")) }
        })
        .await
        .unwrap_err();
    // Two failures trip the breaker; the third attempt is refused and not retried (R48).
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    assert_eq!(err.rejection().unwrap().reason(), RejectReason::CircuitOpen);
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn r61_queue_wait_counts_toward_the_timeout_unless_configured() {
    let pool = Bulkhead::builder("pool")
        .max_concurrent(1)
        .queue_timeout(S * 10)
        .build()
        .unwrap();
    let held = pool.try_acquire().unwrap();
    let p: Pipeline<u32, Boom> = Pipeline::builder("p")
        .timeout(S)
        .bulkhead(pool.clone())
        .build()
        .unwrap();
    let err = p.call(|| slow_ok(Duration::ZERO)).await.unwrap_err();
    assert!(err.is_timeout(), "waited 1 s in the queue: {err:?}");

    let p: Pipeline<u32, Boom> = Pipeline::builder("p")
        .timeout(S)
        .bulkhead(pool.clone())
        .queue_wait_counts_toward_timeout(false)
        .build()
        .unwrap();
    let release = async {
        tokio::time::sleep(S * 3).await;
        drop(held);
    };
    let (r, ()) = tokio::join!(p.call(|| slow_ok(S / 2)), release);
    assert_eq!(r.unwrap(), 1);
}

#[tokio::test(start_paused = true)]
async fn r38b_latency_relative_slow_calls_trip_the_breaker() {
    let b = breaker(3);
    let p = Pipeline::builder("llm")
        .breaker(b.clone())
        .latency_baseline(
            LatencyBaseline::builder()
                .multiplier(4.0)
                .floor(Duration::from_millis(10))
                .warmup(10)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    for _ in 0..20 {
        p.call(|| slow_ok(Duration::from_millis(100))).await.unwrap();
    }
    assert_eq!(b.state(), State::Closed);
    // Five times slower than its own normal, with no fixed threshold set.
    for _ in 0..3 {
        assert!(p.call(|| slow_ok(Duration::from_millis(500))).await.is_ok());
    }
    assert_eq!(b.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn r38_throttle_sheds_when_the_downstream_stops_accepting() {
    let throttle = AdaptiveThrottle::builder("t")
        .execution_threshold(10)
        .random(SplitMix64::seeded(5))
        .build()
        .unwrap();
    let p = Pipeline::builder("p").throttle(throttle).build().unwrap();
    let calls = AtomicU32::new(0);
    let mut throttled = 0;
    for _ in 0..200 {
        let r = p
            .call(|| {
                calls.fetch_add(1, Ordering::Relaxed);
                async { Err::<(), _>(Boom("down")) }
            })
            .await;
        if r.unwrap_err()
            .rejection()
            .is_some_and(|r| r.reason() == RejectReason::Throttled)
        {
            throttled += 1;
        }
    }
    assert!(throttled > 120, "{throttled}");
    assert_eq!(calls.load(Ordering::Relaxed) + throttled, 200);
}

#[tokio::test(start_paused = true)]
async fn adaptive_concurrency_limit_replaces_the_bulkhead() {
    let limit = ConcurrencyLimit::aimd("llm").initial_limit(2).build().unwrap();
    let p: Pipeline<u32, Boom> = Pipeline::builder("p")
        .concurrency_limit(limit.clone())
        .build()
        .unwrap();
    let (a, b, c) = tokio::join!(
        p.call(|| slow_ok(S)),
        p.call(|| slow_ok(S)),
        p.call(|| slow_ok(S))
    );
    assert_eq!([a.is_ok(), b.is_ok()], [true, true]);
    assert_eq!(
        c.unwrap_err().rejection().unwrap().reason(),
        RejectReason::BulkheadFull
    );
    assert_eq!(limit.in_flight(), 0);
    assert_eq!(
        limit.limit(),
        3,
        "two successes at full use grew the limit by one"
    );
}
