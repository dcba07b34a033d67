//! Retry timing through the pipeline, on paused tokio time (R44–R50).
#![allow(clippy::unwrap_used)] // helpers shared by the tests unwrap like the tests do

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cb_core::random::SplitMix64;
use cb_core::retry::{Backoff, Jitter, RetryBudget, RetryPolicy};
use cb_core::{CircuitBreaker, Error, Pipeline, RejectReason};
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

fn policy(attempts: u32, backoff: Backoff) -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(attempts)
        .backoff(backoff)
        .build()
        .unwrap()
}

fn exp(base: Duration, cap: Duration, jitter: Jitter) -> Backoff {
    Backoff::exponential(base)
        .multiplier(2.0)
        .max_delay(cap)
        .jitter(jitter)
        .build()
        .unwrap()
}

/// Runs a call that always fails and returns the gaps between its attempts.
async fn gaps_of(pipeline: &Pipeline<(), &'static str>) -> (Vec<Duration>, Error<&'static str>) {
    let mut times = Vec::new();
    let err = pipeline
        .call(|| {
            times.push(Instant::now());
            async { Err::<(), _>("boom") }
        })
        .await
        .unwrap_err();
    (times.windows(2).map(|w| w[1] - w[0]).collect(), err)
}

#[tokio::test(start_paused = true)]
async fn r45_exponential_delays_without_jitter_are_exact() {
    let p = Pipeline::builder("r")
        .retry(policy(6, exp(MS * 100, MS * 1000, Jitter::None)))
        .build()
        .unwrap();
    let (gaps, err) = gaps_of(&p).await;
    assert_eq!(gaps, [MS * 100, MS * 200, MS * 400, MS * 800, MS * 1000]);
    assert!(matches!(err, Error::RetriesExhausted { attempts: 6, .. }));
}

#[tokio::test(start_paused = true)]
async fn r45_linear_and_constant_delays_are_exact() {
    let lin = Backoff::linear(MS * 50, MS * 25)
        .jitter(Jitter::None)
        .build()
        .unwrap();
    let p = Pipeline::builder("r").retry(policy(4, lin)).build().unwrap();
    assert_eq!(gaps_of(&p).await.0, [MS * 50, MS * 75, MS * 100]);
    let p = Pipeline::builder("r")
        .retry(policy(3, Backoff::constant(MS * 30).build().unwrap()))
        .build()
        .unwrap();
    assert_eq!(gaps_of(&p).await.0, [MS * 30, MS * 30]);
}

