//! Arguments that refine a built-in template within its rules compile:
//! a call timeout above its slow-call threshold, a retry delay below its
//! cap, a queue wait below its call timeout, a preset's own values.
use cb_core::{bulkhead, circuit_breaker, retry, timeout};

#[derive(Debug)]
pub struct AiError;

#[circuit_breaker(template = "ai_provider", call_timeout = "45s")]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

#[circuit_breaker(template = "ai_provider")]
#[timeout("40s")]
#[retry(base_delay = "2s", max_elapsed = "2m")]
#[bulkhead(queue_timeout = "5s")]
async fn summarize(text: String) -> Result<String, AiError> {
    Ok(text)
}

#[circuit_breaker(template = "groq", call_timeout = "12s")]
async fn fast(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

#[circuit_breaker(template = "mcp_server", failure_threshold = 3)]
fn run_tool(id: u64) -> Result<u64, AiError> {
    Ok(id)
}

fn main() {
    let _ = ask("hi");
    let _ = summarize(String::new());
    let _ = fast("hi");
    let _ = run_tool(1);
}
