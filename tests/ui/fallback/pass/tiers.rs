//! `#[fallback(..)]`: free functions and methods, with or without a
//! `#[circuit_breaker]` on tier 1, in either attribute order.
use cb_tiers::{ChainError, circuit_breaker, fallback};

#[derive(Debug)]
pub struct AiError;

#[fallback(ask_gpt, ask_local)]
#[circuit_breaker(template = "ai_provider")]
async fn ask_claude(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

#[circuit_breaker(name = "claude2")]
#[fallback(ask_local)]
async fn ask_claude_2(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

#[fallback(self::ask_local)]
async fn alone(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

async fn ask_gpt(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

async fn ask_local(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

pub struct Ai {
    pub model: String,
}

impl Ai {
    #[fallback(Self::backup)]
    #[circuit_breaker(name = "ai.primary")]
    pub async fn ask(&self, prompt: String) -> Result<String, AiError> {
        Ok(format!("{}: {prompt}", self.model))
    }

    async fn backup(&self, prompt: String) -> Result<String, AiError> {
        Ok(prompt)
    }
}

fn main() {
    let _: &dyn Fn(&'static str) -> _ = &ask_claude;
    let _ = ask_claude_2("x");
    let _ = alone("x");
    let ai = Ai { model: "m".into() };
    let _fut = ai.ask("x".into());
    let _: Option<ChainError<AiError>> = None;
}
