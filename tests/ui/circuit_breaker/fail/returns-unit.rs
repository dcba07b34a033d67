use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker()]
fn ping() {
    
}

fn main() {}
