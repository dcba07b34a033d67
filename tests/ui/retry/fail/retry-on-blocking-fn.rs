use cb_core::{circuit_breaker, retry};

#[derive(Debug)]
struct AiError;

#[circuit_breaker]
#[retry(max_attempts = 3)]
fn ask(prompt: String) -> Result<String, AiError> {
    Ok(prompt)
}

fn main() {}
