use cb_core::{circuit_breaker, timeout};

#[derive(Debug)]
struct AiError;

#[circuit_breaker]
#[timeout(5)]
async fn ask(prompt: String) -> Result<String, AiError> {
    Ok(prompt)
}

fn main() {}
