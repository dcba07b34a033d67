//! Admission: whether a call may go ahead, and the refusal when it may not.
//!
//! A free state (closed, disabled, metrics-only) admits on one load of the
//! state word; an open circuit rejects on that load and one clock read; only
//! what needs the lock (an open period that is over, half-open probe slots)
//! goes the slow way.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::permit::{self, Permit};
use super::word::Word;
use super::{CircuitBreaker, Core, F_SLOW, NO_DEADLINE, NO_RETRY_AFTER, Pending, Refusal, Shared};
use crate::clock::{Nanos, to_nanos};
use crate::error::{RejectReason, Rejected};
use crate::event::EventKind;
use crate::metrics::Counter;
use crate::state::State;

impl CircuitBreaker {
    /// Asks for admission. On success the [`Permit`] must be told the outcome
    /// (or dropped, which records `cancelled`, or `panicked` while unwinding).
    ///
    /// ```
    /// # use cb_core::{CircuitBreaker, Outcome};
    /// let breaker = CircuitBreaker::builder("queue").build().unwrap();
    /// let permit = breaker.try_acquire()?;
    /// // ... a call that cannot be wrapped in a closure ...
    /// permit.record(Outcome::Success);
    /// # Ok::<(), cb_core::Rejected>(())
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, Rejected> {
        let s = &*self.shared;
        let w = Word(s.hot.word.load(Ordering::Acquire));
        if w.admits_freely() {
            return Ok(s.permit(w, permit::NO_PROBE));
        }
        s.acquire_restricted(w).map_err(|r| s.rejected(r))
    }

    /// Admission for the wrapping calls: the free path returns the permit
    /// directly, so it is not built into a `Result` and moved out again.
    #[inline(always)]
    pub(super) fn admit(&self) -> Result<Permit<'_>, Refusal> {
        let s = &*self.shared;
        let w = Word(s.hot.word.load(Ordering::Acquire));
        let permit = if w.admits_freely() {
            s.permit(w, permit::NO_PROBE)
        } else {
            s.acquire_restricted(w)?
        };
        Ok(permit)
    }
}

