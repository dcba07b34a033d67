//! Events and listeners.
//!
//! Listeners are told of every transition and, while any listener is
//! registered, of every call's outcome. Events are delivered one at a time in
//! the order they were queued, never while the breaker's lock is held (R36),
//! so a listener may read the breaker. A panicking listener is logged and
//! skipped; it never breaks the breaker (R43).
//!
//! # Delivery is bounded
//!
//! A listener slower than the calls it hears about must not make calls wait
//! or make memory grow. So each breaker queues at most [`EVENT_QUEUE_BOUND`]
//! events; an outcome, slow-call, rejection or late-result event that finds
//! the queue full is dropped and counted in
//! [`MetricsSnapshot::dropped_events`](crate::MetricsSnapshot::dropped_events).
//! Transitions, resets and configuration updates are never dropped: one that
//! finds the queue full takes the place of the oldest droppable event.
//!
//! Only one thread delivers at a time. A call that finds delivery busy queues
//! its events and returns at once; it never waits for another thread's
//! listener. A call that finds delivery idle takes it over and delivers what
//! is queued at that moment (its own events, and those of calls racing with
//! it), so a lone caller's listeners have run when its call returns. Events
//! queued after that it delivers only within a budget (1 ms spent in
//! listeners, or 16 full queues of events); then a `cb-events` thread takes
//! the rest over, keeping the order, and ends when the queue is empty. So a
//! slow listener holds a call for its own few events and about one listener
//! run more, and falls behind a storm by dropping events, not by queueing
//! all of them.

use crate::sync::{MutexExt, RwLockExt};
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use crate::error::{Name, RejectReason};
use crate::state::{Outcome, State, TransitionReason};

/// How many events a breaker queues for its listeners at most; beyond it,
/// per-call events are dropped (see the [module docs](self)). A full queue
/// takes under 100 KB, and a backlog that large already means the
/// listeners hear of calls long after they happened.
pub const EVENT_QUEUE_BOUND: usize = 1024;

/// How long a call may spend in listeners, delivering other calls' events,
/// before it hands delivery to a thread.
const CALLER_LISTENER_TIME: Duration = Duration::from_millis(1);

/// How many events a call may deliver before it hands delivery to a thread,
/// whatever its listeners cost: cheap listeners behind a storm of callers
/// would otherwise hold it until the storm ends.
const CALLER_EVENTS: usize = 16 * EVENT_QUEUE_BOUND;

/// Something that happened to a breaker.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The breaker's name.
    pub breaker: Name,
    /// When, on the breaker's clock.
    pub at: Duration,
    /// What happened.
    pub kind: EventKind,
}

/// The kinds of [`Event`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// The state changed (published once per real transition, R36).
    Transition {
        /// The state before.
        from: State,
        /// The state after.
        to: State,
        /// Why.
        reason: TransitionReason,
    },
    /// A call finished with this outcome (success, failure, excluded,
    /// cancelled or panicked); `duration` is known when the breaker times calls.
    Outcome {
        /// How the call ended.
        outcome: Outcome,
        /// How long it took, when measured.
        duration: Option<Duration>,
    },
    /// A call was slower than the slow-call threshold.
    Slow {
        /// How long it took.
        duration: Duration,
    },
    /// A call was refused.
    Rejected {
        /// Why.
        reason: RejectReason,
        /// When to try again, if known.
        retry_after: Option<Duration>,
    },
    /// A call admitted in an older generation finished; it changed no state (R29, R30).
    LateResult {
        /// How it ended.
        outcome: Outcome,
    },
    /// The breaker was reset (R34).
    Reset,
    /// The breaker's configuration was replaced.
    ConfigUpdated,
}

/// Receives events of type `E`: a breaker's [`Event`]s (the default), a
/// live configuration's [`ConfigChange`](crate::config::ConfigChange)s or a
/// dual path's aggregate transitions. Closures `Fn(&E)` implement it, and
/// every source takes one the same way: `subscribe(impl Listener<E>)`
/// (and `.listener(..)` on a [`CircuitBreakerBuilder`](crate::CircuitBreakerBuilder)).
///
/// Every source promises the same three things: a listener runs outside the
/// source's locks (so it may call back into it), sees its events one at a
/// time in the order they happened, and a panic in it is caught and logged
/// without affecting other listeners or the source. What differs is when it
/// runs: a live configuration's listeners run on the thread that applied
/// the update, after it took effect; a dual path's on the thread that
/// noticed the aggregate change. For a breaker's events:
///
/// What a breaker's listener can rely on:
///
/// - **Order.** Events arrive one at a time, never concurrently, in the
///   order they were queued. Transitions are queued under the breaker's lock,
///   so they arrive in the order they happened; a call's outcome is queued
///   as the call finishes, before any transition it causes.
/// - **Thread.** `on_event` runs on the thread of whichever call (or
///   `reset`, `update_config`, ...) found delivery idle, not necessarily the
///   call the event is about; when a backlog outlasts that call's budget, on
///   a `cb-events` thread. Never while the breaker's lock is held, so it may
///   read or call the breaker. A listener subscribed meanwhile hears the
///   events delivered after it.
/// - **Drops.** At most [`EVENT_QUEUE_BOUND`] events wait; outcome, slow,
///   rejected and late-result events beyond it are dropped and counted in
///   [`MetricsSnapshot::dropped_events`](crate::MetricsSnapshot::dropped_events).
/// - **Transitions are exact.** Every transition (and every reset and
///   configuration update) is delivered, exactly once, in order.
/// - **Panics.** A panic in `on_event` is caught and logged; the event is
///   skipped for that listener, the other listeners still get it, and the
///   breaker carries on (R43).
/// - **Cost to callers.** A call waits for no other thread's listener; it
///   runs listeners itself only while delivery is idle, and for a bounded
///   time (see the [module docs](self)).
pub trait Listener<E = Event>: Send + Sync + 'static {
    /// Called once per event, in order, outside the source's locks.
    fn on_event(&self, event: &E);
}

