//! The rejection cache: the coarse OS time, kept by a thread that runs only
//! while open circuits reject at a high rate.
//!
//! An open circuit's rejection is a state load and a compare with the time.
//! With the default [`SystemClock`](super::SystemClock) the time is one
//! `clock_gettime(CLOCK_MONOTONIC_COARSE)`, which costs more than the rest of
//! the rejection. Under a rejection storm (the moment fail-fast exists for)
//! that read is worth caching; the rest of the time it is not, because a
//! thread that wakes every few milliseconds costs about a microsecond of CPU
//! per wake-up. So:
//!
//! - nothing runs until one thread sees [`PRESSURE_CALLS`] rejections decided
//!   on the OS clock within [`PRESSURE_WINDOW`] (≈100 000 rejections/s,
//!   about where the saved reads outweigh the ticker's wake-ups);
//! - then one process-wide thread, `cb-clock`, stores the coarse time every
//!   tick (the OS clock's own resolution, 1–5 ms);
//! - a rejection uses the stored time only when the open period ends more than
//!   [`MARGIN`] after it; near the end, and for everything else (`state()`,
//!   admissions, windows, timing), breakers read the OS clock. The stored time
//!   is a past reading, so it can only make a circuit look open *longer*: a
//!   call is never admitted early, and the `retry_after` it reports is never
//!   short (R16, R17);
//! - rejections that use the stored time write nothing shared; every
//!   [`IDLE_STOP`] the thread withdraws the time for one tick and stops if no
//!   rejection came in that tick. In a forked child (which does not inherit
//!   the thread) the cache reads as off;
//! - [`set_rejection_cache`] turns it off for the whole process. Breakers on
//!   any clock other than `SystemClock` never use it.
//!
//! The one way it can be wrong: if the `cb-clock` thread is starved of CPU for
//! longer than [`MARGIN`], a circuit may stay open by up to that excess after
//! its open period; `state()` still reports the exact state.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::Nanos;

/// How far before the end of the open period the cached time stops deciding.
pub(crate) const MARGIN: Nanos = 20_000_000;
/// Rejections on one thread, within [`PRESSURE_WINDOW`], that start the ticker.
pub(crate) const PRESSURE_CALLS: u32 = 1_000;
/// See [`PRESSURE_CALLS`].
pub(crate) const PRESSURE_WINDOW: Nanos = 10_000_000;
/// How long the ticker runs before it checks, by a one-tick probe, that
/// rejections still come; it stops when none came.
pub(crate) const IDLE_STOP: Duration = Duration::from_secs(1);

// Phases, in the low byte of the state word; the rest counts starts, so a
// ticker that was replaced (disabled, re-enabled, restarted) knows it.
const OFF: u64 = 0;
const RUNNING: u64 = 1;
const DISABLED: u64 = 2;
const FAILED: u64 = 3;
const PHASE: u64 = 0xFF;

/// The shared cache. One per process ([`GLOBAL`]); tests build their own.
#[repr(align(128))]
pub(crate) struct RecentTime {
    /// The coarse OS time at the ticker's last tick; 0 while none runs.
    recent: AtomicU64,
    /// Set by a rejection decided on the OS clock while a ticker runs (its
    /// probe tick); cleared by the ticker. Rejections that use `recent` write nothing.
    used: AtomicBool,
    /// `starts << 8 | phase`.
    state: AtomicU64,
}

/// The process's cache, read by every breaker on the default clock.
pub(crate) static GLOBAL: RecentTime = RecentTime::new();

