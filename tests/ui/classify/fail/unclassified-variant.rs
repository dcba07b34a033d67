use cb_core::Classify;

#[derive(Debug, Classify)]
enum ApiError {
    #[classify(failure)]
    Unavailable,
    NotFound,
}

fn main() {}
