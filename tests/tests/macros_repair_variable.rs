//! A bad variable for one macro breaker: the breaker keeps its template and
//! arguments (never the library defaults), the error is listed once, and
//! once the variable is fixed, `LiveConfig::update` re-resolves it through
//! every layer with its declaration kept.
//! Its own binary: it sets process environment variables.
#![allow(missing_docs, clippy::unwrap_used, unsafe_code)] // set_var before any thread reads the environment

use std::time::Duration;

use cb_core::config::{LiveConfig, Overrides};
use cb_core::{Registry, circuit_breaker};

#[circuit_breaker(name = "repair_var", template = "ai_provider", failure_threshold = 4)]
async fn ask(prompt: String) -> Result<String, String> {
    Ok(prompt)
}

#[test]
fn a_bad_variable_keeps_the_declaration_and_an_update_after_the_fix_resolves_every_layer() {
    // SAFETY: single-threaded at this point; no other thread reads the environment.
    unsafe {
        std::env::set_var("CB_ENVIRONMENT", "staging");
        std::env::set_var("CIRCUIT_BREAKER_REPAIR_VAR_SUCCESS_THRESHOLD", "zero");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(rt.block_on(ask("hi".into())).unwrap(), "hi");
    }
    let b = Registry::global().get("repair_var").unwrap();
    assert_eq!(b.config().failure_threshold, Some(4));
    assert_eq!(b.config().max_open_duration, Some(Duration::from_secs(600))); // ai_provider
    let errors = cb_tests::config_errors_of("repair_var");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].to_string().contains("success_threshold"),
        "{}",
        errors[0]
    );

    // While the variable is bad, an update is refused and changes nothing.
    let live = LiveConfig::global();
    let set = Overrides::new().set("minimum_calls", 8u32);
    assert!(
        live.update(Registry::global(), "repair_var", set.clone())
            .is_err()
    );
    assert_eq!(b.config().minimum_calls, 5);

    // SAFETY: as above; the runtime is single-threaded and idle.
    unsafe { std::env::remove_var("CIRCUIT_BREAKER_REPAIR_VAR_SUCCESS_THRESHOLD") };
    live.update(Registry::global(), "repair_var", set).unwrap();
    let config = b.config();
    assert_eq!(config.minimum_calls, 8); // the update
    assert_eq!(config.failure_threshold, Some(4)); // the argument
    assert_eq!(config.max_open_duration, Some(Duration::from_secs(600))); // the template
    assert_eq!(config.success_threshold, 2); // the template, now the variable is gone
    assert_eq!(config.open_duration, Duration::from_secs(90)); // staging's
}
