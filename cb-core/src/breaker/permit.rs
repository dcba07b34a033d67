//! Admission permits: a call's right to run once, and how its end is recorded.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use super::word::Word;
use super::{CircuitBreaker, Shared};
use crate::classify::Classifier;
use crate::clock::Nanos;
use crate::error::Error;
use crate::state::Outcome;

pub(crate) const NO_PROBE: u32 = u32::MAX;
pub(crate) const NO_START: Nanos = u64::MAX;

/// Admission to call the protected operation once (R94).
///
/// Record the outcome with [`record`](Permit::record) (which consumes the
/// permit, so an outcome cannot be recorded twice). A permit dropped without
/// an outcome records `Cancelled`, or `Panicked` while the thread unwinds, and
/// frees its half-open slot either way (R5, R6, R21).
#[must_use = "a permit records `cancelled` when dropped; record the call's outcome"]
pub struct Permit<'a> {
    shared: &'a Shared,
    word: Word,
    start: Nanos,
    probe: u32,
}

impl std::fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field("state", &self.word.state())
            .field("generation", &self.word.generation())
            .field("probe", &self.is_probe())
            .finish()
    }
}

impl<'a> Permit<'a> {
    pub(crate) fn new(shared: &'a Shared, word: Word, start: Nanos, probe: u32) -> Self {
        Self {
            shared,
            word,
            start,
            probe,
        }
    }

    /// Records how the call ended.
    #[inline]
    pub fn record(self, outcome: Outcome) {
        let this = std::mem::ManuallyDrop::new(self);
        this.shared.complete(this.word, this.start, this.probe, outcome);
    }

    /// Records a success.
    pub fn success(self) {
        self.record(Outcome::Success)
    }

    /// Records a failure.
    pub fn failure(self) {
        self.record(Outcome::Failure)
    }

    /// Records an excluded (neutral) outcome.
    pub fn excluded(self) {
        self.record(Outcome::Excluded)
    }

    /// Gives the permit back unused: the call never reached the downstream
    /// (a bulkhead behind the breaker refused it), so it is no breaker call.
    /// It counts nothing and frees its half-open probe slot (R53).
    pub(crate) fn withdraw(self) {
        let this = std::mem::ManuallyDrop::new(self);
        this.shared.withdraw(this.word, this.probe);
    }

    /// Records `result` as classified by `classifier`.
    /// and by the configuration's `classify` lists
    /// ([`crate::classify::by_name`]).
    pub fn record_result<T, E, C: Classifier<T, E> + ?Sized>(self, result: &Result<T, E>, classifier: &C) {
        let outcome = self.shared.classify(result, classifier);
        self.record(outcome)
    }

    /// The generation the call was admitted in (R29).
    pub fn generation(&self) -> u64 {
        self.word.generation()
    }

    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe != NO_PROBE
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let outcome = if std::thread::panicking() {
            Outcome::Panicked
        } else {
            Outcome::Cancelled
        };
        self.shared.complete(self.word, self.start, self.probe, outcome);
    }
}

impl<'a> Permit<'a> {
    /// Awaits `fut` while holding this permit, then records the outcome
    /// `decide` gives for its output. If polling `fut` panics, `panicked` is
    /// recorded as the panic leaves `poll`, whether or not the runtime
    /// catches it; if this future is dropped before `fut` finishes,
    /// `cancelled` (R5, R6, R94).
    ///
    /// The building block for wrappers that add their own stages around the
    /// call (a timeout, a tier chain), without losing panic and cancellation
    /// accounting. The future is `fut`, the permit and `decide`, polled in
    /// place: nothing is moved or copied per poll.
    ///
    /// ```
    /// # use cb_core::{CircuitBreaker, Outcome};
    /// # use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let breaker = CircuitBreaker::builder("api").build().unwrap();
    /// let permit = breaker.try_acquire().unwrap();
    /// let call = tokio::time::timeout(Duration::from_secs(5), async { Ok::<_, ()>(200u16) });
    /// let out = permit
    ///     .run(call, |out| match out {
    ///         Ok(Ok(status)) if *status < 500 => Outcome::Success,
    ///         _ => Outcome::Failure, // an error, a 5xx, or the timeout
    ///     })
    ///     .await;
    /// assert_eq!(out, Ok(Ok(200)));
    /// assert_eq!(breaker.metrics().calls.successes, 1);
    /// # }
    /// ```
    pub fn run<F: Future>(
        self,
        fut: F,
        decide: impl FnOnce(&F::Output) -> Outcome,
    ) -> impl Future<Output = F::Output> {
        self.run_or_withdraw(fut, move |out| Some(decide(out)))
    }

