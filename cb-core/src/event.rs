//! Events and listeners.
//!
//! Listeners are told of every transition and, while any listener is
//! registered, of every call's outcome. Events are delivered one at a time in
//! the order they happened, never while the breaker's lock is held (R36), so
//! a listener may read the breaker. A panicking listener is logged and skipped;
//! it never breaks the breaker (R43).

use crate::sync::{MutexExt, RwLockExt};
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::error::{Name, RejectReason};
use crate::state::{Outcome, State, TransitionReason};

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

/// Receives a breaker's events. Closures `Fn(&Event)` implement it.
pub trait Listener: Send + Sync + 'static {
    /// Called once per event, in order, outside the breaker's lock.
    fn on_event(&self, event: &Event);
}

impl<F: Fn(&Event) + Send + Sync + 'static> Listener for F {
    fn on_event(&self, event: &Event) {
        self(event)
    }
}

/// Ordered, lock-free-for-listeners delivery of events.
#[derive(Default)]
pub(crate) struct EventHub {
    active: AtomicBool,
    listeners: RwLock<Vec<Arc<dyn Listener>>>,
    queue: Mutex<VecDeque<Event>>,
    delivering: AtomicBool,
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHub")
            .field("listeners", &self.listener_count())
            .finish_non_exhaustive()
    }
}

/// An event hub's locks, held by a test.
#[cfg(test)]
pub(crate) type HeldHub<'a> = (
    std::sync::RwLockWriteGuard<'a, Vec<Arc<dyn Listener>>>,
    std::sync::MutexGuard<'a, VecDeque<Event>>,
);

impl EventHub {
    /// Takes both of the hub's locks, so a test can check that a path does
    /// not wait for them.
    #[cfg(test)]
    pub(crate) fn hold(&self) -> HeldHub<'_> {
        (self.listeners.write_unpoisoned(), self.queue.lock_unpoisoned())
    }

    /// The hub's two flags (listening, delivering), for tests.
    #[cfg(test)]
    pub(crate) fn flags(&self) -> (bool, bool) {
        (
            self.active.load(Ordering::Relaxed),
            self.delivering.load(Ordering::Relaxed),
        )
    }

    /// Whether anyone listens; callers skip building events when not.
    #[inline]
    pub(crate) fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    pub(crate) fn subscribe(&self, listener: Arc<dyn Listener>) {
        let mut ls = self.listeners.write_unpoisoned();
        ls.push(listener);
        self.active.store(true, Ordering::Release);
    }

    pub(crate) fn listener_count(&self) -> usize {
        self.listeners.read().map_or(0, |l| l.len())
    }

    /// Queues an event. Call [`EventHub::deliver`] after releasing any lock.
    pub(crate) fn enqueue(&self, event: Event) {
        if self.active() {
            self.queue.lock_unpoisoned().push_back(event);
        }
    }

    /// Queues and delivers.
    pub(crate) fn emit(&self, event: Event) {
        if self.active() {
            self.enqueue(event);
            self.deliver();
        }
    }

    /// Delivers queued events in order. One thread delivers at a time; others
    /// leave their events to it, so order is kept without holding a lock
    /// while listeners run.
    pub(crate) fn deliver(&self) {
        if !self.active() {
            return;
        }
        loop {
            if self
                .delivering
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                return;
            }
            loop {
                let next = self.queue.lock_unpoisoned().pop_front();
                let Some(event) = next else { break };
                let listeners: Vec<Arc<dyn Listener>> =
                    self.listeners.read().map(|l| l.clone()).unwrap_or_default();
                for l in &listeners {
                    if catch_unwind(AssertUnwindSafe(|| l.on_event(&event))).is_err() {
                        tracing::error!(breaker = %event.breaker, "a circuit breaker listener panicked; event skipped");
                    }
                }
            }
            self.delivering.store(false, Ordering::Release);
            // An event queued while we were finishing would otherwise wait.
            if self.queue.lock_unpoisoned().is_empty() {
                return;
            }
        }
    }
}
