use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

const LIMIT: u32 = 3;

#[circuit_breaker(template = LIMIT)]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
