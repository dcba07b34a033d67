//! `#[retry]`, `#[bulkhead]` and `#[timeout]` compose in the R61 order
//! whichever side of `#[circuit_breaker]` they are written on.
use cb_core::{bulkhead, circuit_breaker, retry, timeout};

#[derive(Debug)]
pub struct AiError;

#[retry(max_attempts = 3, base_delay = "100ms", max_elapsed = "30s", jitter = "equal")]
#[circuit_breaker(template = "ai_provider")]
#[timeout("40s")]
#[bulkhead(max_concurrent_calls = 4, queue_timeout = "0s")]
async fn above_and_below(prompt: String) -> Result<String, AiError> {
    Ok(prompt)
}

#[circuit_breaker(template = "external_api")]
#[bulkhead(max_concurrent_calls = 8, isolation_pool_name = "shared")]
#[retry(max_attempts = 2, retry_rejections = true, respect_retry_after = true)]
async fn all_below(id: u64, tag: &'static str) -> Result<String, AiError> {
    Ok(format!("{tag}{id}"))
}

#[circuit_breaker(retry(max_attempts = 2), call_timeout = "1s", bulkhead(max_concurrent_calls = 2))]
async fn inline(id: u64) -> Result<u64, AiError> {
    Ok(id)
}

fn main() {
    let _ = above_and_below(String::new());
    let _ = all_below(1, "a");
    let _ = inline(1);
}
