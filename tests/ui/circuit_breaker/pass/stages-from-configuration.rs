//! Stages the resolved configuration enables need no attribute; each can be
//! switched off, and `#[timeout]` alone adopts the resolved duration. Shapes
//! a pipeline cannot carry (blocking, generic, borrowed results, `Self`,
//! arguments that are patterns or not `Clone`) still compile.
use cb_core::{circuit_breaker, timeout};

#[derive(Debug)]
pub struct AiError;

/// Not `Clone`: retries the configuration enables are reported, not applied.
pub struct Ticket(u32);

#[circuit_breaker(template = "ai_provider")]
async fn from_the_template(prompt: String, mut n: u32, ticket: Ticket) -> Result<String, AiError> {
    n += ticket.0;
    Ok(format!("{prompt}{n}"))
}

#[circuit_breaker(template = "ai_provider", retry = false, call_timeout = false, bulkhead = false)]
async fn all_off(prompt: &str) -> Result<String, AiError> {
    Ok(prompt.to_owned())
}

#[circuit_breaker(template = "ai_provider", retry = false)]
async fn pattern((a, b): (u32, u32)) -> Result<u32, AiError> {
    Ok(a + b)
}

#[circuit_breaker(template = "ai_provider")]
#[timeout]
async fn resolved_timeout(id: u64) -> Result<u64, AiError> {
    Ok(id)
}

#[circuit_breaker(template = "ai_provider")]
fn blocking(x: u32) -> Result<u32, AiError> {
    Ok(x)
}

#[circuit_breaker(template = "ai_provider")]
async fn borrowed(s: &str) -> Result<&str, AiError> {
    Ok(s)
}

pub struct Client<T>(T);

impl<T: Clone + Send + Sync> Client<T> {
    #[circuit_breaker(template = "ai_provider")]
    async fn get(&self) -> Result<u32, AiError> {
        Ok(1)
    }

    #[circuit_breaker(template = "ai_provider")]
    async fn own(&self) -> Result<Self, AiError> {
        Ok(Client(self.0.clone()))
    }

    #[circuit_breaker(template = "ai_provider")]
    async fn consume(self) -> Result<u32, AiError> {
        Ok(2)
    }
}

fn main() {
    let _ = from_the_template(String::new(), 1, Ticket(2));
    let _ = all_off("a");
    let _ = pattern((1, 2));
    let _ = resolved_timeout(1);
    let _ = blocking(1);
    let _ = borrowed("b");
    let c = Client(1u8);
    let _ = c.get();
    let _ = c.own();
    let _ = Client(2u8).consume();
}
