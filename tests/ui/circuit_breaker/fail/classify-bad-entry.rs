use cb_core::circuit_breaker;

#[derive(Debug, cb_core::Classify)]
enum StoreError {
    #[classify(failure)]
    NotFound,
}

#[circuit_breaker(classify(excluded = ["NotFound", "4XX"]))]
fn get(key: &str) -> Result<String, StoreError> {
    Ok(key.to_owned())
}

fn main() {}
