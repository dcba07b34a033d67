//! What lets threads share one breaker at full speed: the closed success
//! path and the open rejection take no lock and write nothing another thread
//! reads, only the calling thread's own counter stripe (the inline one
//! while it is the breaker's only caller, its owned one once the breaker
//! has grown per-thread stripes).
//!
//! Each test lets a worker thread make its calls while this thread holds
//! every lock of the breaker (a call that needed one would wait, and the test
//! fails on its deadline), and compares every shared word and every other
//! stripe before and after. (A store of the value a word already holds
//! would not show here; the code keeps those out by reading first.)

use std::sync::mpsc;
use std::time::Duration;

use super::CircuitBreaker;
use crate::metrics::{Counter, SLOTS};

/// How many calls the worker makes while the locks are held: below the
/// 1000 rejections within 10 ms that would start the process's rejection
/// cache, which other tests in this binary expect to be stopped.
const CALLS: u64 = 500;

/// Every word of the breaker that any thread reads on a call, and its event
/// hub's flags.
fn shared_words(b: &CircuitBreaker) -> Vec<u64> {
    use std::sync::atomic::Ordering::Relaxed;
    let hot = &b.shared.hot;
    vec![
        hot.word.load(Relaxed),
        hot.open_until.load(Relaxed),
        hot.streak.load(Relaxed),
        u64::from(hot.failure_threshold.load(Relaxed)),
        u64::from(hot.flags.load(Relaxed)),
        hot.slow_threshold.load(Relaxed),
        hot.probe_deadline.load(Relaxed),
        u64::from(hot.window_clean.load(Relaxed)),
    ]
}

