//! The circuit breaker: admission, outcome recording and transitions.
//!
//! The hot path is lock-free. A closed breaker admits with one atomic load of
//! the `state | generation` word; a success with the consecutive-failure
//! detector reads the failure streak and writes it only when it is not already
//! zero, and counts itself in its thread's counter stripe (inline for the
//! breaker's first thread, allocated per thread once others call), so
//! concurrent successes write no shared cache line. An open breaker rejects with that
//! load and one coarse clock read. Transitions, half-open probes and window
//! detectors go through a short `std::sync::Mutex`, never held across an
//! `.await` (R93), and listeners run after it is released (R36).
//!
//! [`CircuitBreaker`] is one type; each of its concepts has a file of its
//! own: admission (`admit`), recording outcomes (`record`), transitions, the
//! lazy time-based ones included (`transition`), manual control and run-time
//! configuration (`control`), and what a breaker reports (`snapshot`). The
//! rules those apply (does this outcome trip? does this probe close or
//! reopen? has this state lapsed?) are pure functions in `decide`. The
//! vocabulary ([`State`], [`Outcome`], [`TransitionReason`]) lives below the
//! breaker, so that events and metrics can use it.

mod admit;
mod builder;
mod by_name;
mod config;
mod control;
mod decide;
#[cfg(test)]
mod hot_path_tests;
mod permit;
mod record;
mod snapshot;
mod transition;
mod window;
mod word;

use crate::sync::MutexExt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use crate::state::{Outcome, State, TransitionReason};
pub use builder::CircuitBreakerBuilder;
pub use config::{BreakerConfig, Window};
pub use permit::Permit;

use self::window::Window as WindowStats;
use self::word::Word;
use crate::classify::{Classifier, DefaultClassifier};
use crate::clock::{ClockHandle, Nanos, to_nanos};
use crate::error::{Error, Name, RejectReason, Rejected};
use crate::event::{Event, EventHub, EventKind, Listener};
use crate::metrics::Counters;

/// Slow-call detection is on: time every call.
const F_SLOW: u32 = 1;
/// A rate detector is on: outcomes go into the window.
const F_WINDOW: u32 = 2;
/// The window is a time window: recording needs the time.
const F_TIME_WINDOW: u32 = 4;
/// The configuration lists error kinds (`classify`): an error reads them.
const F_BY_NAME: u32 = 8;

const NO_DEADLINE: u64 = u64::MAX;
/// No failure recorded yet (see [`Hot::last_failure`]).
const NO_FAILURE: u64 = u64::MAX;
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
    /// `closed_count_interval` in nanoseconds, 0 when counts never expire;
    /// read only on the failure-recording path.
    count_interval: AtomicU64,
    /// When the last failure was recorded, `NO_FAILURE` before the first;
    /// kept only while `count_interval` is set.
    last_failure: AtomicU64,
    clock: ClockHandle,
    /// The clock's resolution in nanoseconds, read once at build time.
    resolution: Nanos,
    /// Set while a full count window holds only fast successes: a fast
    /// success then changes nothing (rotating a ring of equal entries leaves
    /// it equal), so it skips the lock. Cleared under the lock by anything else.
    window_clean: AtomicBool,
    name: Name,
}

/// In this order (`repr(C)`): what every call reads (`hot`, the event
/// hub's flag, the counters' index), then the core, which only locked paths
/// touch, then the stripe the breaker's first thread counts in (the
/// counters keep the core between the two, see [`Counters`]). Not
/// cache-line aligned: the alignment's padding would cost every breaker 48
/// bytes (see `memory_usage`).
#[repr(C)]
pub(crate) struct Shared {
    hot: Hot,
    events: EventHub,
    counters: Counters<Mutex<Core>>,
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

/// State only transitions, probes and window detectors touch. What only
/// some breakers need is boxed, so that an idle breaker without a window
/// stays small (the issue's thousands of keyed breakers pay for it per key).
struct Core {
    config: BreakerConfig,
    /// Made at build time for a breaker with a window, else at the first
    /// transition.
    records: Option<Box<Records>>,
}

/// What a breaker records beyond its counters: its window, if a rate
/// detector needs one, and, once it has made a transition, its open
/// streak, probe slots and transition counts. One box, so that a breaker
/// that has neither pays one pointer for both.
#[derive(Default)]
struct Records {
    window: Option<WindowStats>,
    /// Opens since the last close (R37).
    opens_in_row: u32,
    /// Start time of each probe slot in use, sized at the first probe.
    probes: Vec<Option<Nanos>>,
    probes_in_flight: u32,
    probe_successes: u32,
    /// Transitions so far, by `from` and `to` state index.
    transitions: [[u64; 6]; 6],
}

/// Transitions made under the lock, logged after it is released.
#[derive(Default)]
struct Pending {
    transitions: Vec<(State, State, TransitionReason)>,
}

/// The generation tag a failure streak carries (see [`Hot::streak`]).
#[inline]
fn streak_tag(w: Word) -> u64 {
    w.generation() & 0xFFFF_FFFF
}

/// The consecutive failures a `streak` word counts in the generation of
/// `w`: a streak from an older generation reads as zero.
#[inline]
fn streak_count(streak: u64, w: Word) -> u32 {
    if streak >> 32 == streak_tag(w) {
        (streak & 0xFFFF_FFFF) as u32
    } else {
        0
    }
}

impl Hot {
    /// Copies what the lock-free paths read of `config` (thresholds and
    /// which detectors are on) into their atomics, at build time and on
    /// every configuration change.
    fn load_config(&self, config: &BreakerConfig) {
        self.failure_threshold
            .store(config.failure_threshold.unwrap_or(0), Ordering::Relaxed);
        self.slow_threshold
            .store(to_nanos(config.slow_call_duration_threshold), Ordering::Relaxed);
        self.flags.store(flags_of(config), Ordering::Relaxed);
        self.count_interval.store(
            config.closed_count_interval.map_or(0, to_nanos),
            Ordering::Relaxed,
        );
    }
}

impl CircuitBreaker {
    /// Starts building a breaker named `name`.
    pub fn builder(name: impl Into<Name>) -> CircuitBreakerBuilder {
        CircuitBreakerBuilder::new(name.into())
    }

