//! An argument error is the only error: the function keeps the signature
//! its callers expect (`Result<T, cb_tiers::ChainError<E>>`), so the caller
//! below, written against it, adds none.
use cb_tiers::{ChainError, circuit_breaker, fallback};

#[derive(Debug)]
pub struct ApiError;

#[fallback(backup)]
#[circuit_breaker(open_duration = 30)]
async fn lookup(id: u32) -> Result<u32, ApiError> {
    Ok(id)
}

async fn backup(id: u32) -> Result<u32, ApiError> {
    Ok(id)
}

async fn caller() -> Result<u32, ChainError<ApiError>> {
    lookup(1).await
}

fn main() {
    let _ = caller();
}
