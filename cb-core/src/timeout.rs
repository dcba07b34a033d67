//! Timeouts: a call that takes too long is dropped and reported as
//! [`Error::Timeout`] (R55–R57).
//!
//! Dropping the future is how a tokio timeout cancels (R56): work that
//! never yields (blocking code) cannot be interrupted and may overrun; run it
//! with `spawn_blocking`. A future that is ready at the deadline wins.
//! Dropping the timed call yourself before the deadline is a cancellation,
//! not a timeout (R57).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::Sleep;

use crate::clock::{ClockHandle, Nanos};
use crate::error::{ConfigError, Error, Violations};

/// A time limit for one call.
///
/// ```
/// use cb_core::{Error, Timeout};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let limit = Timeout::new(Duration::from_secs(2)).unwrap();
/// let slow = async {
///     tokio::time::sleep(Duration::from_secs(5)).await;
///     Ok::<_, std::io::Error>(())
/// };
/// let err = limit.call(slow).await.unwrap_err();
/// assert!(matches!(err, Error::Timeout { after } if after == Duration::from_secs(2)));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout {
    after: Duration,
}

impl Timeout {
    /// A limit of `after` (which must be `> 0`).
    pub fn new(after: Duration) -> Result<Self, ConfigError> {
        let mut v = Violations::new();
        v.positive("timeout", after);
        v.finish()?;
        Ok(Self { after })
    }

    /// The limit.
    pub fn after(&self) -> Duration {
        self.after
    }

    /// Runs `fut` for at most the limit; on expiry `fut` is dropped.
    pub async fn call<F, T, E>(&self, fut: F) -> Result<T, Error<E>>
    where
        F: IntoFuture<Output = Result<T, E>>,
    {
        match tokio::time::timeout(self.after, fut).await {
            Ok(r) => r.map_err(Error::Inner),
            Err(_) => Err(Error::Timeout { after: self.after }),
        }
    }
}

pin_project! {
    /// `fut` limited to `after` from its creation, like
    /// `tokio::time::timeout`, but with the timer started only if `fut` has
    /// to wait: an attempt that is ready at its first poll never touches
    /// tokio's timer (no runtime handle, no timer entry, no precise clock
    /// read), which is most of what a per-attempt timeout would cost a call
    /// that succeeds at once.
    ///
    /// The time `fut` spent before its first wait is read from `clock` (the
    /// pipeline's, coarse by default) and taken off the timer, less the
    /// clock's resolution, so the deadline stays `after` from the start, as
    /// with tokio's timeout, or at most one kernel tick (1–4 ms) later; never
    /// earlier. As there, the inner future is polled first: one
    /// ready at the deadline wins (R56). Without a limit (`after` is `None`)
    /// it is `fut` alone.
    pub(crate) struct Within<'a, F> {
        #[pin]
        fut: F,
        #[pin]
        timer: Option<Sleep>,
        after: Option<Duration>,
        started: Nanos,
        clock: &'a ClockHandle,
    }
}

impl<'a, F: Future> Within<'a, F> {
    /// Starts the limit, if any, now by `clock`.
    #[inline(always)]
    pub(crate) fn new(after: Option<Duration>, fut: F, clock: &'a ClockHandle) -> Self {
        Self {
            fut,
            timer: None,
            after,
            started: if after.is_some() { clock.now() } else { 0 },
            clock,
        }
    }
}

/// The limit (its value inside) ran out before the future was ready.
#[derive(Debug)]
pub(crate) struct Elapsed(pub(crate) Duration);

impl<F: Future> Future for Within<'_, F> {
    type Output = Result<F::Output, Elapsed>;

    // Inlined into the attempt: the inner poll is the whole cost of an
    // attempt that is ready at once; the timer is out of line.
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.fut.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match *this.after {
            None => Poll::Pending,
            Some(after) => wait(this.timer, after, *this.started, this.clock, cx).map(Err),
        }
    }
}

/// The limit's timer, started at the first wait: `after` from `started`,
/// less what the attempt spent before it.
#[inline(never)]
fn wait(
    mut timer: Pin<&mut Option<Sleep>>,
    after: Duration,
    started: Nanos,
    clock: &ClockHandle,
    cx: &mut Context<'_>,
) -> Poll<Elapsed> {
    if timer.is_none() {
        // Less one tick of a coarse clock: the limit may end up to a tick
        // late, never early.
        let spent = clock
            .now()
            .saturating_sub(started)
            .saturating_sub(clock.resolution());
        timer.set(Some(tokio::time::sleep(
            after.saturating_sub(Duration::from_nanos(spent)),
        )));
    }
    match timer.as_pin_mut() {
        Some(timer) => timer.poll(cx).map(|()| Elapsed(after)),
        None => Poll::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn r56_time_spent_before_the_first_wait_counts_toward_the_limit() {
        let manual = ManualClock::new();
        let clock = ClockHandle::from_clock(manual.clone());
        let started = tokio::time::Instant::now();
        let work = async {
            manual.advance(MS * 40); // 40 ms of work before the first wait
            tokio::time::sleep(MS * 100).await;
        };
        assert!(Within::new(Some(MS * 100), work, &clock).await.is_err());
        assert_eq!(started.elapsed(), MS * 60);
    }

    #[tokio::test(start_paused = true)]
    async fn r56_a_future_ready_at_once_never_starts_the_timer_and_wins() {
        let clock = ClockHandle::default_clock();
        let within = Within::new(Some(MS), async { 7 }, &clock);
        let mut within = std::pin::pin!(within);
        let out = std::future::poll_fn(|cx| {
            let r = within.as_mut().poll(cx);
            assert!(within.as_mut().project().timer.is_none());
            r
        })
        .await;
        assert_eq!(out.unwrap(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn r56_without_a_limit_the_future_runs_as_long_as_it_takes() {
        let clock = ClockHandle::default_clock();
        let slow = tokio::time::sleep(Duration::from_secs(3600));
        assert!(Within::new(None, slow, &clock).await.is_ok());
    }
}
