use cb_core::Classify;

#[derive(Debug, Classify)]
enum ApiError {
    #[classify(excluded, retryable)]
    NotFound,
}

fn main() {}
