//! The registry of named breakers, every named registry listing the same
//! way, and event delivery order under concurrency.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use cb_core::clock::ManualClock;
use cb_core::registry::Named;
use cb_core::{
    BreakerConfig, BulkheadPools, CircuitBreaker, ConfigError, Event, EventKind, Registry, State, Violation,
};
use cb_tiers::dual::{DualPathBreaker, DualPathRegistry, Path};

#[test]
fn get_or_create_builds_one_breaker_per_name_even_when_racing() {
    let registry = Registry::new();
    let barrier = Barrier::new(8);
    let configured = AtomicUsize::new(0);
    let made: Vec<CircuitBreaker> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    registry
                        .get_or_create("shared", |b| {
                            configured.fetch_add(1, Ordering::SeqCst);
                            b.failure_threshold(2)
                        })
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(made.windows(2).all(|w| w[0].ptr_eq(&w[1])));
    assert_eq!(configured.load(Ordering::SeqCst), 1, "one breaker was built");
    assert_eq!(registry.names(), ["shared"]);
}

/// What an admin endpoint or a metrics exporter writes once for every kind
/// of named handle.
fn listing<T: Clone>(named: &Named<T>) -> Vec<String> {
    named
        .entries()
        .into_iter()
        .map(|(name, _)| name.to_string())
        .collect()
}

#[test]
fn breakers_pools_and_dual_path_servers_list_the_same_way() {
    let breakers = Registry::new();
    let pools = BulkheadPools::new();
    let servers = DualPathRegistry::new(DualPathBreaker::builder("template"));
    for name in ["zeta", "alpha", "mu"] {
        breakers.breaker(name).unwrap();
        pools.get_or_create(name, |b| b.max_concurrent(2)).unwrap();
        servers.get_or_create(name).unwrap();
    }
    let sorted = ["alpha", "mu", "zeta"];
    assert_eq!(listing(breakers.as_named()), sorted);
    assert_eq!(listing(pools.as_named()), sorted);
    assert_eq!(listing(servers.as_named()), sorted);
    assert_eq!(pools.as_named().len(), 3);
    let mu = servers.as_named().get("mu").unwrap();
    assert!(
        mu.path(Path::Mcp)
            .ptr_eq(servers.get("mu").unwrap().path(Path::Mcp))
    );
    assert!(breakers.as_named().get("unknown").is_none());
}

#[test]
fn lookup_never_creates_and_list_is_sorted() {
    let registry = Registry::new();
    assert!(registry.get("payments").is_none());
    assert!(registry.names().is_empty());
    registry.breaker("zeta").unwrap();
    registry.breaker("alpha").unwrap();
    let names: Vec<String> = registry.list().iter().map(|b| b.name().to_string()).collect();
    assert_eq!(names, ["alpha", "zeta"]);
    assert!(registry.remove("zeta").is_some());
    assert_eq!(registry.names(), ["alpha"]);
}

#[test]
fn register_keeps_the_first_breaker_of_a_name() {
    let registry = Registry::new();
    let first = CircuitBreaker::builder("db").build().unwrap();
    registry.register(first.clone()).unwrap();
    let second = CircuitBreaker::builder("db").build().unwrap();
    let existing = registry.register(second).unwrap_err();
    assert!(existing.ptr_eq(&first));
}

#[test]
fn reset_all_and_snapshot_all_cover_every_breaker() {
    let registry = Registry::new();
    for name in ["a", "b", "c"] {
        registry.get_or_create(name, |b| b.failure_threshold(1)).unwrap();
    }
    for b in registry.list() {
        let _ = b.call_sync(|| Err::<(), _>("down"));
    }
    let states: Vec<State> = registry.snapshot_all().iter().map(|m| m.state).collect();
    assert_eq!(states, [State::Open; 3]);
    registry.reset_all();
    let snaps = registry.snapshot_all();
    assert!(
        snaps
            .iter()
            .all(|m| m.state == State::Closed && m.calls.failures == 1)
    );
    assert_eq!(
        snaps.iter().map(|m| m.name.to_string()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
}

#[test]
fn a_config_source_decides_what_new_breakers_get() {
    let registry = Registry::new();
    registry.set_config_source(|name: &str| -> Result<BreakerConfig, ConfigError> {
        match name {
            "strict" => Ok(BreakerConfig {
                failure_threshold: Some(1),
                ..BreakerConfig::default()
            }),
            "broken" => Err(ConfigError::new(vec![Violation {
                field: "breakers.broken.failure_threshold".into(),
                value: "0".into(),
                allowed: "must be an integer >= 1".into(),
            }])),
            _ => Ok(BreakerConfig::default()),
        }
    });
    assert_eq!(
        registry.breaker("strict").unwrap().config().failure_threshold,
        Some(1)
    );
    let err = registry.breaker("broken").unwrap_err();
    assert!(err.to_string().contains("breakers.broken.failure_threshold = 0"));
    assert!(
        registry.get("broken").is_none(),
        "a failed resolution registers nothing"
    );
}

#[test]
fn the_global_registry_is_one_per_process() {
    let a = Registry::global().breaker("global-registry-test").unwrap();
    let b = Registry::global().get("global-registry-test").unwrap();
    assert!(a.ptr_eq(&b));
}

#[test]
fn r36_listeners_see_a_consistent_transition_sequence_under_concurrency() {
    let clock = ManualClock::new();
    let b = CircuitBreaker::builder("ordered")
        .failure_threshold(2)
        .half_open_max_calls(2)
        .success_threshold(1)
        .open_duration(Duration::from_millis(1))
        .clock(clock.clone())
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    b.subscribe(move |e: &Event| {
        if let EventKind::Transition { from, to, .. } = e.kind {
            sink.lock().unwrap().push((from, to));
        }
    });
    let barrier = Barrier::new(5);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (b, barrier) = (&b, &barrier);
            s.spawn(move || {
                barrier.wait();
                for i in 0..3_000u64 {
                    let _ = b.call_sync(|| if (i + t) % 3 == 0 { Ok(()) } else { Err(()) });
                }
            });
        }
        s.spawn(|| {
            barrier.wait();
            for _ in 0..500 {
                clock.advance(Duration::from_millis(1));
                std::thread::yield_now();
            }
        });
    });
    // Read the metrics first: a lazy open → half-open transition may fire
    // (and reach the listener) while they are taken.
    let total = b.metrics().transitions_total();
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert_eq!(seen[0].0, State::Closed);
    for pair in seen.windows(2) {
        assert_eq!(
            pair[0].1, pair[1].0,
            "each transition starts where the previous ended: {pair:?}"
        );
    }
    assert_eq!(total, seen.len() as u64);
}

#[test]
fn static_and_owned_names_are_the_same_key() {
    use std::collections::{BTreeMap, HashMap};
    let registry = Registry::new();
    let a = registry.breaker("mixed").unwrap();
    let b = registry.breaker(String::from("mixed")).unwrap();
    assert!(a.ptr_eq(&b));
    assert!(registry.get("mixed").is_some());
    let mut hash = HashMap::new();
    hash.insert(cb_core::Name::from(String::from("x")), 1);
    assert_eq!(hash.get("x"), Some(&1));
    let mut tree = BTreeMap::new();
    tree.insert(cb_core::Name::from("b"), 1);
    tree.insert(cb_core::Name::from(String::from("a")), 2);
    assert_eq!(tree.get("a"), Some(&2));
}