    /// Like [`run`](Self::run), where `decide` may also say `None`: the
    /// call never reached the downstream, and the permit is withdrawn
    /// instead of recording an outcome.
    pub(crate) fn run_or_withdraw<F, D>(self, fut: F, decide: D) -> Guarded<'a, F, D>
    where
        F: Future,
        D: FnOnce(&F::Output) -> Option<Outcome>,
    {
        Guarded {
            fut,
            permit: Some(self),
            decide: Some(decide),
        }
    }
}

pin_project! {
    /// The future of [`Permit::run_or_withdraw`]: `fut` under a permit.
    pub(crate) struct Guarded<'a, F, D> {
        #[pin]
        fut: F,
        // `None` once the outcome is recorded (or `panicked` was).
        permit: Option<Permit<'a>>,
        decide: Option<D>,
    }
}

impl<F, D> Future for Guarded<'_, F, D>
where
    F: Future,
    D: FnOnce(&F::Output) -> Option<Outcome>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let output = ready!(poll_watched(this.fut, cx, this.permit));
        if let (Some(permit), Some(decide)) = (this.permit.take(), this.decide.take()) {
            match decide(&output) {
                Some(outcome) => permit.record(outcome),
                None => permit.withdraw(),
            }
        }
        Poll::Ready(output)
    }
}

/// Polls `fut`; if that panics, the permit in `slot` records `panicked` as
/// the panic passes, so the outcome is right even when the runtime catches
/// the panic and keeps (or drops) the future (R6). A permit still in `slot`
/// when its future is dropped records `cancelled` through its own `Drop`.
///
/// The guard costs nothing on the way out of a normal `poll` (it is
/// forgotten, not dropped): no thread-local `panicking()` read per poll.
#[inline(always)]
fn poll_watched<F: Future>(
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
    slot: &mut Option<Permit<'_>>,
) -> Poll<F::Output> {
    struct OnUnwind<'s, 'a>(&'s mut Option<Permit<'a>>);
    impl Drop for OnUnwind<'_, '_> {
        fn drop(&mut self) {
            if let Some(permit) = self.0.take() {
                permit.record(Outcome::Panicked);
            }
        }
    }
    let watch = OnUnwind(slot);
    let poll = fut.poll(cx);
    std::mem::forget(watch);
    poll
}

pin_project! {
    /// The future of [`CircuitBreaker::call_with`]: admission on the first
    /// poll, then `fut` under the permit, then the classifier's verdict.
    /// One flat future polled in place, so what an executor moves into a
    /// task is `fut` plus 48 bytes, and padding.
    pub(crate) struct Call<'a, F, C: ?Sized> {
        #[pin]
        fut: F,
        stage: Stage<'a>,
        classifier: &'a C,
    }
}

/// Where a [`Call`] is.
enum Stage<'a> {
    /// Not polled yet: admission comes at the first poll, as with an
    /// `async fn`, so a future that is built and dropped takes no permit.
    Admit(&'a CircuitBreaker),
    /// Admitted, `fut` pending; the permit is gone once a poll of `fut`
    /// panicked (it recorded `panicked` then).
    Run(Option<Permit<'a>>),
    /// Rejected, finished, or `fut` panicked.
    Done,
}

impl<'a, F, C: ?Sized> Call<'a, F, C> {
    pub(super) fn new(breaker: &'a CircuitBreaker, fut: F, classifier: &'a C) -> Self {
        Call {
            fut,
            stage: Stage::Admit(breaker),
            classifier,
        }
    }
}

impl<F, T, E, C> Future for Call<'_, F, C>
where
    F: Future<Output = Result<T, E>>,
    C: Classifier<T, E> + ?Sized,
{
    type Output = Result<T, Error<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.stage {
            Stage::Admit(breaker) => {
                let breaker = *breaker;
                // Rejected, finished or panicked, the call is over after
                // this poll unless `fut` is pending (a panic in `fut` leaves
                // a future that must not admit a second time).
                *this.stage = Stage::Done;
                let mut permit = match breaker.admit() {
                    Ok(permit) => Some(permit),
                    Err(r) => return Poll::Ready(Err(Error::Rejected(breaker.shared.rejected(r)))),
                };
                // The common case, a future ready at its first poll, keeps
                // the permit on the stack: it is stored in the call future
                // only when `fut` is pending.
                match poll_watched(this.fut, cx, &mut permit) {
                    Poll::Ready(result) => Poll::Ready(finish(result, permit, *this.classifier)),
                    Poll::Pending => {
                        *this.stage = Stage::Run(permit);
                        Poll::Pending
                    }
                }
            }
            Stage::Run(slot) => {
                let result = ready!(poll_watched(this.fut, cx, slot));
                let permit = slot.take();
                *this.stage = Stage::Done;
                Poll::Ready(finish(result, permit, *this.classifier))
            }
            Stage::Done => panic!("a `CircuitBreaker::call` future polled after it completed"),
        }
    }
}

