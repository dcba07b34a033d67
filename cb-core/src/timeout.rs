//! Timeouts: a call that takes too long is dropped and reported as
//! [`Error::Timeout`] (R55–R57).
//!
//! Dropping the future is how a tokio timeout cancels (R56): work that
//! never yields (blocking code) cannot be interrupted and may overrun; run it
//! with `spawn_blocking`. A future that is ready at the deadline wins.
//! Dropping the timed call yourself before the deadline is a cancellation,
//! not a timeout (R57).

use std::time::Duration;

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
