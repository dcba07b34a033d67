use cb_core::circuit_breaker;
use cb_core::rescue::Cause;

#[derive(Debug)]
struct AiError;

fn cached(_: &Cause<'_, AiError>) -> Result<String, AiError> {
    Ok("cached".to_owned())
}

#[circuit_breaker(fallback = cached)]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
