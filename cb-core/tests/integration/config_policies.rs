//! The retry, bulkhead and call-timeout sections of a configuration file
//! drive the pipeline's stages, not only the breaker.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cb_core::CircuitBreaker;
use cb_core::config::{ConfigFile, ConfigLayers, Environment, NoEnv, Overrides};

const FILE: &str = r#"
instances:
  search:
    template: external_api
    failure_threshold: 50
    retry:
      max_attempts: 3
      base_delay: 100ms
      multiplier: 2
      max_delay: 1s
      jitter: none
    bulkhead:
      max_concurrent_calls: 2
      queue_timeout: 0s
      isolation_pool_name: POOL
    call_timeout:
      duration: 2s
"#;

/// A pipeline from `FILE`. Named pools are process-wide and the tests in this
/// file run in parallel, so each test names its own pool: one test's held
/// slots must not fill another's.
fn pipeline(pool: &str) -> cb_core::Pipeline<u32, &'static str> {
    let file = ConfigFile::from_yaml(&FILE.replace("POOL", pool), &NoEnv).unwrap();
    let layers = ConfigLayers::new(Environment::Production)
        .with_file(file)
        .unwrap();
    let settings = layers.resolve_settings("search", &Overrides::new()).unwrap();
    let breaker = CircuitBreaker::builder("search")
        .config(settings.breaker_config())
        .build()
        .unwrap();
    settings.pipeline("search", breaker).unwrap().build().unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_retry_section_sets_attempts_and_exact_delays() {
    let p = pipeline("config-policies-1");
    let calls = Arc::new(AtomicU32::new(0));
    let start = tokio::time::Instant::now();
    let c = calls.clone();
    let err = p
        .call(move || {
            c.fetch_add(1, Ordering::Relaxed);
            async { Err::<u32, _>("down") }
        })
        .await
        .unwrap_err();
    assert_eq!(
        calls.load(Ordering::Relaxed),
        3,
        "max_attempts counts the first call"
    );
    assert_eq!(err.attempts(), Some(3));
    // Delays of 100 ms then 200 ms, no jitter.
    assert_eq!(start.elapsed(), Duration::from_millis(300));
}

#[tokio::test(start_paused = true)]
async fn the_call_timeout_section_cuts_off_slow_calls() {
    let p = pipeline("config-policies-2");
    let err = p
        .call_once(async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok::<u32, &str>(1)
        })
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test(start_paused = true)]
async fn the_bulkhead_section_limits_concurrency_through_its_named_pool() {
    let (a, b) = (
        pipeline("config-policies-shared"),
        pipeline("config-policies-shared"),
    );
    let (tx, rx) = tokio::sync::watch::channel(false);
    let hold = |p: cb_core::Pipeline<u32, &'static str>, mut rx: tokio::sync::watch::Receiver<bool>| {
        tokio::spawn(async move {
            p.call_once(async move {
                let _ = rx.wait_for(|go| *go).await;
                Ok::<u32, &str>(1)
            })
            .await
        })
    };
    // Two calls hold the two slots of the shared pool, one through each pipeline.
    let first = hold(a.clone(), rx.clone());
    let second = hold(b.clone(), rx.clone());
    tokio::task::yield_now().await;
    let third = a.call_once(async { Ok::<u32, &str>(3) }).await.unwrap_err();
    assert!(matches!(
        third.rejection().map(|r| r.reason()),
        Some(cb_core::RejectReason::BulkheadFull)
    ));
    tx.send(true).unwrap();
    assert_eq!(first.await.unwrap().unwrap(), 1);
    assert_eq!(second.await.unwrap().unwrap(), 1);
    assert!(matches!(b.call_once(async { Ok::<u32, &str>(4) }).await, Ok(4)));
}

#[test]
fn invalid_policy_settings_are_reported_with_their_section() {
    let file = ConfigFile::from_yaml(
        "instances:\n  x:\n    retry:\n      max_attempts: 0\n      multiplier: 0.5\n",
        &NoEnv,
    );
    let err = match file {
        Ok(f) => {
            let layers = ConfigLayers::new(Environment::Production).with_file(f).unwrap();
            layers
                .resolve_settings("x", &Overrides::new())
                .unwrap_err()
                .to_string()
        }
        Err(e) => e.to_string(),
    };
    assert!(err.contains("retry.max_attempts"), "{err}");
    assert!(err.contains("retry.multiplier"), "{err}");
}
