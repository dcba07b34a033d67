//! Tiered clients by hand: one breaker per tier and method.

use std::time::Duration;

use cb_core::{BreakerConfig, State};
use cb_tiers::{ChainError, Tier, Tiered};

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
        .tier(Tier::named("replica").timeout(Duration::from_secs(1)))
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
        .tier(Tier::named("b").config(BreakerConfig {
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

fn registry_with(source: impl cb_core::ConfigSource) -> &'static cb_core::Registry {
    let registry: &'static cb_core::Registry = Box::leak(Box::new(cb_core::Registry::new()));
    registry.set_config_source(source);
    registry
}

#[test]
fn in_registry_resolves_each_breaker_by_name_and_registers_it() {
    let registry = registry_with(|name: &str| -> Result<BreakerConfig, cb_core::ConfigError> {
        Ok(BreakerConfig {
            failure_threshold: Some(if name == "primary.get" { 1 } else { 7 }),
            ..BreakerConfig::default()
        })
    });
    let build = || {
        Tiered::builder((Primary, Replica))
            .tier("primary")
            .tier("replica")
            .methods(["get", "put"])
            .in_registry(registry)
            .build()
            .unwrap()
    };
    let client = build();
    assert_eq!(
        registry.names(),
        ["primary.get", "primary.put", "replica.get", "replica.put"]
    );
    assert_eq!(
        client
            .breaker("primary", "get")
            .unwrap()
            .config()
            .failure_threshold,
        Some(1)
    );
    assert_eq!(
        client
            .breaker("replica", "put")
            .unwrap()
            .config()
            .failure_threshold,
        Some(7)
    );
    // A second client shares the registered breakers, so their state.
    let again = build();
    assert!(
        again
            .breaker("primary", "get")
            .unwrap()
            .ptr_eq(client.breaker("primary", "get").unwrap())
    );
}

#[test]
fn an_explicit_breaker_config_wins_over_the_registry_source() {
    let registry = registry_with(|_: &str| -> Result<BreakerConfig, cb_core::ConfigError> {
        Ok(BreakerConfig::default())
    });
    let client = Tiered::builder((Primary, Replica))
        .tier(Tier::named("a").config(BreakerConfig {
            failure_threshold: Some(2),
            ..BreakerConfig::default()
        }))
        .tier("b")
        .method("get")
        .breaker_config(BreakerConfig {
            failure_threshold: Some(9),
            ..BreakerConfig::default()
        })
        .in_registry(registry)
        .build()
        .unwrap();
    assert_eq!(
        client.breaker("a", "get").unwrap().config().failure_threshold,
        Some(2),
        "per tier"
    );
    assert_eq!(
        client.breaker("b", "get").unwrap().config().failure_threshold,
        Some(9),
        "per client"
    );
}

#[test]
fn resolution_errors_are_reported_for_every_breaker_and_nothing_is_built() {
    let registry = registry_with(|name: &str| -> Result<BreakerConfig, cb_core::ConfigError> {
        Err(cb_core::ConfigError::new(vec![cb_core::Violation {
            field: "failure_threshold".into(),
            value: "0".into(),
            allowed: format!("must be an integer >= 1 ({name})"),
        }]))
    });
    let err = Tiered::builder((Primary, Replica))
        .tier("x")
        .tier("y")
        .method("get")
        .in_registry(registry)
        .build()
        .unwrap_err();
    let fields: Vec<&str> = err.violations().iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["x.get.failure_threshold", "y.get.failure_threshold"]);
    assert!(registry.names().is_empty());
}

/// `in_global_registry`: each breaker comes from the global layers by its
/// name (here a code override of one of them) and lives in the global
/// registry, so anything that reaches it there (an admin forcing it open, a
/// second client) acts on the client's own breaker.
#[tokio::test(start_paused = true)]
async fn in_global_registry_configures_by_name_through_the_global_layers_and_shares_by_name() {
    use cb_core::Registry;
    use cb_core::config::{LiveConfig, Overrides};

    LiveConfig::global()
        .update(
            Registry::global(),
            "global-primary.get",
            Overrides::new().set("failure_threshold", 2u32),
        )
        .unwrap();
    let build = || {
        Tiered::builder((Primary, Replica))
            .tier("global-primary")
            .tier("global-replica")
            .methods(["get", "put"])
            .in_global_registry()
            .build()
            .unwrap()
    };
    let client = build();
    let primary_get = client.breaker("global-primary", "get").unwrap();
    assert_eq!(
        primary_get.config().failure_threshold,
        Some(2),
        "the override for its name"
    );
    assert_eq!(
        client.breaker("global-replica", "get").unwrap().config(),
        LiveConfig::global().resolve("global-replica.get").unwrap(),
        "what the global layers resolve for its name"
    );

    let registered = Registry::global().get("global-primary.put").unwrap();
    assert!(registered.ptr_eq(client.breaker("global-primary", "put").unwrap()));
    assert_eq!(put(&client, "k").await.unwrap(), 0, "the primary serves puts");
    registered.force_open();
    assert!(
        put(&client, "k").await.is_err(),
        "forced open through the registry, the primary is skipped (and the replica is read-only)"
    );
    assert!(
        build()
            .breaker("global-primary", "get")
            .unwrap()
            .ptr_eq(primary_get),
        "a second client shares the breakers by name"
    );
}

/// One `Tier` type for chains and tiered clients: its timeout, retry and
/// concurrency limit carry over to every method, each method with a private
/// pool of its own.
#[tokio::test(start_paused = true)]
async fn a_tier_s_timeout_retry_and_limit_apply_to_every_method_with_a_pool_per_method() {
    use cb_core::retry::{Backoff, RetryPolicy};
    use cb_tiers::TierChain;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    let retry = RetryPolicy::builder()
        .max_attempts(2)
        .backoff(Backoff::constant(Duration::from_millis(50)).build().unwrap())
        .build()
        .unwrap();
    let client = Tiered::builder(())
        .tier(
            Tier::named("a")
                .timeout(Duration::from_secs(1))
                .retry_policy(retry)
                .max_concurrent(1),
        )
        .tier("b")
        .methods(["get", "put"])
        .build()
        .unwrap();
    for (m, chain) in [(0, client.chain(0).unwrap()), (1, client.chain(1).unwrap())] {
        let a = &chain.tiers()[0];
        assert_eq!(a.name(), if m == 0 { "a.get" } else { "a.put" });
        assert_eq!(a.call_timeout(), Some(Duration::from_secs(1)));
    }

    // Both methods hold tier a's only slot at once: the pools are per method.
    let release = Arc::new(tokio::sync::Notify::new());
    let held = |method: usize| {
        let (client, release) = (&client, release.clone());
        async move {
            client
                .call(method, |tier| {
                    let release = release.clone();
                    async move {
                        release.notified().await;
                        Ok::<_, &str>(tier)
                    }
                })
                .await
        }
    };
    let (get, put) = (held(0), held(1));
    let both = async {
        tokio::task::yield_now().await;
        release.notify_waiters();
    };
    let (get, put, ()) = tokio::join!(get, put, both);
    assert_eq!((get.unwrap().tier, put.unwrap().tier), (0, 0));

    // The retry carries over: tier a is called twice, 50 ms apart, then b serves.
    let calls = AtomicU32::new(0);
    let start = tokio::time::Instant::now();
    let served = client
        .call(0, |tier| {
            if tier == 0 {
                calls.fetch_add(1, Ordering::Relaxed);
            }
            async move { if tier == 0 { Err("down") } else { Ok(tier) } }
        })
        .await
        .unwrap();
    assert_eq!((served.tier, calls.load(Ordering::Relaxed)), (1, 2));
    assert_eq!(start.elapsed(), Duration::from_millis(50));

    // A named tier in a chain gets a breaker of the default configuration.
    let chain = TierChain::new([Tier::named("solo")]).unwrap();
    assert_eq!(chain.tiers()[0].breaker().name(), "solo");
    assert!(
        TierChain::new([Tier::named("bad").config(BreakerConfig {
            failure_threshold: Some(0),
            ..BreakerConfig::default()
        })])
        .is_err()
    );
}
