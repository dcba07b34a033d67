//! `ai_provider` caps a retry's delay at 30s: a first delay of a minute
//! cannot be below its own cap.
use cb_core::{circuit_breaker, retry};

#[derive(Debug)]
struct AiError;

#[circuit_breaker(template = "ai_provider")]
#[retry(base_delay = "1m", max_elapsed = "5m")]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
