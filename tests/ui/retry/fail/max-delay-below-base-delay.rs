use cb_core::{circuit_breaker, retry};

#[derive(Debug)]
struct AiError;

#[circuit_breaker]
#[retry(base_delay = "1s", max_delay = "100ms")]
async fn ask(prompt: String) -> Result<String, AiError> {
    Ok(prompt)
}

fn main() {}