/// Turns the process-wide rejection cache on or off (on by default).
///
/// An open circuit on the default [`SystemClock`](crate::clock::SystemClock)
/// rejects with a state load and a compare with the time. Under a rejection
/// storm (about 100 000 rejections a second on one thread) cb-core starts one
/// thread, `cb-clock`, that stores the coarse OS time every 1–5 ms, so that a
/// rejection reads that instead of the OS clock; it stops after a second
/// without such rejections. The cached
/// time only decides rejections more than 20 ms before the open period ends,
/// so no call is admitted early and no `retry_after` is short; `state()` and
/// everything else read the OS clock. Breakers on other clocks never use it.
///
/// Starting the thread (once per storm) is the only allocation involved; the
/// rejections themselves neither allocate nor lock. If the thread cannot be
/// spawned, a warning is logged and rejections keep reading the OS clock.
///
/// Turning it off stops a running `cb-clock` thread within one tick; turning it
/// on again lets rejection storms start it. A forked child starts with it off
/// until a storm in the child starts its own thread.
///
/// ```
/// cb_core::clock::set_rejection_cache(false);
/// assert!(!cb_core::clock::rejection_cache_running());
/// cb_core::clock::set_rejection_cache(true);
/// ```
pub fn set_rejection_cache(enabled: bool) {
    GLOBAL.set_enabled(enabled);
}

/// Whether the rejection cache's `cb-clock` thread runs (see [`set_rejection_cache`]).
pub fn rejection_cache_running() -> bool {
    GLOBAL.running()
}

thread_local! {
    /// `(start of the current pressure window, rejections in it)`.
    static PRESSURE: Cell<(Nanos, u32)> = const { Cell::new((0, 0)) };
}

/// Counts one OS-clock rejection at `now` into `window`; true when it makes
/// [`PRESSURE_CALLS`] within [`PRESSURE_WINDOW`].
pub(crate) fn note_pressure(window: &Cell<(Nanos, u32)>, now: Nanos) -> bool {
    let (since, n) = window.get();
    if n == 0 || now.saturating_sub(since) > PRESSURE_WINDOW {
        window.set((now, 1));
        return PRESSURE_CALLS <= 1;
    }
    if n + 1 >= PRESSURE_CALLS {
        window.set((now, 0));
        return true;
    }
    window.set((since, n + 1));
    false
}

impl RecentTime {
    pub(crate) const fn new() -> Self {
        Self {
            recent: AtomicU64::new(0),
            used: AtomicBool::new(false),
            state: AtomicU64::new(OFF),
        }
    }

    /// The open time left before `until`, by the cached time, when that alone
    /// may decide a rejection: a ticker runs and `until` is more than
    /// [`MARGIN`] ahead of its last tick. `None`: read the OS clock.
    #[inline]
    pub(crate) fn remaining(&self, until: Nanos) -> Option<Nanos> {
        let recent = self.recent.load(Ordering::Relaxed);
        if recent == 0 {
            return None;
        }
        let left = until.checked_sub(recent)?;
        (left > MARGIN).then_some(left)
    }

    /// A rejection decided on the OS clock at `now`: under pressure, start
    /// the ticker; while one runs (in its probe tick, say), tell it that
    /// rejections keep coming.
    #[inline]
    pub(crate) fn note_rejection(&'static self, now: Nanos) {
        match self.state.load(Ordering::Relaxed) & PHASE {
            OFF => {}
            RUNNING => {
                if !self.used.load(Ordering::Relaxed) {
                    self.used.store(true, Ordering::Relaxed);
                }
                return;
            }
            _ => return, // disabled, or the thread could not be spawned
        }
        if PRESSURE.try_with(|p| note_pressure(p, now)).unwrap_or(false) {
            self.start();
        }
    }

    /// Whether a ticker runs.
    pub(crate) fn running(&self) -> bool {
        self.state.load(Ordering::Acquire) & PHASE == RUNNING
    }

    /// Claims the right to run a ticker: `Some(token)` when the phase was off.
    pub(crate) fn claim(&self) -> Option<u64> {
        let w = self.state.load(Ordering::Acquire);
        if w & PHASE != OFF {
            return None;
        }
        let token = ((w >> 8) + 1) << 8 | RUNNING;
        self.state
            .compare_exchange(w, token, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| token)
    }

