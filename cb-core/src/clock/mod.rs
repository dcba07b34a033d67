//! Injectable monotonic time.
//!
//! Nothing in `cb-core` reads the time directly: every breaker owns a clock,
//! chosen with [`CircuitBreakerBuilder::clock`](crate::CircuitBreakerBuilder::clock). Time is
//! a [`Duration`] since an origin fixed for the clock's life, so it never goes
//! backwards and a wall-clock step cannot shorten or extend an open circuit (R20).
//!
//! | clock | reads | use |
//! |---|---|---|
//! | [`SystemClock`] | the OS monotonic clock, coarse (≈1–4 ms resolution, a few ns per read) | production default |
//! | [`TokioClock`] | `tokio::time::Instant::now()`, so paused/advanced tokio time applies | default with the `test-util` feature |
//! | [`ManualClock`] | a shared counter you move with [`ManualClock::advance`] | deterministic unit tests |
//! | [`CachedClock`] | one atomic load; a background thread you start stores the time every tick | every read cheap (slow-call timing, time windows), for a thread that lives as long as the clock |
//!
//! The default clock is [`SystemClock`], or [`TokioClock`] when the crate's
//! `test-util` feature is on.
//!
//! An open circuit on the default `SystemClock` rejects on a state load and a
//! compare with the time. During a rejection storm cb-core caches that time
//! for the whole process (one `cb-clock` thread, running only while storms
//! last), so a rejection costs no more than a closed circuit's success; see
//! [`set_rejection_cache`] for what it does, when it runs and how to turn it off. Enable that feature in your `[dev-dependencies]`
//! for tests that use `#[tokio::test(start_paused = true)]`; it also enables
//! `tokio/test-util`, which is what makes paused time exist at all.

mod rejection_cache;

pub use rejection_cache::{rejection_cache_running, set_rejection_cache};

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A source of monotonic time.
///
/// Implement it to drive breakers from your own time source. `now` must never
/// decrease.
///
/// ```
/// use cb_core::clock::Clock;
/// use std::time::Duration;
///
/// #[derive(Debug)]
/// struct Frozen;
/// impl Clock for Frozen {
///     fn now(&self) -> Duration { Duration::from_secs(42) }
/// }
/// let breaker = cb_core::CircuitBreaker::builder("frozen").clock(Frozen).build().unwrap();
/// assert_eq!(breaker.name(), "frozen");
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The time elapsed since this clock's origin.
    fn now(&self) -> Duration;

    /// How far `now` may lag behind real time. A breaker adds it to the
    /// `retry_after` it reports, so that a caller who waits exactly that long
    /// is admitted (R16, R17).
    fn resolution(&self) -> Duration {
        Duration::ZERO
    }
}

/// Nanoseconds on a breaker's clock: the internal time unit.
pub(crate) type Nanos = u64;

