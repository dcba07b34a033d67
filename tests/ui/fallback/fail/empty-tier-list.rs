use cb_tiers::fallback;

#[derive(Debug)]
struct AiError;

#[fallback()]
async fn ask_claude(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
