//! Admission permits: a call's right to run once, and how its end is recorded.

use std::future::Future;
use std::pin::pin;

use super::Shared;
use super::word::Word;
use crate::classify::Classifier;
use crate::clock::Nanos;
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

/// Runs `fut` under `permit` and records its outcome as `classifier` says.
pub(crate) async fn run_guarded<F, T, E, C>(permit: Permit<'_>, fut: F, classifier: &C) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
    C: Classifier<T, E> + ?Sized,
{
    let shared = permit.shared;
    permit
        .run(fut, |result| shared.classify(result, classifier))
        .await
}

impl Permit<'_> {
    /// Awaits `fut` while holding this permit, then records the outcome
    /// `decide` gives for its output. If polling `fut` panics, `panicked` is
    /// recorded, even when the runtime catches the panic and drops this
    /// future later (a guard on the stack of `poll` sees the unwinding); if
    /// this future is dropped before `fut` finishes, `cancelled` (R5, R6, R94).
    ///
    /// The building block for wrappers that add their own stages around the
    /// call (a timeout, a tier chain), without losing panic and cancellation
    /// accounting.
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
    pub async fn run<F: Future>(self, fut: F, decide: impl FnOnce(&F::Output) -> Outcome) -> F::Output {
        self.run_or_withdraw(fut, |out| Some(decide(out))).await
    }

    /// Like [`run`](Self::run), where `decide` may also say `None`: the
    /// call never reached the downstream, and the permit is withdrawn
    /// instead of recording an outcome.
    pub(crate) async fn run_or_withdraw<F: Future>(
        self,
        fut: F,
        decide: impl FnOnce(&F::Output) -> Option<Outcome>,
    ) -> F::Output {
        struct Guard<'a> {
            permit: Option<Permit<'a>>,
            panicked: bool,
        }
        impl Drop for Guard<'_> {
            fn drop(&mut self) {
                if let Some(p) = self.permit.take() {
                    p.record(if self.panicked || std::thread::panicking() {
                        Outcome::Panicked
                    } else {
                        Outcome::Cancelled
                    });
                }
            }
        }
        struct Unwinding<'a>(&'a mut bool);
        impl Drop for Unwinding<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    *self.0 = true;
                }
            }
        }

        let mut guard = Guard {
            permit: Some(self),
            panicked: false,
        };
        let output = {
            let panicked = &mut guard.panicked;
            let mut fut = pin!(fut);
            std::future::poll_fn(|cx| {
                let watch = Unwinding(&mut *panicked);
                let poll = fut.as_mut().poll(cx);
                drop(watch);
                poll
            })
            .await
        };
        if let Some(p) = guard.permit.take() {
            match decide(&output) {
                Some(outcome) => p.record(outcome),
                None => p.withdraw(),
            }
        }
        output
    }
}
