//! Recording: what a finished call's outcome does to the counters, the
//! detectors and, through them, the state.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::word::Word;
use super::{Core, F_TIME_WINDOW, F_WINDOW, Pending, Shared, Window, WindowStats};
use super::{decide, permit};
use super::{streak_count, streak_tag};
use crate::clock::Nanos;
use crate::event::EventKind;
use crate::metrics::Counter;
use crate::state::{Outcome, State, TransitionReason};

impl Shared {
    /// Records the outcome of a call admitted under `permit_word`. Always
    /// inlined into the call, in the user's crate too: the closed success
    /// below is a few loads and one store to this thread's stripe, less than
    /// a call to it would cost; everything else is `complete_general`, out of line.
    #[inline(always)]
    pub(crate) fn complete(&self, permit_word: Word, start: Nanos, probe: u32, outcome: Outcome) {
        // The common case first: a success in a free state, with no window,
        // no slow-call timing and no listeners. It writes only this thread's
        // counter stripe, and the streak only if a failure preceded it.
        if outcome == Outcome::Success
            && start == permit::NO_START
            && self.hot.flags.load(Ordering::Relaxed) == 0
            && !self.events.active()
        {
            self.counters.add(Counter::Success);
            let w = Word(self.hot.word.load(Ordering::Acquire));
            if w != permit_word {
                self.counters.add(Counter::Late);
            } else if w.judges() {
                self.reset_streak(w);
            } else if w.state() == State::HalfOpen && probe != permit::NO_PROBE {
                self.record_probe(w, probe, outcome, false, 0);
            }
            return;
        }
        self.complete_general(permit_word, start, probe, outcome);
    }

