//! The circuit breaker: admission, outcome recording and transitions.
//!
//! The hot path is lock-free. A closed breaker admits with one atomic load of
//! the `state | generation` word; a success with the consecutive-failure
//! detector reads the failure streak and writes it only when it is not already
//! zero, and counts itself in a per-thread counter stripe, so concurrent
//! successes write no shared cache line. An open breaker rejects with that
//! load and one coarse clock read. Transitions, half-open probes and window
//! detectors go through a short `std::sync::Mutex`, never held across an
//! `.await` (R93), and listeners run after it is released (R36).

mod builder;
mod classify;
mod config;
#[cfg(test)]
mod hot_path_tests;
mod permit;
mod state;
mod window;

use crate::sync::MutexExt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use builder::BreakerBuilder;
pub use classify::Predicates;
pub use config::{BreakerConfig, Window};
pub(crate) use permit::run_guarded;
pub use permit::{Classifier, DefaultClassifier, Outcome, Permit};
pub use state::{State, TransitionReason};

use self::state::Word;
use self::window::Window as WindowStats;
use crate::clock::{ClockHandle, Nanos, to_nanos};
use crate::error::{ConfigError, Error, Name, RejectReason, Rejected};
use crate::event::{Event, EventHub, EventKind, Listener};
use crate::metrics::{Counter, Counters, MemoryUsage, MetricsSnapshot};

/// Slow-call detection is on: time every call.
const F_SLOW: u32 = 1;
/// A rate detector is on: outcomes go into the window.
const F_WINDOW: u32 = 2;
/// The window is a time window: recording needs the time.
const F_TIME_WINDOW: u32 = 4;

const NO_DEADLINE: u64 = u64::MAX;
/// A refusal without a `retry_after`.
const NO_RETRY_AFTER: u64 = Rejected::NO_RETRY_AFTER;

/// A circuit breaker. Cheap to clone (one `Arc`), `Send + Sync`; clones share state.
///
/// ```
/// use cb_core::{CircuitBreaker, Error, State};
/// use std::time::Duration;
///
/// let breaker = CircuitBreaker::builder("inventory")
///     .failure_threshold(2)
///     .open_duration(Duration::from_secs(30))
///     .build()?;
///
/// for _ in 0..2 {
///     let _ = breaker.call_sync(|| Err::<(), _>("timeout"));
/// }
/// assert_eq!(breaker.state(), State::Open);
/// let err = breaker.call_sync(|| Ok::<_, &str>(1)).unwrap_err();
/// assert!(err.is_rejection());
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct CircuitBreaker {
    shared: Arc<Shared>,
}

/// What every call reads: kept together, written only on transitions and failures.
#[repr(align(64))]
struct Hot {
    word: AtomicU64,
    open_until: AtomicU64,
    /// `generation (low 32 bits) << 32 | consecutive failures`: a streak from
    /// an older generation reads as zero, so transitions need not reset it.
    streak: AtomicU64,
    failure_threshold: AtomicU32,
    flags: AtomicU32,
    slow_threshold: AtomicU64,
    /// The earliest moment a half-open probe counts as stuck (R25).
    probe_deadline: AtomicU64,
    clock: ClockHandle,
    /// The clock's resolution in nanoseconds, read once at build time.
    resolution: Nanos,
    /// Set while a full count window holds only fast successes: a fast
    /// success then changes nothing (rotating a ring of equal entries leaves
    /// it equal), so it skips the lock. Cleared under the lock by anything else.
    window_clean: AtomicBool,
    name: Name,
}

pub(crate) struct Shared {
    hot: Hot,
    counters: Counters,
    core: Mutex<Core>,
    events: EventHub,
}

// A panic cannot leave a breaker in a state that breaks its invariants: the
// core lock guards plain numbers updated in place, listener panics are caught,
// and a poisoned lock is taken over (see `Shared::lock`). So a breaker may be
// used across `catch_unwind`, whatever clock or listeners it holds.
impl std::panic::UnwindSafe for Shared {}
impl std::panic::RefUnwindSafe for Shared {}

