//! Arguments that agree with a `template!` constant, its environments and
//! its built-in base compile, and so does a template that refines its base
//! within the base's rules.
use cb_core::{bulkhead, circuit_breaker, retry, template};

template! {
    pub const CHAT = { base = "ai_provider", call_timeout = "90s", production(call_timeout = "45s") };
}

template! {
    pub const PAYMENTS = { base = "external_api", retry(max_delay = "2s") };
}

#[derive(Debug)]
pub struct AiError;

#[circuit_breaker(template = CHAT, call_timeout = "40s")]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

#[circuit_breaker(template = CHAT)]
#[bulkhead(queue_timeout = "20s")]
#[retry(base_delay = "1s", max_elapsed = "2m")]
async fn summarize(text: String) -> Result<String, AiError> {
    Ok(text)
}

#[circuit_breaker(template = PAYMENTS, environment = "staging")]
#[retry(base_delay = "500ms")]
async fn charge(cents: u64) -> Result<u64, AiError> {
    Ok(cents)
}

fn main() {
    let _ = ask("hi");
    let _ = summarize(String::new());
    let _ = charge(1);
}
