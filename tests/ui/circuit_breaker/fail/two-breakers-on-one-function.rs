//! Two `#[circuit_breaker]` on one function would nest into
//! `Error<Error<E>>`: one breaker per function.
use cb_core::circuit_breaker;

#[derive(Debug)]
pub struct ApiError;

#[circuit_breaker(name = "outer")]
#[circuit_breaker(name = "inner")]
async fn twice() -> Result<u32, ApiError> {
    Ok(1)
}

fn main() {
    let _ = twice();
}
