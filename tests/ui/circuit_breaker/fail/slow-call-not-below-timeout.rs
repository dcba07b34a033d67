use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker(slow_call_duration_threshold = "30s", call_timeout = "10s")]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
