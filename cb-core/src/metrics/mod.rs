//! Lifetime counters and metric snapshots.
//!
//! A breaker counts every outcome and rejection in counter stripes (a
//! private module of their own): one inline stripe while one thread uses the
//! breaker, per-thread stripes once a second thread does, so that counting
//! costs a contended call no shared write and an idle breaker no heap (see
//! [`counter_heap_bytes`]); a snapshot sums them into [`LifetimeCounters`],
//! next to the window's rates and the state.

mod stripes;

use std::time::Duration;

#[cfg(test)]
pub(crate) use self::stripes::SLOTS;
pub use self::stripes::counter_heap_bytes;
pub(crate) use self::stripes::{Counter, Counters};
use crate::error::Name;
use crate::state::State;

impl<Cold> Counters<Cold> {
    /// The lifetime totals, summed over every stripe.
    pub(crate) fn lifetime(&self) -> LifetimeCounters {
        LifetimeCounters {
            successes: self.get(Counter::Success),
            failures: self.get(Counter::Failure),
            excluded: self.get(Counter::Excluded),
            cancelled: self.get(Counter::Cancelled),
            panicked: self.get(Counter::Panicked),
            rejected_open: self.get(Counter::RejectedOpen),
            rejected_forced_open: self.get(Counter::RejectedForced),
            rejected_half_open_full: self.get(Counter::RejectedHalfOpenFull),
            slow: self.get(Counter::Slow),
            late_results: self.get(Counter::Late),
        }
    }
}

/// Monotonic counters over a breaker's whole life (R39): never reduced by
/// `reset()` or by transitions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LifetimeCounters {
    /// Calls classified as success (including late ones, R30).
    pub successes: u64,
    /// Calls classified as failure (including late ones).
    pub failures: u64,
    /// Calls classified as excluded (neutral, R2).
    pub excluded: u64,
    /// Calls whose future was dropped before completing (R5).
    pub cancelled: u64,
    /// Calls that panicked (R6).
    pub panicked: u64,
    /// Calls rejected because the circuit was open.
    pub rejected_open: u64,
    /// Calls rejected because the circuit was forced open.
    pub rejected_forced_open: u64,
    /// Calls rejected because every half-open probe slot was taken.
    pub rejected_half_open_full: u64,
    /// Calls slower than the slow-call threshold (also counted by outcome).
    pub slow: u64,
    /// Outcomes that arrived after the generation they were admitted in (R30).
    pub late_results: u64,
}

impl LifetimeCounters {
    /// Every rejection, whatever the reason (R41).
    pub fn rejected(&self) -> u64 {
        self.rejected_open + self.rejected_forced_open + self.rejected_half_open_full
    }
    /// Every call that finished or was refused (R42):
    /// `success + failure + excluded + cancelled + panicked + rejected`.
    pub fn calls_total(&self) -> u64 {
        self.successes + self.failures + self.excluded + self.cancelled + self.panicked + self.rejected()
    }
    /// Calls that reached the downstream: `calls_total - rejected` (R42).
    pub fn downstream_invocations(&self) -> u64 {
        self.calls_total() - self.rejected()
    }
}

/// A point-in-time view of one breaker.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// The breaker's name.
    pub name: Name,
    /// The state (evaluated lazily, R18).
    pub state: State,
    /// The state's generation (R31).
    pub generation: u64,
    /// The window's failure rate as a fraction in [0, 1], the unit of
    /// `failure_rate_threshold`; `None` below `minimum_calls` or
    /// when no rate detector is configured (R40).
    pub failure_rate: Option<f64>,
    /// The window's slow-call rate as a fraction in [0, 1]; `None` as for `failure_rate`.
    pub slow_call_rate: Option<f64>,
    /// Recorded calls currently in the window.
    pub buffered_calls: u32,
    /// The current consecutive-failure streak.
    pub consecutive_failures: u32,
    /// Probes in flight (half-open only).
    pub half_open_in_flight: u32,
    /// Time until an open circuit admits a probe.
    pub retry_after: Option<Duration>,
    /// Lifetime counters.
    pub calls: LifetimeCounters,
    /// Transitions so far, by `(from, to)`.
    pub transitions: Vec<(State, State, u64)>,
    /// Events listeners never got because the breaker's event queue was
    /// full ([`EVENT_QUEUE_BOUND`](crate::event::EVENT_QUEUE_BOUND)): only
    /// per-call events, never transitions. Monotonic; zero without listeners.
    pub dropped_events: u64,
}

impl MetricsSnapshot {
    /// All transitions ever made.
    pub fn transitions_total(&self) -> u64 {
        self.transitions.iter().map(|t| t.2).sum()
    }
    /// Transitions from `from` to `to`.
    pub fn transitions_between(&self, from: State, to: State) -> u64 {
        self.transitions
            .iter()
            .find(|t| t.0 == from && t.1 == to)
            .map_or(0, |t| t.2)
    }
}

/// A breaker's memory: its inline size and what it holds on the heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUsage {
    /// `size_of::<CircuitBreaker>()` (one pointer).
    pub handle_bytes: usize,
    /// The shared state behind the handle.
    pub shared_bytes: usize,
    /// Further heap: counter stripes (none until a second thread counts,
    /// see [`counter_heap_bytes`]), window, probe slots, listeners.
    pub heap_bytes: usize,
}

impl MemoryUsage {
    /// Everything together.
    pub fn total(&self) -> usize {
        self.handle_bytes + self.shared_bytes + self.heap_bytes
    }
}
