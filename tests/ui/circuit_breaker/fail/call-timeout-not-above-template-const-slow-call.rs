//! A `template!` constant's values are checked by const evaluation: `CHAT`
//! inherits `ai_provider`'s 30s slow-call threshold, which a 20s call
//! timeout would make unreachable.
use cb_core::{circuit_breaker, template};

template! {
    pub const CHAT = { base = "ai_provider", failure_threshold = 3 };
}

#[derive(Debug)]
struct AiError;

#[circuit_breaker(template = CHAT, call_timeout = "20s")]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
