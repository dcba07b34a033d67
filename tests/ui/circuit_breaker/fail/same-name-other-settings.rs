//! Two functions naming one breaker share it: declared with different
//! settings, one of them would run with settings it did not ask for.
use cb_core::circuit_breaker;

#[derive(Debug)]
struct PayError;

#[circuit_breaker(name = "payments", failure_threshold = 3)]
fn charge(cents: u64) -> Result<u64, PayError> {
    Ok(cents)
}

#[circuit_breaker(name = "payments", failure_threshold = 5)]
fn refund(cents: u64) -> Result<u64, PayError> {
    Ok(cents)
}

fn main() {}