    #[cold]
    fn start(&'static self) {
        #[cfg(target_os = "linux")]
        {
            let Some(token) = self.claim() else { return };
            turn_off_in_forked_children();
            let tick = tick_period();
            let spawned = std::thread::Builder::new()
                .name("cb-clock".into())
                .spawn(move || self.run(token, tick, super::sys::coarse_now));
            if let Err(e) = spawned {
                // Rejections keep reading the OS clock; do not try again.
                let _ = self.state.compare_exchange(
                    token,
                    (token & !PHASE) | FAILED,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                );
                tracing::warn!(error = %e, "cb-core: could not start the cb-clock thread; open circuits read the OS clock");
            }
        }
    }

    /// The ticker thread: stores `now()` every `tick` while it holds `token`
    /// and rejections keep coming. Each step is [`tick`](Self::tick), which
    /// tests drive by hand on injected time.
    fn run(&self, token: u64, tick: Duration, now: fn() -> Nanos) {
        let lease = lease_ticks(tick);
        let mut ticks = 0;
        while self.tick(token, now(), &mut ticks, lease) {
            std::thread::sleep(tick);
        }
    }

    /// One tick of the ticker holding `token`, at time `now`; `ticks` counts
    /// the ticks of the current lease. False when it must stop (replaced,
    /// disabled, forked away, or no rejection came during its probe).
    ///
    /// Rejections that use the cached time write nothing, so the ticker learns
    /// whether the storm goes on by a probe: after `lease` ticks it withdraws
    /// the time for one tick; rejections in that tick read the OS clock and
    /// say so ([`note_rejection`](Self::note_rejection)). If one did, a new
    /// lease starts; if none did, the ticker stops.
    pub(crate) fn tick(&self, token: u64, now: Nanos, ticks: &mut u32, lease: u32) -> bool {
        if self.state.load(Ordering::Acquire) != token {
            // Disabled, or reset in a forked child: clear the time unless a
            // newer ticker already owns it.
            if self.state.load(Ordering::Acquire) & PHASE != RUNNING {
                self.recent.store(0, Ordering::Relaxed);
            }
            return false;
        }
        *ticks += 1;
        if *ticks == lease {
            // The probe: one tick on the OS clock.
            self.used.store(false, Ordering::Relaxed);
            self.recent.store(0, Ordering::Relaxed);
            return true;
        }
        if *ticks > lease {
            if !self.used.swap(false, Ordering::Relaxed) {
                // No rejection during the probe. The time is already
                // cleared, so no stale time outlives its ticker.
                let _ =
                    self.state
                        .compare_exchange(token, token & !PHASE, Ordering::AcqRel, Ordering::Relaxed);
                return false;
            }
            *ticks = 0;
        }
        // Never 0, which reads as "no ticker".
        self.recent.store(now.max(1), Ordering::Relaxed);
        true
    }

    /// Turns the cache on (it starts again under pressure) or off (a running
    /// ticker stops within one tick; rejections read the OS clock).
    pub(crate) fn set_enabled(&self, enabled: bool) {
        let _ = self.state.fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
            let starts = w & !PHASE;
            match (enabled, w & PHASE) {
                (true, DISABLED) => Some(starts | OFF),
                (false, DISABLED) => None,
                (false, _) => Some(starts | DISABLED),
                (true, _) => None,
            }
        });
        if !enabled {
            self.recent.store(0, Ordering::Relaxed);
        }
    }

    /// In a forked child: the ticker thread was not copied, so the cache is off
    /// until pressure starts a new one. Only atomic stores: safe after `fork`.
    pub(crate) fn reset_after_fork(&self) {
        let w = self.state.load(Ordering::Relaxed);
        if w & PHASE == RUNNING {
            self.state
                .store(((w & !PHASE) + (1 << 8)) | OFF, Ordering::Relaxed);
        }
        self.recent.store(0, Ordering::Relaxed);
        self.used.store(false, Ordering::Relaxed);
    }
}

