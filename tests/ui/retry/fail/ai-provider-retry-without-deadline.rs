use cb_core::{circuit_breaker, retry};

#[derive(Debug)]
struct AiError;

#[circuit_breaker(template = "ai_provider")]
#[retry(max_attempts = 3)]
async fn ask(prompt: String) -> Result<String, AiError> {
    Ok(prompt)
}

fn main() {}
