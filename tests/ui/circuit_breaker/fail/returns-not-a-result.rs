use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker()]
async fn count() -> u32 {
    1
}

fn main() {}
