//! Helpers for testing code that uses breakers: a manual clock, a scripted
//! fake downstream, and a recorder of a breaker's state timeline.
//!
//! ```
//! use cb_core::testing::{Phase, Script, Timeline};
//! use cb_core::{CircuitBreaker, State};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! // "fail 40% for 30 s, then respond in 8 s for a minute, then recover", seeded.
//! let downstream = Script::new(7)
//!     .then(Phase::healthy().failure_ratio(0.4), Duration::from_secs(30))
//!     .then(Phase::healthy().latency(Duration::from_secs(8)), Duration::from_secs(60))
//!     .finally(Phase::healthy())
//!     .start(cb_core::clock::TokioClock::new());
//!
//! let breaker = CircuitBreaker::builder("fake").failure_threshold(2).build().unwrap();
//! let timeline = Timeline::attach(&breaker);
//! for _ in 0..20 {
//!     let _ = breaker.call(downstream.call()).await;
//! }
//! assert_eq!(timeline.states().first(), Some(&State::Closed));
//! # }
//! ```

use crate::sync::MutexExt;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::clock::ManualClock;
use crate::clock::{Clock, ClockHandle};
use crate::{CircuitBreaker, Event, EventKind, State, TransitionReason};

/// How the fake downstream behaves during one phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phase {
    failure_ratio: f64,
    latency: Duration,
}

impl Phase {
    /// Always succeeds, instantly.
    pub fn healthy() -> Self {
        Self {
            failure_ratio: 0.0,
            latency: Duration::ZERO,
        }
    }
    /// Always fails, instantly.
    pub fn down() -> Self {
        Self::healthy().failure_ratio(1.0)
    }
    /// Fails this fraction of calls (clamped to `[0, 1]`; NaN counts as 0),
    /// drawn from the script's seeded generator.
    pub fn failure_ratio(mut self, ratio: f64) -> Self {
        self.failure_ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        self
    }
    /// Every call takes this long.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
}

/// A sequence of phases, each lasting a given time, then a final phase.
#[derive(Debug, Clone)]
pub struct Script {
    seed: u64,
    phases: Vec<(Phase, Duration)>,
    last: Phase,
}

impl Script {
    /// An empty script (healthy forever) whose random draws come from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            phases: Vec::new(),
            last: Phase::healthy(),
        }
    }
    /// Adds a phase lasting `duration`.
    pub fn then(mut self, phase: Phase, duration: Duration) -> Self {
        self.phases.push((phase, duration));
        self
    }
    /// The phase after all the timed ones, lasting forever.
    pub fn finally(mut self, phase: Phase) -> Self {
        self.last = phase;
        self
    }
    /// Starts the script now on `clock`.
    pub fn start(self, clock: impl Clock) -> FakeDownstream {
        let clock = ClockHandle::from_clock(clock);
        let origin = clock.now();
        FakeDownstream {
            inner: Arc::new(Inner {
                script: self.clone(),
                clock,
                origin,
                rng: AtomicU64::new(self.seed),
                calls: AtomicU64::new(0),
                failures: AtomicU64::new(0),
            }),
        }
    }
}

/// The error a [`FakeDownstream`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeError {
    /// Which phase (0-based; the final phase is `phases.len()`) produced it.
    pub phase: usize,
}

impl fmt::Display for FakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scripted failure in phase {}", self.phase)
    }
}

impl std::error::Error for FakeError {}

/// What the downstream does for a call made now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Which phase answers.
    pub phase: usize,
    /// How long the call takes.
    pub latency: Duration,
    /// Its result.
    pub result: Result<(), FakeError>,
}

/// A scripted stand-in for a real dependency. Clones share the script, the
/// random sequence and the counters.
#[derive(Debug, Clone)]
pub struct FakeDownstream {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    script: Script,
    clock: ClockHandle,
    origin: u64,
    rng: AtomicU64,
    calls: AtomicU64,
    failures: AtomicU64,
}

/// splitmix64: a tiny, good-enough, seedable generator.
fn splitmix(state: &AtomicU64) -> u64 {
    let mut z = state
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl FakeDownstream {
    /// The phase active now.
    pub fn phase(&self) -> usize {
        self.phase_at(self.elapsed()).0
    }

    fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.inner.clock.now().saturating_sub(self.inner.origin))
    }

    fn phase_at(&self, elapsed: Duration) -> (usize, Phase) {
        let mut end = Duration::ZERO;
        for (i, (phase, d)) in self.inner.script.phases.iter().enumerate() {
            end = end.saturating_add(*d);
            if elapsed < end {
                return (i, *phase);
            }
        }
        (self.inner.script.phases.len(), self.inner.script.last)
    }

    /// Decides the response to a call made now, without waiting. Use it with
    /// a [`ManualClock`] and advance the clock by `latency` yourself.
    pub fn respond(&self) -> Response {
        let (index, phase) = self.phase_at(self.elapsed());
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        // 53 random bits give a uniform f64 in [0, 1).
        let draw = (splitmix(&self.inner.rng) >> 11) as f64 / (1u64 << 53) as f64;
        let result = if draw < phase.failure_ratio {
            self.inner.failures.fetch_add(1, Ordering::Relaxed);
            Err(FakeError { phase: index })
        } else {
            Ok(())
        };
        Response {
            phase: index,
            latency: phase.latency,
            result,
        }
    }

    /// Makes a call: waits the phase's latency with `tokio::time::sleep` (so
    /// paused time applies), then succeeds or fails as scripted.
    pub async fn call(&self) -> Result<(), FakeError> {
        let response = self.respond();
        if !response.latency.is_zero() {
            tokio::time::sleep(response.latency).await;
        }
        response.result
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// Calls that failed so far.
    pub fn failures(&self) -> u64 {
        self.inner.failures.load(Ordering::Relaxed)
    }
}

