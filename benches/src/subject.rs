//! The subjects: one protected call of [`op`] through each breaker, or none.
//!
//! Every subject wraps the same non-inlined operation, so the differences
//! between subjects are what each breaker adds around a call. Clones of a
//! subject share one breaker (an `Arc` inside), which is how the two-thread
//! scenario puts two threads on ONE breaker.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use failsafe::CircuitBreaker as _;
use tower::Service;
use tower_resilience::circuitbreaker as trcb;

use crate::async_subject::{AsyncKind, PolledVisit, build_async};
use crate::exec::block_on;

/// The input that makes [`op`] fail: used only to trip the peers open.
pub const POISON: u64 = u64::MAX;

/// How long a tripped breaker stays open: far longer than any benchmark.
pub const OPEN_FOR: Duration = Duration::from_secs(3600);

/// The failure [`op`] reports for [`POISON`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fail;

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("poisoned input")
    }
}

impl std::error::Error for Fail {}

/// The protected operation: returns its input, or fails on [`POISON`].
///
/// Not inlined, so every subject pays the same real call and the optimiser
/// cannot fold the work away.
#[inline(never)]
pub fn op(x: u64) -> Result<u64, Fail> {
    if x == POISON { Err(Fail) } else { Ok(x) }
}

/// Something that makes protected calls. Clones share the same breaker.
pub trait Subject: Clone + Send + 'static {
    /// One call of `op(x)` through the breaker: `Some` with its value when it
    /// ran and succeeded, `None` when the breaker rejected it (or it failed).
    fn call(&mut self, x: u64) -> Option<u64>;
}

/// Which subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `op(x)` with no breaker.
    Direct,
    /// One `AtomicU64` load of a state word and one `fetch_add` on a shared
    /// counter next to it: the least a shared breaker can do.
    Floor,
    /// cb-core, consecutive-failure detector (threshold 5, the default).
    CbConsecutive,
    /// cb-core, failure rate over a count window of 100 calls (threshold 50 %,
    /// minimum 10 calls), consecutive detector off.
    CbCountWindow,
    /// cb-core, consecutive-failure detector, with a started
    /// [`CachedClock`](cb_core::clock::CachedClock) (one atomic load per read).
    CbCachedClock,
    /// failsafe 1.3, `consecutive_failures(5, constant(1 h))`.
    Failsafe,
    /// failsafe 1.3, `Config::new().build()`: its default policy (success rate
    /// over a 30 s time window, or 5 consecutive failures).
    FailsafeDefault,
    /// recloser 1.4, failure rate 50 % over a ring of 100 calls.
    Recloser,
    /// tower-resilience 0.13 circuit breaker layer around a `service_fn`,
    /// failure rate 50 % over a count window of 100 calls (minimum 10), driven
    /// by [`block_on`].
    Tower,
    /// The same executor and `service_fn` as [`Kind::Tower`] without the
    /// breaker layer: the executor's own cost.
    ExecBaseline,
    /// `async move { op(x) }.await` driven by [`block_on`]: the async
    /// subjects' baseline (see [`crate::async_subject`]).
    AsyncBare,
    /// cb-core's `call(fut).await`, consecutive detector, driven by [`block_on`].
    CbAsync,
    /// failsafe's future API, consecutive failures, driven by [`block_on`].
    FailsafeAsync,
    /// recloser's `AsyncRecloser`, driven by [`block_on`].
    RecloserAsync,
    /// seatbelt's breaker service, driven by [`block_on`].
    SeatbeltAsync,
}

impl Kind {
    /// Every subject, in report order.
    pub const ALL: [Kind; 15] = [
        Kind::Direct,
        Kind::Floor,
        Kind::CbConsecutive,
        Kind::CbCountWindow,
        Kind::CbCachedClock,
        Kind::Failsafe,
        Kind::FailsafeDefault,
        Kind::Recloser,
        Kind::Tower,
        Kind::ExecBaseline,
        Kind::AsyncBare,
        Kind::CbAsync,
        Kind::FailsafeAsync,
        Kind::RecloserAsync,
        Kind::SeatbeltAsync,
    ];

