//! `#[tiered]`: one routing implementation over ordered implementations of
//! a trait, one breaker per tier and method; `#[fallback]` calls that say
//! which tier served them; and `#[async_trait]` methods.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cb_core::config::Overrides;
use cb_core::{Error, State};
use cb_tiers::{circuit_breaker, fallback, tiered};

#[derive(Debug, Clone, PartialEq)]
struct Account(u64, &'static str);

#[derive(Debug, Clone, PartialEq)]
struct ApiError;

#[tiered]
trait Accounts {
    /// One account.
    async fn get_account(&self, id: u64) -> Result<Account, ApiError>;
    async fn ping(&self) -> Result<(), ApiError>;
}

struct Primary {
    up: bool,
    calls: AtomicU32,
}
struct Secondary;

impl Accounts for Primary {
    async fn get_account(&self, id: u64) -> Result<Account, ApiError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.up {
            Ok(Account(id, "primary"))
        } else {
            Err(ApiError)
        }
    }
    async fn ping(&self) -> Result<(), ApiError> {
        Ok(())
    }
}

impl Accounts for Secondary {
    async fn get_account(&self, id: u64) -> Result<Account, ApiError> {
        Ok(Account(id, "secondary"))
    }
    async fn ping(&self) -> Result<(), ApiError> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_tiered_client_fails_over_transparently_and_skips_an_open_tier() {
    let client = accounts_tiered((
        Primary {
            up: false,
            calls: AtomicU32::new(0),
        },
        Secondary,
    ))
    .tier("primary")
    .tier("secondary")
    .breaker_config(
        cb_core::CircuitBreaker::builder("x")
            .failure_threshold(1)
            .open_duration(Duration::from_secs(30))
            .build()
            .unwrap()
            .config(),
    )
    .build()
    .unwrap();
    assert_eq!(client.get_account(7).await.unwrap(), Account(7, "secondary"));
    assert_eq!(
        client.breaker("primary", "get_account").unwrap().state(),
        State::Open
    );
    assert_eq!(client.breaker("primary", "ping").unwrap().state(), State::Closed); // per method
    assert_eq!(client.get_account(8).await.unwrap(), Account(8, "secondary"));
    assert_eq!(client.services().0.calls.load(Ordering::SeqCst), 1); // skipped while open
    client.ping().await.unwrap();
}

#[tokio::test]
async fn a_tiered_call_says_which_tier_served_it() {
    let client = accounts_tiered((
        Primary {
            up: true,
            calls: AtomicU32::new(0),
        },
        Secondary,
    ))
    .tier("primary")
    .tier("secondary")
    .build()
    .unwrap();
    // Both futures can be spawned, like any other call.
    fn send<T: Send>(future: T) -> T {
        future
    }
    let served = send(client.get_account_served(7)).await.unwrap();
    assert_eq!(
        (served.tier, served.name.as_str(), served.value),
        (0, "primary.get_account", Account(7, "primary"))
    );
    assert_eq!(send(client.get_account(7)).await.unwrap(), Account(7, "primary"));
    client.breaker("primary", "get_account").unwrap().force_open();
    let served = client.get_account_served(7).await.unwrap();
    assert_eq!(
        (served.tier, served.name.as_str(), served.value),
        (1, "secondary.get_account", Account(7, "secondary"))
    );
}

#[tokio::test]
async fn any_number_of_one_type_in_a_vec() {
    let client = accounts_tiered(vec![Secondary, Secondary, Secondary])
        .tier("a")
        .tier("b")
        .tier("c")
        .build()
        .unwrap();
    assert_eq!(client.get_account(1).await.unwrap(), Account(1, "secondary"));
}

// ---------------------------------------------------------------- which tier served

#[fallback(ask_gpt)]
#[circuit_breaker(name = "served.claude")]
async fn ask(prompt: &str) -> Result<String, ApiError> {
    Ok(format!("claude: {prompt}"))
}

async fn ask_gpt(prompt: &str) -> Result<String, ApiError> {
    Ok(format!("gpt: {prompt}"))
}

#[tokio::test]
async fn a_fallback_call_says_which_tier_served_it() {
    let served = ask_served("hi").await.unwrap();
    assert_eq!(
        (served.tier, served.name.as_str(), served.value.as_str()),
        (0, "served.claude", "claude: hi")
    );

    cb_core::Registry::global()
        .get("served.claude")
        .unwrap()
        .force_open();
    let served = ask_served("hi").await.unwrap();
    assert_eq!(
        (served.tier, served.name.as_str(), served.value.as_str()),
        (1, concat!(module_path!(), "::ask_gpt"), "gpt: hi")
    );
    // The function itself keeps its signature: the value alone.
    assert_eq!(ask("hi").await.unwrap(), "gpt: hi");
}

// ---------------------------------------------------------------- #[async_trait]

#[async_trait::async_trait]
trait Store {
    async fn load(&self, id: u64) -> Result<u64, Error<ApiError>>;
}

struct Db;

#[async_trait::async_trait]
impl Store for Db {
    #[circuit_breaker(name = "t.async_trait", circuit_type = "count_based", failure_threshold = 1)]
    async fn load(&self, id: u64) -> Result<u64, ApiError> {
        if id == 0 { Err(ApiError) } else { Ok(id) }
    }
}

#[tokio::test]
async fn async_trait_methods_are_wrapped() {
    let db: Box<dyn Store> = Box::new(Db);
    assert_eq!(db.load(3).await.unwrap(), 3);
    assert!(matches!(db.load(0).await, Err(Error::Inner(ApiError))));
    assert!(db.load(3).await.unwrap_err().is_rejection());
    let _ = Overrides::new();
}

#[test]
fn tiered_methods_are_in_the_static_inventory_before_any_client_exists() {
    let sites: Vec<_> = cb_core::registry::declared()
        .into_iter()
        .filter(|d| d.name.starts_with("Accounts::"))
        .map(|d| (d.name, d.function, d.policies))
        .collect();
    assert_eq!(
        sites,
        [
            ("Accounts::get_account", "get_account", &["tiered", "breaker"][..]),
            ("Accounts::ping", "ping", &["tiered", "breaker"][..]),
        ]
    );
}