/// One transition in a [`Timeline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineEntry {
    /// When, on the breaker's clock.
    pub at: Duration,
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
    /// Why.
    pub reason: TransitionReason,
}

/// Records a breaker's transitions, to assert on or print.
///
/// ```
/// use cb_core::testing::{ManualClock, Timeline};
/// use cb_core::{CircuitBreaker, State};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let breaker = CircuitBreaker::builder("t").failure_threshold(1).success_threshold(1)
///     .open_duration(Duration::from_secs(10)).clock(clock.clone()).build().unwrap();
/// let timeline = Timeline::attach(&breaker);
/// let _ = breaker.call_sync(|| Err::<(), _>("boom"));
/// clock.advance(Duration::from_secs(10));
/// let _ = breaker.call_sync(|| Ok::<_, &str>(()));
/// assert_eq!(timeline.states(), [State::Closed, State::Open, State::HalfOpen, State::Closed]);
/// assert_eq!(timeline.entries()[1].at, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone)]
pub struct Timeline {
    initial: State,
    entries: Arc<Mutex<Vec<TimelineEntry>>>,
}

impl Timeline {
    /// Starts recording `breaker`'s transitions from now on.
    pub fn attach(breaker: &CircuitBreaker) -> Self {
        let entries = Arc::new(Mutex::new(Vec::new()));
        let sink = entries.clone();
        let initial = breaker.state();
        breaker.subscribe(move |e: &Event| {
            if let EventKind::Transition { from, to, reason } = e.kind {
                sink.lock_unpoisoned().push(TimelineEntry {
                    at: e.at,
                    from,
                    to,
                    reason,
                });
            }
        });
        Self { initial, entries }
    }

    /// Every transition so far.
    pub fn entries(&self) -> Vec<TimelineEntry> {
        self.entries.lock_unpoisoned().clone()
    }

    /// The state when recording started, then the state after each transition.
    pub fn states(&self) -> Vec<State> {
        std::iter::once(self.initial)
            .chain(self.entries().into_iter().map(|e| e.to))
            .collect()
    }

    /// How many transitions went from `from` to `to`.
    pub fn count(&self, from: State, to: State) -> usize {
        self.entries()
            .iter()
            .filter(|e| e.from == from && e.to == to)
            .count()
    }
}

impl fmt::Display for Timeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "start: {}", self.initial)?;
        for e in self.entries() {
            writeln!(
                f,
                "t={:>9.3}s  {} -> {} ({})",
                e.at.as_secs_f64(),
                e.from,
                e.to,
                e.reason
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_follows_its_phases_and_is_reproducible() {
        let clock = ManualClock::new();
        let run = |seed| {
            let d = Script::new(seed)
                .then(Phase::healthy().failure_ratio(0.4), Duration::from_secs(30))
                .then(
                    Phase::healthy().latency(Duration::from_secs(8)),
                    Duration::from_secs(60),
                )
                .finally(Phase::healthy())
                .start(clock.clone());
            (0..1000).map(|_| d.respond().result.is_err()).collect::<Vec<_>>()
        };
        let a = run(42);
        assert_eq!(a, run(42), "same seed, same draws");
        let failures = a.iter().filter(|f| **f).count();
        assert!((340..=460).contains(&failures), "about 40% fail: {failures}");

        let d = Script::new(1)
            .then(Phase::down(), Duration::from_secs(30))
            .then(
                Phase::healthy().latency(Duration::from_secs(8)),
                Duration::from_secs(60),
            )
            .finally(Phase::healthy())
            .start(clock.clone());
        assert_eq!(d.respond().phase, 0);
        clock.advance(Duration::from_secs(30));
        let r = d.respond();
        assert_eq!(
            (r.phase, r.latency, r.result),
            (1, Duration::from_secs(8), Ok(()))
        );
        clock.advance(Duration::from_secs(60));
        assert_eq!(d.phase(), 2);
        assert_eq!(d.calls(), 2);
    }

    #[test]
    fn failure_ratio_is_clamped() {
        assert_eq!(Phase::healthy().failure_ratio(7.0), Phase::down());
        assert_eq!(Phase::healthy().failure_ratio(f64::NAN), Phase::healthy());
    }
}
