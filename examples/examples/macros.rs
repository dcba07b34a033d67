//! The macros end to end: a breaker with a rescue value, a function with
//! fallback tiers, a tiered trait, a checked template, a derived
//! classification, and the inventory of every declared breaker.
//!
//! `cargo run -p cb-examples --example macros` (paused tokio time: the
//! 30-second open period passes instantly).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cb_core::rescue::Cause;
use cb_tiers::{Classify, circuit_breaker, fallback, template, tiered};

/// What can go wrong calling an AI provider.
#[derive(Debug, Clone, Classify)]
enum AiError {
    /// The provider is overloaded: counts against it, worth retrying.
    #[classify(failure)]
    Overloaded,
    /// Rate limited: a failure, with the provider's wait hint.
    #[classify(failure, retry_after = wait)]
    RateLimited { wait: Duration },
    /// The prompt was refused: the caller's problem, neutral for the breaker.
    #[classify(excluded)]
    Refused,
}

impl std::fmt::Display for AiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for AiError {}

static CLAUDE_UP: AtomicBool = AtomicBool::new(false);

template! {
    /// Our own provider template, checked when this example compiles.
    pub const LLM = { base = "ai_provider", success_threshold = 1, minimum_calls = 2 };
}

// `ai_provider` (LLM's base) also retries; `retry = false` keeps one attempt
// per call so each answer below shows its own cause.
#[circuit_breaker(name = "claude", template = LLM, failure_threshold = 2, open_duration = "30s",
                  circuit_type = "count_based", rescue = cached_answer, retry = false)]
async fn ask_claude(prompt: &str) -> Result<String, AiError> {
    if prompt.is_empty() {
        return Err(AiError::Refused);
    }
    if CLAUDE_UP.load(Ordering::SeqCst) {
        Ok(format!("claude: {prompt}"))
    } else {
        Err(AiError::Overloaded)
    }
}

fn cached_answer(cause: &Cause<'_, AiError>) -> Result<String, AiError> {
    Ok(format!("cached answer (because {:?})", cause.kind()))
}

#[fallback(ask_gpt, ask_local)]
#[circuit_breaker(
    name = "claude-tiered",
    circuit_type = "count_based",
    failure_threshold = 1,
    open_duration = "30s"
)]
async fn ask_any(prompt: &str) -> Result<String, AiError> {
    if CLAUDE_UP.load(Ordering::SeqCst) {
        Ok(format!("claude: {prompt}"))
    } else {
        Err(AiError::Overloaded)
    }
}

async fn ask_gpt(_prompt: &str) -> Result<String, AiError> {
    Err(AiError::RateLimited {
        wait: Duration::from_secs(5),
    })
}

async fn ask_local(prompt: &str) -> Result<String, AiError> {
    Ok(format!("local model: {prompt}"))
}

#[tiered]
trait Accounts {
    async fn get_account(&self, id: u64) -> Result<String, AiError>;
}

struct Primary;
struct Replica;

impl Accounts for Primary {
    async fn get_account(&self, _id: u64) -> Result<String, AiError> {
        Err(AiError::Overloaded)
    }
}

impl Accounts for Replica {
    async fn get_account(&self, id: u64) -> Result<String, AiError> {
        Ok(format!("account {id} (from the replica)"))
    }
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("declared before any call:");
    for d in cb_core::registry::declared() {
        println!(
            "  {:<16} template {:<12} policies {:?} tiers {:?}",
            d.name,
            d.template.unwrap_or("-"),
            d.policies,
            d.tiers
        );
    }

    println!("\n#[circuit_breaker] with a rescue value:");
    for prompt in ["hello", "", "again", "once more"] {
        let answer = ask_claude(prompt).await;
        println!("  ask_claude({prompt:?}) -> {answer:?}");
    }

    println!("\n#[fallback(ask_gpt, ask_local)]:");
    println!("  {:?}", ask_any("hi").await?);
    println!(
        "  claude is open now, skipped without a call: {:?}",
        ask_any("hi").await?
    );
    CLAUDE_UP.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(30)).await;
    println!(
        "  30 s later claude is probed first and serves: {:?}",
        ask_any("hi").await?
    );

    println!("\n#[tiered] trait:");
    let client = accounts_tiered((Primary, Replica))
        .tier("primary")
        .tier("replica")
        .build()?;
    println!("  {}", client.get_account(7).await.map_err(|e| e.to_string())?);
    Ok(())
}
