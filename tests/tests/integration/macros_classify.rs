//! Classification by name through the macros: `classify(..)` on a
//! `#[circuit_breaker]` function and in a `template!` sorts the errors of a
//! `#[derive(Classify)]` type by variant name (and the call-timeout stage's
//! expiry as `timeout`), over the type's own classification, and the lists
//! stay run-time configuration.
#![allow(clippy::unwrap_used)] // helpers shared by the tests unwrap like the tests do

use std::time::Duration;

use cb_core::classify::ErrorKind;
use cb_core::{Classify, Error, Registry, State, circuit_breaker, template, timeout};

/// Every variant counts as a failure by its type; configuration says otherwise.
#[derive(Debug, cb_core::Classify)]
pub enum StoreError {
    /// A missing key: the caller's problem, which only configuration excludes here.
    #[classify(failure)]
    NotFound,
    /// The store is down.
    #[classify(failure)]
    Unavailable,
    /// A raw identifier keeps its written name.
    #[classify(excluded)]
    r#Type,
}

fn breaker(name: &str) -> cb_core::CircuitBreaker {
    Registry::global().get(name).expect("registered on first call")
}

#[circuit_breaker(
    name = "classify.get",
    failure_threshold = 1,
    classify(excluded = ["NotFound"])
)]
fn get(e: Option<StoreError>) -> Result<u32, StoreError> {
    e.map_or(Ok(1), Err)
}

#[test]
fn the_derive_names_each_error_after_its_variant() {
    assert_eq!(StoreError::NotFound.kind(), ErrorKind::Variant("NotFound"));
    assert_eq!(StoreError::r#Type.kind(), ErrorKind::Variant("Type"));
}

#[test]
fn errors_the_attribute_lists_as_excluded_do_not_trip_and_an_update_flips_them() {
    for _ in 0..5 {
        assert!(matches!(
            get(Some(StoreError::NotFound)),
            Err(Error::Inner(StoreError::NotFound))
        ));
    }
    let b = breaker("classify.get");
    assert_eq!(b.state(), State::Closed, "excluded by `classify(excluded = ..)`");
    assert_eq!(b.config().classify.excluded, ["NotFound"]);

    // The list is configuration like any other field: an update changes the
    // next call's classification.
    let mut cfg = b.config();
    cfg.classify.excluded.clear();
    b.update_config(cfg).unwrap();
    let _ = get(Some(StoreError::NotFound));
    assert_eq!(b.state(), State::Open, "the type's own classification again");
}

template! {
    /// A store whose missing keys say nothing about its health.
    pub const STORE = { name = "store", failure_threshold = 1, classify(excluded = ["NotFound"], failure = ["Type"]) };
}

#[circuit_breaker(name = "classify.templated", template = STORE)]
async fn templated(e: StoreError) -> Result<(), StoreError> {
    Err(e)
}

#[tokio::test]
async fn a_template_declares_the_lists_its_functions_get() {
    let _ = templated(StoreError::NotFound).await;
    let b = breaker("classify.templated");
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.config().classify.failure, ["Type"]);
    let _ = templated(StoreError::r#Type).await;
    assert_eq!(
        b.state(),
        State::Open,
        "listed as a failure over the type's `excluded`"
    );
}

#[circuit_breaker(
    name = "classify.slow",
    failure_threshold = 1,
    classify(excluded = ["timeout"])
)]
#[timeout("1s")]
async fn slow() -> Result<(), StoreError> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn the_call_timeout_stage_s_expiry_is_named_timeout() {
    for _ in 0..3 {
        assert!(matches!(slow().await, Err(Error::Timeout { .. })));
    }
    assert_eq!(breaker("classify.slow").state(), State::Closed);
}

fn cached(_: &cb_core::rescue::Cause<'_, StoreError>) -> Result<u32, StoreError> {
    Ok(0)
}

#[circuit_breaker(
    name = "classify.rescued",
    rescue = cached,
    classify(excluded = ["NotFound"])
)]
fn rescued(e: StoreError) -> Result<u32, StoreError> {
    Err(e)
}

#[test]
fn an_error_the_attribute_excludes_skips_the_rescue_as_a_derived_exclusion_does() {
    assert!(matches!(
        rescued(StoreError::NotFound),
        Err(Error::Inner(StoreError::NotFound))
    ));
    assert_eq!(
        rescued(StoreError::Unavailable).unwrap(),
        0,
        "a failure is rescued"
    );
}