impl Shared {
    #[inline]
    fn permit(&self, w: Word, probe: u32) -> Permit<'_> {
        let timed = self.hot.flags.load(Ordering::Relaxed) & F_SLOW != 0;
        let start = if timed {
            self.hot.clock.now()
        } else {
            permit::NO_START
        };
        Permit::new(self, w, start, probe)
    }

    pub(super) fn open_remaining(&self, now: Nanos) -> Duration {
        Duration::from_nanos(self.open_remaining_nanos(now))
    }

    fn open_remaining_nanos(&self, now: Nanos) -> Nanos {
        let until = self.hot.open_until.load(Ordering::Acquire);
        self.retry_nanos(until.saturating_sub(now))
    }

    /// The `retry_after` for `left` nanoseconds of open time: plus the clock's
    /// resolution (R16), saturating short of the "none" marker.
    #[inline]
    fn retry_nanos(&self, left: Nanos) -> Nanos {
        left.saturating_add(self.hot.resolution).min(NO_RETRY_AFTER - 1)
    }

    /// Counts a refusal; `retry_after_nanos` is `NO_RETRY_AFTER` when there is
    /// none. Nanoseconds, not a `Duration`, until the public error is built.
    /// Inlined into every rejecting path: it is most of what fail-fast costs.
    #[inline(always)]
    fn reject(&self, reason: RejectReason, retry_after_nanos: u64) -> Refusal {
        self.counters.add(match reason {
            RejectReason::ForcedOpen => Counter::RejectedForced,
            RejectReason::HalfOpenFull => Counter::RejectedHalfOpenFull,
            _ => Counter::RejectedOpen,
        });
        if self.events.active() {
            self.emit_rejected(reason, retry_after_nanos);
        }
        Refusal {
            reason,
            retry_after_nanos,
        }
    }

    #[cold]
    fn emit_rejected(&self, reason: RejectReason, retry_after_nanos: u64) {
        let retry_after =
            (retry_after_nanos != NO_RETRY_AFTER).then(|| Duration::from_nanos(retry_after_nanos));
        self.emit(EventKind::Rejected { reason, retry_after });
    }

    /// The public error for a refusal, built once, where it is returned.
    #[inline]
    pub(super) fn rejected(&self, r: Refusal) -> Rejected {
        Rejected::from_nanos(self.hot.name.clone(), r.reason, r.retry_after_nanos)
    }

    /// Admission when the state is not a free one: open, forced open,
    /// half-open. The open circuit's rejection (the fail-fast path, run
    /// millions of times a second in a storm) is always inlined into the
    /// caller, in the user's crate too: it must not cost more than a closed
    /// success, and left to the inliner it did in some builds (a call, six
    /// saved registers and a result returned through memory). The forced-open
    /// rejection is inlined as well; the half-open admission and the end of
    /// an open period are out-of-line, cold calls.
    #[inline(always)]
    fn acquire_restricted(&self, w: Word) -> Result<Permit<'_>, Refusal> {
        if !w.is(State::Open) {
            if w.is(State::ForcedOpen) {
                return Err(self.reject(RejectReason::ForcedOpen, NO_RETRY_AFTER));
            }
            return self.acquire_half_open();
        }
        let until = self.hot.open_until.load(Ordering::Acquire);
        // Far from the end of the open period, a rejection storm reads
        // the process's cached time instead of the OS clock (see
        // `clock::set_rejection_cache`); it lags, so it only ever
        // overstates the time left.
        if let Some(left) = self.hot.clock.cached_remaining(until)
            && self.hot.word.load(Ordering::Acquire) == w.0
        {
            return Err(self.reject(RejectReason::CircuitOpen, self.retry_nanos(left)));
        }
        let now = self.hot.clock.now();
        if now < until && self.hot.word.load(Ordering::Acquire) == w.0 {
            self.hot.clock.note_rejection(now);
            return Err(self.reject(RejectReason::CircuitOpen, self.retry_nanos(until - now)));
        }
        self.acquire_slow(now)
    }

    /// Half-open: probe slots, under the lock.
    #[cold]
    #[inline(never)]
    fn acquire_half_open(&self) -> Result<Permit<'_>, Refusal> {
        self.acquire_slow(self.hot.clock.now())
    }

    #[cold]
    #[inline(never)]
    fn acquire_slow(&self, now: Nanos) -> Result<Permit<'_>, Refusal> {
        let mut pending = Pending::default();
        let result = {
            let mut core = self.lock();
            let w = Word(self.hot.word.load(Ordering::Acquire));
            let w = self.catch_up(&mut core, w, now, &mut pending);
            match w.state() {
                State::Closed | State::Disabled | State::MetricsOnly => Ok((w, permit::NO_PROBE)),
                State::ForcedOpen => Err((RejectReason::ForcedOpen, NO_RETRY_AFTER)),
                State::Open => Err((RejectReason::CircuitOpen, self.open_remaining_nanos(now))),
                State::HalfOpen => {
                    let max = core.config.half_open_max_calls;
                    let rec = core.records.get_or_insert_default();
                    if rec.probes_in_flight < max {
                        let slot = match rec.probes.iter().position(Option::is_none) {
                            Some(i) => i,
                            None => {
                                // The first probe sizes the slots for the
                                // configured maximum at once.
                                let more = (max as usize).saturating_sub(rec.probes.len());
                                rec.probes.reserve_exact(more);
                                rec.probes.push(None);
                                rec.probes.len() - 1
                            }
                        };
                        rec.probes[slot] = Some(now);
                        rec.probes_in_flight += 1;
                        self.refresh_probe_deadline(&core);
                        Ok((w, slot as u32))
                    } else {
                        Err((RejectReason::HalfOpenFull, NO_RETRY_AFTER))
                    }
                }
            }
        };
        self.publish(pending);
        match result {
            Ok((w, probe)) => Ok(self.permit(w, probe)),
            Err((reason, retry)) => Err(self.reject(reason, retry)),
        }
    }

    /// Moves the stuck-probe deadline (R25) to follow the oldest probe in flight.
    pub(super) fn refresh_probe_deadline(&self, core: &Core) {
        let oldest = core
            .records
            .iter()
            .flat_map(|t| t.probes.iter().flatten())
            .min()
            .copied();
        let deadline = oldest.map_or(NO_DEADLINE, |t| {
            t.saturating_add(to_nanos(core.config.probe_deadline()))
        });
        self.hot.probe_deadline.store(deadline, Ordering::Release);
    }
}