/// A refusal before it becomes a public [`Rejected`]: two words, so the
/// rejection path does not move a 48-byte error through memory on its way out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refusal {
    reason: RejectReason,
    /// [`NO_RETRY_AFTER`] when there is no `retry_after`.
    retry_after_nanos: u64,
}

/// State only transitions, probes and window detectors touch.
struct Core {
    config: BreakerConfig,
    window: Option<WindowStats>,
    /// Opens since the last close (R37).
    opens_in_row: u32,
    /// Start time of each probe slot in use.
    probes: Vec<Option<Nanos>>,
    probes_in_flight: u32,
    probe_successes: u32,
    transitions: [[u64; 6]; 6],
}

/// Transitions made under the lock, logged after it is released.
#[derive(Default)]
struct Pending {
    transitions: Vec<(State, State, TransitionReason)>,
}

#[inline]
fn streak_tag(w: Word) -> u64 {
    w.generation() & 0xFFFF_FFFF
}

impl CircuitBreaker {
    /// Starts building a breaker named `name`.
    pub fn builder(name: impl Into<Name>) -> BreakerBuilder {
        BreakerBuilder::new(name.into())
    }

    pub(crate) fn from_parts(
        name: Name,
        config: BreakerConfig,
        clock: ClockHandle,
        listeners: Vec<Arc<dyn Listener>>,
    ) -> Self {
        let window = config.uses_window().then(|| WindowStats::new(config.window));
        let hot = Hot {
            word: AtomicU64::new(Word::new(State::Closed, 0).0),
            open_until: AtomicU64::new(0),
            streak: AtomicU64::new(0),
            failure_threshold: AtomicU32::new(config.failure_threshold.unwrap_or(0)),
            flags: AtomicU32::new(flags_of(&config)),
            slow_threshold: AtomicU64::new(to_nanos(config.slow_call_duration_threshold)),
            probe_deadline: AtomicU64::new(NO_DEADLINE),
            resolution: clock.resolution(),
            clock,
            window_clean: AtomicBool::new(false),
            name,
        };
        let core = Core {
            probes: vec![None; config.half_open_max_calls as usize],
            config,
            window,
            opens_in_row: 0,
            probes_in_flight: 0,
            probe_successes: 0,
            transitions: [[0; 6]; 6],
        };
        let events = EventHub::default();
        for l in listeners {
            events.subscribe(l);
        }
        Self {
            shared: Arc::new(Shared {
                hot,
                counters: Counters::new(),
                core: Mutex::new(core),
                events,
            }),
        }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        self.shared.hot.name.as_str()
    }

    /// The breaker's name, cheap to clone.
    pub fn name_handle(&self) -> &Name {
        &self.shared.hot.name
    }

    /// The breaker's clock: a retry around the breaker measures its
    /// `max_elapsed` on the same time as the breaker (R50).
    pub(crate) fn clock(&self) -> &ClockHandle {
        &self.shared.hot.clock
    }

