//! The queue's bound and drops, and who delivers: deterministic, with
//! listeners that report instead of sleeping.

use super::*;
use std::sync::mpsc;

fn event(kind: EventKind) -> Event {
    Event {
        breaker: Name::from("hub"),
        at: Duration::ZERO,
        kind,
    }
}

fn outcome(ms: u64) -> Event {
    event(EventKind::Outcome {
        outcome: Outcome::Success,
        duration: Some(Duration::from_millis(ms)),
    })
}

fn opened() -> Event {
    event(EventKind::Transition {
        from: State::Closed,
        to: State::Open,
        reason: TransitionReason::ConsecutiveFailures,
    })
}

fn kinds(q: &Queue) -> Vec<EventKind> {
    q.events.iter().map(|e| e.kind.clone()).collect()
}

#[test]
fn a_full_queue_drops_the_arriving_per_call_event_and_keeps_the_oldest() {
    let mut q = Queue::new(3);
    for ms in 0..3 {
        assert!(!q.push(outcome(ms)), "room for it");
    }
    assert!(q.push(outcome(3)), "dropped");
    assert!(q.push(event(EventKind::Slow {
        duration: Duration::ZERO
    })));
    assert_eq!(kinds(&q), [outcome(0).kind, outcome(1).kind, outcome(2).kind]);
}

#[test]
fn a_transition_at_a_full_queue_replaces_the_oldest_droppable_event() {
    let mut q = Queue::new(3);
    q.push(opened());
    q.push(outcome(1));
    q.push(outcome(2));
    assert!(q.push(event(EventKind::Reset)), "outcome 1 made room");
    assert_eq!(kinds(&q), [opened().kind, outcome(2).kind, EventKind::Reset]);
    assert!(q.push(event(EventKind::ConfigUpdated)), "outcome 2 made room");
    assert_eq!(q.events.len(), 3, "still within the bound");
    // Nothing left to drop: a transition is kept beyond the bound.
    assert!(!q.push(opened()));
    assert_eq!(
        kinds(&q),
        [
            opened().kind,
            EventKind::Reset,
            EventKind::ConfigUpdated,
            opened().kind
        ]
    );
}

#[test]
fn the_hub_counts_what_it_drops_and_never_exceeds_its_bound() {
    let hub = EventHub::default();
    hub.subscribe(Arc::new(|_: &Event| {}));
    let d = hub.delivery.get().unwrap();
    // Hold delivery, as a slow listener on another thread would.
    assert!(d.claim());
    for ms in 0..(EVENT_QUEUE_BOUND as u64 + 10) {
        hub.emit(outcome(ms));
    }
    hub.emit(opened());
    assert_eq!(d.queue.lock_unpoisoned().events.len(), EVENT_QUEUE_BOUND);
    assert_eq!(hub.dropped(), 11);
    assert!(!d.release(), "the backlog waits for whoever claims next");
    hub.deliver();
    assert!(d.queue.lock_unpoisoned().events.is_empty());
}

#[test]
fn a_breaker_without_listeners_has_no_queue() {
    let hub = EventHub::default();
    hub.emit(opened());
    hub.enqueue(outcome(1));
    hub.deliver();
    assert!(hub.delivery.get().is_none());
    assert_eq!((hub.dropped(), hub.listener_count()), (0, 0));
}

/// A listener that reports each event's `at` and the thread it ran on.
fn reporting(d: &Delivery) -> mpsc::Receiver<(Duration, Option<String>)> {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let l: Arc<dyn Listener> = Arc::new(move |e: &Event| {
        let thread = std::thread::current().name().map(str::to_owned);
        let _ = tx.lock_unpoisoned().send((e.at, thread));
    });
    *d.listeners.write_unpoisoned() = Arc::new([l]);
    rx
}

fn at(ms: u64) -> Event {
    Event {
        at: Duration::from_millis(ms),
        ..outcome(ms)
    }
}

#[test]
fn a_call_that_finds_delivery_busy_returns_without_running_listeners() {
    let d = Arc::new(Delivery::new(8));
    let seen = reporting(&d);
    assert!(d.claim(), "another thread delivers");
    d.enqueue(at(1));
    d.deliver(Budget::CALLER);
    assert!(seen.try_recv().is_err(), "the call ran no listener");
    // The deliverer lets go, sees the event and delivers it.
    assert!(!d.release());
    d.deliver(Budget::CALLER);
    assert_eq!(seen.try_recv().unwrap().0, Duration::from_millis(1));
}

#[test]
fn a_call_delivers_what_was_queued_and_hands_the_rest_to_a_delivery_thread_in_order() {
    let d = Arc::new(Delivery::new(8));
    let seen = reporting(&d);
    // On the first event, queue two more, as a listener calling the
    // breaker (or calls racing with this one) would.
    let weak = Arc::downgrade(&d);
    let feeder: Arc<dyn Listener> = Arc::new(move |e: &Event| {
        if let (Some(d), true) = (weak.upgrade(), e.at.is_zero()) {
            d.enqueue(at(3));
            d.enqueue(at(4));
        }
    });
    let report = Arc::clone(&d.listeners.read_unpoisoned()[0]);
    *d.listeners.write_unpoisoned() = Arc::new([feeder, report]);
    for ms in 0..3 {
        d.enqueue(at(ms));
    }
    let here = std::thread::current().name().map(str::to_owned);
    // No budget beyond what is owed: the three events queued when the
    // call took over.
    d.deliver(Budget {
        listener_time: Duration::ZERO,
        events: 0,
        owed: 0,
    });
    let got: Vec<_> = (0..5)
        .map(|_| seen.recv_timeout(Duration::from_secs(10)).unwrap())
        .collect();
    let ats: Vec<_> = got.iter().map(|g| g.0.as_millis()).collect();
    assert_eq!(ats, [0, 1, 2, 3, 4], "in order across the hand-over");
    let threads: Vec<_> = got.into_iter().map(|g| g.1).collect();
    let delivery_thread = Some("cb-events".to_owned());
    assert_eq!(
        threads,
        [
            here.clone(),
            here.clone(),
            here,
            delivery_thread.clone(),
            delivery_thread
        ]
    );
}

#[test]
fn a_panicking_listener_skips_the_event_for_itself_only() {
    let d = Arc::new(Delivery::new(8));
    let seen = reporting(&d);
    let good = Arc::clone(&d.listeners.read_unpoisoned()[0]);
    let bad: Arc<dyn Listener> = Arc::new(|_: &Event| panic!("exporter down"));
    *d.listeners.write_unpoisoned() = Arc::new([bad, good]);
    d.enqueue(at(1));
    d.enqueue(at(2));
    d.deliver(Budget::CALLER);
    let ats: Vec<_> = seen.try_iter().map(|g| g.0.as_millis()).collect();
    assert_eq!(ats, [1, 2]);
    assert!(!d.delivering.load(Ordering::Relaxed), "delivery was let go");
}

#[test]
fn a_full_queue_takes_under_100_kb() {
    assert!(std::mem::size_of::<Event>() * EVENT_QUEUE_BOUND < 100_000);
}
