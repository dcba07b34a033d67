//! Manual control: forcing states, health-driven trips and closes, and
//! configuration changes at run time.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::word::Word;
use super::{BreakerConfig, CircuitBreaker, Pending, Shared, WindowStats};
use crate::clock::to_nanos;
use crate::error::ConfigError;
use crate::event::EventKind;
use crate::state::{State, TransitionReason};

impl CircuitBreaker {
    /// Forces the circuit open until another manual action (R32).
    pub fn force_open(&self) {
        self.shared
            .force(State::ForcedOpen, TransitionReason::Forced, None);
    }

    /// Forces the circuit closed, with a fresh window (R35).
    pub fn force_closed(&self) {
        self.shared.force(State::Closed, TransitionReason::Forced, None);
    }

    /// Admits everything and judges nothing until another manual action (R33).
    pub fn disable(&self) {
        self.shared.force(State::Disabled, TransitionReason::Forced, None);
    }

    /// Admits everything and keeps judging (rates, events) without ever tripping.
    pub fn metrics_only(&self) {
        self.shared
            .force(State::MetricsOnly, TransitionReason::Forced, None);
    }

    /// Back to `Closed` with a fresh window and a new generation; lifetime
    /// counters are kept (R34).
    pub fn reset(&self) {
        self.shared.force(State::Closed, TransitionReason::Reset, None);
    }

    /// Opens the circuit now, for `wait` (the configured open duration when
    /// `None`). With `Some(Duration::ZERO)` the next call is a probe: the way
    /// to ask for an immediate probe (R27).
    pub fn open_for(&self, wait: Option<Duration>) {
        self.shared.force(State::Open, TransitionReason::Forced, wait);
    }

    /// Sets how long an open circuit stays open from now, e.g. to what the
    /// downstream said in `Retry-After`. Only an `Open` circuit is affected: it
    /// stays in the same open episode (no transition, no new generation, no
    /// growth of the adaptive open duration). Returns whether it applied.
    ///
    /// ```
    /// # use cb_core::{CircuitBreaker, clock::ManualClock};
    /// # use std::time::Duration;
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::builder("api").failure_threshold(1)
    ///     .open_duration(Duration::from_secs(60)).clock(clock.clone()).build().unwrap();
    /// let _ = breaker.call_sync(|| Err::<(), _>("429 Too Many Requests, Retry-After: 2"));
    /// assert!(breaker.set_retry_after(Duration::from_secs(2)));
    /// assert_eq!(breaker.retry_after(), Some(Duration::from_secs(2)));
    /// ```
    pub fn set_retry_after(&self, wait: Duration) -> bool {
        let s = &*self.shared;
        let now = s.hot.clock.now();
        let _core = s.lock();
        let w = Word(s.hot.word.load(Ordering::Acquire));
        if w.state() != State::Open {
            return false;
        }
        s.hot
            .open_until
            .store(now.saturating_add(to_nanos(wait)), Ordering::Release);
        true
    }

    /// Opens the circuit for the configured duration because `reason`
    /// (e.g. [`TransitionReason::Health`]) says so. Does nothing in a manual
    /// state or when already open (R73). Returns whether it opened.
    pub fn trip(&self, reason: TransitionReason) -> bool {
        self.shared
            .transition_if(&[State::Closed, State::HalfOpen], State::Open, reason)
    }

    /// Closes an open or half-open circuit because `reason` says so (e.g. a
    /// health check, R71). Does nothing in other states. Returns whether it closed.
    pub fn close(&self, reason: TransitionReason) -> bool {
        self.shared
            .transition_if(&[State::Open, State::HalfOpen], State::Closed, reason)
    }

    /// Replaces the configuration at run time, keeping the state, the
    /// generation and the lifetime counters. The window keeps its contents
    /// unless its shape changed. An invalid configuration is rejected whole
    /// and the old one kept.
    pub fn update_config(&self, config: BreakerConfig) -> Result<(), ConfigError> {
        config.validate()?;
        self.shared.update_config(config);
        Ok(())
    }
}

impl Shared {
    fn force(&self, to: State, reason: TransitionReason, wait: Option<Duration>) {
        let now = self.hot.clock.now();
        let mut pending = Pending::default();
        {
            let mut core = self.lock();
            let w = Word(self.hot.word.load(Ordering::Acquire));
            self.transition_with_wait(&mut core, w, to, reason, now, wait, &mut pending);
            if reason == TransitionReason::Reset {
                self.events.enqueue(self.event(EventKind::Reset, now));
            }
        }
        self.publish(pending);
    }

    fn transition_if(&self, allowed: &[State], to: State, reason: TransitionReason) -> bool {
        let now = self.hot.clock.now();
        let mut pending = Pending::default();
        let changed = {
            let mut core = self.lock();
            let w = Word(self.hot.word.load(Ordering::Acquire));
            let current = self.catch_up(&mut core, w, now, &mut pending);
            if allowed.contains(&current.state()) && current.state() != to {
                self.transition(&mut core, current, to, reason, now, &mut pending);
                true
            } else {
                false
            }
        };
        self.publish(pending);
        changed
    }

    fn update_config(&self, config: BreakerConfig) {
        let now = self.hot.clock.now();
        {
            let mut core = self.lock();
            let has_window = core.records.as_ref().is_some_and(|r| r.window.is_some());
            let reshape = core.config.window != config.window || has_window != config.uses_window();
            if reshape {
                let window = config.uses_window().then(|| WindowStats::new(config.window, now));
                if window.is_some() || core.records.is_some() {
                    core.records.get_or_insert_default().window = window;
                }
            }
            self.hot.load_config(&config);
            self.hot.window_clean.store(false, Ordering::Relaxed);
            core.config = config;
            self.refresh_probe_deadline(&core);
            self.events.enqueue(self.event(EventKind::ConfigUpdated, now));
        }
        self.events.deliver();
    }
}
