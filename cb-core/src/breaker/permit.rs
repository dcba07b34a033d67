//! Admission permits and outcome classification.

use std::future::Future;
use std::pin::pin;

use super::Shared;
use super::state::Word;
use crate::clock::Nanos;

pub(crate) const NO_PROBE: u32 = u32::MAX;
pub(crate) const NO_START: Nanos = u64::MAX;

/// How an admitted call ended (R1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call succeeded.
    Success,
    /// The call failed; it counts against the downstream's health.
    Failure,
    /// The call's result says nothing about the downstream's health (R2):
    /// it counts toward no rate, streak or minimum.
    Excluded,
    /// The caller gave up before the call finished (R5): nothing is judged.
    Cancelled,
    /// The call panicked (R6): judged as a failure.
    Panicked,
}

impl Outcome {
    /// The outcome as a metric label: `success`, `failure`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Excluded => "excluded",
            Outcome::Cancelled => "cancelled",
            Outcome::Panicked => "panicked",
        }
    }
}

/// Decides from a call's whole `Result` how it counts (R4).
///
/// Closures `Fn(&Result<T, E>) -> Outcome` implement it.
pub trait Classifier<T, E> {
    /// The outcome of `result`: `Success`, `Failure` or `Excluded`.
    fn classify(&self, result: &Result<T, E>) -> Outcome;
}

impl<T, E, F: Fn(&Result<T, E>) -> Outcome + ?Sized> Classifier<T, E> for F {
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}

/// `Ok` is a success and `Err` a failure.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultClassifier;

impl<T, E> Classifier<T, E> for DefaultClassifier {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

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

    /// Records `result` as classified by `classifier`.
    pub fn record_result<T, E, C: Classifier<T, E> + ?Sized>(self, result: &Result<T, E>, classifier: &C) {
        self.record(classifier.classify(result))
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
            super::Outcome::Panicked
        } else {
            super::Outcome::Cancelled
        };
        self.shared.complete(self.word, self.start, self.probe, outcome);
    }
}

/// Runs `fut` under `permit`. A panic while polling `fut` is recorded as
/// `panicked` even when the runtime catches it and drops this future later:
/// a guard on the stack of `poll` sees the unwinding.
pub(crate) async fn run_guarded<F, T, E, C>(permit: Permit<'_>, fut: F, classifier: &C) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
    C: Classifier<T, E> + ?Sized,
{
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
        permit: Some(permit),
        panicked: false,
    };
    let mut fut = pin!(fut);
    let result = std::future::poll_fn(|cx| {
        let watch = Unwinding(&mut guard.panicked);
        let poll = fut.as_mut().poll(cx);
        drop(watch);
        poll
    })
    .await;
    if let Some(p) = guard.permit.take() {
        p.record(classifier.classify(&result));
    }
    result
}