impl<E, F: Fn(&E) + Send + Sync + 'static> Listener<E> for F {
    fn on_event(&self, event: &E) {
        self(event)
    }
}

/// Whether an event is one listeners must never miss: a change of state or
/// configuration, rare next to calls and the thing listeners act on.
fn never_dropped(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Transition { .. } | EventKind::Reset | EventKind::ConfigUpdated
    )
}

/// The bounded queue of undelivered events.
#[derive(Debug)]
struct Queue {
    events: VecDeque<Event>,
    bound: usize,
}

impl Queue {
    fn new(bound: usize) -> Self {
        Self {
            events: VecDeque::new(),
            bound,
        }
    }

    /// Adds `event`, keeping the queue within its bound; returns whether an
    /// event was dropped for it. A droppable event that finds the queue full
    /// is the one dropped: the queue keeps the oldest, which are delivered
    /// next. An event that must not be dropped evicts the oldest droppable
    /// one; only a queue made wholly of such events grows past the bound.
    fn push(&mut self, event: Event) -> bool {
        if self.events.len() < self.bound {
            self.events.push_back(event);
            return false;
        }
        if !never_dropped(&event.kind) {
            return true;
        }
        let evicted = match self.events.iter().position(|e| !never_dropped(&e.kind)) {
            Some(i) => self.events.remove(i).is_some(),
            None => false,
        };
        self.events.push_back(event);
        evicted
    }
}

/// What a call may spend delivering before it hands over.
#[derive(Debug, Clone, Copy)]
struct Budget {
    listener_time: Duration,
    events: usize,
    /// Events delivered whatever the budget: those queued when the call took
    /// delivery over, its own among them, so that a call's listeners have
    /// run when it returns. Delivery passes from one holder to the next only
    /// through an empty queue, so these are the few events of calls that
    /// raced with it, not a backlog.
    owed: usize,
}

impl Budget {
    const CALLER: Budget = Budget {
        listener_time: CALLER_LISTENER_TIME,
        events: CALLER_EVENTS,
        owed: 0,
    };
    /// The delivery thread's: it owns delivery until the queue is empty.
    const UNLIMITED: Budget = Budget {
        listener_time: Duration::MAX,
        events: usize::MAX,
        owed: 0,
    };

    fn spent(&self) -> bool {
        self.owed == 0 && (self.events == 0 || self.listener_time.is_zero())
    }

    /// Charges one delivered event that took `listener_time`.
    fn charge(&mut self, listener_time: Duration) {
        self.owed = self.owed.saturating_sub(1);
        self.events = self.events.saturating_sub(1);
        self.listener_time = self.listener_time.saturating_sub(listener_time);
    }
}

/// What stopped a drain.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    Empty,
    OutOfBudget,
}

/// The delivery side of a hub, shared with the delivery thread.
struct Delivery {
    listeners: RwLock<Arc<[Arc<dyn Listener>]>>,
    queue: Mutex<Queue>,
    /// Held by the one thread delivering, a call's or the delivery thread.
    delivering: AtomicBool,
    dropped: AtomicU64,
}

impl Delivery {
    fn new(bound: usize) -> Self {
        Self {
            listeners: RwLock::new(Arc::new([])),
            queue: Mutex::new(Queue::new(bound)),
            delivering: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
        }
    }

