//! Tier selection on paused tokio time with in-memory fake tiers (R62–R65).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cb_core::{CircuitBreaker, Classifier, Outcome, RejectReason, State, Verdict};
use cb_tiers::{AttemptKind, ChainError, Tier, TierChain, TierRetry};

/// Counts the calls each fake tier receives.
#[derive(Clone, Default)]
struct Calls(Arc<[AtomicUsize; 4]>);

impl Calls {
    fn hit(&self, tier: usize) {
        self.0[tier].fetch_add(1, Ordering::SeqCst);
    }
    fn get(&self, tier: usize) -> usize {
        self.0[tier].load(Ordering::SeqCst)
    }
}

fn breaker(name: &'static str, threshold: u32, open: Duration) -> CircuitBreaker {
    CircuitBreaker::builder(name)
        .failure_threshold(threshold)
        .open_duration(open)
        .half_open_max_calls(1)
        .success_threshold(1)
        .build()
        .expect("valid breaker config")
}

fn three_tiers(open: Duration) -> TierChain {
    TierChain::new([
        Tier::new(breaker("primary", 2, open)),
        Tier::new(breaker("secondary", 2, open)),
        Tier::new(breaker("tertiary", 2, open)),
    ])
    .expect("valid chain")
}

#[tokio::test(start_paused = true)]
async fn r62_tiers_are_tried_in_declared_order_and_the_first_success_serves() {
    let chain = three_tiers(Duration::from_secs(30));
    let calls = Calls::default();
    let served = chain
        .call(|i| {
            let calls = calls.clone();
            async move {
                calls.hit(i);
                Ok::<_, &str>(i * 10)
            }
        })
        .await
        .unwrap();
    assert_eq!(
        (served.tier, served.name.as_str(), served.value),
        (0, "primary", 0)
    );
    assert_eq!((calls.get(0), calls.get(1), calls.get(2)), (1, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn r62_a_failing_tier_hands_over_to_the_next_and_each_tier_is_called_once() {
    let chain = three_tiers(Duration::from_secs(30));
    let calls = Calls::default();
    let served = chain
        .call(|i| {
            let calls = calls.clone();
            async move {
                calls.hit(i);
                if i < 2 { Err("down") } else { Ok("tertiary answer") }
            }
        })
        .await
        .unwrap();
    assert_eq!(served.name, "tertiary");
    assert_eq!(served.value, "tertiary answer");
    assert_eq!((calls.get(0), calls.get(1), calls.get(2)), (1, 1, 1));
}

#[tokio::test(start_paused = true)]
async fn r63_open_tier_is_skipped_without_a_call() {
    let chain = three_tiers(Duration::from_secs(30));
    let calls = Calls::default();
    let primary_down = |i: usize| {
        let calls = calls.clone();
        async move {
            calls.hit(i);
            if i == 0 { Err("503") } else { Ok(i) }
        }
    };
    for _ in 0..2 {
        assert_eq!(chain.call(primary_down).await.unwrap().name, "secondary");
    }
    assert_eq!(chain.tiers()[0].breaker().state(), State::Open);
    for _ in 0..5 {
        assert_eq!(chain.call(primary_down).await.unwrap().name, "secondary");
    }
    assert_eq!(calls.get(0), 2, "the open primary must not be called");
    assert_eq!(calls.get(1), 7);
}

#[tokio::test(start_paused = true)]
async fn r63_forced_open_and_half_open_full_tiers_are_skipped_with_their_reasons() {
    let chain = three_tiers(Duration::from_secs(30));
    chain.tiers()[0].breaker().force_open();
    // The secondary is half-open with its only probe slot held by someone else.
    let secondary = chain.tiers()[1].breaker();
    secondary.open_for(Some(Duration::ZERO));
    let held = secondary.try_acquire().unwrap();
    assert!(held.is_probe());

    let calls = Calls::default();
    let served = chain
        .call(|i| {
            let calls = calls.clone();
            async move {
                calls.hit(i);
                Ok::<_, ()>(i)
            }
        })
        .await
        .unwrap();
    assert_eq!(served.name, "tertiary");
    assert_eq!((calls.get(0), calls.get(1)), (0, 0));

    chain.tiers()[2].breaker().force_open();
    let err = chain.call(|i| async move { Ok::<_, ()>(i) }).await.unwrap_err();
    let all = err.all_failed().unwrap();
    let kinds: Vec<_> = all.attempts.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "skipped_forced_open",
            "skipped_half_open_full",
            "skipped_forced_open"
        ]
    );
    assert!(all.all_skipped());
    drop(held);
}

#[tokio::test(start_paused = true)]
async fn r64_recovered_tier_gets_the_next_call_first_as_its_probe() {
    let chain = three_tiers(Duration::from_secs(30));
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let calls = Calls::default();
    let call = |i: usize| {
        let (calls, healthy) = (calls.clone(), healthy.clone());
        async move {
            calls.hit(i);
            if i == 0 && !healthy.load(Ordering::SeqCst) {
                Err("down")
            } else {
                Ok(i)
            }
        }
    };
    chain.call(call).await.unwrap();
    chain.call(call).await.unwrap();
    assert_eq!(chain.tiers()[0].breaker().state(), State::Open);

    tokio::time::sleep(Duration::from_secs(29)).await;
    assert_eq!(chain.call(call).await.unwrap().tier, 1, "still open at 29 s");
    assert_eq!(calls.get(0), 2);

    healthy.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(chain.tiers()[0].breaker().state(), State::HalfOpen);
    let served = chain.call(call).await.unwrap();
    assert_eq!(served.tier, 0, "the recovered primary serves the probe");
    assert_eq!(chain.tiers()[0].breaker().state(), State::Closed);
    assert_eq!(chain.call(call).await.unwrap().tier, 0, "no sticky failover");
    assert_eq!(calls.get(0), 4);
}

#[tokio::test(start_paused = true)]
async fn r64_a_failed_probe_reopens_and_the_call_still_falls_through() {
    let chain = three_tiers(Duration::from_secs(30));
    let down = |i: usize| async move { if i == 0 { Err("down") } else { Ok(i) } };
    chain.call(down).await.unwrap();
    chain.call(down).await.unwrap();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let served = chain.call(down).await.unwrap();
    assert_eq!(served.tier, 1);
    let primary = chain.tiers()[0].breaker();
    assert_eq!(primary.state(), State::Open);
    assert_eq!(primary.retry_after(), Some(Duration::from_secs(30)));
}

#[tokio::test(start_paused = true)]
async fn r62_custom_sequence_tries_only_its_tiers_in_its_order() {
    let chain = three_tiers(Duration::from_secs(30));
    let seq = chain.sequence(["tertiary", "primary"]).unwrap();
    assert_eq!(seq.positions(), &[2, 0]);
    let calls = Calls::default();
    let call = |i: usize| {
        let calls = calls.clone();
        async move {
            calls.hit(i);
            if i == 2 { Err("tertiary down") } else { Ok(i) }
        }
    };
    let served = chain.call_in(&seq, call).await.unwrap();
    assert_eq!(served.name, "primary");
    assert_eq!((calls.get(0), calls.get(1), calls.get(2)), (1, 0, 1));

    let err = chain
        .call_in(&seq, |_| async { Err::<(), _>("all down") })
        .await
        .unwrap_err();
    let names: Vec<_> = err
        .all_failed()
        .unwrap()
        .attempts
        .iter()
        .map(|a| a.name.to_string())
        .collect();
    assert_eq!(
        names,
        ["tertiary", "primary"],
        "only the sequence's tiers, in its order"
    );
}

#[test]
fn r62_bad_sequences_and_chains_are_config_errors() {
    let chain = three_tiers(Duration::from_secs(30));
    let err = chain.sequence(["primary", "nope", "primary"]).unwrap_err();
    assert_eq!(err.violations().len(), 2);
    assert!(err.to_string().contains("sequence[1] = nope"));
    assert!(
        err.to_string()
            .contains("sequence[2] = primary: must name each tier at most once")
    );
    assert!(chain.sequence([]).is_err());

    assert!(TierChain::new([]).is_err());
    let dup = TierChain::new([
        Tier::new(breaker("a", 1, Duration::from_secs(1))),
        Tier::new(breaker("a", 1, Duration::from_secs(1))),
    ])
    .unwrap_err();
    assert!(dup.to_string().contains("must be unique"), "{dup}");
    let zero = TierChain::new([Tier::new(breaker("a", 1, Duration::from_secs(1))).timeout(Duration::ZERO)]);
    assert!(zero.is_err());
}

#[derive(Debug, PartialEq)]
struct Boom(&'static str);
impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for Boom {}

#[tokio::test(start_paused = true)]
async fn r65_all_tiers_failed_lists_every_tier_in_order_with_reason_and_retry_after() {
    let chain = TierChain::new([
        Tier::new(breaker("primary", 1, Duration::from_secs(30))),
        Tier::new(breaker("secondary", 1, Duration::from_secs(20))),
        Tier::new(breaker("tertiary", 5, Duration::from_secs(10))).timeout(Duration::from_millis(100)),
    ])
    .unwrap();
    // Open the primary; ten seconds later run a call where the secondary fails
    // and the tertiary hangs past its timeout.
    let _ = chain
        .call_in(&chain.sequence(["primary"]).unwrap(), |_| async {
            Err::<(), _>(Boom("x"))
        })
        .await;
    tokio::time::sleep(Duration::from_secs(10)).await;

    let err = chain
        .call(|i| async move {
            match i {
                1 => Err(Boom("secondary exploded")),
                _ => {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Ok(())
                }
            }
        })
        .await
        .unwrap_err();
    let all = err.all_failed().unwrap();
    assert_eq!(all.attempts.len(), 3);

    let p = &all.attempts[0];
    assert_eq!((p.tier, p.name.as_str(), p.calls), (0, "primary", 0));
    assert!(matches!(p.kind, AttemptKind::Skipped(RejectReason::CircuitOpen)));
    assert_eq!(p.retry_after, Some(Duration::from_secs(20)));

    let s = &all.attempts[1];
    assert_eq!((s.name.as_str(), s.calls), ("secondary", 1));
    assert_eq!(s.kind.error(), Some(&Boom("secondary exploded")));
    assert_eq!(
        s.retry_after,
        Some(Duration::from_secs(20)),
        "its failure opened it for 20 s"
    );

    let t = &all.attempts[2];
    assert!(matches!(t.kind, AttemptKind::Timeout(d) if d == Duration::from_millis(100)));
    assert_eq!(
        t.retry_after, None,
        "one timeout does not open a threshold-5 breaker"
    );
    assert_eq!(
        chain.tiers()[2].breaker().metrics().calls.failures,
        1,
        "a timeout is a failure"
    );

    assert_eq!(all.retry_after(), Some(Duration::from_secs(20)));
    let text = err.to_string();
    for needle in [
        "all 3 tiers failed",
        "`primary`: skipped",
        "`secondary`: failed: secondary exploded",
        "`tertiary`: timed out",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from {text}");
    }
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(source.to_string(), "secondary exploded");
}

#[tokio::test(start_paused = true)]
async fn r55_a_tier_timeout_drops_the_call_and_counts_as_a_failure() {
    let chain = TierChain::new([
        Tier::new(breaker("slow", 1, Duration::from_secs(30))).timeout(Duration::from_millis(50)),
        Tier::new(breaker("fast", 1, Duration::from_secs(30))),
    ])
    .unwrap();
    let finished = Arc::new(AtomicUsize::new(0));
    let start = tokio::time::Instant::now();
    let served = chain
        .call(|i| {
            let finished = finished.clone();
            async move {
                if i == 0 {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    finished.fetch_add(1, Ordering::SeqCst);
                }
                Ok::<_, ()>(i)
            }
        })
        .await
        .unwrap();
    assert_eq!(served.name, "fast");
    assert_eq!(start.elapsed(), Duration::from_millis(50));
    assert_eq!(chain.tiers()[0].breaker().state(), State::Open);
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "the timed-out call was dropped"
    );
}

#[tokio::test(start_paused = true)]
async fn r4_an_ok_classified_as_failure_moves_on_and_an_excluded_error_ends_the_chain() {
    let chain = three_tiers(Duration::from_secs(30));
    let classify = |r: &Result<u16, u16>| match r {
        Ok(500..) => Outcome::Failure,
        Err(404) => Outcome::Excluded,
        Err(_) => Outcome::Failure,
        Ok(_) => Outcome::Success,
    };
    let served = chain
        .call_with(
            |i| async move { if i == 0 { Ok(503) } else { Ok(200) } },
            &classify,
        )
        .await
        .unwrap();
    assert_eq!((served.tier, served.value), (1, 200));

    let calls = Calls::default();
    let err = chain
        .call_with(
            |i| {
                let calls = calls.clone();
                async move {
                    calls.hit(i);
                    Err::<u16, u16>(404)
                }
            },
            &classify,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ChainError::Returned {
            tier: 0,
            error: 404,
            ..
        }
    ));
    assert_eq!(calls.get(1), 0, "a 404 is an answer, not an outage");
    assert_eq!(chain.tiers()[0].breaker().metrics().calls.excluded, 1);
}

