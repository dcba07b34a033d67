use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker()]
fn read() -> std::io::Result<u32> {
    Ok(1)
}

fn main() {}