    fn enqueue(&self, event: Event) {
        if self.queue.lock_unpoisoned().push(event) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Takes the right to deliver; false if another thread has it.
    fn claim(&self) -> bool {
        self.delivering
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Gives the right up; true if the queue is then empty. False means an
    /// event came in while we were letting go, and its caller, seeing us
    /// still delivering, left it to us: the caller must claim again.
    fn release(&self) -> bool {
        self.delivering.store(false, Ordering::Release);
        self.queue.lock_unpoisoned().events.is_empty()
    }

    /// Delivers as a call: what is queued when it takes over, then more
    /// within `budget`, then the rest by a thread.
    fn deliver(self: &Arc<Self>, mut budget: Budget) {
        let mut first = true;
        while self.claim() {
            if std::mem::take(&mut first) {
                budget.owed = self.queue.lock_unpoisoned().events.len();
            }
            while self.drain(&mut budget) == Stop::OutOfBudget {
                // The right to deliver stays held: the thread inherits it,
                // so order is kept.
                let this = Arc::clone(self);
                let spawned = std::thread::Builder::new()
                    .name("cb-events".into())
                    .spawn(move || this.deliver_until_empty());
                match spawned {
                    Ok(_) => return,
                    Err(e) => {
                        // Late events beat lost ones: deliver as before.
                        tracing::warn!(error = %e, "cb-core: could not start a cb-events thread; the caller delivers the backlog");
                        budget = Budget::UNLIMITED;
                    }
                }
            }
            if self.release() {
                return;
            }
        }
    }

    /// The delivery thread: owns delivery until the queue is empty.
    fn deliver_until_empty(self: Arc<Self>) {
        loop {
            let mut unlimited = Budget::UNLIMITED;
            self.drain(&mut unlimited);
            if self.release() || !self.claim() {
                return;
            }
        }
    }

    /// Delivers queued events in order until the queue is empty or `budget`
    /// is spent. The caller holds the right to deliver.
    fn drain(&self, budget: &mut Budget) -> Stop {
        let timed = budget.listener_time != Duration::MAX;
        loop {
            let event = {
                let mut queue = self.queue.lock_unpoisoned();
                if queue.events.is_empty() {
                    return Stop::Empty;
                }
                // Owed events a transition evicted are owed no more.
                budget.owed = budget.owed.min(queue.events.len());
                if budget.spent() {
                    return Stop::OutOfBudget;
                }
                queue.events.pop_front()
            };
            let Some(event) = event else { return Stop::Empty };
            // Read per event, so a listener added meanwhile hears the next one.
            let listeners = Arc::clone(&self.listeners.read_unpoisoned());
            let start = timed.then(Instant::now);
            for l in listeners.iter() {
                if catch_unwind(AssertUnwindSafe(|| l.on_event(&event))).is_err() {
                    tracing::error!(breaker = %event.breaker, "a circuit breaker listener panicked; event skipped");
                }
            }
            budget.charge(start.map_or(Duration::ZERO, |s| s.elapsed()));
        }
    }
}

/// Ordered, bounded delivery of a breaker's events.
///
/// The delivery side is made when the first listener subscribes, so a
/// breaker without listeners has nothing to queue into and reads one flag.
#[derive(Default)]
pub(crate) struct EventHub {
    active: AtomicBool,
    delivery: OnceLock<Arc<Delivery>>,
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHub")
            .field("listeners", &self.listener_count())
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl EventHub {
    fn delivery(&self) -> &Arc<Delivery> {
        self.delivery
            .get_or_init(|| Arc::new(Delivery::new(EVENT_QUEUE_BOUND)))
    }

    /// Takes both of the hub's locks, so a test can check that a path does
    /// not wait for them.
    #[cfg(test)]
    pub(crate) fn hold(&self) -> impl Sized + '_ {
        let d = self.delivery();
        (d.listeners.write_unpoisoned(), d.queue.lock_unpoisoned())
    }

    /// The hub's two flags (listening, delivering), for tests.
    #[cfg(test)]
    pub(crate) fn flags(&self) -> (bool, bool) {
        (
            self.active.load(Ordering::Relaxed),
            self.delivery
                .get()
                .is_some_and(|d| d.delivering.load(Ordering::Relaxed)),
        )
    }

    /// Whether anyone listens; callers skip building events when not.
    #[inline]
    pub(crate) fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    pub(crate) fn subscribe(&self, listener: Arc<dyn Listener>) {
        let d = self.delivery();
        let mut ls = d.listeners.write_unpoisoned();
        let mut all = ls.to_vec();
        all.push(listener);
        *ls = all.into();
        self.active.store(true, Ordering::Release);
    }

    pub(crate) fn listener_count(&self) -> usize {
        self.delivery
            .get()
            .map_or(0, |d| d.listeners.read_unpoisoned().len())
    }

    /// Events dropped so far because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.delivery
            .get()
            .map_or(0, |d| d.dropped.load(Ordering::Relaxed))
    }

    /// Queues an event. Call [`EventHub::deliver`] after releasing any lock.
    pub(crate) fn enqueue(&self, event: Event) {
        if self.active()
            && let Some(d) = self.delivery.get()
        {
            d.enqueue(event);
        }
    }

    /// Queues and delivers.
    pub(crate) fn emit(&self, event: Event) {
        if self.active() {
            self.enqueue(event);
            self.deliver();
        }
    }

    /// Delivers queued events in order, if no other thread is delivering:
    /// one thread delivers at a time and the others leave their events to
    /// it, so order is kept without holding a lock while listeners run.
    pub(crate) fn deliver(&self) {
        if self.active()
            && let Some(d) = self.delivery.get()
        {
            d.deliver(Budget::CALLER);
        }
    }
}

#[cfg(test)]
mod tests;
