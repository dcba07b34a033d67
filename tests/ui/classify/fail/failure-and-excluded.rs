use cb_core::Classify;

#[derive(Debug, Classify)]
enum ApiError {
    #[classify(failure, excluded)]
    Unavailable,
}

fn main() {}
