use cb_core::retry;

#[derive(Debug)]
struct AiError;

#[retry(max_attempts = 3)]
async fn ask(prompt: String) -> Result<String, AiError> {
    Ok(prompt)
}

fn main() {}
