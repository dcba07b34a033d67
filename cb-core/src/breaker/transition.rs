//! Transitions: moving between states under the lock, the lazy time-based
//! ones included, and announcing them once the lock is released.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::decide;
use super::word::Word;
use super::{Core, NO_DEADLINE, Pending, Shared, WindowStats};
use crate::clock::{Nanos, to_nanos};
use crate::event::EventKind;
use crate::state::{State, TransitionReason};

impl Shared {
    /// Moves from `from` to `to` under the lock. Always bumps the generation
    /// (R31); counts and announces only real changes (R36).
    pub(super) fn transition(
        &self,
        core: &mut Core,
        from: Word,
        to: State,
        reason: TransitionReason,
        now: Nanos,
        pending: &mut Pending,
    ) -> Word {
        self.transition_with_wait(core, from, to, reason, now, None, pending)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn transition_with_wait(
        &self,
        core: &mut Core,
        from: Word,
        to: State,
        reason: TransitionReason,
        now: Nanos,
        wait: Option<Duration>,
        pending: &mut Pending,
    ) -> Word {
        let next = from.next(to);
        let rec = core.records.get_or_insert_default();
        match to {
            State::Open => {
                rec.opens_in_row = rec.opens_in_row.saturating_add(1);
                let d = wait.unwrap_or_else(|| core.config.open_duration_for(rec.opens_in_row));
                self.hot
                    .open_until
                    .store(now.saturating_add(to_nanos(d)), Ordering::Release);
            }
            State::Closed => rec.opens_in_row = 0,
            _ => {}
        }
        // Every state starts with fresh statistics (R14, R28).
        if let Some(window) = rec.window.as_mut() {
            *window = WindowStats::new(core.config.window, now);
        }
        self.hot.window_clean.store(false, Ordering::Relaxed);
        rec.probes.iter_mut().for_each(|p| *p = None);
        rec.probes_in_flight = 0;
        rec.probe_successes = 0;
        self.hot.probe_deadline.store(NO_DEADLINE, Ordering::Release);
        self.hot.word.store(next.0, Ordering::Release);
        let from_state = from.state();
        if from_state != to {
            rec.transitions[from_state.index()][to.index()] += 1;
            self.events.enqueue(self.event(
                EventKind::Transition {
                    from: from_state,
                    to,
                    reason,
                },
                now,
            ));
            pending.transitions.push((from_state, to, reason));
        }
        next
    }

    /// Logs transitions and delivers events, after the lock is released.
    pub(super) fn publish(&self, pending: Pending) {
        for (from, to, reason) in pending.transitions {
            tracing::info!(
                breaker = %self.hot.name,
                from = from.as_str(),
                to = to.as_str(),
                reason = reason.as_str(),
                "circuit breaker transition"
            );
        }
        self.events.deliver();
    }

    /// Brings `w` up to date under the lock: makes the transitions its state
    /// is due to make by itself by `now` (R18), each as of the moment it was
    /// due, not as of whenever somebody looked: a stuck probe reopens the
    /// circuit at its deadline (R25), so the open period counts from there,
    /// and if that period is over by `now` too, the circuit half-opens (R17).
    /// At most two transitions: a half-open state entered here has no probe,
    /// so no deadline. Never a cycle, even at the end of time, when every
    /// moment has passed.
    pub(super) fn catch_up(&self, core: &mut Core, mut w: Word, now: Nanos, pending: &mut Pending) -> Word {
        for from in [State::Open, State::HalfOpen, State::Open] {
            if w.state() == from
                && let Some(at) = self.lapses_at(from)
                && let Some((to, reason)) = decide::lapse(from, now, at)
            {
                w = self.transition(core, w, to, reason, at, pending);
            }
        }
        w
    }

    /// When `state` lapses by itself: at the end of the open period, or at
    /// the half-open probe deadline. `None`: the other states never lapse.
    #[inline]
    fn lapses_at(&self, state: State) -> Option<Nanos> {
        match state {
            State::Open => Some(self.hot.open_until.load(Ordering::Acquire)),
            State::HalfOpen => Some(self.hot.probe_deadline.load(Ordering::Acquire)),
            _ => None,
        }
    }

    pub(super) fn state(&self) -> State {
        let w = Word(self.hot.word.load(Ordering::Acquire));
        self.state_with(w)
    }

    /// The state `w` stands for at this moment: its own, unless it is due to
    /// lapse (then the lock is taken to make the transition, R18).
    pub(super) fn state_with(&self, w: Word) -> State {
        let state = w.state();
        let Some(lapses_at) = self.lapses_at(state) else {
            return state;
        };
        let now = self.hot.clock.now();
        if decide::lapse(state, now, lapses_at).is_none() {
            return state;
        }
        let mut pending = Pending::default();
        let s = {
            let mut core = self.lock();
            let w = Word(self.hot.word.load(Ordering::Acquire));
            self.catch_up(&mut core, w, now, &mut pending).state()
        };
        self.publish(pending);
        s
    }
}
