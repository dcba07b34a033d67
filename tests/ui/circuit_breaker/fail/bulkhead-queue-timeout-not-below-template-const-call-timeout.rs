//! `PAYMENTS` gives each call 5s in production: a 5s queue wait there
//! leaves the call no time.
use cb_core::{bulkhead, circuit_breaker, template};

template! {
    pub const PAYMENTS = { base = "external_api", production(call_timeout = "5s") };
}

#[derive(Debug)]
struct PayError;

#[circuit_breaker(template = PAYMENTS)]
#[bulkhead(queue_timeout = "5s")]
async fn charge(cents: u64) -> Result<u64, PayError> {
    Ok(cents)
}

fn main() {}