    /// The subject's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Direct => "direct",
            Kind::Floor => "floor",
            Kind::CbConsecutive => "cb-consecutive",
            Kind::CbCountWindow => "cb-count-window",
            Kind::CbCachedClock => "cb-cached-clock",
            Kind::Failsafe => "failsafe",
            Kind::FailsafeDefault => "failsafe-default",
            Kind::Recloser => "recloser",
            Kind::Tower => "tower-resilience",
            Kind::ExecBaseline => "exec-baseline",
            Kind::AsyncBare => "bare-await",
            Kind::CbAsync => "cb-async",
            Kind::FailsafeAsync => "failsafe-async",
            Kind::RecloserAsync => "recloser-async",
            Kind::SeatbeltAsync => "seatbelt-async",
        }
    }

    /// The subject called `name`.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The state the breaker is in while measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Closed; every call succeeds.
    Closed,
    /// Open for an hour: cb-core via `open_for(Some(1 h))` (the `CircuitOpen`
    /// path, which reads the clock), the peers tripped by failing calls.
    Open,
    /// cb-core only: `force_open()` (the `ForcedOpen` path, no clock read).
    ForcedOpen,
}

impl Start {
    /// Every start state.
    pub const ALL: [Start; 3] = [Start::Closed, Start::Open, Start::ForcedOpen];

