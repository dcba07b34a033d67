//! `PAYMENTS` caps a retry's delay at 2s: a first delay of 5s is above it.
use cb_core::{circuit_breaker, retry, template};

template! {
    pub const PAYMENTS = { base = "external_api", retry(max_delay = "2s") };
}

#[derive(Debug)]
struct PayError;

#[circuit_breaker(template = PAYMENTS)]
#[retry(base_delay = "5s")]
async fn charge(cents: u64) -> Result<u64, PayError> {
    Ok(cents)
}

fn main() {}