/// Records the outcome of a finished call (unless a panic in an earlier
/// poll already recorded `panicked`) and returns its result.
#[inline(always)]
fn finish<T, E, C>(result: Result<T, E>, permit: Option<Permit<'_>>, classifier: &C) -> Result<T, Error<E>>
where
    C: Classifier<T, E> + ?Sized,
{
    if let Some(permit) = permit {
        let outcome = permit.shared.classify(&result, classifier);
        permit.record(outcome);
    }
    result.map_err(Error::Inner)
}

#[cfg(test)]
mod tests {
    use crate::CircuitBreaker;

    /// What the `call` docs promise: the user's future plus 48 bytes.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_call_future_is_the_users_future_plus_48_bytes() {
        let b = CircuitBreaker::builder("size").build().unwrap();
        let x = std::hint::black_box(1u64);
        let fut = || async move { Ok::<u64, ()>(x) };
        let bytes = std::mem::size_of_val(&fut());
        assert_eq!(std::mem::size_of_val(&b.call(fut())), bytes + 48);
        let classify = |_: &Result<u64, ()>| crate::Outcome::Success;
        assert_eq!(std::mem::size_of_val(&b.call_with(fut(), &classify)), bytes + 48);
    }

    /// A future that is pending at its first poll and then ends with `end`.
    fn pending_once<T>(end: impl FnOnce() -> T) -> impl std::future::Future<Output = T> {
        let mut end = Some(end);
        let mut polled = false;
        std::future::poll_fn(move |_| {
            if !std::mem::replace(&mut polled, true) {
                return std::task::Poll::Pending;
            }
            std::task::Poll::Ready(end.take().expect("polled after completion")())
        })
    }

    fn poll_once<F: std::future::Future>(fut: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
        fut.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    }

    #[test]
    fn a_call_pending_at_its_first_poll_records_its_outcome_when_it_ends() {
        let b = CircuitBreaker::builder("pending").build().unwrap();
        let mut call = std::pin::pin!(b.call(pending_once(|| Ok::<_, ()>(5))));
        assert!(poll_once(call.as_mut()).is_pending());
        assert_eq!(b.metrics().calls.successes, 0);
        assert!(matches!(poll_once(call.as_mut()), std::task::Poll::Ready(Ok(5))));
        let m = b.metrics();
        assert_eq!((m.calls.successes, m.calls.cancelled), (1, 0));
    }

    #[test]
    fn r6_a_call_that_panics_after_pending_is_recorded_as_panicked_once() {
        let b = CircuitBreaker::builder("panics-later").build().unwrap();
        let mut call = Box::pin(b.call(pending_once(|| -> Result<u8, ()> { panic!("downstream bug") })));
        assert!(poll_once(call.as_mut()).is_pending());
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll_once(call.as_mut())));
        assert!(caught.is_err());
        drop(call);
        let m = b.metrics();
        assert_eq!((m.calls.panicked, m.calls.cancelled), (1, 0));
    }

    #[test]
    fn a_call_future_dropped_unpolled_takes_no_permit_and_records_nothing() {
        let b = CircuitBreaker::builder("lazy").build().unwrap();
        drop(b.call(async { Ok::<_, ()>(1) }));
        let m = b.metrics();
        assert_eq!((m.calls.successes, m.calls.cancelled), (0, 0));
    }
}
