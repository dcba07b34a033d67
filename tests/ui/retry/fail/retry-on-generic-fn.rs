use cb_core::{circuit_breaker, retry};

#[derive(Debug)]
struct AiError;

#[circuit_breaker]
#[retry(max_attempts = 3)]
async fn ask<T: Clone>(prompt: T) -> Result<T, AiError> {
    Ok(prompt)
}

fn main() {}
