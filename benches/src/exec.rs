//! The minimal executor used to drive async-only peers from a synchronous loop.
//!
//! [`block_on`] pins the future on the stack and polls it with
//! [`Waker::noop`] until it is ready: no runtime, no thread parking, no
//! allocation, no reference counting of a waker. Every future the benches
//! drive is ready on its first poll when one thread runs; under two-thread
//! contention a future that returns `Pending` (a contended `tokio::sync::Mutex`)
//! is simply polled again, i.e. the executor spins instead of parking.
//!
//! What it adds per call is measured on its own as the `exec-baseline`
//! subject: the same executor around a bare `tower::service_fn` service.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls `fut` to completion on the current thread with a no-op waker.
///
/// ```
/// assert_eq!(cb_bench::exec::block_on(async { 7 }), 7);
/// ```
#[inline]
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::hint::spin_loop();
    }
}
