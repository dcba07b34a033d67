use cb_core::circuit_breaker;

#[derive(Debug)]
enum StoreError {
    NotFound,
}

#[circuit_breaker(classify(excluded = ["NotFound"]))]
fn get(key: &str) -> Result<String, StoreError> {
    if key.is_empty() { Err(StoreError::NotFound) } else { Ok(key.to_owned()) }
}

fn main() {}
