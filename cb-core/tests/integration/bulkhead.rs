//! Bulkhead admission, fairness and permit hygiene (R51–R54).
#![allow(clippy::unwrap_used)] // helpers shared by the tests unwrap like the tests do

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cb_core::{Bulkhead, BulkheadPools, CircuitBreaker, Error, Pipeline, RejectReason, State};

const MS: Duration = Duration::from_millis(1);

fn pool(max: u32, wait: Duration) -> Bulkhead {
    Bulkhead::builder("pool")
        .max_concurrent(max)
        .queue_timeout(wait)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn r51_bulkhead_never_exceeds_its_limit_under_a_storm() {
    let b = pool(8, Duration::from_secs(3600));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..500u32)
        .map(|i| {
            let (b, in_flight, peak) = (b.clone(), in_flight.clone(), peak.clone());
            tokio::spawn(async move {
                b.call(async {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(MS * (1 + i % 7)).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, ()>(())
                })
                .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 8);
    assert_eq!(b.available(), 8);
}

#[test]
fn r51_bulkhead_never_exceeds_its_limit_across_threads() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    let b = pool(3, Duration::from_secs(60));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let tasks: Vec<_> = (0..400)
            .map(|_| {
                let (b, in_flight, peak) = (b.clone(), in_flight.clone(), peak.clone());
                tokio::spawn(async move {
                    let _slot = b.acquire().await.unwrap();
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert!(peak.load(Ordering::SeqCst) <= 3);
    assert_eq!(b.available(), 3);
}

#[tokio::test(start_paused = true)]
async fn r51_waiters_are_served_first_come_first_served() {
    let b = pool(1, Duration::from_secs(60));
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let held = b.try_acquire().unwrap();
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let (b, order) = (b.clone(), order.clone());
            tokio::spawn(async move {
                let _slot = b.acquire().await.unwrap();
                order.lock().unwrap().push(i);
                tokio::time::sleep(MS).await;
            })
        })
        .collect();
    for _ in 0..5 {
        tokio::task::yield_now().await; // every waiter queues, in spawn order
    }
    drop(held);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
}

#[tokio::test(start_paused = true)]
async fn r51_queue_timeout_rejects_after_waiting_and_zero_fails_fast() {
    let b = pool(1, MS * 250);
    let _held = b.try_acquire().unwrap();
    let t = tokio::time::Instant::now();
    let err = b.acquire().await.unwrap_err();
    assert_eq!(err.reason(), RejectReason::BulkheadFull);
    assert_eq!(t.elapsed(), MS * 250);

    let fast = pool(1, Duration::ZERO);
    let _held = fast.try_acquire().unwrap();
    let t = tokio::time::Instant::now();
    assert!(fast.acquire().await.is_err());
    assert_eq!(t.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn r52_waiters_that_time_out_leak_no_permit() {
    let b = pool(2, Duration::from_secs(1));
    let held: Vec<_> = (0..2).map(|_| b.try_acquire().unwrap()).collect();
    let waiters: Vec<_> = (0..10)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move { b.acquire().await.map(drop) })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    for w in waiters {
        assert!(w.await.unwrap().is_err());
    }
    assert_eq!(b.waiting(), 0);
    drop(held);
    assert_eq!(b.available(), 2);
    let again: Vec<_> = (0..2).map(|_| b.try_acquire().unwrap()).collect();
    assert!(b.try_acquire().is_err());
    drop(again);
}

#[tokio::test(start_paused = true)]
async fn r52_cancelled_waiters_and_calls_leak_no_permit() {
    let b = pool(2, Duration::from_secs(60));
    // Two calls in flight, then cancelled mid-call.
    let running: Vec<_> = (0..2)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move {
                b.call(async {
                    tokio::time::sleep(Duration::from_secs(600)).await;
                    Ok::<_, ()>(())
                })
                .await
            })
        })
        .collect();
    // Five waiters, cancelled while queued.
    let queued: Vec<_> = (0..5)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move { b.acquire().await.map(drop) })
        })
        .collect();
    tokio::time::sleep(MS).await;
    assert_eq!(b.available(), 0);
    assert_eq!(b.waiting(), 5);
    queued.iter().for_each(|t| t.abort());
    running.iter().for_each(|t| t.abort());
    for t in queued {
        assert!(t.await.unwrap_err().is_cancelled());
    }
    for t in running {
        assert!(t.await.unwrap_err().is_cancelled());
    }
    assert_eq!(b.available(), 2);
    assert_eq!(b.waiting(), 0);
}

