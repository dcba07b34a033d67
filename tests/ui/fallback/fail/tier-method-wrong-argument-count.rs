//! A method's tier is reported at its whole path, `Self::backup`.
use cb_tiers::{circuit_breaker, fallback};

#[derive(Debug)]
struct AiError;

struct Ai;

impl Ai {
    #[fallback(Self::backup)]
    #[circuit_breaker]
    async fn ask(&self, prompt: String) -> Result<String, AiError> {
        Ok(prompt)
    }

    async fn backup(&self) -> Result<String, AiError> {
        Ok(String::new())
    }
}

fn main() {
    let _ = Ai.ask(String::new());
}
