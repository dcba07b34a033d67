use cb_tiers::{circuit_breaker, fallback};

#[derive(Debug)]
struct AiError;

fn cached(_: &cb_core::rescue::Cause<'_, AiError>) -> Result<String, AiError> {
    Ok(String::new())
}

async fn ask_gpt(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

#[fallback(ask_gpt)]
#[circuit_breaker(rescue = cached)]
async fn ask_claude(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
