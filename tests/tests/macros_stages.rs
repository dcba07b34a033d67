//! What a template declares is what a call gets: a `#[circuit_breaker]`
//! runs every stage its resolved configuration enables (here the
//! `ai_provider` template's 60 s call timeout, 3 attempts and 20-call
//! bulkhead with a 10 s queue), without `#[timeout]`, `#[retry]` or
//! `#[bulkhead]`; `retry = false`, `call_timeout = false` and
//! `bulkhead = false` switch one off; `registry::declared()` lists what runs.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cb_core::{Error, RejectReason, circuit_breaker};
use tokio::time::Instant;

#[derive(Debug, Clone, PartialEq)]
struct AiError;

impl std::fmt::Display for AiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("overloaded")
    }
}
impl std::error::Error for AiError {}

fn stages(name: &str) -> Vec<&'static str> {
    let all = cb_core::registry::declared();
    all.iter().find(|d| d.name == name).unwrap().stages()
}

// ---------------------------------------------------------------- timeout and retry

static HANGS: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(name = "s.hangs", template = "ai_provider")]
async fn hangs(prompt: String) -> Result<String, AiError> {
    HANGS.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(600)).await;
    Ok(prompt)
}

#[tokio::test(start_paused = true)]
async fn a_template_alone_times_out_and_retries_each_attempt() {
    // Before the first call: what that call will build.
    assert_eq!(stages("s.hangs"), ["retry", "breaker", "timeout", "bulkhead"]);
    let start = Instant::now();
    let err = hangs("hi".into()).await.unwrap_err();
    let took = start.elapsed();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(HANGS.load(Ordering::SeqCst), 3); // retry.max_attempts
    assert!(
        took >= Duration::from_secs(180),
        "three 60 s attempts, took {took:?}"
    );
    assert!(took < Duration::from_secs(600), "{took:?}");
    assert_eq!(stages("s.hangs"), ["retry", "breaker", "timeout", "bulkhead"]);
}

// ---------------------------------------------------------------- bulkhead

static IN_FLIGHT: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(name = "s.queued", template = "ai_provider")]
async fn busy(n: u32) -> Result<u32, AiError> {
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(20)).await;
    Ok(n)
}

#[tokio::test(start_paused = true)]
async fn a_template_alone_queues_calls_beyond_its_bulkhead() {
    let holders: Vec<_> = (0..20).map(|n| tokio::spawn(busy(n))).collect();
    tokio::task::yield_now().await;
    let start = Instant::now();
    let err = busy(99).await.unwrap_err();
    assert_eq!(
        err.rejection().unwrap().reason(),
        RejectReason::BulkheadFull,
        "{err}"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(10)); // the queue timeout
    assert_eq!(IN_FLIGHT.load(Ordering::SeqCst), 20); // the 21st never ran
    for (n, h) in holders.into_iter().enumerate() {
        assert_eq!(h.await.unwrap().unwrap(), n as u32);
    }
}

// ---------------------------------------------------------------- opting out

static OFF: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(
    name = "s.off",
    template = "ai_provider",
    retry = false,
    call_timeout = false,
    bulkhead = false
)]
async fn everything_off(_prompt: String) -> Result<String, AiError> {
    OFF.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(600)).await;
    Err(AiError)
}

static NO_RETRY: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(name = "s.no_retry", template = "ai_provider", retry = false)]
async fn no_retry(prompt: String) -> Result<String, AiError> {
    NO_RETRY.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(600)).await;
    Ok(prompt)
}

#[tokio::test(start_paused = true)]
async fn a_stage_switched_off_does_not_run() {
    let start = Instant::now();
    assert!(matches!(
        everything_off("hi".into()).await,
        Err(Error::Inner(AiError))
    ));
    assert_eq!(start.elapsed(), Duration::from_secs(600));
    assert_eq!(OFF.load(Ordering::SeqCst), 1);
    assert_eq!(stages("s.off"), ["breaker"]);

    let start = Instant::now();
    assert!(no_retry("hi".into()).await.unwrap_err().is_timeout());
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    assert_eq!(NO_RETRY.load(Ordering::SeqCst), 1);
    assert_eq!(stages("s.no_retry"), ["breaker", "timeout", "bulkhead"]);
}

// ---------------------------------------------------------------- bodies that run once

/// Not `Clone`: the body can run only once.
#[derive(Debug)]
struct Ticket(u32);

static ONCE: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(name = "s.once", template = "ai_provider")]
async fn once(ticket: Ticket) -> Result<u32, AiError> {
    ONCE.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(600)).await;
    Ok(ticket.0)
}

