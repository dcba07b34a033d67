use cb_core::Classify;

#[derive(Debug, Classify)]
enum ApiError {
    #[classify(failure, retry_after = wiat)]
    RateLimited { wait: std::time::Duration },
}

fn main() {}
