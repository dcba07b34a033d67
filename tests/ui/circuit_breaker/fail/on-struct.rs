use cb_core::circuit_breaker;

#[derive(Debug)]
struct AiError;

#[circuit_breaker(name = "x")]
struct Client;

fn main() {}
