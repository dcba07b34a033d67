use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

struct Client;

#[circuit_breaker]
impl Client {
    fn get(&self) -> Result<u32, AiError> {
        Ok(1)
    }
}

fn main() {}
