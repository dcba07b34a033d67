//! Tiered clients by hand: one breaker per tier and method.

use std::time::Duration;

use cb_core::{BreakerConfig, State};
use cb_tiers::{ChainError, TierOptions, Tiered};

trait Store {
    async fn get(&self, key: &str) -> Result<String, String>;
    async fn put(&self, key: &str) -> Result<(), String>;
}

struct Primary;
struct Replica;

impl Store for Primary {
    async fn get(&self, _: &str) -> Result<String, String> {
        Err("primary read path down".into())
    }
    async fn put(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}

impl Store for Replica {
    async fn get(&self, key: &str) -> Result<String, String> {
        Ok(format!("replica:{key}"))
    }
    async fn put(&self, _: &str) -> Result<(), String> {
        Err("read-only".into())
    }
}

const GET: usize = 0;
const PUT: usize = 1;

fn client() -> Tiered<(Primary, Replica)> {
    let config = BreakerConfig {
        failure_threshold: Some(1),
        open_duration: Duration::from_secs(30),
        ..BreakerConfig::default()
    };
    Tiered::builder((Primary, Replica))
        .breaker_config(config)
        .tier("primary")
        .tier(TierOptions::new("replica").timeout(Duration::from_secs(1)))
        .methods(["get", "put"])
        .build()
        .expect("valid tiered config")
}

async fn get(c: &Tiered<(Primary, Replica)>, key: &str) -> Result<String, ChainError<String>> {
    let (p, r) = c.services();
    let served = c
        .call(GET, |tier| async move {
            if tier == 0 {
                p.get(key).await
            } else {
                r.get(key).await
            }
        })
        .await?;
    Ok(served.value)
}

async fn put(c: &Tiered<(Primary, Replica)>, key: &str) -> Result<usize, ChainError<String>> {
    let (p, r) = c.services();
    let served = c
        .call(PUT, |tier| async move {
            if tier == 0 {
                p.put(key).await
            } else {
                r.put(key).await
            }
        })
        .await?;
    Ok(served.tier)
}

#[tokio::test(start_paused = true)]
async fn one_breaker_per_tier_and_method() {
    let c = client();
    assert_eq!(c.breakers().count(), 4);
    assert_eq!(get(&c, "k").await.unwrap(), "replica:k");
    assert_eq!(c.breaker("primary", "get").unwrap().state(), State::Open);
    // The primary's write path has its own breaker, still closed.
    assert_eq!(c.breaker("primary", "put").unwrap().state(), State::Closed);
    assert_eq!(put(&c, "k").await.unwrap(), 0);
    assert_eq!(c.breaker("primary", "get").unwrap().name(), "primary.get");
    assert_eq!(c.method_index("put"), Some(PUT));
}

#[tokio::test(start_paused = true)]
async fn an_unknown_method_index_is_an_error_not_a_panic() {
    let c = client();
    let err = c.call(7, |_| async { Ok::<_, String>(()) }).await.unwrap_err();
    assert!(matches!(err, ChainError::UnknownMethod { index: 7 }));
}

#[test]
fn tiered_config_errors_are_reported_together() {
    let err = Tiered::builder(())
        .tier("a")
        .tier("a")
        .tier(TierOptions::new("b").config(BreakerConfig {
            failure_threshold: Some(0),
            ..BreakerConfig::default()
        }))
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("methods = []"), "{text}");
    assert!(text.contains("tiers[1].name = a: must be unique"), "{text}");
    assert!(text.contains("tiers.b.failure_threshold = 0"), "{text}");
    assert!(Tiered::builder(()).method("m").build().is_err());
}
