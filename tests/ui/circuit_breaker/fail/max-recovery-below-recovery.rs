use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker(recovery_timeout = "60s", max_recovery_timeout = "30s")]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
