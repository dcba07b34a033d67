//! cb-core's retry policy and bulkhead inside tiers, on paused time.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cb_core::random::SplitMix64;
use cb_core::retry::{Backoff, Jitter, RetryPolicy};
use cb_core::{Bulkhead, CircuitBreaker, RejectReason};
use cb_tiers::{AttemptKind, ChainError, Tier, TierChain};

const MS: Duration = Duration::from_millis(1);

fn breaker(name: &'static str) -> CircuitBreaker {
    CircuitBreaker::builder(name)
        .failure_threshold(10)
        .build()
        .unwrap()
}

fn policy(max_attempts: u32, max_elapsed: Option<Duration>) -> RetryPolicy {
    let b = RetryPolicy::builder().max_attempts(max_attempts).backoff(
        Backoff::exponential(MS * 100)
            .jitter(Jitter::None)
            .build()
            .unwrap(),
    );
    match max_elapsed {
        Some(d) => b.max_elapsed(d),
        None => b,
    }
    .build()
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn r44_r45_a_tier_retries_with_the_policy_s_exact_delays_then_hands_over() {
    let chain = TierChain::new([
        Tier::new(breaker("primary")).retry_policy(policy(3, None)),
        Tier::new(breaker("secondary")),
    ])
    .unwrap();
    let primary_calls = Arc::new(AtomicU32::new(0));
    let start = tokio::time::Instant::now();
    let c = primary_calls.clone();
    let served = chain
        .call(move |tier| {
            let c = c.clone();
            async move {
                if tier == 0 {
                    c.fetch_add(1, Ordering::Relaxed);
                    Err("primary down")
                } else {
                    Ok(tier)
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(served.tier, 1);
    assert_eq!(
        primary_calls.load(Ordering::Relaxed),
        3,
        "max_attempts counts the first call"
    );
    assert_eq!(
        start.elapsed(),
        MS * 300,
        "100 ms then 200 ms, no sleep after the last attempt"
    );
}

#[tokio::test(start_paused = true)]
async fn r50_max_elapsed_at_tier_level_truncates_then_stops() {
    let chain = TierChain::new([Tier::new(breaker("only"))
        .retry_policy_with_random(policy(10, Some(MS * 250)), SplitMix64::seeded(1))])
    .unwrap();
    let start = tokio::time::Instant::now();
    let err = chain.call(|_| async { Err::<(), _>("down") }).await.unwrap_err();
    // Delays 100, then 150 (200 cut to what is left of 250), then no time left.
    assert_eq!(start.elapsed(), MS * 250);
    let all = err.all_failed().unwrap();
    assert_eq!(all.attempts[0].calls, 3);
}

#[tokio::test(start_paused = true)]
async fn r51_a_tier_waits_for_its_bulkhead_then_is_skipped_when_the_queue_times_out() {
    let pool = Bulkhead::builder("primary-pool")
        .max_concurrent(1)
        .queue_timeout(MS * 500)
        .build()
        .unwrap();
    let chain = Arc::new(
        TierChain::new([
            Tier::new(breaker("primary")).bulkhead(pool.clone()),
            Tier::new(breaker("secondary")),
        ])
        .unwrap(),
    );
    // One call holds the primary's only slot for 2 s.
    let holder = tokio::spawn({
        let chain = chain.clone();
        async move {
            chain
                .call(|tier| async move {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Ok::<_, &str>(tier)
                })
                .await
        }
    });
    tokio::task::yield_now().await;
    let start = tokio::time::Instant::now();
    let served = chain
        .call(|tier| async move { Ok::<_, &str>(tier) })
        .await
        .unwrap();
    assert_eq!(served.tier, 1, "the secondary served");
    assert_eq!(
        start.elapsed(),
        MS * 500,
        "after waiting the queue timeout for the primary"
    );
    assert_eq!(pool.rejected_total(), 1);
    assert_eq!(
        chain.tiers()[0].breaker().metrics().calls.calls_total(),
        0,
        "R53: no breaker event"
    );
    assert_eq!(holder.await.unwrap().unwrap().tier, 0);
}

#[tokio::test(start_paused = true)]
async fn a_shared_pool_limits_tiers_of_different_chains_together() {
    let pool = Bulkhead::builder("shared").max_concurrent(1).build().unwrap();
    let a = TierChain::new([Tier::new(breaker("a")).bulkhead(pool.clone())]).unwrap();
    let b = TierChain::new([Tier::new(breaker("b")).bulkhead(pool.clone())]).unwrap();
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = release.clone();
    let held = tokio::spawn(async move {
        a.call(|_| {
            let gate = gate.clone();
            async move {
                gate.notified().await;
                Ok::<(), &str>(())
            }
        })
        .await
    });
    tokio::task::yield_now().await;
    let err = b.call(|_| async { Ok::<(), &str>(()) }).await.unwrap_err();
    let ChainError::AllFailed(all) = err else {
        panic!("expected all tiers failed")
    };
    assert!(matches!(
        all.attempts[0].kind,
        AttemptKind::Skipped(RejectReason::BulkheadFull)
    ));
    release.notify_one();
    held.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn r50_a_tier_measures_max_elapsed_on_its_breaker_s_clock() {
    // The breaker's manual clock is moved by hand: 100 ms per attempt here,
    // whatever tokio's time does during the 10 ms waits.
    let clock = cb_core::clock::ManualClock::new();
    let breaker = CircuitBreaker::builder("only")
        .failure_threshold(10)
        .clock(clock.clone())
        .build()
        .unwrap();
    let policy = RetryPolicy::builder()
        .max_attempts(10)
        .backoff(Backoff::constant(MS * 10).build().unwrap())
        .max_elapsed(MS * 250)
        .build()
        .unwrap();
    let chain = TierChain::new([Tier::new(breaker).retry_policy(policy)]).unwrap();
    let err = chain
        .call(|_| {
            clock.advance(MS * 100);
            async { Err::<(), _>("down") }
        })
        .await
        .unwrap_err();
    // Attempts at 100, 200 and 300 ms on the breaker's clock: past 250 ms, no more.
    assert_eq!(err.all_failed().unwrap().attempts[0].calls, 3);
}

/// R48a: a tier whose breaker opens on its first failure hands over to the
/// next tier at once, without sleeping the backoff before a retry the open
/// circuit would refuse.
#[tokio::test(start_paused = true)]
async fn r48a_a_tier_whose_breaker_opens_hands_over_without_sleeping() {
    let primary = CircuitBreaker::builder("r48a-primary")
        .failure_threshold(1)
        .open_duration(Duration::from_secs(60))
        .build()
        .unwrap();
    let chain = TierChain::new([
        Tier::new(primary.clone()).retry_policy(
            RetryPolicy::builder()
                .max_attempts(3)
                .backoff(Backoff::constant(Duration::from_secs(1)).build().unwrap())
                .build()
                .unwrap(),
        ),
        Tier::new(CircuitBreaker::builder("r48a-secondary").build().unwrap()),
    ])
    .unwrap();
    let primary_calls = AtomicU32::new(0);
    let start = tokio::time::Instant::now();
    let served = chain
        .call(|tier| {
            if tier == 0 {
                primary_calls.fetch_add(1, Ordering::Relaxed);
            }
            async move { if tier == 0 { Err("primary down") } else { Ok(tier) } }
        })
        .await
        .unwrap();
    assert_eq!(served.tier, 1);
    assert_eq!(primary_calls.load(Ordering::Relaxed), 1);
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "no backoff before a refused retry"
    );
    assert_eq!(primary.state(), cb_core::State::Open);
}
