use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

fn cached(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

#[circuit_breaker(rescue = cached)]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
