//! Every `#[fallback(..)]` function gets a companion `<fn>_served` that says
//! which tier served the call. Used or not, documented or not, it adds no
//! warning: free functions, methods, `error = from`, generics and `mut`
//! arguments.
#![deny(warnings, missing_docs)]
use cb_tiers::{ChainError, Served, circuit_breaker, fallback};

/// The error.
#[derive(Debug)]
pub struct AiError;

impl From<ChainError<AiError>> for AiError {
    fn from(_: ChainError<AiError>) -> Self {
        AiError
    }
}

/// Tier 1.
#[fallback(ask_gpt)]
#[circuit_breaker(name = "served.claude")]
pub async fn ask_claude(mut prompt: String) -> Result<String, AiError> {
    prompt.push('!');
    Ok(prompt)
}

/// Tier 2.
pub async fn ask_gpt(prompt: String) -> Result<String, AiError> {
    Ok(prompt)
}

/// Private, unused: its companion is not dead code either.
#[fallback(ask_gpt)]
async fn unused(prompt: String) -> Result<String, AiError> {
    Ok(prompt)
}

/// The declared `Result` kept.
#[fallback(ask_gpt)]
#[circuit_breaker(error = from)]
pub async fn kept(prompt: String) -> Result<String, AiError> {
    Ok(prompt)
}

/// Generic.
#[fallback(echo_too)]
pub async fn echo<T: Clone>(value: T) -> Result<T, AiError> {
    Ok(value)
}

/// Tier 2 of `echo`.
pub async fn echo_too<T: Clone>(value: T) -> Result<T, AiError> {
    Ok(value)
}

/// `impl Trait` arguments and results.
#[fallback(show_too)]
pub async fn show(value: impl std::fmt::Display + Clone) -> Result<impl std::fmt::Display, AiError> {
    Ok(value.to_string())
}

/// Tier 2 of `show`.
pub async fn show_too(value: impl std::fmt::Display + Clone) -> Result<String, AiError> {
    Ok(format!("too: {value}"))
}

/// A client.
pub struct Ai;

impl Ai {
    /// Tier 1, a method.
    #[fallback(Self::backup)]
    pub async fn ask(&self, prompt: &str) -> Result<String, AiError> {
        Ok(prompt.to_owned())
    }

    async fn backup(&self, prompt: &str) -> Result<String, AiError> {
        Ok(prompt.to_owned())
    }
}

fn main() {
    let _: &dyn Fn(String) -> _ = &ask_claude_served;
    let _ = async {
        let served: Served<String> = ask_claude_served("hi".into()).await.unwrap();
        let _: (usize, String) = (served.tier, served.value);
        let _: Result<Served<String>, AiError> = kept_served("hi".into()).await;
        let _: Result<String, AiError> = kept("hi".into()).await;
        let _: Result<Served<u8>, ChainError<AiError>> = echo_served(1u8).await;
        let _: Result<Served<String>, ChainError<AiError>> = Ai.ask_served("hi").await;
        let _: Result<String, ChainError<AiError>> = Ai.ask("hi").await;
        let _ = show_served(1).await.map(|served| served.value.to_string());
    };
    fn send<T: Send>(_: T) {}
    send(ask_claude_served("hi".into()));
    send(ask_claude("hi".into()));
    send(Ai.ask("hi"));
}
