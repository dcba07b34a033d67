use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker(failure_threshold = 0)]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