    /// The current state. An open circuit whose duration has passed reports
    /// `HalfOpen`, and a half-open circuit with a stuck probe reports `Open`,
    /// without waiting for a call (R18, R25).
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// How long until an open circuit admits a probe; `None` unless open.
    pub fn retry_after(&self) -> Option<Duration> {
        let s = &*self.shared;
        let w = Word(s.hot.word.load(Ordering::Acquire));
        (s.state_with(w) == State::Open).then(|| s.open_remaining(s.hot.clock.now()))
    }

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
    fn admit(&self) -> Result<Permit<'_>, Refusal> {
        let s = &*self.shared;
        let w = Word(s.hot.word.load(Ordering::Acquire));
        let permit = if w.admits_freely() {
            s.permit(w, permit::NO_PROBE)
        } else {
            s.acquire_restricted(w)?
        };
        Ok(permit)
    }

    /// Runs `fut` if the breaker admits it and records its outcome: `Ok` is a
    /// success, `Err` a failure. A rejected call never polls `fut`.
    ///
    /// ```
    /// # use cb_core::CircuitBreaker;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let breaker = CircuitBreaker::builder("search").build().unwrap();
    /// let hits = breaker.call(async { Ok::<_, std::io::Error>(3) }).await.unwrap();
    /// assert_eq!(hits, 3);
    /// # }
    /// ```
    pub async fn call<F, T, E>(&self, fut: F) -> Result<T, Error<E>>
    where
        F: IntoFuture<Output = Result<T, E>>,
    {
        self.call_with(fut, &DefaultClassifier).await
    }

    /// Like [`call`](Self::call), with a classifier that decides from the
    /// whole `Result` whether the call succeeded, failed or is excluded (R4).
    ///
    /// ```
    /// # use cb_core::{CircuitBreaker, Outcome};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let breaker = CircuitBreaker::builder("api").failure_threshold(1).build().unwrap();
    /// // A 404 is the caller's problem, not the server's: excluded, not a failure.
    /// let classify = |r: &Result<u16, u16>| match r {
    ///     Ok(503) | Err(500..) => Outcome::Failure,
    ///     Err(404) => Outcome::Excluded,
    ///     _ => Outcome::Success,
    /// };
    /// let _ = breaker.call_with(async { Err::<u16, u16>(404) }, &classify).await;
    /// assert_eq!(breaker.state(), cb_core::State::Closed);
    /// let _ = breaker.call_with(async { Ok::<u16, u16>(503) }, &classify).await;
    /// assert_eq!(breaker.state(), cb_core::State::Open);
    /// # }
    /// ```
    pub async fn call_with<F, T, E, C>(&self, fut: F, classifier: &C) -> Result<T, Error<E>>
    where
        F: IntoFuture<Output = Result<T, E>>,
        C: Classifier<T, E> + ?Sized,
    {
        let permit = match self.admit() {
            Ok(permit) => permit,
            Err(r) => return Err(Error::Rejected(self.shared.rejected(r))),
        };
        let result = permit::run_guarded(permit, fut.into_future(), classifier).await;
        result.map_err(Error::Inner)
    }

    /// Runs a synchronous call if admitted; `Ok` is a success, `Err` a failure.
    /// A panic in `f` is recorded as `panicked` and then propagates (R6).
    pub fn call_sync<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, Error<E>> {
        self.call_sync_with(f, &DefaultClassifier)
    }

    /// Like [`call_sync`](Self::call_sync), with a classifier.
    pub fn call_sync_with<T, E, C>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
        classifier: &C,
    ) -> Result<T, Error<E>>
    where
        C: Classifier<T, E> + ?Sized,
    {
        let permit = match self.admit() {
            Ok(permit) => permit,
            Err(r) => return Err(Error::Rejected(self.shared.rejected(r))),
        };
        let result = f();
        permit.record(classifier.classify(&result));
        result.map_err(Error::Inner)
    }

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

    /// The breaker's configuration.
    pub fn config(&self) -> BreakerConfig {
        self.shared.lock().config.clone()
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

    /// Registers a listener for this breaker's events.
    pub fn subscribe(&self, listener: impl Listener) {
        self.shared.events.subscribe(Arc::new(listener));
    }

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
                + core.window.as_ref().map_or(0, WindowStats::heap_bytes)
                + core.probes.capacity() * std::mem::size_of::<Option<Nanos>>()
                + self.shared.events.listener_count() * std::mem::size_of::<Arc<dyn Listener>>(),
        }
    }

    /// Whether two handles share one breaker.
    pub fn ptr_eq(&self, other: &CircuitBreaker) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl std::fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let w = Word(self.shared.hot.word.load(Ordering::Relaxed));
        f.debug_struct("CircuitBreaker")
            .field("name", &self.shared.hot.name)
            .field("state", &w.state())
            .field("generation", &w.generation())
            .finish_non_exhaustive()
    }
}

