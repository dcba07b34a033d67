//! A breaker whose run-time configuration is invalid (here a variable) does
//! not fail the call and does not panic: it runs on the declared arguments
//! over the built-in defaults, and the error is kept for operators.
//! Its own binary: it sets process environment variables.
#![allow(missing_docs, clippy::unwrap_used, unsafe_code)] // set_var before any thread reads the environment

use cb_core::{Registry, circuit_breaker};

#[circuit_breaker(name = "badcfg", failure_threshold = 4)]
async fn call(x: u32) -> Result<u32, String> {
    Ok(x)
}

#[test]
fn an_invalid_variable_falls_back_to_the_declared_configuration() {
    // SAFETY: single-threaded at this point; no other thread reads the environment.
    unsafe { std::env::set_var("CIRCUIT_BREAKER_BADCFG_SUCCESS_THRESHOLD", "zero") };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(call(5)).unwrap(), 5);
    let b = Registry::global().get("badcfg").unwrap();
    assert_eq!(b.config().failure_threshold, Some(4)); // the declared argument still applies
    let errors = cb_tests::config_errors_of("badcfg");
    let error = errors.first().unwrap();
    assert!(error.to_string().contains("success_threshold"), "{error}");
}
