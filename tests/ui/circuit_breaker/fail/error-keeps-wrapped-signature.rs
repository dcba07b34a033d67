//! An argument error is the only error: the function keeps the signature
//! its callers expect (`Result<T, cb_core::Error<E>>`), so the caller
//! below, written against it, adds none.
use cb_core::circuit_breaker;

#[derive(Debug)]
pub struct ApiError;

#[circuit_breaker(failure_threshold = "three")]
async fn lookup(id: u32) -> Result<u32, ApiError> {
    Ok(id)
}

async fn caller() -> Result<u32, cb_core::Error<ApiError>> {
    lookup(1).await
}

fn main() {
    let _ = caller();
}
