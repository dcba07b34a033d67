//! The async subjects: one awaited call of [`op`] through each breaker's
//! future API, or none (a bare `.await`).
//!
//! Every subject awaits the same future, `async move { op(x) }`, so the
//! differences between them are what each breaker's future adds around an
//! awaited call. [`Polled`] drives one on the calling thread with
//! [`block_on`] (no runtime: the single-task scenarios and the callgrind
//! driver); the tokio workload of `benches/breakers.rs` awaits them in tasks.

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use failsafe::futures::CircuitBreaker as _;
use tower::Service;

use crate::exec::block_on;
use crate::subject::{
    CbCore, Fail, Failsafe, FailsafeConsecutive, OPEN_FOR, POISON, Recloser, Start, TowerBreaker, TowerSvc,
    op,
};
use crate::{Subject, Visit};

/// Something that makes awaited protected calls. Clones share one breaker.
pub trait AsyncSubject: Clone + Send + 'static {
    /// One awaited call of `op(x)`: `Some` with its value when it ran and
    /// succeeded, `None` when the breaker rejected it (or it failed).
    fn call(&mut self, x: u64) -> impl Future<Output = Option<u64>> + Send + '_;
}

/// Which async subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncKind {
    /// `async move { op(x) }.await`: the executor's and the future's own cost.
    Bare,
    /// cb-core, `CircuitBreaker::call(fut).await`, consecutive detector
    /// (threshold 5): what every async `#[circuit_breaker]` function runs.
    Cb,
    /// failsafe 1.3, `futures::CircuitBreaker::call(fut)`, consecutive
    /// failures (5, constant 1 h backoff).
    Failsafe,
    /// recloser 1.4, `AsyncRecloser::call(fut)`, failure rate 50 % over a
    /// ring of 100 calls.
    Recloser,
    /// tower-resilience 0.13, the breaker layer around a `service_fn`:
    /// `poll_ready`, then `call(x).await`.
    Tower,
    /// seatbelt 0.11, the breaker layer of a `layered` stack around
    /// `Execute`, failure rate 50 % with at least 10 calls: `execute(x).await`.
    Seatbelt,
}

impl AsyncKind {
    /// Every async subject, in report order.
    pub const ALL: [AsyncKind; 6] = [
        AsyncKind::Bare,
        AsyncKind::Cb,
        AsyncKind::Failsafe,
        AsyncKind::Recloser,
        AsyncKind::Tower,
        AsyncKind::Seatbelt,
    ];

    /// The subject called `name`.
    pub fn from_name(name: &str) -> Option<AsyncKind> {
        AsyncKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The subject's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            AsyncKind::Bare => "bare-await",
            AsyncKind::Cb => "cb-async",
            AsyncKind::Failsafe => "failsafe-async",
            AsyncKind::Recloser => "recloser-async",
            AsyncKind::Tower => "tower-resilience",
            AsyncKind::Seatbelt => "seatbelt-async",
        }
    }
}

/// Receives a freshly built async subject.
pub trait AsyncVisit {
    /// What the visit returns.
    type Out;
    /// Called once with the subject.
    fn visit<A: AsyncSubject>(self, subject: A) -> Self::Out;
}

/// Builds `kind` in state `start` and hands it to `v`; `None` for a bare
/// await in an open state (there is nothing to open). A subject that does
/// not behave as its state says panics, as [`build`](crate::build)'s do.
pub fn build_async<V: AsyncVisit>(kind: AsyncKind, start: Start, v: V) -> Option<V::Out> {
    match (kind, start) {
        (AsyncKind::Bare, Start::Open | Start::ForcedOpen) => None,
        (
            AsyncKind::Failsafe | AsyncKind::Recloser | AsyncKind::Tower | AsyncKind::Seatbelt,
            Start::ForcedOpen,
        ) => None,
        (AsyncKind::Bare, Start::Closed) => Some(v.visit(checked(Bare, start))),
        (AsyncKind::Cb, _) => Some(v.visit(checked(CbAsync(CbCore::new(false, start)), start))),
        (AsyncKind::Failsafe, _) => {
            Some(v.visit(checked(FailsafeAsync(Failsafe::consecutive(start)), start)))
        }
        (AsyncKind::Recloser, _) => Some(v.visit(checked(RecloserAsync::new(start), start))),
        (AsyncKind::Tower, _) => Some(v.visit(checked(TowerAsync(TowerSvc::breaker(start)), start))),
        (AsyncKind::Seatbelt, _) => Some(v.visit(checked(seatbelt(start), start))),
    }
}

/// The multi-task workload: `tasks` tasks on `runtime`, each with its own
/// clone of `a` (so all share one breaker), each awaiting `per_task` calls
/// one after another. Returns the wall time from the first spawn to the
/// last task's end.
pub fn run_tasks<A: AsyncSubject>(
    runtime: &tokio::runtime::Runtime,
    a: &A,
    tasks: u64,
    per_task: u64,
) -> Duration {
    let start = Instant::now();
    runtime.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let mut a = a.clone();
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        black_box(a.call(black_box(1)).await);
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.expect("a workload task panicked");
        }
    });
    start.elapsed()
}

fn checked<A: AsyncSubject>(mut a: A, start: Start) -> A {
    let got = block_on(a.call(1));
    match start {
        Start::Closed => assert_eq!(got, Some(1), "a closed subject must run the call"),
        Start::Open | Start::ForcedOpen => assert_eq!(got, None, "an open subject must reject the call"),
    }
    a
}