fn flags_of(config: &BreakerConfig) -> u32 {
    let mut f = 0;
    if config.slow_call_rate_threshold.is_some() {
        f |= F_SLOW;
    }
    if config.uses_window() {
        f |= F_WINDOW;
        if matches!(config.window, Window::Time { .. }) {
            f |= F_TIME_WINDOW;
        }
    }
    f
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Core> {
        // The core holds plain numbers: a panic elsewhere cannot leave it
        // half-updated in a way that matters more than stopping would.
        self.core.lock_unpoisoned()
    }

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

    fn open_remaining(&self, now: Nanos) -> Duration {
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
    fn rejected(&self, r: Refusal) -> Rejected {
        Rejected::from_nanos(self.hot.name.clone(), r.reason, r.retry_after_nanos)
    }

    fn emit(&self, kind: EventKind) {
        self.events.emit(self.event(kind, self.hot.clock.now()));
    }

    fn event(&self, kind: EventKind, at: Nanos) -> Event {
        Event {
            breaker: self.hot.name.clone(),
            at: Duration::from_nanos(at),
            kind,
        }
    }

    /// Admission when the state is not a free one: open, forced open, half-open.
    #[inline]
    fn acquire_restricted(&self, w: Word) -> Result<Permit<'_>, Refusal> {
        match w.state() {
            State::Open => {
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
            State::ForcedOpen => Err(self.reject(RejectReason::ForcedOpen, NO_RETRY_AFTER)),
            _ => self.acquire_slow(self.hot.clock.now()),
        }
    }

    #[cold]
    fn acquire_slow(&self, now: Nanos) -> Result<Permit<'_>, Refusal> {
        let mut pending = Pending::default();
        let result = {
            let mut core = self.lock();
            let mut w = Word(self.hot.word.load(Ordering::Acquire));
            if w.state() == State::Open && now >= self.hot.open_until.load(Ordering::Acquire) {
                w = self.transition(
                    &mut core,
                    w,
                    State::HalfOpen,
                    TransitionReason::OpenDurationElapsed,
                    now,
                    &mut pending,
                );
            }
            if w.state() == State::HalfOpen && now >= self.hot.probe_deadline.load(Ordering::Acquire) {
                w = self.transition(
                    &mut core,
                    w,
                    State::Open,
                    TransitionReason::StuckProbe,
                    now,
                    &mut pending,
                );
            }
            match w.state() {
                State::Closed | State::Disabled | State::MetricsOnly => Ok((w, permit::NO_PROBE)),
                State::ForcedOpen => Err((RejectReason::ForcedOpen, NO_RETRY_AFTER)),
                State::Open => Err((RejectReason::CircuitOpen, self.open_remaining_nanos(now))),
                State::HalfOpen => {
                    if core.probes_in_flight < core.config.half_open_max_calls {
                        let slot = match core.probes.iter().position(Option::is_none) {
                            Some(i) => i,
                            None => {
                                core.probes.push(None);
                                core.probes.len() - 1
                            }
                        };
                        core.probes[slot] = Some(now);
                        core.probes_in_flight += 1;
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

    fn refresh_probe_deadline(&self, core: &Core) {
        let oldest = core.probes.iter().flatten().min().copied();
        let deadline = oldest.map_or(NO_DEADLINE, |t| {
            t.saturating_add(to_nanos(core.config.probe_deadline()))
        });
        self.hot.probe_deadline.store(deadline, Ordering::Release);
    }

    /// Moves from `from` to `to` under the lock. Always bumps the generation
    /// (R31); counts and announces only real changes (R36).
    fn transition(
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
    fn transition_with_wait(
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
        match to {
            State::Open => {
                core.opens_in_row = core.opens_in_row.saturating_add(1);
                let d = wait.unwrap_or_else(|| core.config.open_duration_for(core.opens_in_row));
                self.hot
                    .open_until
                    .store(now.saturating_add(to_nanos(d)), Ordering::Release);
            }
            State::Closed => core.opens_in_row = 0,
            _ => {}
        }
        // Every state starts with fresh statistics (R14, R28).
        if let Some(window) = core.window.as_mut() {
            *window = WindowStats::new(core.config.window);
        }
        self.hot.window_clean.store(false, Ordering::Relaxed);
        core.probes.iter_mut().for_each(|p| *p = None);
        core.probes_in_flight = 0;
        core.probe_successes = 0;
        self.hot.probe_deadline.store(NO_DEADLINE, Ordering::Release);
        self.hot.word.store(next.0, Ordering::Release);
        let from_state = from.state();
        if from_state != to {
            core.transitions[from_state.index()][to.index()] += 1;
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
    fn publish(&self, pending: Pending) {
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
            let current = self.state_locked(&mut core, w, now, &mut pending);
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

    /// Applies the lazy time-based transitions under the lock (R18, R25).
    fn state_locked(&self, core: &mut Core, mut w: Word, now: Nanos, pending: &mut Pending) -> Word {
        if w.state() == State::Open && now >= self.hot.open_until.load(Ordering::Acquire) {
            w = self.transition(
                core,
                w,
                State::HalfOpen,
                TransitionReason::OpenDurationElapsed,
                now,
                pending,
            );
        }
        if w.state() == State::HalfOpen && now >= self.hot.probe_deadline.load(Ordering::Acquire) {
            w = self.transition(core, w, State::Open, TransitionReason::StuckProbe, now, pending);
        }
        w
    }

    fn state(&self) -> State {
        let w = Word(self.hot.word.load(Ordering::Acquire));
        self.state_with(w)
    }

    fn state_with(&self, w: Word) -> State {
        let due = match w.state() {
            State::Open => self.hot.open_until.load(Ordering::Acquire),
            State::HalfOpen => self.hot.probe_deadline.load(Ordering::Acquire),
            s => return s,
        };
        let now = self.hot.clock.now();
        if now < due {
            return w.state();
        }
        let mut pending = Pending::default();
        let s = {
            let mut core = self.lock();
            let w = Word(self.hot.word.load(Ordering::Acquire));
            self.state_locked(&mut core, w, now, &mut pending).state()
        };
        self.publish(pending);
        s
    }

    /// Records the outcome of a call admitted under `permit_word`.
    #[inline]
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
        let slow = matches!(outcome, Outcome::Success | Outcome::Failure | Outcome::Panicked)
            && duration.is_some_and(|d| d > self.hot.slow_threshold.load(Ordering::Relaxed));
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
    /// the window under the lock.
    #[inline]
    fn record_judged(&self, w: Word, outcome: Outcome, now: Nanos, slow: bool, window: bool, may_trip: bool) {
        let failed = matches!(outcome, Outcome::Failure | Outcome::Panicked);
        if !failed && outcome != Outcome::Success {
            return; // excluded and cancelled are neutral (R2, R5)
        }
        let mut trip = None;
        let threshold = self.hot.failure_threshold.load(Ordering::Relaxed);
        if threshold > 0 {
            let tag = streak_tag(w);
            let streak = &self.hot.streak;
            if failed {
                let mut s = streak.load(Ordering::Relaxed);
                loop {
                    let count = if s >> 32 == tag {
                        (s & 0xFFFF_FFFF) as u32
                    } else {
                        0
                    };
                    let next = (tag << 32) | u64::from(count.saturating_add(1));
                    match streak.compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Relaxed) {
                        Ok(_) => {
                            if count.saturating_add(1) >= threshold {
                                trip = Some(TransitionReason::ConsecutiveFailures);
                            }
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
        self.record_window_and_trip(w, failed, slow, now, trip, may_trip);
    }

    #[cold]
    fn record_window_and_trip(
        &self,
        w: Word,
        failed: bool,
        slow: bool,
        now: Nanos,
        mut trip: Option<TransitionReason>,
        may_trip: bool,
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
            if let Some(window) = core.window.as_mut() {
                window.record(now, failed, slow);
                let totals = window.totals(now);
                let clean = count_size == Some(totals.calls) && totals.failures == 0 && totals.slow == 0;
                self.hot.window_clean.store(clean, Ordering::Relaxed);
                if trip.is_none() {
                    if let (Some(t), Some(r)) = (rate, totals.failure_rate(min_calls))
                        && r >= t
                    {
                        trip = Some(TransitionReason::FailureRate);
                    } else if let (Some(t), Some(r)) = (slow_rate, totals.slow_rate(min_calls))
                        && r >= t
                    {
                        trip = Some(TransitionReason::SlowCallRate);
                    }
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

    #[cold]
    fn record_probe(&self, w: Word, probe: u32, outcome: Outcome, slow: bool, now: Nanos) {
        let now = if now == 0 { self.hot.clock.now() } else { now };
        self.locked_if_current(w, |core, pending| {
            if let Some(slot) = core.probes.get_mut(probe as usize) {
                *slot = None;
            }
            core.probes_in_flight = core.probes_in_flight.saturating_sub(1);
            self.refresh_probe_deadline(core);
            let next = match outcome {
                Outcome::Success if slow => Some((State::Open, TransitionReason::ProbeSlow)),
                Outcome::Success => {
                    core.probe_successes += 1;
                    (core.probe_successes >= core.config.success_threshold)
                        .then_some((State::Closed, TransitionReason::ProbesSucceeded))
                }
                Outcome::Failure | Outcome::Panicked => Some((State::Open, TransitionReason::ProbeFailed)),
                Outcome::Excluded | Outcome::Cancelled => None,
            };
            if let Some((to, reason)) = next {
                self.transition(core, w, to, reason, now, pending);
            }
        });
    }

    fn update_config(&self, config: BreakerConfig) {
        let now = self.hot.clock.now();
        {
            let mut core = self.lock();
            let reshape =
                core.config.window != config.window || core.window.is_some() != config.uses_window();
            if reshape {
                core.window = config.uses_window().then(|| WindowStats::new(config.window));
            }
            let slots = (config.half_open_max_calls as usize).max(core.probes.len());
            core.probes.resize(slots, None);
            self.hot
                .failure_threshold
                .store(config.failure_threshold.unwrap_or(0), Ordering::Relaxed);
            self.hot
                .slow_threshold
                .store(to_nanos(config.slow_call_duration_threshold), Ordering::Relaxed);
            self.hot.flags.store(flags_of(&config), Ordering::Relaxed);
            self.hot.window_clean.store(false, Ordering::Relaxed);
            core.config = config;
            self.refresh_probe_deadline(&core);
            self.events.enqueue(self.event(EventKind::ConfigUpdated, now));
        }
        self.events.deliver();
    }

    fn snapshot(&self) -> MetricsSnapshot {
        let state = self.state();
        let now = self.hot.clock.now();
        let mut core = self.lock();
        let w = Word(self.hot.word.load(Ordering::Acquire));
        let min_calls = core.config.effective_minimum_calls();
        let rate_on = core.config.failure_rate_threshold.is_some();
        let slow_on = core.config.slow_call_rate_threshold.is_some();
        let totals = core
            .window
            .as_mut()
            .map(|win| win.totals(now))
            .unwrap_or_default();
        let streak = self.hot.streak.load(Ordering::Acquire);
        let consecutive_failures = if streak >> 32 == streak_tag(w) {
            (streak & 0xFFFF_FFFF) as u32
        } else {
            0
        };
        let mut transitions = Vec::new();
        for from in State::ALL {
            for to in State::ALL {
                let n = core.transitions[from.index()][to.index()];
                if n > 0 {
                    transitions.push((from, to, n));
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
            half_open_in_flight: core.probes_in_flight,
            retry_after: (state == State::Open).then(|| self.open_remaining(now)),
            calls: self.counters.lifetime(),
            transitions,
        }
    }
}
