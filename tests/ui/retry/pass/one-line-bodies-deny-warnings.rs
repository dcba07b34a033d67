//! One-line bodies under every function attribute compile without a
//! warning: the expansion adds no braces a lint would flag.
#![deny(warnings)]
use cb_core::{bulkhead, circuit_breaker, retry, timeout};

#[derive(Debug)]
pub struct ApiError;

#[circuit_breaker(name = "one_line_retried")]
#[retry(max_attempts = 3)]
async fn retried(x: u32) -> Result<u32, ApiError> { Ok(x) }

#[circuit_breaker(name = "one_line_bounded")]
#[bulkhead(max_concurrent_calls = 2)]
async fn bounded(x: u32) -> Result<u32, ApiError> { Ok(x) }

#[circuit_breaker(name = "one_line_deadline")]
#[timeout("1s")]
async fn deadline(x: u32) -> Result<u32, ApiError> { Ok(x) }

#[circuit_breaker]
async fn guarded(x: u32) -> Result<u32, ApiError> { Ok(x) }

#[circuit_breaker(name = "one_line_blocking")]
fn blocking(x: u32) -> Result<u32, ApiError> { Ok(x) }

fn main() {
    let _ = retried(1);
    let _ = bounded(1);
    let _ = deadline(1);
    let _ = guarded(1);
    let _ = blocking(1);
}