#[tokio::test(start_paused = true)]
async fn r52_a_panicking_call_releases_its_permit() {
    let b = pool(1, Duration::ZERO);
    let b2 = b.clone();
    let t = tokio::spawn(async move {
        b2.call(async {
            if b2.max_concurrent() == 1 {
                panic!("boom");
            }
            Ok::<_, ()>(())
        })
        .await
    });
    assert!(t.await.unwrap_err().is_panic());
    assert_eq!(b.available(), 1);
}

#[tokio::test(start_paused = true)]
async fn r53_bulkhead_rejections_are_not_breaker_failures() {
    let breaker = CircuitBreaker::builder("b").failure_threshold(1).build().unwrap();
    let bulkhead = pool(1, Duration::ZERO);
    let p: Pipeline<(), &str> = Pipeline::builder("p")
        .breaker(breaker.clone())
        .bulkhead(bulkhead.clone())
        .build()
        .unwrap();
    let _held = bulkhead.try_acquire().unwrap();
    for _ in 0..5 {
        let err = p.call(|| async { Ok(()) }).await.unwrap_err();
        assert_eq!(err.rejection().unwrap().reason(), RejectReason::BulkheadFull);
    }
    assert_eq!(breaker.state(), State::Closed);
    let m = breaker.metrics();
    assert_eq!(m.calls.failures, 0);
    // Not breaker calls at all: the downstream never saw them.
    assert_eq!(m.calls.excluded, 0);
    assert_eq!(m.calls.calls_total(), 0);
}

#[tokio::test(start_paused = true)]
async fn named_pools_are_shared_by_their_callers() {
    let pools = BulkheadPools::new();
    let a = pools.get_or_create("gpu", |b| b.max_concurrent(1)).unwrap();
    let b = pools.get_or_create("gpu", |b| b.max_concurrent(50)).unwrap();
    let p1: Pipeline<(), ()> = Pipeline::builder("one").bulkhead(a).build().unwrap();
    let p2: Pipeline<(), ()> = Pipeline::builder("two").bulkhead(b).build().unwrap();
    let hold = tokio::spawn({
        let p1 = p1.clone();
        async move {
            p1.call(|| async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok(())
            })
            .await
        }
    });
    tokio::time::sleep(MS).await;
    let err = p2.call(|| async { Ok(()) }).await.unwrap_err();
    assert!(matches!(err, Error::Rejected(ref r) if r.name() == "gpu"));
    hold.await.unwrap().unwrap();
    assert_eq!(pools.names(), ["gpu"]);
}

#[tokio::test(start_paused = true)]
async fn r51_a_slot_given_back_while_a_caller_waits_goes_to_that_caller() {
    let b = pool(1, Duration::from_secs(10));
    let held = b.try_acquire().unwrap();
    let waiter = {
        let b = b.clone();
        tokio::spawn(async move { b.acquire().await.map(drop) })
    };
    tokio::task::yield_now().await; // the waiter queues
    assert_eq!(b.waiting(), 1);
    drop(held);
    // A newcomer finds the slot already the waiter's.
    assert_eq!(b.try_acquire().unwrap_err().reason(), RejectReason::BulkheadFull);
    waiter.await.unwrap().unwrap();
    assert_eq!((b.available(), b.waiting()), (1, 0));
    let _again = b.try_acquire().unwrap();
}