/// Runs `call` on a worker thread `warm_up` times, then `CALLS` times while
/// this thread holds the breaker's locks; checks that the held calls
/// finished, changed no shared word and no stripe but the worker's own, and
/// added `CALLS` to the worker's `counter`.
fn calls_touch_only_their_own_stripe(
    b: &CircuitBreaker,
    warm_up: u64,
    counter: Counter,
    call: fn(&CircuitBreaker),
) {
    let (slot_tx, slot_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel();
    let worker = {
        let b = b.clone();
        std::thread::spawn(move || {
            for _ in 0..warm_up {
                call(&b);
            }
            slot_tx.send(b.shared.counters.stripe_of_this_thread()).unwrap();
            go_rx.recv().unwrap();
            for _ in 0..CALLS {
                call(&b);
            }
            done_tx.send(()).unwrap();
        })
    };
    // The worker's stripe: its own, or the shared one when other threads of
    // this test binary hold every owned slot. Only the worker calls this
    // breaker, so either way no other thread writes to it.
    let slot = slot_rx.recv().unwrap();

    let core = b.shared.lock();
    let hub = b.shared.events.hold();
    let words = shared_words(b);
    let stripes = b.shared.counters.stripe_values();
    go_tx.send(()).unwrap();
    let finished = done_rx.recv_timeout(Duration::from_secs(10));
    let words_after = shared_words(b);
    let hub_after = b.shared.events.flags();
    let stripes_after = b.shared.counters.stripe_values();
    drop((core, hub));
    worker.join().unwrap();

    assert!(finished.is_ok(), "the calls waited for a lock the test held");
    assert_eq!(words, words_after, "a shared word changed");
    assert_eq!(hub_after, (false, false), "the event hub is idle");
    for (i, (before, after)) in stripes.iter().zip(&stripes_after).enumerate() {
        if i != slot {
            assert_eq!(before, after, "stripe {i} of another thread changed");
        }
    }
    let own: [u64; SLOTS] = std::array::from_fn(|c| stripes_after[slot][c] - stripes[slot][c]);
    let mut expected = [0; SLOTS];
    expected[counter as usize] = CALLS;
    assert_eq!(own, expected, "the worker's stripe counts exactly its calls");
}

fn succeed(b: &CircuitBreaker) {
    assert_eq!(b.call_sync(|| Ok::<_, ()>(7)).ok(), Some(7));
}

fn rejected(b: &CircuitBreaker) {
    assert!(b.try_acquire().is_err());
}

/// Polls `fut` to its end with a no-op waker: no runtime, whose own locks
/// and writes would hide the call's.
fn poll_to_end<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn succeed_async(b: &CircuitBreaker) {
    assert_eq!(poll_to_end(b.call(async { Ok::<_, ()>(7) })).ok(), Some(7));
}

fn rejected_async(b: &CircuitBreaker) {
    let out = poll_to_end(b.call(async { Ok::<_, ()>(7) }));
    assert!(out.is_err_and(|e| e.is_rejection()));
}

#[test]
fn closed_success_on_the_consecutive_detector_writes_only_the_callers_stripe() {
    let b = CircuitBreaker::builder("hot-consecutive").build().unwrap();
    calls_touch_only_their_own_stripe(&b, 1, Counter::Success, succeed);
}

#[test]
fn closed_success_on_a_full_clean_count_window_writes_only_the_callers_stripe() {
    let b = CircuitBreaker::builder("hot-count-window")
        .no_failure_threshold()
        .failure_rate_threshold(0.5)
        .sliding_window_size(100)
        .minimum_calls(10)
        .build()
        .unwrap();
    // A full window of successes: from here a success changes nothing in it.
    calls_touch_only_their_own_stripe(&b, 100, Counter::Success, succeed);
}

#[test]
fn async_closed_success_writes_only_the_callers_stripe() {
    let b = CircuitBreaker::builder("hot-async").build().unwrap();
    calls_touch_only_their_own_stripe(&b, 1, Counter::Success, succeed_async);
}

#[test]
fn async_open_rejection_writes_only_the_callers_stripe() {
    let b = CircuitBreaker::builder("hot-async-open").build().unwrap();
    b.open_for(Some(Duration::from_secs(3600)));
    calls_touch_only_their_own_stripe(&b, 1, Counter::RejectedOpen, rejected_async);
}

#[test]
fn open_rejection_writes_only_the_callers_stripe() {
    let b = CircuitBreaker::builder("hot-open").build().unwrap();
    b.open_for(Some(Duration::from_secs(3600)));
    calls_touch_only_their_own_stripe(&b, 1, Counter::RejectedOpen, rejected);
}

#[test]
fn forced_open_rejection_writes_only_the_callers_stripe() {
    let b = CircuitBreaker::builder("hot-forced").build().unwrap();
    b.force_open();
    calls_touch_only_their_own_stripe(&b, 1, Counter::RejectedForced, rejected);
}

#[test]
fn closed_success_with_classify_lists_writes_only_the_callers_stripe() {
    use crate::classify::{ByClassify, ByName, Classify, ErrorKind};
    use crate::state::Outcome;

    #[derive(Debug)]
    struct Missing;
    impl Classify for Missing {
        fn outcome(&self) -> Outcome {
            Outcome::Failure
        }
        fn retryable(&self) -> bool {
            false
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Variant("Missing")
        }
    }
    // The lists live under the breaker's lock: a success must not read them.
    let b = CircuitBreaker::builder("hot-classify")
        .config(super::BreakerConfig {
            classify: ByName {
                failure: vec!["5xx".into()],
                excluded: vec!["Missing".into()],
            },
            ..Default::default()
        })
        .build()
        .unwrap();
    calls_touch_only_their_own_stripe(&b, 1, Counter::Success, |b| {
        assert_eq!(
            b.call_sync_with(|| Ok::<_, Missing>(7), &ByClassify).ok(),
            Some(7)
        );
    });
}

#[test]
fn closed_success_on_a_breaker_grown_by_a_second_thread_writes_only_the_callers_stripe() {
    let b = CircuitBreaker::builder("hot-grown").build().unwrap();
    // Two threads have counted: the breaker now has per-thread stripes.
    succeed(&b);
    std::thread::scope(|s| {
        s.spawn(|| succeed(&b));
    });
    assert!(b.shared.counters.grown());
    calls_touch_only_their_own_stripe(&b, 1, Counter::Success, succeed);
}

#[test]
fn open_rejection_on_a_grown_breaker_writes_only_the_callers_stripe() {
    let b = CircuitBreaker::builder("hot-grown-open").build().unwrap();
    succeed(&b);
    std::thread::scope(|s| {
        s.spawn(|| succeed(&b));
    });
    b.open_for(Some(Duration::from_secs(3600)));
    calls_touch_only_their_own_stripe(&b, 1, Counter::RejectedOpen, rejected);
}
