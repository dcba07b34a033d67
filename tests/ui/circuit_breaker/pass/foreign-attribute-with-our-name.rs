//! Only our own `#[timeout]`, `#[retry]`, `#[bulkhead]` and `#[fallback]`
//! fold into `#[circuit_breaker]`: written bare or under `cb_core::` /
//! `cb_tiers::`. Another crate's attribute whose path merely ends the same
//! way (such as `ntest::timeout`; here the `rustfmt` tool's, which rustc
//! accepts) stays on the function for its owner, untouched.
use cb_core::{circuit_breaker, timeout};

#[derive(Debug)]
pub struct AiError;

// Taken as ours, `timeout(100)` would be an error twice over: a call timeout
// needs a unit, and a blocking `fn` cannot have one.
#[circuit_breaker(name = "foreign-timeout")]
#[rustfmt::timeout(100)]
fn blocking(x: u32) -> Result<u32, AiError> {
    Ok(x)
}

// Ours and theirs side by side: only ours becomes stages.
#[circuit_breaker(name = "both")]
#[rustfmt::timeout(100)]
#[timeout("5s")]
#[rustfmt::retry]
#[cb_core::retry(max_attempts = 2)]
async fn both(x: u32) -> Result<u32, AiError> {
    Ok(x)
}

fn main() {
    let wrapped: Result<u32, cb_core::Error<AiError>> = blocking(1);
    assert_eq!(wrapped.unwrap(), 1);
    let _ = both(1);
}
