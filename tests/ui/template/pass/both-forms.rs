//! `template!` in both forms, a template based on another, and its use by path.
use cb_core::{circuit_breaker, template};

template! {
    /// Payments: strict.
    pub const PAYMENTS = { base = "external_api", failure_threshold = 2, open_duration = "15s",
                           retry(max_attempts = 2, base_delay = "50ms"), call_timeout = "5s" };
}

template! { name = "ledger", base = PAYMENTS, success_threshold = 3 }

#[derive(Debug)]
pub struct PayError;

#[circuit_breaker(template = PAYMENTS)]
async fn charge(cents: u64) -> Result<u64, PayError> {
    Ok(cents)
}

#[circuit_breaker(template = LEDGER, environment = "staging")]
fn post() -> Result<(), PayError> {
    Ok(())
}

fn main() {
    assert_eq!(PAYMENTS.name, "payments");
    assert_eq!(LEDGER.base, Some("payments"));
    let _ = charge(1);
    let _ = post();
}
