//! A health monitor built from the configuration covers the functions the
//! macros declared, before their first call: here a `database` function
//! whose check is named by a variable. Its own binary: it sets process
//! environment variables.
#![allow(missing_docs, clippy::unwrap_used, unsafe_code)] // set_var before any thread reads the environment

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cb_core::config::LiveConfig;
use cb_core::{Registry, State, circuit_breaker};
use cb_tiers::health::HealthMonitor;

#[derive(Debug)]
struct DbError;

#[circuit_breaker(name = "healthdb", template = "database")]
async fn load_order(id: u32) -> Result<u32, DbError> {
    Ok(id)
}

#[test]
fn a_declared_functions_health_check_section_makes_it_a_monitor_target_before_its_first_call() {
    // SAFETY: single-threaded at this point; no other thread reads the environment.
    unsafe { std::env::set_var("CIRCUIT_BREAKER_HEALTHDB_HEALTH_CHECK_CHECK", "db_ping") };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        assert!(Registry::global().get("healthdb").is_none(), "not called yet");
        let checks = Arc::new(AtomicU32::new(0));
        let counted = checks.clone();
        let monitor = HealthMonitor::builder()
            .targets_from_config(LiveConfig::global(), Registry::global())
            .check_fn("db_ping", move || {
                counted.fetch_add(1, Ordering::Relaxed);
                async { Err::<(), _>("connection refused") }
            })
            .build()
            .unwrap();
        // The `database` template's section: every 15 s, 3 s deadline.
        let timing = monitor.target_config("healthdb").unwrap();
        assert_eq!(
            (timing.interval, timing.timeout),
            (Duration::from_secs(15), Duration::from_secs(3))
        );
        let handle = monitor.start().unwrap();
        tokio::time::sleep(Duration::from_secs(31)).await; // checks at 0, 15 and 30 s
        let breaker = Registry::global().get("healthdb").unwrap();
        assert_eq!(checks.load(Ordering::Relaxed), 3);
        assert_eq!(breaker.state(), State::Open, "three failed checks in a row");
        assert!(
            load_order(7).await.unwrap_err().is_rejection(),
            "the function's calls see it"
        );
        handle.stop().await;
    });
}