    /// The scenario's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Start::Closed => "closed",
            Start::Open => "open",
            Start::ForcedOpen => "forced-open",
        }
    }

    /// The start state called `name`.
    pub fn from_name(name: &str) -> Option<Start> {
        Start::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Receives a freshly built subject; lets callers stay generic over its type.
pub trait Visit {
    /// What the visit returns.
    type Out;
    /// Called once with the subject.
    fn visit<S: Subject>(self, subject: S) -> Self::Out;
}

/// Builds `kind` in state `start` and hands it to `v`; `None` when that
/// combination does not exist (a direct call cannot be open, only cb-core has
/// a forced-open state, failsafe's default policy reopens after 10–300 s).
///
/// Panics if the subject does not behave as its state says: a closed subject
/// must run the call, an open one must reject it. That check is what keeps a
/// benchmark from silently measuring the wrong path.
pub fn build<V: Visit>(kind: Kind, start: Start, v: V) -> Option<V::Out> {
    match (kind, start) {
        (Kind::AsyncBare, _) => build_async(AsyncKind::Bare, start, PolledVisit(v)),
        (Kind::CbAsync, _) => build_async(AsyncKind::Cb, start, PolledVisit(v)),
        (Kind::FailsafeAsync, _) => build_async(AsyncKind::Failsafe, start, PolledVisit(v)),
        (Kind::RecloserAsync, _) => build_async(AsyncKind::Recloser, start, PolledVisit(v)),
        (Kind::SeatbeltAsync, _) => build_async(AsyncKind::Seatbelt, start, PolledVisit(v)),
        (Kind::Direct | Kind::ExecBaseline | Kind::FailsafeDefault, Start::Open) => None,
        (_, Start::ForcedOpen) if !matches!(kind, Kind::CbConsecutive | Kind::CbCountWindow) => None,
        (Kind::CbCachedClock, _) => Some(v.visit(checked(CbCore::cached_clock(start), start))),
        (Kind::Direct, _) => Some(v.visit(checked(Direct, start))),
        (Kind::Floor, _) => Some(v.visit(checked(Floor::new(start), start))),
        (Kind::CbConsecutive | Kind::CbCountWindow, _) => {
            Some(v.visit(checked(CbCore::new(kind == Kind::CbCountWindow, start), start)))
        }
        (Kind::Failsafe, _) => Some(v.visit(checked(Failsafe::consecutive(start), start))),
        (Kind::FailsafeDefault, _) => Some(v.visit(checked(Failsafe::default_policy(), start))),
        (Kind::Recloser, _) => Some(v.visit(checked(Recloser::new(start), start))),
        (Kind::Tower, _) => Some(v.visit(checked(TowerSvc::breaker(start), start))),
        (Kind::ExecBaseline, _) => Some(v.visit(checked(TowerSvc::bare(), start))),
    }
}

fn checked<S: Subject>(mut s: S, start: Start) -> S {
    let got = s.call(1);
    match start {
        Start::Closed => assert_eq!(got, Some(1), "a closed subject must run the call"),
        Start::Open | Start::ForcedOpen => assert_eq!(got, None, "an open subject must reject the call"),
    }
    s
}

/// Fails `n` calls of `s`, to trip it.
fn trip<S: Subject>(s: &mut S, n: usize) {
    for _ in 0..n {
        let _ = s.call(POISON);
    }
}

/// See [`Kind::Direct`].
#[derive(Debug, Clone, Copy)]
pub struct Direct;

impl Subject for Direct {
    #[inline]
    fn call(&mut self, x: u64) -> Option<u64> {
        op(x).ok()
    }
}

/// See [`Kind::Floor`]. State word and counter share a cache line, as they
/// would in a naive shared breaker.
#[derive(Debug, Clone)]
pub struct Floor(Arc<FloorState>);

/// The shared part of [`Floor`].
#[derive(Debug, Default)]
pub struct FloorState {
    state: AtomicU64,
    calls: AtomicU64,
}

impl Floor {
    fn new(start: Start) -> Self {
        let s = FloorState::default();
        s.state
            .store(u64::from(start != Start::Closed), Ordering::Relaxed);
        Floor(Arc::new(s))
    }
}

impl Subject for Floor {
    #[inline]
    fn call(&mut self, x: u64) -> Option<u64> {
        if self.0.state.load(Ordering::Acquire) != 0 {
            return None;
        }
        let r = op(x);
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        r.ok()
    }
}

/// See [`Kind::CbConsecutive`] and [`Kind::CbCountWindow`].
#[derive(Debug, Clone)]
pub struct CbCore(pub cb_core::CircuitBreaker);

impl CbCore {
    /// A cb-core breaker with the default (production) clock.
    pub fn new(count_window: bool, start: Start) -> Self {
        let b = cb_core::CircuitBreaker::builder("bench");
        let b = if count_window {
            b.no_failure_threshold()
                .failure_rate_threshold(0.5)
                .sliding_window_size(100)
                .minimum_calls(10)
        } else {
            b.failure_threshold(5)
        };
        Self::started(b.build().expect("a valid configuration"), start)
    }

    /// The consecutive detector with a started `CachedClock`.
    pub fn cached_clock(start: Start) -> Self {
        let clock = cb_core::clock::CachedClock::start(std::time::Duration::from_millis(1))
            .expect("the clock thread starts");
        let b = cb_core::CircuitBreaker::builder("bench")
            .failure_threshold(5)
            .clock(clock);
        Self::started(b.build().expect("a valid configuration"), start)
    }

    fn started(breaker: cb_core::CircuitBreaker, start: Start) -> Self {
        match start {
            Start::Closed => {}
            Start::Open => breaker.open_for(Some(OPEN_FOR)),
            Start::ForcedOpen => breaker.force_open(),
        }
        CbCore(breaker)
    }
}

impl Subject for CbCore {
    #[inline]
    fn call(&mut self, x: u64) -> Option<u64> {
        self.0.call_sync(|| op(x)).ok()
    }
}

/// See [`Kind::Failsafe`] and [`Kind::FailsafeDefault`].
pub struct Failsafe<P>(pub failsafe::StateMachine<P, ()>);

impl<P> Clone for Failsafe<P> {
    fn clone(&self) -> Self {
        Failsafe(self.0.clone())
    }
}

impl<P> std::fmt::Debug for Failsafe<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Failsafe")
    }
}

/// failsafe's consecutive-failure policy with a constant 1 h backoff.
pub type FailsafeConsecutive = failsafe::failure_policy::ConsecutiveFailures<failsafe::backoff::Constant>;

