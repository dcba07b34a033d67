use cb_tiers::fallback;

#[derive(Debug)]
struct AiError;

#[fallback(ask_gpt, ask_gpt)]
async fn ask_claude(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

async fn ask_gpt(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
