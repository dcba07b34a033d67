//! What a breaker reports about itself: metrics and memory.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::word::Word;
use super::{CircuitBreaker, Records, Shared, WindowStats, streak_count};
use crate::clock::Nanos;
use crate::event::Listener;
use crate::metrics::{MemoryUsage, MetricsSnapshot};
use crate::state::State;

impl CircuitBreaker {
    /// A snapshot of state, window rates and lifetime counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.shared.snapshot()
    }

    /// What this breaker costs in memory.
    pub fn memory_usage(&self) -> MemoryUsage {
        let core = self.shared.lock();
        MemoryUsage {
            handle_bytes: std::mem::size_of::<CircuitBreaker>(),
            shared_bytes: std::mem::size_of::<Shared>(),
            heap_bytes: self.shared.counters.heap_bytes()
                + core.records.as_deref().map_or(0, |r| {
                    std::mem::size_of::<Records>()
                        + r.window.as_ref().map_or(0, WindowStats::heap_bytes)
                        + r.probes.capacity() * std::mem::size_of::<Option<Nanos>>()
                })
                + self.shared.events.listener_count() * std::mem::size_of::<Arc<dyn Listener>>(),
        }
    }
}

impl Shared {
    fn snapshot(&self) -> MetricsSnapshot {
        let state = self.state();
        let now = self.hot.clock.now();
        let mut core = self.lock();
        let w = Word(self.hot.word.load(Ordering::Acquire));
        let min_calls = core.config.effective_minimum_calls();
        let rate_on = core.config.failure_rate_threshold.is_some();
        let slow_on = core.config.slow_call_rate_threshold.is_some();
        let totals = core
            .records
            .as_deref_mut()
            .and_then(|r| r.window.as_mut())
            .map(|win| win.totals(now))
            .unwrap_or_default();
        let streak = self.hot.streak.load(Ordering::Acquire);
        let consecutive_failures = streak_count(streak, w);
        let mut transitions = Vec::new();
        if let Some(rec) = core.records.as_deref() {
            for from in State::ALL {
                for to in State::ALL {
                    let n = rec.transitions[from.index()][to.index()];
                    if n > 0 {
                        transitions.push((from, to, n));
                    }
                }
            }
        }
        MetricsSnapshot {
            name: self.hot.name.clone(),
            state,
            generation: w.generation(),
            failure_rate: if rate_on {
                totals.failure_rate(min_calls)
            } else {
                None
            },
            slow_call_rate: if slow_on {
                totals.slow_rate(min_calls)
            } else {
                None
            },
            buffered_calls: totals.calls,
            consecutive_failures,
            half_open_in_flight: core.records.as_ref().map_or(0, |t| t.probes_in_flight),
            retry_after: (state == State::Open).then(|| self.open_remaining(now)),
            calls: self.counters.lifetime(),
            transitions,
            dropped_events: self.events.dropped(),
        }
    }
}
