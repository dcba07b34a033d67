//! `#[timeout]` folds into the breaker's arguments, so it meets the
//! template's rules too: 20s is below `ai_provider`'s 30s slow-call threshold.
use cb_core::{circuit_breaker, timeout};

#[derive(Debug)]
struct AiError;

#[circuit_breaker(template = "ai_provider")]
#[timeout("20s")]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
