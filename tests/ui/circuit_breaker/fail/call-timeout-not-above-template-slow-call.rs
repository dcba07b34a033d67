//! `ai_provider` counts calls slower than 30s as slow: a 20s call timeout
//! cuts every call off before it could count, so the template's slow-call
//! detection would never trip.
use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker(template = "ai_provider", call_timeout = "20s")]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