#[inline]
pub(crate) fn to_nanos(d: Duration) -> Nanos {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The OS monotonic clock, read coarsely.
///
/// On Linux it reads `CLOCK_MONOTONIC_COARSE`, which costs a few nanoseconds
/// (against ≈25–30 ns for a precise read) and is as fine as a kernel tick
/// (1–4 ms). That is ample for open durations, window buckets and slow-call
/// thresholds, which are milliseconds to minutes. Elsewhere it reads
/// [`std::time::Instant`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Duration {
        Duration::from_nanos(sys::coarse_now())
    }
    fn resolution(&self) -> Duration {
        Duration::from_nanos(sys::coarse_resolution())
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys {
    //! The coarse OS clock's `unsafe`: `clock_gettime`/`clock_getres` calls
    //! into libc, each with a valid pointer to a local `timespec`.
    use std::sync::OnceLock;

    // Inlined: an open circuit's rejection reads the time this way, and the
    // call would cost a third of the read.
    #[inline(always)]
    fn read(clock: libc::clockid_t, getres: bool) -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
        let rc = unsafe {
            if getres {
                libc::clock_getres(clock, &mut ts)
            } else {
                libc::clock_gettime(clock, &mut ts)
            }
        };
        if rc != 0 {
            return 0;
        }
        (ts.tv_sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(ts.tv_nsec as u64)
    }

    #[inline]
    pub(super) fn coarse_now() -> u64 {
        read(libc::CLOCK_MONOTONIC_COARSE, false)
    }

    pub(super) fn coarse_resolution() -> u64 {
        static RES: OnceLock<u64> = OnceLock::new();
        *RES.get_or_init(|| read(libc::CLOCK_MONOTONIC_COARSE, true))
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::sync::OnceLock;
    use std::time::Instant;

    fn origin() -> Instant {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        *ORIGIN.get_or_init(Instant::now)
    }
    pub(super) fn coarse_now() -> u64 {
        super::to_nanos(origin().elapsed())
    }
    pub(super) fn coarse_resolution() -> u64 {
        0
    }
}

/// Time from `tokio::time::Instant::now()`: follows paused and advanced tokio
/// time (with tokio's `test-util` feature), so `tokio::time::sleep` in a
/// `start_paused` test moves the breaker's clock too.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock whose origin is the current tokio instant.
    pub fn new() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    #[inline]
    fn now(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(self.origin)
    }
}

/// A clock that moves only when told to. Clones share the same time.
///
/// ```
/// use cb_core::clock::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let view = clock.clone();
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(view.now(), Duration::from_millis(1500));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by` (saturating at the maximum time).
    pub fn advance(&self, by: Duration) {
        let by = to_nanos(by);
        let _ = self.nanos.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            Some(n.saturating_add(by))
        });
    }

    /// Moves the clock to `to`; a time earlier than now is ignored, because a
    /// monotonic clock never goes back.
    pub fn set(&self, to: Duration) {
        self.nanos.fetch_max(to_nanos(to), Ordering::AcqRel);
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }
}

/// The OS monotonic time, cached: reading it is one atomic load, because a
/// background thread stores the coarse OS time every `tick`.
///
/// The default [`SystemClock`] costs one `clock_gettime` (a few nanoseconds)
/// per read. Open-circuit rejections get a cached time without this clock
/// (see [`set_rejection_cache`]); a `CachedClock` makes *every* read of a
/// breaker's time one atomic load, which matters for breakers that read the
/// time on every call (slow-call detection, time windows). The price is one thread that wakes every `tick` (1 ms by default) for as
/// long as any handle lives; dropping the last handle stops it. Its
/// resolution is the tick plus the OS's coarse resolution, which every
/// breaker adds to the `retry_after` it reports (R16, R17).
///
/// A process that forks keeps a copy of the clock but not its thread: start
/// the clock in the child, after the fork.
///
/// ```
/// use cb_core::clock::{CachedClock, Clock};
/// use cb_core::CircuitBreaker;
/// use std::time::Duration;
///
/// let clock = CachedClock::start(Duration::from_millis(1))?;
/// let breaker = CircuitBreaker::builder("fast-reject").clock(clock).build()?;
/// breaker.force_open();
/// assert!(breaker.try_acquire().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CachedClock {
    inner: Arc<CachedInner>,
}

#[derive(Debug)]
struct CachedInner {
    now: AtomicU64,
    resolution: Nanos,
}