/// Registers, once, the `fork` handler that turns the rejection cache off
/// in a child process (which does not inherit the ticker thread).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // `pthread_atfork`: std has no hook for a forked child
fn turn_off_in_forked_children() {
    extern "C" fn after_fork_in_child() {
        GLOBAL.reset_after_fork();
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a plain `extern "C"` function that only does
        // atomic stores, which is what may run in a child after `fork`.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
        if rc != 0 {
            tracing::warn!(
                rc,
                "cb-core: pthread_atfork failed; do not fork while open circuits reject"
            );
        }
    });
}

/// The ticker's period: the OS coarse clock's resolution, within 1–5 ms.
fn tick_period() -> Duration {
    Duration::from_nanos(super::sys::coarse_resolution())
        .clamp(Duration::from_millis(1), Duration::from_millis(5))
}

/// Ticks of a lease (see [`RecentTime::tick`]) for a ticker of period `tick`.
pub(crate) fn lease_ticks(tick: Duration) -> u32 {
    let n = IDLE_STOP.as_nanos() / tick.as_nanos().max(1);
    u32::try_from(n).unwrap_or(u32::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Nanos = 1_000_000_000;

    #[test]
    fn off_until_a_ticker_stores_the_time() {
        let cache = RecentTime::new();
        assert_eq!(cache.remaining(100 * SEC), None);
        assert!(!cache.running());
    }

    #[test]
    fn r17_the_cached_time_decides_only_far_from_the_end_of_the_open_period() {
        let cache = RecentTime::new();
        let token = cache.claim().expect("off, so claimable");
        let mut idle = 0;
        assert!(cache.tick(token, 10 * SEC, &mut idle, 100));
        // Far from the end: decided on the cache, the whole remaining time.
        assert_eq!(cache.remaining(70 * SEC), Some(60 * SEC));
        // Within the margin, at the end, or past it: read the OS clock.
        assert_eq!(cache.remaining(10 * SEC + MARGIN), None);
        assert_eq!(cache.remaining(10 * SEC + MARGIN + 1), Some(MARGIN + 1));
        assert_eq!(cache.remaining(10 * SEC), None);
        assert_eq!(cache.remaining(5 * SEC), None);
    }

    /// Drives a ticker through a lease of `lease` ticks; `storm` says whether
    /// rejections come during the probe tick.
    fn lease(
        cache: &'static RecentTime,
        token: u64,
        t: &mut Nanos,
        ticks: &mut u32,
        lease: u32,
        storm: bool,
    ) -> bool {
        for _ in 1..lease {
            *t += SEC;
            assert!(cache.tick(token, *t, ticks, lease));
            assert!(cache.remaining(*t + 100 * SEC).is_some(), "the time is cached");
        }
        *t += SEC;
        assert!(cache.tick(token, *t, ticks, lease), "the probe tick");
        assert_eq!(
            cache.remaining(*t + 100 * SEC),
            None,
            "withdrawn during the probe"
        );
        if storm {
            cache.note_rejection(*t);
        }
        *t += SEC;
        cache.tick(token, *t, ticks, lease)
    }

    #[test]
    fn a_ticker_probes_after_each_lease_and_stops_when_rejections_stopped() {
        static CACHE: RecentTime = RecentTime::new();
        let token = CACHE.claim().unwrap();
        assert!(CACHE.running());
        assert_eq!(CACHE.claim(), None, "one ticker at a time");
        let (mut t, mut ticks) = (SEC, 0);
        // Rejections during the probe: a new lease.
        assert!(lease(&CACHE, token, &mut t, &mut ticks, 3, true));
        assert_eq!(CACHE.remaining(t + 100 * SEC), Some(100 * SEC), "cached again");
        // None during the next probe: it stops, with no stale time left.
        ticks = 0;
        assert!(!lease(&CACHE, token, &mut t, &mut ticks, 3, false));
        assert!(!CACHE.running());
        assert_eq!(CACHE.remaining(t + 100 * SEC), None);
        // Pressure may start a new one, with a new token.
        let again = CACHE.claim().unwrap();
        assert_ne!(again, token);
    }

    #[test]
    fn disabling_stops_the_ticker_and_blocks_restarts_until_enabled() {
        let cache = RecentTime::new();
        let token = cache.claim().unwrap();
        let mut idle = 0;
        assert!(cache.tick(token, SEC, &mut idle, 100));
        cache.set_enabled(false);
        assert_eq!(cache.remaining(100 * SEC), None);
        assert!(!cache.tick(token, 2 * SEC, &mut idle, 100));
        assert_eq!(cache.remaining(100 * SEC), None);
        assert_eq!(cache.claim(), None, "disabled");
        cache.set_enabled(true);
        assert!(cache.claim().is_some());
    }

    #[test]
    fn a_replaced_ticker_does_not_clear_its_successors_time() {
        let cache = RecentTime::new();
        let old = cache.claim().unwrap();
        cache.set_enabled(false);
        cache.set_enabled(true);
        let new = cache.claim().unwrap();
        let (mut a, mut b) = (0, 0);
        assert!(cache.tick(new, 7 * SEC, &mut b, 100));
        assert!(!cache.tick(old, 8 * SEC, &mut a, 100), "the old ticker ends");
        assert_eq!(cache.remaining(100 * SEC), Some(93 * SEC));
    }

    #[test]
    fn a_forked_child_reads_the_cache_as_off() {
        let cache = RecentTime::new();
        let token = cache.claim().unwrap();
        let mut idle = 0;
        assert!(cache.tick(token, SEC, &mut idle, 100));
        cache.reset_after_fork();
        assert!(!cache.running());
        assert_eq!(cache.remaining(100 * SEC), None);
        assert!(
            cache.claim().is_some(),
            "pressure in the child starts its own ticker"
        );
    }

    #[test]
    fn pressure_is_many_rejections_in_a_short_window_on_one_thread() {
        let window = Cell::new((0, 0));
        let mut t = SEC;
        // Sparse rejections never start it.
        for _ in 0..(3 * PRESSURE_CALLS) {
            assert!(!note_pressure(&window, t));
            t += PRESSURE_WINDOW + 1;
        }
        // A burst does, on its PRESSURE_CALLS-th rejection.
        let fired: Vec<u32> = (1..=PRESSURE_CALLS)
            .filter(|_| note_pressure(&window, t))
            .collect();
        assert_eq!(fired.len(), 1);
    }

    /// The wiring, not only the rule: a breaker on the default clock asks
    /// the process's cache first. With a cached time of 1 ns (far in the
    /// past) the rejection reports nearly the whole of `open_until` as
    /// `retry_after`; with the cache off, the open time left.
    #[test]
    fn an_open_breaker_on_the_system_clock_rejects_on_the_cached_time() {
        use crate::clock::{Clock, SystemClock};
        let open = Duration::from_secs(3600);
        let opened_at = SystemClock.now();
        let breaker = crate::CircuitBreaker::builder("cached")
            .clock(SystemClock)
            .build()
            .unwrap();
        breaker.open_for(Some(open));
        let retry_after = || breaker.try_acquire().unwrap_err().retry_after().unwrap();

        let token = GLOBAL.claim().expect("no ticker runs in this test binary");
        assert!(GLOBAL.tick(token, 1, &mut 0, u32::MAX));
        let cached = retry_after();
        GLOBAL.set_enabled(false);
        GLOBAL.set_enabled(true);
        let fresh = retry_after();

        assert!(fresh <= open + SystemClock.resolution(), "{fresh:?}");
        assert!(cached >= opened_at + open - Duration::from_nanos(1), "{cached:?}");
        assert!(cached > fresh, "the cached time decided: {cached:?} vs {fresh:?}");
    }

    #[test]
    fn a_one_second_lease_in_ticks() {
        assert_eq!(lease_ticks(Duration::from_millis(4)), 250);
        assert_eq!(lease_ticks(Duration::from_secs(5)), 1);
    }
}
