use cb_core::{circuit_breaker, retry};

#[derive(Debug)]
struct AiError;

#[circuit_breaker]
#[retry(max_attempts = 2)]
async fn ask((a, b): (u32, u32)) -> Result<u32, AiError> {
    Ok(a + b)
}

fn main() {}
