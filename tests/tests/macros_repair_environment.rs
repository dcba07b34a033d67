//! A bad `CB_ENVIRONMENT` does not turn a macro breaker into a default one:
//! it keeps its template and arguments (over the built-in layers), the
//! error is listed once however many calls follow, and `install_global`
//! with valid layers re-resolves it through every layer, template kept
//! (a built-in one or a `template!` constant).
//! Its own binary: it sets process environment variables.
#![allow(missing_docs, clippy::unwrap_used, unsafe_code)] // set_var before any thread reads the environment

use std::time::Duration;

use cb_core::config::{ConfigLayers, install_global};
use cb_core::{Registry, circuit_breaker, template};

#[circuit_breaker(name = "repair.env", template = "ai_provider", failure_threshold = 4)]
async fn ask(prompt: String) -> Result<String, String> {
    Ok(prompt)
}

template! {
    /// Patient with its probes.
    pub const PATIENT = { base = "external_api", success_threshold = 4 };
}

#[circuit_breaker(name = "repair.const", template = PATIENT, minimum_calls = 7)]
async fn charge(n: u32) -> Result<u32, String> {
    Ok(n)
}

#[test]
fn a_bad_environment_keeps_the_template_and_arguments_and_install_global_repairs_it() {
    // SAFETY: single-threaded at this point; no other thread reads the environment.
    unsafe { std::env::set_var("CB_ENVIRONMENT", "prodution") };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(rt.block_on(ask("hi".into())).unwrap(), "hi");
    }
    assert_eq!(rt.block_on(charge(1)).unwrap(), 1);
    let paying = Registry::global().get("repair.const").unwrap();
    assert_eq!(paying.config().success_threshold, 4); // the `template!` constant
    let b = Registry::global().get("repair.env").unwrap();
    let config = b.config();
    assert_eq!(config.failure_threshold, Some(4)); // the argument
    assert_eq!(config.max_open_duration, Some(Duration::from_secs(600))); // ai_provider, not the default
    assert_eq!(config.minimum_calls, 5); // ai_provider
    assert_eq!(config.open_duration, Duration::from_secs(60)); // the built-in (production) layer

    let errors = cb_tests::config_errors_of("repair.env");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].to_string().contains("CB_ENVIRONMENT"), "{}", errors[0]);

    // SAFETY: as above; the runtime is single-threaded and idle.
    unsafe { std::env::set_var("CB_ENVIRONMENT", "development") };
    install_global(ConfigLayers::from_env().unwrap()).unwrap();
    let config = b.config();
    assert_eq!(config.failure_threshold, Some(4)); // the argument, still
    assert_eq!(config.max_open_duration, Some(Duration::from_secs(600))); // the template, kept
    assert_eq!(config.open_duration, Duration::from_secs(180)); // development's
    // The `template!` constant is kept too (the new layers never had it).
    assert_eq!(paying.config().success_threshold, 4);
    assert_eq!(paying.config().minimum_calls, 7);
    assert_eq!(paying.config().open_duration, Duration::from_secs(180));
    let explained = cb_core::config::LiveConfig::global()
        .explain("repair.env")
        .unwrap();
    assert_eq!(explained.template, "ai_provider");
    assert_eq!(rt.block_on(ask("again".into())).unwrap(), "again");
    assert_eq!(cb_tests::config_errors_of("repair.env").len(), 1);
}
