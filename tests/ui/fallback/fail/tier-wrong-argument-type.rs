use cb_tiers::{circuit_breaker, fallback};

#[derive(Debug)]
struct AiError;

#[fallback(ask_gpt)]
#[circuit_breaker]
async fn ask_claude(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

async fn ask_gpt(tokens: u32) -> Result<String, AiError> {
    Ok(tokens.to_string())
}

fn main() {}
