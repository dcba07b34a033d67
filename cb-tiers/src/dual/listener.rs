//! Aggregate-state listeners (R70): notice a change of the aggregate and
//! tell every subscriber once, containing a panicking one.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use cb_core::Name;
use cb_core::event::Listener;
use cb_core::sync::MutexExt;

use super::state::AggregateState;

/// A change of a server's aggregate state (R70).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateTransition {
    /// The server.
    pub server: Name,
    /// The aggregate before.
    pub from: AggregateState,
    /// The aggregate now.
    pub to: AggregateState,
}

pub(super) type AggregateListener = Arc<dyn Listener<AggregateTransition>>;

/// The last aggregate seen and who to tell when it changes. The aggregate is
/// computed on reads, so a change is noticed when someone reads it; the
/// swap makes sure exactly one reader reports each change.
pub(super) struct Listeners {
    last: AtomicU8,
    subscribers: Mutex<Vec<AggregateListener>>,
}

impl Listeners {
    pub(super) fn new(initial: AggregateState, subscribers: Vec<AggregateListener>) -> Self {
        Self {
            last: AtomicU8::new(initial.code()),
            subscribers: Mutex::new(subscribers),
        }
    }

    pub(super) fn subscribe(&self, listener: impl Listener<AggregateTransition>) {
        self.subscribers.lock_unpoisoned().push(Arc::new(listener));
    }

    /// Records `now` as the aggregate of `server` and, if it changed, tells
    /// every subscriber (outside the lock, so a listener may subscribe).
    pub(super) fn observe(&self, server: &Name, now: AggregateState) {
        let before = self.last.swap(now.code(), Ordering::AcqRel);
        let Some(from) = AggregateState::from_code(before) else {
            return;
        };
        if from == now {
            return;
        }
        tracing::info!(server = %server, from = from.as_str(), to = now.as_str(), "dual-path aggregate transition");
        let subscribers: Vec<AggregateListener> = self.subscribers.lock_unpoisoned().clone();
        let event = AggregateTransition {
            server: server.clone(),
            from,
            to: now,
        };
        for l in subscribers {
            if std::panic::catch_unwind(AssertUnwindSafe(|| l.on_event(&event))).is_err() {
                tracing::warn!(server = %server, "an aggregate-transition listener panicked");
            }
        }
    }
}
