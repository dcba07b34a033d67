//! An argument error is the only error: the function keeps the signature
//! its callers expect (`Result<T, cb_tiers::ChainError<E>>`), and so does its
//! companion `lookup_served`, so the callers below, written against them, add
//! none.
use cb_tiers::{ChainError, Served, circuit_breaker, fallback};

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

async fn caller_served() -> Result<Served<u32>, ChainError<ApiError>> {
    lookup_served(1).await
}

fn main() {
    let _ = caller();
    let _ = caller_served();
}
