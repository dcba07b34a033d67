//! `timeout`, statuses and classes need no `Classify` on the error type.
use cb_core::circuit_breaker;

#[derive(Debug)]
pub struct StoreError;

#[circuit_breaker(classify(failure = ["5xx"], excluded = ["timeout", 404]))]
fn get(key: &str) -> Result<String, StoreError> {
    Ok(key.to_owned())
}

fn main() {
    let _ = get("k");
}
