use cb_core::Classify;

#[derive(Debug, Classify)]
enum ApiError {
    #[classify(failure, retry_after = seconds)]
    RateLimited { seconds: u64 },
}

fn main() {}