    pub(crate) fn from_parts(
        name: Name,
        config: BreakerConfig,
        clock: ClockHandle,
        listeners: Vec<Arc<dyn Listener>>,
    ) -> Self {
        let window = config
            .uses_window()
            .then(|| WindowStats::new(config.window, clock.now()));
        let hot = Hot {
            word: AtomicU64::new(Word::new(State::Closed, 0).0),
            open_until: AtomicU64::new(0),
            streak: AtomicU64::new(0),
            failure_threshold: AtomicU32::new(0),
            flags: AtomicU32::new(0),
            slow_threshold: AtomicU64::new(0),
            probe_deadline: AtomicU64::new(NO_DEADLINE),
            count_interval: AtomicU64::new(0),
            last_failure: AtomicU64::new(NO_FAILURE),
            resolution: clock.resolution(),
            clock,
            window_clean: AtomicBool::new(false),
            name,
        };
        hot.load_config(&config);
        let core = Core {
            config,
            records: window.map(|window| {
                Box::new(Records {
                    window: Some(window),
                    ..Records::default()
                })
            }),
        };
        let events = EventHub::default();
        for l in listeners {
            events.subscribe(l);
        }
        Self {
            shared: Arc::new(Shared {
                hot,
                events,
                counters: Counters::new(Mutex::new(core)),
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

    /// Runs `fut` if the breaker admits it and records its outcome: `Ok` is a
    /// success, `Err` a failure. A rejected call never polls `fut`.
    ///
    /// Admission happens at the first poll, as with an `async fn`: a call
    /// future that is built and dropped unpolled takes no permit. The future
    /// is flat and polled in place: on 64-bit targets its size is `fut`'s
    /// (after `IntoFuture`) plus 48 bytes, rounded up to a multiple of 8
    /// (or of `fut`'s alignment, if larger): 64 bytes for a 16-byte `async`
    /// block. Spawning or awaiting it moves little. Dropped before `fut` finishes, it records
    /// `cancelled`; if polling `fut` panics, `panicked` (R5, R6).
    ///
    /// ```
    /// # use cb_core::CircuitBreaker;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let breaker = CircuitBreaker::builder("search").build().unwrap();
    /// let hits = breaker.call(async { Ok::<_, std::io::Error>(3) }).await.unwrap();
    /// assert_eq!(hits, 3);
    /// # }
    /// ```
    #[inline]
    pub fn call<F, T, E>(&self, fut: F) -> impl Future<Output = Result<T, Error<E>>>
    where
        F: IntoFuture<Output = Result<T, E>>,
    {
        self.call_with(fut, &DefaultClassifier)
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
    #[inline]
    pub fn call_with<'a, F, T, E, C>(
        &'a self,
        fut: F,
        classifier: &'a C,
    ) -> impl Future<Output = Result<T, Error<E>>> + use<'a, F, T, E, C>
    where
        F: IntoFuture<Output = Result<T, E>>,
        C: Classifier<T, E> + ?Sized,
    {
        // Converted now, not at the first poll: the future is moved into
        // the call future once, and never again.
        permit::Call::new(self, fut.into_future(), classifier)
    }

    /// Runs a synchronous call if admitted; `Ok` is a success, `Err` a failure.
    /// A panic in `f` is recorded as `panicked` and then propagates (R6).
    #[inline]
    pub fn call_sync<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, Error<E>> {
        self.call_sync_with(f, &DefaultClassifier)
    }

    /// Like [`call_sync`](Self::call_sync), with a classifier.
    #[inline]
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
        permit.record(self.shared.classify(&result, classifier));
        result.map_err(Error::Inner)
    }

    /// The breaker's configuration.
    pub fn config(&self) -> BreakerConfig {
        self.shared.lock().config.clone()
    }

    /// Registers a listener for this breaker's events.
    pub fn subscribe(&self, listener: impl Listener) {
        self.shared.events.subscribe(Arc::new(listener));
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
    if !config.classify.is_empty() {
        f |= F_BY_NAME;
    }
    f
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Core> {
        // The core holds plain numbers: a panic elsewhere cannot leave it
        // half-updated in a way that matters more than stopping would.
        self.counters.cold.lock_unpoisoned()
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
}