#[tokio::test(start_paused = true)]
async fn r45_cap_is_a_hard_ceiling_after_jitter() {
    let cap = MS * 500;
    for jitter in [
        Jitter::Full,
        Jitter::Equal,
        Jitter::Decorrelated,
        Jitter::Proportional(1.0),
    ] {
        let mut max_seen = Duration::ZERO;
        for seed in 0..100 {
            let p = Pipeline::builder("r")
                .retry(policy(8, exp(MS * 100, cap, jitter)))
                .random(SplitMix64::seeded(seed))
                .build()
                .unwrap();
            let (gaps, _) = gaps_of(&p).await;
            assert_eq!(gaps.len(), 7);
            for g in gaps {
                assert!(g <= cap, "{jitter:?} seed {seed}: {g:?} above the cap");
                max_seen = max_seen.max(g);
            }
        }
        assert!(
            max_seen > MS * 400,
            "{jitter:?} never came near the cap: {max_seen:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn r45_full_jitter_draws_spread_over_zero_to_the_delay() {
    // Over many seeded draws the first delay (raw 1 s) is uniform in [0, 1 s].
    let mut sum = Duration::ZERO;
    let n = 400;
    for seed in 0..n {
        let p = Pipeline::builder("r")
            .retry(policy(2, exp(MS * 1000, MS * 10_000, Jitter::Full)))
            .random(SplitMix64::seeded(seed))
            .build()
            .unwrap();
        let (gaps, _) = gaps_of(&p).await;
        assert!(gaps[0] <= MS * 1000);
        sum += gaps[0];
    }
    let mean = sum / n as u32;
    assert!(mean > MS * 430 && mean < MS * 570, "mean {mean:?}");
}

#[tokio::test(start_paused = true)]
async fn r44_max_attempts_counts_the_first_call() {
    for attempts in [1, 2, 5] {
        let p = Pipeline::builder("r")
            .retry(policy(attempts, Backoff::immediate()))
            .build()
            .unwrap();
        let (gaps, err) = gaps_of(&p).await;
        assert_eq!(gaps.len() as u32 + 1, attempts);
        assert_eq!(err.attempts(), Some(attempts));
    }
}

#[tokio::test(start_paused = true)]
async fn r47_no_sleep_after_the_final_attempt() {
    let p = Pipeline::builder("r")
        .retry(policy(3, exp(MS * 100, MS * 1000, Jitter::None)))
        .build()
        .unwrap();
    let start = Instant::now();
    let _ = gaps_of(&p).await;
    assert_eq!(start.elapsed(), MS * 300);
}

#[tokio::test(start_paused = true)]
async fn r48_non_retryable_errors_return_after_one_attempt() {
    let p = Pipeline::builder("r")
        .retry(policy(5, Backoff::immediate()))
        .retry_if(|e: &Error<&str>| e.inner() != Some(&"boom"))
        .build()
        .unwrap();
    let (gaps, err) = gaps_of(&p).await;
    assert!(gaps.is_empty());
    assert!(matches!(err, Error::Inner("boom")));
}

#[tokio::test(start_paused = true)]
async fn r48_local_rejections_are_not_retried_by_default() {
    let breaker = CircuitBreaker::builder("b").build().unwrap();
    breaker.force_open();
    let calls = AtomicU32::new(0);
    let p: Pipeline<(), &str> = Pipeline::builder("r")
        .retry(policy(5, Backoff::immediate()))
        .breaker(breaker.clone())
        .build()
        .unwrap();
    let err = p
        .call(|| {
            calls.fetch_add(1, Ordering::Relaxed);
            async { Ok(()) }
        })
        .await
        .unwrap_err();
    assert_eq!(err.rejection().unwrap().reason(), RejectReason::ForcedOpen);
    assert_eq!(calls.load(Ordering::Relaxed), 0);
    assert_eq!(breaker.metrics().calls.rejected(), 1, "one attempt, not five");
}

#[tokio::test(start_paused = true)]
async fn r48_rejections_retried_on_request_wait_at_least_retry_after() {
    let breaker = CircuitBreaker::builder("b")
        .failure_threshold(1)
        .open_duration(MS * 300)
        .success_threshold(1)
        .build()
        .unwrap();
    let _ = breaker.call(async { Err::<(), _>("trip") }).await;
    let p: Pipeline<u8, &str> = Pipeline::builder("r")
        .retry(
            RetryPolicy::builder()
                .max_attempts(3)
                .backoff(Backoff::constant(MS * 10).build().unwrap())
                .retry_rejections(true)
                .build()
                .unwrap(),
        )
        .breaker(breaker)
        .build()
        .unwrap();
    let start = Instant::now();
    assert_eq!(p.call(|| async { Ok(7) }).await.unwrap(), 7);
    assert_eq!(
        start.elapsed(),
        MS * 300,
        "waited the circuit's retry_after, not 10 ms"
    );
}

#[tokio::test(start_paused = true)]
async fn r50_max_elapsed_truncates_the_last_delay_then_stops() {
    let p = Pipeline::builder("r")
        .retry(
            RetryPolicy::builder()
                .max_attempts(10)
                .backoff(exp(MS * 1000, MS * 60_000, Jitter::None))
                .max_elapsed(MS * 2500)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let start = Instant::now();
    let (gaps, err) = gaps_of(&p).await;
    // 1 s, then 2 s truncated to the 1.5 s left; then no time left.
    assert_eq!(gaps, [MS * 1000, MS * 1500]);
    assert_eq!(start.elapsed(), MS * 2500);
    assert_eq!(err.attempts(), Some(3));
}

#[derive(Debug)]
struct Busy(Option<Duration>);

#[tokio::test(start_paused = true)]
async fn retry_after_hint_is_a_floor_capped_at_max_delay() {
    let p = Pipeline::builder("r")
        .retry(policy(3, exp(MS * 100, MS * 3000, Jitter::None)))
        .retry_after_hint(|e: &Busy| e.0)
        .build()
        .unwrap();
    let mut times = Vec::new();
    let mut hints = vec![Some(MS * 1000), Some(MS * 60_000)].into_iter();
    let _ = p
        .call(|| {
            times.push(Instant::now());
            let h = hints.next().flatten();
            async move { Err::<(), _>(Busy(h)) }
        })
        .await;
    let gaps: Vec<_> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, [MS * 1000, MS * 3000]); // at least the hint; never above the cap
}

#[tokio::test(start_paused = true)]
async fn retry_budget_limits_retries_to_a_fraction_of_calls() {
    let budget = RetryBudget::new(0.0, 2).unwrap();
    let p = Pipeline::builder("r")
        .retry(
            RetryPolicy::builder()
                .max_attempts(3)
                .backoff(Backoff::immediate())
                .budget(budget.clone())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let calls = Arc::new(AtomicU32::new(0));
    for _ in 0..5 {
        let err = p
            .call(|| {
                calls.fetch_add(1, Ordering::Relaxed);
                async { Err::<(), _>("down") }
            })
            .await
            .unwrap_err();
        assert!(matches!(err, Error::RetriesExhausted { .. }));
    }
    // 5 first attempts + the 2 retries of the reserve; the fleet adds nothing more.
    assert_eq!(calls.load(Ordering::Relaxed), 7);
    assert_eq!(budget.available(), 0);
}

#[tokio::test(start_paused = true)]
async fn r49_cancellation_during_backoff_stops_at_once() {
    let calls = Arc::new(AtomicU32::new(0));
    let p: Pipeline<(), &str> = Pipeline::builder("r")
        .retry(policy(
            5,
            Backoff::constant(Duration::from_secs(10)).build().unwrap(),
        ))
        .build()
        .unwrap();
    let c = calls.clone();
    let p2 = p.clone();
    let task = tokio::spawn(async move {
        p2.call(|| {
            c.fetch_add(1, Ordering::Relaxed);
            async { Err::<(), _>("x") }
        })
        .await
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(calls.load(Ordering::Relaxed), 1); // waiting out the backoff
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(calls.load(Ordering::Relaxed), 1, "no attempt after cancellation");
}

#[tokio::test(start_paused = true)]
async fn retry_on_result_retries_unwanted_results_and_returns_the_last() {
    let p = Pipeline::builder("r")
        .retry(policy(3, Backoff::immediate()))
        .retry_on_result(|v: &u32| *v == 0)
        .build()
        .unwrap();
    let mut answers = vec![0u32, 0, 5].into_iter();
    let got = p
        .call(|| std::future::ready(Ok::<_, &str>(answers.next().unwrap())))
        .await;
    assert_eq!(got.unwrap(), 5);
    let got = p.call(|| std::future::ready(Ok::<_, &str>(0))).await;
    assert_eq!(got.unwrap(), 0, "out of attempts: the last result stands");
}