#[derive(Debug)]
struct UpTo(u32);
impl TierRetry for UpTo {
    fn next_delay(&self, attempt: u32, failure: &Verdict, _elapsed: Duration) -> Option<Duration> {
        (attempt < self.0).then(|| failure.retry_after.unwrap_or(Duration::from_millis(100)))
    }
}

#[tokio::test(start_paused = true)]
async fn r62_a_per_tier_retry_runs_inside_the_tier_before_moving_on() {
    let chain = TierChain::new([
        Tier::new(breaker("primary", 5, Duration::from_secs(30))).retry(UpTo(3)),
        Tier::new(breaker("secondary", 5, Duration::from_secs(30))),
    ])
    .unwrap();
    let calls = Calls::default();
    let start = tokio::time::Instant::now();
    let served = chain
        .call(|i| {
            let calls = calls.clone();
            async move {
                calls.hit(i);
                if i == 0 && calls.get(0) < 3 {
                    Err("flaky")
                } else {
                    Ok(i)
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(served.tier, 0);
    assert_eq!(calls.get(0), 3);
    assert_eq!(start.elapsed(), Duration::from_millis(200));

    let err = chain.call(|_| async { Err::<(), _>("down") }).await.unwrap_err();
    let all = err.all_failed().unwrap();
    assert_eq!((all.attempts[0].calls, all.attempts[1].calls), (3, 1));
}

#[tokio::test(start_paused = true)]
async fn r62_a_retry_refused_by_the_tripped_breaker_ends_the_tier_with_its_last_failure() {
    let chain = TierChain::new([
        Tier::new(breaker("primary", 2, Duration::from_secs(30))).retry(UpTo(5)),
        Tier::new(breaker("secondary", 5, Duration::from_secs(30))),
    ])
    .unwrap();
    let calls = Calls::default();
    let served = chain
        .call(|i| {
            let calls = calls.clone();
            async move {
                calls.hit(i);
                if i == 0 { Err("down") } else { Ok(i) }
            }
        })
        .await
        .unwrap();
    assert_eq!(served.tier, 1);
    assert_eq!(
        calls.get(0),
        2,
        "the third attempt is refused by the open breaker"
    );
}

/// A classifier that reads a wait hint out of the error, as the HTTP tiers do.
struct Hinted;
impl Classifier<(), Duration> for Hinted {
    fn classify(&self, result: &Result<(), Duration>) -> Outcome {
        self.verdict(result).outcome
    }
    fn verdict(&self, result: &Result<(), Duration>) -> Verdict {
        match result {
            Ok(()) => Verdict::new(Outcome::Success),
            Err(d) => Verdict {
                outcome: Outcome::Failure,
                retry_after: Some(*d),
            },
        }
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_hint_sets_the_open_duration_of_the_tier_it_tripped() {
    let chain = TierChain::new([
        Tier::new(breaker("primary", 1, Duration::from_secs(60))),
        Tier::new(breaker("secondary", 5, Duration::from_secs(60))),
    ])
    .unwrap();
    let served = chain
        .call_with(
            |i| async move {
                if i == 0 {
                    Err(Duration::from_secs(2))
                } else {
                    Ok(())
                }
            },
            &Hinted,
        )
        .await
        .unwrap();
    assert_eq!(served.tier, 1);
    let primary = chain.tiers()[0].breaker();
    assert_eq!(primary.retry_after(), Some(Duration::from_secs(2)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(primary.state(), State::HalfOpen);
}

#[tokio::test(start_paused = true)]
async fn r21_concurrent_callers_send_a_single_probe_to_a_half_open_tier() {
    let chain = three_tiers(Duration::from_secs(30));
    chain.tiers()[0].breaker().open_for(Some(Duration::ZERO));
    let calls = Calls::default();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (chain, calls) = (chain.clone(), calls.clone());
        tasks.push(tokio::spawn(async move {
            chain
                .call(|i| {
                    let calls = calls.clone();
                    async move {
                        calls.hit(i);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        Ok::<_, ()>(i)
                    }
                })
                .await
                .unwrap()
                .tier
        }));
    }
    let mut served = [0usize; 3];
    for t in tasks {
        served[t.await.unwrap()] += 1;
    }
    assert_eq!(calls.get(0), 1, "exactly one probe reaches the half-open primary");
    assert_eq!(served, [1, 19, 0]);
    assert_eq!(chain.tiers()[0].breaker().state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn r5_dropping_a_chain_call_frees_the_probe_slot_and_records_nothing() {
    let chain = three_tiers(Duration::from_secs(30));
    let primary = chain.tiers()[0].breaker().clone();
    primary.open_for(Some(Duration::ZERO));
    let pending = chain.call(|_| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok::<_, ()>(())
    });
    let _ = tokio::time::timeout(Duration::from_millis(10), pending).await;
    assert_eq!(primary.state(), State::HalfOpen);
    assert_eq!(primary.metrics().calls.cancelled, 1);
    assert!(primary.try_acquire().is_ok(), "the probe slot is free again");
}

#[tokio::test(start_paused = true)]
async fn r6_a_panicking_tier_is_recorded_as_panicked() {
    let chain = three_tiers(Duration::from_secs(30));
    let c = chain.clone();
    let task = tokio::spawn(async move {
        c.call(|_| async {
            tokio::task::yield_now().await;
            if true {
                panic!("tier bug");
            }
            Ok::<(), ()>(())
        })
        .await
    });
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(chain.tiers()[0].breaker().metrics().calls.panicked, 1);
}

#[tokio::test(start_paused = true)]
async fn r63_a_bulkhead_full_tier_is_skipped_without_touching_its_breaker() {
    let chain = TierChain::new([
        Tier::new(breaker("primary", 2, Duration::from_secs(30))).max_concurrent(1),
        Tier::new(breaker("secondary", 2, Duration::from_secs(30))),
    ])
    .unwrap();
    let calls = Calls::default();
    let call = |i: usize| {
        let calls = calls.clone();
        async move {
            calls.hit(i);
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok::<_, ()>(i)
        }
    };
    let (first, second) = tokio::join!(chain.call(call), async {
        tokio::task::yield_now().await;
        chain.call(call).await
    });
    assert_eq!((first.unwrap().tier, second.unwrap().tier), (0, 1));
    assert_eq!((calls.get(0), calls.get(1)), (1, 1));
    let m = chain.tiers()[0].breaker().metrics();
    assert_eq!(
        (m.calls.calls_total(), m.calls.rejected()),
        (1, 0),
        "a full bulkhead is not a breaker event"
    );
    assert_eq!(chain.call(call).await.unwrap().tier, 0, "the slot is free again");

    chain.tiers()[1].breaker().force_open();
    let (_, err) = tokio::join!(chain.call(call), async {
        tokio::task::yield_now().await;
        chain.call(call).await
    });
    let kinds: Vec<_> = err
        .unwrap_err()
        .into_all_failed()
        .unwrap()
        .attempts
        .iter()
        .map(|a| a.kind.as_str())
        .collect();
    assert_eq!(kinds, ["skipped_bulkhead_full", "skipped_forced_open"]);
    assert!(TierChain::new([Tier::new(breaker("z", 1, Duration::from_secs(1))).max_concurrent(0)]).is_err());
}
