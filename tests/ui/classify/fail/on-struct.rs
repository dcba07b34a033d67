use cb_core::Classify;

#[derive(Debug, Classify)]
struct ApiError;

fn main() {}
