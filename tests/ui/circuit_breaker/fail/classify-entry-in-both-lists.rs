use cb_core::circuit_breaker;

#[derive(Debug, cb_core::Classify)]
enum StoreError {
    #[classify(failure)]
    NotFound,
}

#[circuit_breaker(classify(failure = ["5xx", "NotFound"], excluded = ["NotFound"]))]
fn get(key: &str) -> Result<String, StoreError> {
    Ok(key.to_owned())
}

fn main() {}