#[tokio::test(start_paused = true)]
async fn a_body_that_cannot_rerun_keeps_its_other_stages_and_the_retry_is_reported() {
    let start = Instant::now();
    assert!(once(Ticket(1)).await.unwrap_err().is_timeout());
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    assert_eq!(ONCE.load(Ordering::SeqCst), 1);
    assert_eq!(stages("s.once"), ["breaker", "timeout", "bulkhead"]);
    let errors = cb_tests::config_errors_of("s.once");
    let error = errors.first().unwrap();
    assert!(error.to_string().contains("retry.max_attempts"), "{error}");
    assert!(error.to_string().contains("retry = false"), "{error}");
}

// ---------------------------------------------------------------- no template

static PLAIN: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(name = "s.plain")]
async fn plain(fail: bool) -> Result<u32, AiError> {
    PLAIN.fetch_add(1, Ordering::SeqCst);
    if fail { Err(AiError) } else { Ok(1) }
}

#[tokio::test]
async fn without_configuration_a_function_gets_the_breaker_alone() {
    // The built-in default of `retry.max_attempts` (3) is for `#[retry]`:
    // a function that asks for nothing is not retried.
    assert!(matches!(plain(true).await, Err(Error::Inner(AiError))));
    assert_eq!(PLAIN.load(Ordering::SeqCst), 1);
    assert_eq!(stages("s.plain"), ["breaker"]);
}

// ---------------------------------------------------------------- explain

#[circuit_breaker(name = "s.explained", template = "ai_provider", failure_threshold = 4)]
async fn explained(x: u32) -> Result<u32, AiError> {
    Ok(x)
}

#[tokio::test]
async fn explain_answers_the_same_before_and_after_the_first_call() {
    let live = cb_core::config::LiveConfig::global();
    let before = live.explain("s.explained").unwrap();
    assert_eq!(before.template, "ai_provider");
    assert_eq!(before.settings.call_timeout.duration, Duration::from_secs(60));
    assert_eq!(before.settings.breaker.failure_threshold, 4);
    assert_eq!(explained(1).await.unwrap(), 1);
    let after = live.explain("s.explained").unwrap();
    assert_eq!(after.to_string(), before.to_string());
}

// ---------------------------------------------------------------- shapes without a pipeline

#[circuit_breaker(name = "s.blocking", template = "ai_provider")]
fn blocking(x: u32) -> Result<u32, AiError> {
    Ok(x)
}

#[test]
fn a_blocking_function_gets_the_breaker_and_its_templates_stages_are_reported() {
    assert_eq!(blocking(3).unwrap(), 3);
    assert_eq!(stages("s.blocking"), ["breaker"]);
    let errors = cb_tests::config_errors_of("s.blocking");
    let error = errors.first().unwrap();
    let fields: Vec<&str> = error.violations().iter().map(|v| v.field.as_str()).collect();
    assert_eq!(
        fields,
        ["retry.max_attempts", "call_timeout.enabled", "bulkhead.enabled"]
    );
    assert!(error.to_string().contains("needs an `async fn`"), "{error}");
}

// ---------------------------------------------------------------- declared before the first call

#[circuit_breaker(name = "s.listed", template = "ai_provider")]
async fn listed(prompt: &'static str, n: u32) -> Result<String, AiError> {
    Ok(format!("{prompt}{n}"))
}

#[circuit_breaker(name = "s.listed_no_retry", template = "ai_provider", retry = false)]
async fn listed_no_retry(prompt: String) -> Result<String, AiError> {
    Ok(prompt)
}

#[circuit_breaker(name = "s.listed_once", template = "ai_provider")]
async fn listed_once(ticket: Ticket) -> Result<u32, AiError> {
    Ok(ticket.0)
}

#[tokio::test]
async fn declared_lists_before_the_first_call_the_stages_that_call_builds() {
    let before = stages("s.listed");
    assert_eq!(before, ["retry", "breaker", "timeout", "bulkhead"]);
    assert_eq!(listed("hi", 1).await.unwrap(), "hi1");
    assert_eq!(stages("s.listed"), before);

    let before = stages("s.listed_no_retry");
    assert_eq!(before, ["breaker", "timeout", "bulkhead"]);
    assert_eq!(listed_no_retry("hi".into()).await.unwrap(), "hi");
    assert_eq!(stages("s.listed_no_retry"), before);

    // A body that cannot run twice is not retried, before or after.
    let before = stages("s.listed_once");
    assert_eq!(before, ["breaker", "timeout", "bulkhead"]);
    assert_eq!(listed_once(Ticket(7)).await.unwrap(), 7);
    assert_eq!(stages("s.listed_once"), before);
}
