//! `#[derive(Classify)]`: unit, struct and tuple variants, every flag, generics.
use cb_core::{Classify, Outcome};
use std::time::Duration;

#[derive(Debug, Classify)]
pub enum ApiError {
    #[classify(failure)]
    Unavailable,
    #[classify(failure, retry_after = wait)]
    RateLimited { wait: Duration },
    #[classify(failure, retryable = false, retry_after = 1)]
    Throttled(u16, Option<Duration>),
    #[classify(failure, retryable)]
    Timeout,
    #[classify(excluded)]
    NotFound { id: u64 },
}

#[derive(Debug, Classify)]
#[classify(crate = "cb_core")]
pub enum Wrapped<E> {
    #[classify(failure)]
    Io(E),
    #[classify(excluded, retryable = false)]
    Invalid,
}

fn main() {
    assert_eq!(ApiError::NotFound { id: 1 }.outcome(), Outcome::Excluded);
    assert!(!ApiError::Throttled(429, None).retryable());
    assert_eq!(ApiError::RateLimited { wait: Duration::from_secs(1) }.retry_after(), Some(Duration::from_secs(1)));
    assert!(Wrapped::Io(()).retryable());
}
