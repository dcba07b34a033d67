use cb_core::Classify;

#[derive(Debug, Classify)]
enum ApiError {
    #[classify(failed)]
    Unavailable,
}

fn main() {}
