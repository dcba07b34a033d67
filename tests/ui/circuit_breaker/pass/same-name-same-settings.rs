//! Two functions may name one breaker when they declare the same settings:
//! they share it, as the registry does at run time.
use cb_core::circuit_breaker;

#[derive(Debug)]
pub struct PayError;

#[circuit_breaker(name = "payments", template = "external_api", failure_threshold = 3)]
fn charge(cents: u64) -> Result<u64, PayError> {
    Ok(cents)
}

#[circuit_breaker(name = "payments", template = "external_api", failure_threshold = 3)]
fn refund(cents: u64) -> Result<u64, PayError> {
    Ok(cents)
}

fn main() {
    let _ = charge(1);
    let _ = refund(1);
}