    /// A success resets the failure streak; when it is already zero (the
    /// common case) nothing is written.
    #[inline]
    fn reset_streak(&self, w: Word) {
        if self.hot.failure_threshold.load(Ordering::Relaxed) == 0 {
            return;
        }
        let tag = streak_tag(w);
        let s = self.hot.streak.load(Ordering::Relaxed);
        if s >> 32 == tag && s & 0xFFFF_FFFF != 0 {
            let _ = self
                .hot
                .streak
                .compare_exchange(s, tag << 32, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    #[inline(never)]
    fn complete_general(&self, permit_word: Word, start: Nanos, probe: u32, outcome: Outcome) {
        self.counters.add(match outcome {
            Outcome::Success => Counter::Success,
            Outcome::Failure => Counter::Failure,
            Outcome::Excluded => Counter::Excluded,
            Outcome::Cancelled => Counter::Cancelled,
            Outcome::Panicked => Counter::Panicked,
        });
        let flags = self.hot.flags.load(Ordering::Relaxed);
        let timed = start != permit::NO_START;
        let window = flags & F_WINDOW != 0;
        let events = self.events.active();
        // A count window ignores time: read the clock only for what needs it.
        let needs_time = timed || events || flags & F_TIME_WINDOW != 0;
        let now = if needs_time { self.hot.clock.now() } else { 0 };
        let duration = timed.then(|| now.saturating_sub(start));
        let slow = duration
            .is_some_and(|d| decide::slow(outcome, d, self.hot.slow_threshold.load(Ordering::Relaxed)));
        if slow {
            self.counters.add(Counter::Slow);
        }
        let w = Word(self.hot.word.load(Ordering::Acquire));
        if w != permit_word {
            self.counters.add(Counter::Late);
            if events {
                self.events
                    .emit(self.event(EventKind::LateResult { outcome }, now));
            }
            return;
        }
        if events {
            let duration = duration.map(Duration::from_nanos);
            self.events
                .enqueue(self.event(EventKind::Outcome { outcome, duration }, now));
            if let (true, Some(d)) = (slow, duration) {
                self.events
                    .enqueue(self.event(EventKind::Slow { duration: d }, now));
            }
        }
        match w.state() {
            State::Closed => self.record_judged(w, outcome, now, slow, window, true),
            State::MetricsOnly => self.record_judged(w, outcome, now, slow, window, false),
            State::HalfOpen if probe != permit::NO_PROBE => self.record_probe(w, probe, outcome, slow, now),
            _ => {}
        }
        if events {
            self.events.deliver();
        }
    }

    /// Closed (or metrics-only) recording: the consecutive streak lock-free,
    /// the window under the lock. Always inlined into `complete_general`:
    /// left to itself the compiler stops inlining it once the failure path
    /// grows, which costs the count-window success path ~27 instructions.
    #[inline(always)]
    fn record_judged(&self, w: Word, outcome: Outcome, now: Nanos, slow: bool, window: bool, may_trip: bool) {
        let Some(failed) = decide::failed(outcome) else {
            return; // excluded and cancelled are neutral (R2, R5)
        };
        // Only a failure can find the counts expired: a success resets the
        // streak anyway, and the success path stays free of clock reads.
        let mut now = now;
        let restart =
            failed && self.hot.count_interval.load(Ordering::Relaxed) != 0 && self.counts_expired(&mut now);
        let mut trip = None;
        let threshold = self.hot.failure_threshold.load(Ordering::Relaxed);
        if threshold > 0 {
            let tag = streak_tag(w);
            let streak = &self.hot.streak;
            if failed {
                let mut s = streak.load(Ordering::Relaxed);
                loop {
                    let count = if restart { 0 } else { streak_count(s, w) };
                    let next = (tag << 32) | u64::from(count.saturating_add(1));
                    match streak.compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Relaxed) {
                        Ok(_) => {
                            trip = decide::streak_trips(count.saturating_add(1), threshold);
                            break;
                        }
                        Err(actual) => s = actual,
                    }
                }
            } else {
                self.reset_streak(w);
            }
        }
        if !window && (trip.is_none() || !may_trip) {
            return;
        }
        if window && trip.is_none() && !failed && !slow && self.hot.window_clean.load(Ordering::Relaxed) {
            return; // a full window of fast successes: one more changes nothing
        }
        self.record_window_and_trip(w, failed, slow, now, trip, may_trip, restart);
    }

    /// Whether a failure at `now` comes `closed_count_interval` or more
    /// after the previous failure, so the closed state's counts start over
    /// (gobreaker's `Interval`). Notes the failure's time. Reads the clock
    /// into `now` (0: not read yet). Out of line and only called when the
    /// interval is set, so the common recording path keeps its size (and
    /// stays inlined into `complete`).
    #[cold]
    #[inline(never)]
    fn counts_expired(&self, now: &mut Nanos) -> bool {
        let interval = self.hot.count_interval.load(Ordering::Relaxed);
        if *now == 0 {
            *now = self.hot.clock.now();
        }
        let previous = self.hot.last_failure.swap(*now, Ordering::Relaxed);
        decide::counts_expired(previous, *now, interval)
    }

    #[cold]
    #[allow(clippy::too_many_arguments)]
    fn record_window_and_trip(
        &self,
        w: Word,
        failed: bool,
        slow: bool,
        now: Nanos,
        mut trip: Option<TransitionReason>,
        may_trip: bool,
        restart: bool,
    ) {
        // The hot path reads the clock only when something needs it.
        let now = if now == 0 { self.hot.clock.now() } else { now };
        self.locked_if_current(w, |core, pending| {
            let min_calls = core.config.effective_minimum_calls();
            let rate = core.config.failure_rate_threshold;
            let slow_rate = core.config.slow_call_rate_threshold;
            let count_size = match core.config.window {
                Window::Count { size } => Some(size),
                Window::Time { .. } => None,
            };
            let config_window = core.config.window;
            if let Some(window) = core.records.as_deref_mut().and_then(|r| r.window.as_mut()) {
                if restart && count_size.is_some() {
                    *window = WindowStats::new(config_window, now);
                }
                window.record(now, failed, slow);
                let totals = window.totals(now);
                let clean = count_size == Some(totals.calls) && totals.failures == 0 && totals.slow == 0;
                self.hot.window_clean.store(clean, Ordering::Relaxed);
                if trip.is_none() {
                    trip = decide::rates_trip(&totals, min_calls, rate, slow_rate, failed, slow);
                }
            }
            if let (Some(reason), true) = (trip, may_trip) {
                self.transition(core, w, State::Open, reason, now, pending);
            }
        });
    }

    /// Runs `f` under the lock if the state is still `w`, then publishes what
    /// it did; if another call changed the state first, the outcome is late
    /// (R15, R29, R30) and `f` does not run.
    fn locked_if_current(&self, w: Word, f: impl FnOnce(&mut Core, &mut Pending)) {
        let mut pending = Pending::default();
        {
            let mut core = self.lock();
            if self.hot.word.load(Ordering::Acquire) != w.0 {
                self.counters.add(Counter::Late);
                return;
            }
            f(&mut core, &mut pending);
        }
        self.publish(pending);
    }

    /// Takes back a permit whose call never reached the downstream: no
    /// counter, no detector, no event; only a probe slot, if it held one
    /// and its half-open episode is still on, is freed.
    #[cold]
    pub(super) fn withdraw(&self, permit_word: Word, probe: u32) {
        if probe == permit::NO_PROBE {
            return;
        }
        let mut core = self.lock();
        if self.hot.word.load(Ordering::Acquire) != permit_word.0 {
            return; // a transition already freed every slot
        }
        if let Some(rec) = core.records.as_deref_mut() {
            if let Some(slot) = rec.probes.get_mut(probe as usize) {
                *slot = None;
            }
            rec.probes_in_flight = rec.probes_in_flight.saturating_sub(1);
        }
        self.refresh_probe_deadline(&core);
    }

    #[cold]
    fn record_probe(&self, w: Word, probe: u32, outcome: Outcome, slow: bool, now: Nanos) {
        let now = if now == 0 { self.hot.clock.now() } else { now };
        self.locked_if_current(w, |core, pending| {
            let rec = core.records.get_or_insert_default();
            if let Some(slot) = rec.probes.get_mut(probe as usize) {
                *slot = None;
            }
            rec.probes_in_flight = rec.probes_in_flight.saturating_sub(1);
            let successes = rec.probe_successes;
            self.refresh_probe_deadline(core);
            let verdict = decide::probe_verdict(outcome, slow, successes, core.config.success_threshold);
            core.records.get_or_insert_default().probe_successes = verdict.successes;
            if let Some((to, reason)) = verdict.next {
                self.transition(core, w, to, reason, now, pending);
            }
        });
    }
}
