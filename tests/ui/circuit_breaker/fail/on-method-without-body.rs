use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

trait Ai {
    #[circuit_breaker]
    fn ask(&self) -> Result<String, AiError>;
}

fn main() {}
