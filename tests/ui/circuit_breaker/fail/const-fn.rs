use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker()]
const fn one() -> Result<u32, AiError> {
    Ok(1)
}

fn main() {}
