//! A variable changes the stage a `#[circuit_breaker]` function gets: the
//! `ai_provider` template's 60 s call timeout, set to 45 s by
//! `CIRCUIT_BREAKER_VARS_CALL_TIMEOUT_DURATION` (above the template's 30 s
//! slow-call threshold and 10 s queue timeout, as the rules require), with
//! nothing but the template on the function. Its own binary: it sets
//! process environment variables.
#![allow(missing_docs, clippy::unwrap_used, unsafe_code)] // set_var before any thread reads the environment

use std::time::Duration;

use cb_core::circuit_breaker;

#[circuit_breaker(name = "vars", template = "ai_provider", retry = false)]
async fn hangs(x: u32) -> Result<u32, String> {
    tokio::time::sleep(Duration::from_secs(600)).await;
    Ok(x)
}

#[test]
fn a_variable_sets_the_call_timeout_of_a_templated_function() {
    // SAFETY: single-threaded at this point; no other thread reads the environment.
    unsafe { std::env::set_var("CIRCUIT_BREAKER_VARS_CALL_TIMEOUT_DURATION", "45s") };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let start = tokio::time::Instant::now();
        let err = hangs(5).await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert_eq!(start.elapsed(), Duration::from_secs(45));
    });
}