/// An async subject driven on the calling thread by [`block_on`], so that
/// it runs wherever a [`Subject`] does (criterion's one- and two-thread
/// groups, the callgrind driver).
#[derive(Debug, Clone)]
pub struct Polled<A>(pub A);

impl<A: AsyncSubject> Subject for Polled<A> {
    #[inline]
    fn call(&mut self, x: u64) -> Option<u64> {
        block_on(self.0.call(x))
    }
}

/// Adapts a [`Visit`] to async subjects by handing it [`Polled`] ones.
#[derive(Debug)]
pub struct PolledVisit<V>(pub V);

impl<V: Visit> AsyncVisit for PolledVisit<V> {
    type Out = V::Out;

    fn visit<A: AsyncSubject>(self, subject: A) -> V::Out {
        self.0.visit(Polled(subject))
    }
}

/// See [`AsyncKind::Bare`].
#[derive(Debug, Clone, Copy)]
pub struct Bare;

impl AsyncSubject for Bare {
    #[inline]
    async fn call(&mut self, x: u64) -> Option<u64> {
        async move { op(x) }.await.ok()
    }
}

/// See [`AsyncKind::Cb`].
#[derive(Debug, Clone)]
pub struct CbAsync(pub CbCore);

impl AsyncSubject for CbAsync {
    #[inline]
    async fn call(&mut self, x: u64) -> Option<u64> {
        self.0.0.call(async move { op(x) }).await.ok()
    }
}

/// See [`AsyncKind::Failsafe`].
#[derive(Debug, Clone)]
pub struct FailsafeAsync(pub Failsafe<FailsafeConsecutive>);

impl AsyncSubject for FailsafeAsync {
    #[inline]
    async fn call(&mut self, x: u64) -> Option<u64> {
        self.0.0.call(async move { op(x) }).await.ok()
    }
}

/// See [`AsyncKind::Recloser`].
#[derive(Clone)]
pub struct RecloserAsync(pub recloser::AsyncRecloser);

impl std::fmt::Debug for RecloserAsync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecloserAsync")
    }
}

impl RecloserAsync {
    fn new(start: Start) -> Self {
        let s = RecloserAsync(Recloser::config().into());
        if start == Start::Open {
            // The ring judges once it is full: 100 failures, plus one to be sure.
            for _ in 0..101 {
                let _ = block_on(s.0.call(async { op(crate::subject::POISON) }));
            }
        }
        s
    }
}

impl AsyncSubject for RecloserAsync {
    #[inline]
    async fn call(&mut self, x: u64) -> Option<u64> {
        self.0.call(async move { op(x) }).await.ok()
    }
}

/// See [`AsyncKind::Tower`].
#[derive(Debug, Clone)]
pub struct TowerAsync(pub TowerSvc<TowerBreaker>);

impl AsyncSubject for TowerAsync {
    #[inline]
    async fn call(&mut self, x: u64) -> Option<u64> {
        let svc = &mut self.0.0;
        std::future::poll_fn(|cx| svc.poll_ready(cx)).await.ok()?;
        svc.call(x).await.ok()
    }
}

/// See [`AsyncKind::Seatbelt`]: the breaker service, shared, and the
/// driver of its clock, kept alive with it.
pub struct SeatbeltAsync<S> {
    service: std::sync::Arc<S>,
    _driver: std::sync::Arc<std::sync::Mutex<tick::runtime::ClockDriver>>,
}

impl<S> Clone for SeatbeltAsync<S> {
    fn clone(&self) -> Self {
        SeatbeltAsync {
            service: self.service.clone(),
            _driver: self._driver.clone(),
        }
    }
}

impl<S> std::fmt::Debug for SeatbeltAsync<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeatbeltAsync")
    }
}

/// seatbelt's breaker on its production clock (std's `Instant`), failure
/// rate 50 % with at least 10 calls, open for [`OPEN_FOR`].
fn seatbelt(start: Start) -> SeatbeltAsync<impl layered::Service<u64, Out = Result<u64, Fail>> + 'static> {
    use layered::{Execute, Service as _, Stack as _};
    use seatbelt::breaker::Breaker;
    use seatbelt::{RecoveryInfo, ResilienceContext};

    // No runtime drives this clock's timers: the breaker only reads its time.
    let (clock, driver) = tick::runtime::InactiveClock::default().activate(std::task::Waker::noop().clone());
    let context = ResilienceContext::new(&clock);
    let stack = (
        Breaker::layer("bench", &context)
            .recovery_with(|r: &Result<u64, Fail>, _| match r {
                Ok(_) => RecoveryInfo::never(),
                Err(_) => RecoveryInfo::retry(),
            })
            .rejected_input_error(|_, _| Fail)
            .failure_threshold(0.5)
            .min_throughput(10)
            .break_duration(OPEN_FOR),
        Execute::new(|x: u64| async move { op(x) }),
    );
    let service = stack.into_service();
    if start == Start::Open {
        for _ in 0..20 {
            let _ = block_on(service.execute(POISON));
        }
    }
    SeatbeltAsync {
        service: std::sync::Arc::new(service),
        _driver: std::sync::Arc::new(std::sync::Mutex::new(driver)),
    }
}

impl<S> AsyncSubject for SeatbeltAsync<S>
where
    S: layered::Service<u64, Out = Result<u64, Fail>> + 'static,
{
    #[inline]
    async fn call(&mut self, x: u64) -> Option<u64> {
        self.service.execute(x).await.ok()
    }
}
