use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker(template = "ai_provider", retry = true)]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
