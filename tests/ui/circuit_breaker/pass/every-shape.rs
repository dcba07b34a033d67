//! Every function shape `#[circuit_breaker]` wraps.
use cb_core::rescue::Cause;
use cb_core::{Error, circuit_breaker};
use std::fmt::Display;

#[derive(Debug)]
pub struct AiError;

#[circuit_breaker(name = "claude", template = "ai_provider", environment = "production",
                  failure_threshold = 2, open_duration = "30s", rescue = cached_answer)]
async fn ask_claude(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn cached_answer(_cause: &Cause<'_, AiError>) -> Result<String, AiError> {
    Ok("cached".into())
}

#[circuit_breaker]
fn blocking(x: u32) -> Result<u32, AiError> {
    if x == 0 {
        return Err(AiError);
    }
    Ok(x)
}

#[circuit_breaker(failure_rate_threshold = 0.4, slow_call_rate_threshold = 1, sliding_window_size = 20,
                  minimum_calls = 5, slow_call_duration_threshold = "2s", call_timeout = "5s",
                  circuit_type = "adaptive", open_duration_multiplier = 2, max_open_duration = "10m",
                  half_open_max_wait = "1m", success_threshold = 2, half_open_max_calls = 1,
                  service_category = "ai", priority = 1)]
async fn every_field() -> Result<(), AiError> {
    Ok(())
}

#[circuit_breaker]
async fn generic<T: Clone + Send, U>(value: T, other: U) -> Result<(T, U), AiError> {
    Ok((value, other))
}

#[circuit_breaker]
async fn impl_trait(label: impl Display) -> Result<impl Display, AiError> {
    Ok(format!("<{label}>"))
}

#[circuit_breaker]
async fn question_mark(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

pub struct Client;

impl Client {
    #[circuit_breaker(name = "client.get")]
    pub async fn get(&self, id: u64) -> Result<u64, AiError> {
        Ok(id)
    }

    #[circuit_breaker(name = "client.consume")]
    pub async fn consume(self) -> Result<(), AiError> {
        Ok(())
    }

    #[circuit_breaker(name = "client.mutate")]
    pub fn mutate(&mut self) -> Result<(), AiError> {
        Ok(())
    }
}

#[circuit_breaker(crate = "cb_core")]
async fn renamed_crate() -> Result<(), AiError> {
    Ok(())
}

#[circuit_breaker(crate = "::cb_core", error = wrap)]
async fn explicit_default() -> Result<(), AiError> {
    Ok(())
}

#[derive(Debug)]
pub enum AppError {
    Breaker(String),
}
impl From<Error<AppError>> for AppError {
    fn from(e: Error<AppError>) -> Self {
        AppError::Breaker(format!("{e:?}"))
    }
}

#[circuit_breaker(error = from)]
async fn keeps_signature() -> Result<u8, AppError> {
    Ok(1)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let _: Result<String, Error<AiError>> = ask_claude("hi").await;
    let _: Result<u32, Error<AiError>> = blocking(1);
    let _ = every_field().await;
    let _ = generic(1u8, "x").await;
    let _ = impl_trait(3).await.map(|d| d.to_string());
    let _ = question_mark("3").await;
    let _ = Client.get(1).await;
    let _ = Client.mutate();
    let _ = Client.consume().await;
    let _ = renamed_crate().await;
    let _ = explicit_default().await;
    let _: Result<u8, AppError> = keeps_signature().await;
}
