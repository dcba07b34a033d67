use cb_tiers::fallback;

#[derive(Debug)]
struct AiError;

fn ask_gpt(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

#[fallback(ask_gpt)]
fn ask_claude(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