impl Failsafe<FailsafeConsecutive> {
    pub(crate) fn consecutive(start: Start) -> Self {
        let policy = failsafe::failure_policy::consecutive_failures(5, failsafe::backoff::constant(OPEN_FOR));
        let mut s = Failsafe(failsafe::Config::new().failure_policy(policy).build());
        if start == Start::Open {
            trip(&mut s, 5);
        }
        s
    }
}

/// The type of failsafe's default policy.
pub type FailsafeDefaultPolicy = failsafe::failure_policy::OrElse<
    failsafe::failure_policy::SuccessRateOverTimeWindow<failsafe::backoff::EqualJittered>,
    failsafe::failure_policy::ConsecutiveFailures<failsafe::backoff::EqualJittered>,
>;

impl Failsafe<FailsafeDefaultPolicy> {
    fn default_policy() -> Self {
        Failsafe(failsafe::Config::new().build())
    }
}

impl<P: failsafe::failure_policy::FailurePolicy + Send + 'static> Subject for Failsafe<P> {
    #[inline]
    fn call(&mut self, x: u64) -> Option<u64> {
        self.0.call(|| op(x)).ok()
    }
}

/// See [`Kind::Recloser`].
#[derive(Clone)]
pub struct Recloser(pub Arc<recloser::Recloser>);

impl std::fmt::Debug for Recloser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recloser")
    }
}

impl Recloser {
    /// Failure rate 50 % over a ring of 100 calls, open for [`OPEN_FOR`].
    pub(crate) fn config() -> recloser::Recloser {
        recloser::Recloser::custom()
            .error_rate(0.5)
            .closed_len(100)
            .open_wait(OPEN_FOR)
            .build()
    }

    fn new(start: Start) -> Self {
        let mut s = Recloser(Arc::new(Self::config()));
        if start == Start::Open {
            // The ring judges once it is full: 100 failures, plus one to be sure.
            trip(&mut s, 101);
        }
        s
    }
}

impl Subject for Recloser {
    #[inline]
    fn call(&mut self, x: u64) -> Option<u64> {
        self.0.call(|| op(x)).ok()
    }
}

/// The handler tower subjects wrap.
pub type OpFn = fn(u64) -> Ready<Result<u64, Fail>>;

/// The bare tower service: `op` as a `service_fn`.
pub type BareService = tower::util::ServiceFn<OpFn>;

/// The tower-resilience breaker around [`BareService`].
pub type TowerBreaker = trcb::CircuitBreaker<BareService, trcb::DefaultClassifier>;

fn op_ready(x: u64) -> Ready<Result<u64, Fail>> {
    ready(op(x))
}

/// A tower service driven by [`block_on`]: `poll_ready`, then `call`, then
/// the response future. See [`Kind::Tower`] and [`Kind::ExecBaseline`].
#[derive(Clone)]
pub struct TowerSvc<S>(pub S);

impl<S> std::fmt::Debug for TowerSvc<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TowerSvc")
    }
}

impl TowerSvc<BareService> {
    fn bare() -> Self {
        TowerSvc(tower::service_fn(op_ready as OpFn))
    }
}

impl TowerSvc<TowerBreaker> {
    pub(crate) fn breaker(start: Start) -> Self {
        let layer = trcb::CircuitBreakerLayer::builder()
            .failure_rate_threshold(0.5)
            .sliding_window_size(100)
            .minimum_number_of_calls(10)
            .wait_duration_in_open(OPEN_FOR)
            .build()
            .expect("a valid configuration");
        let mut s = TowerSvc(tower::Layer::layer(&layer, tower::service_fn(op_ready as OpFn)));
        if start == Start::Open {
            trip(&mut s, 100);
        }
        s
    }
}

impl<S> Subject for TowerSvc<S>
where
    S: Service<u64, Response = u64> + Clone + Send + 'static,
{
    #[inline]
    fn call(&mut self, x: u64) -> Option<u64> {
        let svc = &mut self.0;
        block_on(async move {
            std::future::poll_fn(|cx| svc.poll_ready(cx)).await.ok()?;
            svc.call(x).await.ok()
        })
    }
}
