use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker(recovery_timeout = "1m")]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