impl CachedClock {
    /// Starts the updating thread (named `cb-clock`), storing the time every
    /// `tick`. A zero tick is a configuration error; a thread that cannot be
    /// spawned is an I/O error.
    pub fn start(tick: Duration) -> Result<CachedClock, CachedClockError> {
        if tick.is_zero() {
            return Err(CachedClockError::Config(crate::error::ConfigError::new(vec![
                crate::error::Violation {
                    field: "tick".into(),
                    value: format!("{tick:?}"),
                    allowed: "must be > 0".into(),
                },
            ])));
        }
        let inner = Arc::new(CachedInner {
            now: AtomicU64::new(sys::coarse_now()),
            resolution: to_nanos(tick).saturating_add(sys::coarse_resolution()),
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("cb-clock".into())
            .spawn(move || {
                // Ends once every handle is gone.
                while let Some(inner) = weak.upgrade() {
                    inner.now.store(sys::coarse_now(), Ordering::Release);
                    drop(inner);
                    std::thread::sleep(tick);
                }
            })
            .map_err(CachedClockError::Spawn)?;
        Ok(CachedClock { inner })
    }

    #[inline]
    fn read(&self) -> Nanos {
        self.inner.now.load(Ordering::Acquire)
    }
}

impl Clock for CachedClock {
    #[inline]
    fn now(&self) -> Duration {
        Duration::from_nanos(self.read())
    }
    fn resolution(&self) -> Duration {
        Duration::from_nanos(self.inner.resolution)
    }
}

/// Why a [`CachedClock`] could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CachedClockError {
    /// The tick is invalid.
    #[error(transparent)]
    Config(crate::error::ConfigError),
    /// The updating thread could not be spawned.
    #[error("could not spawn the cb-clock thread: {0}")]
    Spawn(#[source] std::io::Error),
}

/// The clock a breaker holds: the built-in clocks without dynamic dispatch.
#[derive(Debug, Clone)]
pub(crate) enum ClockHandle {
    System,
    Tokio(TokioClock),
    Manual(ManualClock),
    Cached(CachedClock),
    Custom(Arc<dyn Clock>),
}

impl ClockHandle {
    pub(crate) fn default_clock() -> Self {
        if cfg!(feature = "test-util") {
            ClockHandle::Tokio(TokioClock::new())
        } else {
            ClockHandle::System
        }
    }

    pub(crate) fn from_clock<C: Clock>(clock: C) -> Self {
        // Recognise the built-in clocks so they avoid a virtual call.
        let any: &dyn std::any::Any = &clock;
        if any.is::<SystemClock>() {
            ClockHandle::System
        } else if let Some(t) = any.downcast_ref::<TokioClock>() {
            ClockHandle::Tokio(*t)
        } else if let Some(m) = any.downcast_ref::<ManualClock>() {
            ClockHandle::Manual(m.clone())
        } else if let Some(c) = any.downcast_ref::<CachedClock>() {
            ClockHandle::Cached(c.clone())
        } else {
            ClockHandle::Custom(Arc::new(clock))
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> Nanos {
        match self {
            ClockHandle::System => sys::coarse_now(),
            ClockHandle::Tokio(t) => to_nanos(t.now()),
            ClockHandle::Manual(m) => m.nanos.load(Ordering::Acquire),
            ClockHandle::Cached(c) => c.read(),
            ClockHandle::Custom(c) => to_nanos(c.now()),
        }
    }

    /// The time left before `until` when the process's rejection cache alone
    /// may decide that an open circuit rejects (default clock only).
    #[inline]
    pub(crate) fn cached_remaining(&self, until: Nanos) -> Option<Nanos> {
        match self {
            ClockHandle::System => rejection_cache::GLOBAL.remaining(until),
            _ => None,
        }
    }

    /// An open circuit rejected a call on the time `now` read from this clock.
    #[inline]
    pub(crate) fn note_rejection(&self, now: Nanos) {
        if let ClockHandle::System = self {
            rejection_cache::GLOBAL.note_rejection(now);
        }
    }

    pub(crate) fn resolution(&self) -> Nanos {
        match self {
            ClockHandle::System => sys::coarse_resolution(),
            ClockHandle::Tokio(_) | ClockHandle::Manual(_) => 0,
            ClockHandle::Cached(c) => c.inner.resolution,
            ClockHandle::Custom(c) => to_nanos(c.resolution()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r20_system_clock_is_monotonic() {
        let a = SystemClock.now();
        let b = SystemClock.now();
        assert!(b >= a);
    }

    #[test]
    fn r95_manual_clock_never_goes_back() {
        let c = ManualClock::new();
        c.advance(Duration::from_secs(5));
        c.set(Duration::from_secs(1));
        assert_eq!(c.now(), Duration::from_secs(5));
        c.advance(Duration::MAX);
        assert_eq!(c.now(), Duration::from_nanos(u64::MAX));
    }

    #[test]
    fn builtin_clocks_are_recognised() {
        assert!(matches!(
            ClockHandle::from_clock(ManualClock::new()),
            ClockHandle::Manual(_)
        ));
        assert!(matches!(
            ClockHandle::from_clock(SystemClock),
            ClockHandle::System
        ));
    }

    #[test]
    fn cached_clock_follows_the_os_clock_and_its_thread_ends_with_the_last_handle() {
        assert!(CachedClock::start(Duration::ZERO).is_err());
        let clock = CachedClock::start(Duration::from_millis(1)).unwrap();
        assert!(matches!(
            ClockHandle::from_clock(clock.clone()),
            ClockHandle::Cached(_)
        ));
        // Real time is what this clock is about: wait for conditions with a
        // generous deadline rather than sleeping a fixed amount.
        let eventually = |what: &str, cond: &dyn Fn() -> bool| {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !cond() {
                assert!(std::time::Instant::now() < deadline, "timed out waiting: {what}");
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        let first = clock.now();
        eventually("the cached time advances", &|| clock.now() > first);
        // Never ahead of the OS clock it caches.
        assert!(clock.now() <= SystemClock.now());
        assert!(clock.resolution() >= Duration::from_millis(1));
        let weak = Arc::downgrade(&clock.inner);
        drop(clock);
        eventually("the thread releases the clock", &|| weak.upgrade().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn r95_tokio_clock_follows_paused_time() {
        let c = TokioClock::new();
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(c.now(), Duration::from_secs(30));
    }
}
