use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker(circuit_type = "count_based", failure_rate_threshold = 0.5)]
async fn ask(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

fn main() {}
