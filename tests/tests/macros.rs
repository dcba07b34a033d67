//! Behaviour of the code the macros generate: breakers trip and reject,
//! rescue functions get the right cause, tiers are skipped while open and
//! re-admitted after recovery, methods, generics, sync functions, derived
//! classification, templates, the static inventory, concurrent callers.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cb_core::rescue::Cause;
use cb_core::{Error, Registry, RejectReason, State};
use cb_tiers::{ChainError, circuit_breaker, fallback, retry, template, timeout};

#[derive(Debug, Clone, PartialEq)]
enum AiError {
    Overloaded,
}

impl std::fmt::Display for AiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("overloaded")
    }
}
impl std::error::Error for AiError {}

fn breaker(name: &str) -> cb_core::CircuitBreaker {
    Registry::global().get(name).expect("registered on first call")
}

// ---------------------------------------------------------------- trip and reject

#[circuit_breaker(
    name = "m.trips",
    circuit_type = "count_based",
    failure_threshold = 2,
    open_duration = "30s"
)]
async fn trips(fail: bool) -> Result<u32, AiError> {
    if fail { Err(AiError::Overloaded) } else { Ok(7) }
}

#[tokio::test(start_paused = true)]
async fn the_breaker_trips_rejects_and_recovers() {
    assert_eq!(trips(false).await.unwrap(), 7);
    assert!(matches!(
        trips(true).await,
        Err(Error::Inner(AiError::Overloaded))
    ));
    assert!(matches!(
        trips(true).await,
        Err(Error::Inner(AiError::Overloaded))
    ));
    assert_eq!(breaker("m.trips").state(), State::Open);
    let err = trips(false).await.unwrap_err();
    assert_eq!(err.rejection().unwrap().reason(), RejectReason::CircuitOpen);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30))); // `timeout` is the open duration
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(trips(false).await.unwrap(), 7); // the probe
}

// ---------------------------------------------------------------- rescue cause

static RESCUE_CAUSES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn cached_answer(cause: &Cause<'_, AiError>) -> Result<String, AiError> {
    RESCUE_CAUSES
        .lock()
        .unwrap()
        .push(format!("{:?}/{:?}", cause.kind(), cause.retry_after()));
    Ok("cached".into())
}

#[circuit_breaker(name = "m.rescue", circuit_type = "count_based", failure_threshold = 1, open_duration = "10s", rescue = cached_answer)]
async fn with_rescue(fail: bool) -> Result<String, AiError> {
    if fail {
        Err(AiError::Overloaded)
    } else {
        Ok("fresh".into())
    }
}

#[tokio::test(start_paused = true)]
async fn the_rescue_gets_the_failure_then_the_rejection() {
    assert_eq!(with_rescue(false).await.unwrap(), "fresh");
    assert_eq!(with_rescue(true).await.unwrap(), "cached"); // failed, and tripped
    assert_eq!(with_rescue(false).await.unwrap(), "cached"); // refused: open
    let causes = RESCUE_CAUSES.lock().unwrap().clone();
    assert_eq!(
        causes,
        [
            "Failed(Error)/None".to_string(),
            format!("Refused(CircuitOpen)/{:?}", Some(Duration::from_secs(10)))
        ]
    );
}

// ---------------------------------------------------------------- tiers

static TIER_CALLS: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
static PRIMARY_DOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

#[fallback(ask_gpt, ask_local)]
#[circuit_breaker(
    name = "m.claude",
    circuit_type = "count_based",
    failure_threshold = 1,
    open_duration = "20s"
)]
async fn ask_claude(prompt: &str) -> Result<String, AiError> {
    TIER_CALLS.lock().unwrap().push("claude");
    if PRIMARY_DOWN.load(Ordering::SeqCst) {
        Err(AiError::Overloaded)
    } else {
        Ok(format!("claude: {prompt}"))
    }
}

async fn ask_gpt(_prompt: &str) -> Result<String, AiError> {
    TIER_CALLS.lock().unwrap().push("gpt");
    Err(AiError::Overloaded)
}

async fn ask_local(prompt: &str) -> Result<String, AiError> {
    TIER_CALLS.lock().unwrap().push("local");
    Ok(format!("local: {prompt}"))
}

#[tokio::test(start_paused = true)]
async fn tiers_are_skipped_while_open_and_readmitted_after_recovery() {
    assert_eq!(ask_claude("hi").await.unwrap(), "local: hi");
    assert_eq!(
        TIER_CALLS.lock().unwrap().drain(..).collect::<Vec<_>>(),
        ["claude", "gpt", "local"]
    );
    // claude is open now: skipped without a call
    assert_eq!(ask_claude("hi").await.unwrap(), "local: hi");
    let calls = TIER_CALLS.lock().unwrap().drain(..).collect::<Vec<_>>();
    assert!(!calls.contains(&"claude"), "{calls:?}");
    // recovery: after the open period, the next call probes claude first (R64)
    PRIMARY_DOWN.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(ask_claude("hi").await.unwrap(), "claude: hi");
    assert_eq!(
        TIER_CALLS.lock().unwrap().drain(..).collect::<Vec<_>>(),
        ["claude"]
    );
}

async fn down(_x: u32) -> Result<u32, AiError> {
    Err(AiError::Overloaded)
}

#[fallback(down)]
#[circuit_breaker(name = "m.all_down", circuit_type = "count_based", failure_threshold = 5)]
async fn all_down(_x: u32) -> Result<u32, AiError> {
    Err(AiError::Overloaded)
}

#[tokio::test]
async fn when_every_tier_fails_the_error_lists_each() {
    let err = all_down(1).await.unwrap_err();
    let ChainError::AllFailed(all) = &err else {
        panic!("{err:?}")
    };
    let names: Vec<&str> = all.attempts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["m.all_down", "macros::down"]);
    assert!(err.to_string().contains("all 2 tiers failed"), "{err}");
}

// ---------------------------------------------------------------- methods, generics, sync

struct Client {
    calls: AtomicU32,
}

impl Client {
    #[circuit_breaker(name = "m.method", circuit_type = "count_based", failure_threshold = 1)]
    async fn get(&self, fail: bool) -> Result<u32, AiError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if fail { Err(AiError::Overloaded) } else { Ok(1) }
    }

    #[circuit_breaker(name = "m.sync_method")]
    fn get_sync(&self) -> Result<u32, AiError> {
        Ok(self.calls.load(Ordering::SeqCst))
    }
}

#[tokio::test]
async fn methods_on_self_share_one_breaker_and_rejected_calls_never_run() {
    let c = Client {
        calls: AtomicU32::new(0),
    };
    assert_eq!(c.get(false).await.unwrap(), 1);
    assert!(c.get(true).await.is_err());
    assert!(c.get(false).await.unwrap_err().is_rejection());
    assert_eq!(c.calls.load(Ordering::SeqCst), 2); // the rejected call did not run
    assert_eq!(c.get_sync().unwrap(), 2);
}

#[circuit_breaker(name = "m.generic")]
async fn generic<T: Clone + Send>(value: T, label: impl AsRef<str>) -> Result<(T, usize), AiError> {
    Ok((value.clone(), label.as_ref().len()))
}

#[tokio::test]
async fn generic_functions_share_one_breaker_across_instantiations() {
    assert_eq!(generic(1u8, "ab").await.unwrap(), (1, 2));
    assert_eq!(generic("x", String::from("abc")).await.unwrap(), ("x", 3));
    assert_eq!(breaker("m.generic").metrics().calls.successes, 2);
}

#[circuit_breaker]
fn default_name(x: u32) -> Result<u32, String> {
    if x > 0 { Ok(x) } else { Err("zero".into()) }
}

#[test]
fn the_default_name_is_the_module_path_and_function() {
    assert_eq!(default_name(3).unwrap(), 3);
    assert!(Registry::global().get("macros::default_name").is_some());
}

// ---------------------------------------------------------------- classification

#[derive(Debug, cb_core::Classify)]
enum ApiError {
    #[classify(failure)]
    Unavailable,
    #[classify(excluded)]
    NotFound,
    #[classify(failure, retry_after = wait)]
    RateLimited { wait: Duration },
}

#[circuit_breaker(name = "m.classify", circuit_type = "count_based", failure_threshold = 1)]
async fn lookup(e: Option<ApiError>) -> Result<(), ApiError> {
    match e {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[tokio::test]
async fn derived_classification_decides_what_trips() {
    for _ in 0..5 {
        assert!(matches!(
            lookup(Some(ApiError::NotFound)).await,
            Err(Error::Inner(ApiError::NotFound))
        ));
    }
    assert_eq!(breaker("m.classify").state(), State::Closed); // excluded: neutral
    let _ = lookup(Some(ApiError::Unavailable)).await;
    assert_eq!(breaker("m.classify").state(), State::Open);
    use cb_core::Classify;
    assert_eq!(
        ApiError::RateLimited {
            wait: Duration::from_secs(3)
        }
        .retry_after(),
        Some(Duration::from_secs(3))
    );
    assert!(!ApiError::NotFound.retryable());
}

// ---------------------------------------------------------------- templates

template! {
    /// Strict, with a short open period.
    pub const PAYMENTS = { base = "external_api", circuit_type = "count_based", success_threshold = 4, half_open_max_calls = 3 };
}

#[circuit_breaker(name = "m.payments", template = PAYMENTS, failure_threshold = 1, open_duration = "5s")]
async fn charge(fail: bool) -> Result<(), AiError> {
    if fail { Err(AiError::Overloaded) } else { Ok(()) }
}

#[tokio::test]
async fn a_template_constant_configures_the_breaker() {
    assert_eq!(PAYMENTS.name, "payments");
    charge(false).await.unwrap();
    let b = breaker("m.payments");
    assert_eq!(b.config().success_threshold, 4); // the template
    assert_eq!(b.config().half_open_max_calls, 3);
    assert_eq!(b.config().failure_threshold, Some(1)); // the arguments, above the environment
    assert_eq!(b.config().open_duration, Duration::from_secs(5));
    let _ = charge(true).await;
    assert_eq!(b.state(), State::Open);
}

// ---------------------------------------------------------------- inventory

#[test]
fn every_annotated_function_is_declared_before_its_first_call() {
    let all = cb_core::registry::declared();
    let claude = all.iter().find(|d| d.name == "m.claude").unwrap();
    assert_eq!(claude.function, "ask_claude");
    assert_eq!(claude.tiers, ["macros::ask_gpt", "macros::ask_local"]);
    assert_eq!(claude.policies, ["tiers", "breaker"]);
    let never_called = all.iter().find(|d| d.name == "m.never_called").unwrap();
    assert_eq!(never_called.template, Some("database"));
    assert_eq!(never_called.policies, ["retry", "breaker", "timeout"]);
    assert!(Registry::global().get("m.never_called").is_none());
    let payments = all.iter().find(|d| d.name == "m.payments").unwrap();
    assert_eq!(payments.template, Some("payments"));
}

#[circuit_breaker(name = "m.never_called", template = "database")]
#[retry(max_attempts = 2)]
#[timeout("5s")]
async fn never_called(x: u32) -> Result<u32, AiError> {
    Ok(x)
}

// ---------------------------------------------------------------- pipeline stages

static ATTEMPTS: AtomicU32 = AtomicU32::new(0);

#[timeout("2s")]
#[retry(max_attempts = 3, base_delay = "10ms", jitter = "none")]
#[circuit_breaker(name = "m.retried", circuit_type = "count_based", failure_threshold = 10)]
async fn flaky(ok_on: u32, tag: String) -> Result<String, AiError> {
    let n = ATTEMPTS.fetch_add(1, Ordering::SeqCst) + 1;
    if n >= ok_on {
        Ok(format!("{tag}{n}"))
    } else {
        Err(AiError::Overloaded)
    }
}

#[circuit_breaker(
    name = "m.slow",
    circuit_type = "count_based",
    failure_threshold = 1,
    call_timeout = "1s"
)]
async fn slow() -> Result<(), AiError> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn retry_and_timeout_compose_in_the_pipeline_order() {
    assert_eq!(flaky(3, "t".into()).await.unwrap(), "t3");
    assert_eq!(breaker("m.retried").metrics().calls.failures, 2); // each attempt went through the breaker
    let err = slow().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(breaker("m.slow").state(), State::Open); // a timeout is a failure (R55)
}

// ---------------------------------------------------------------- error = from

#[derive(Debug)]
enum AppError {
    Ai(AiError),
    Unavailable(#[allow(dead_code)] String),
}
impl From<Error<AppError>> for AppError {
    fn from(e: Error<AppError>) -> Self {
        match e {
            Error::Inner(e) => e,
            other => AppError::Unavailable(format!("{:?}", other.retry_after())),
        }
    }
}

#[circuit_breaker(name = "m.from", circuit_type = "count_based", failure_threshold = 1, error = from)]
async fn keeps_signature(fail: bool) -> Result<u32, AppError> {
    if fail {
        Err(AppError::Ai(AiError::Overloaded))
    } else {
        Ok(1)
    }
}

#[tokio::test]
async fn error_from_keeps_the_declared_signature() {
    let r: Result<u32, AppError> = keeps_signature(true).await;
    assert!(matches!(r, Err(AppError::Ai(_))));
    assert!(matches!(
        keeps_signature(false).await,
        Err(AppError::Unavailable(_))
    ));
}

// ---------------------------------------------------------------- concurrency

#[circuit_breaker(name = "m.concurrent", circuit_type = "count_based", failure_threshold = 1000)]
async fn concurrent(x: u64) -> Result<u64, AiError> {
    tokio::task::yield_now().await;
    Ok(x)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_callers_build_one_breaker_and_count_every_call() {
    let counter = Arc::new(AtomicU32::new(0));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            for j in 0..50 {
                concurrent(i * 100 + j).await.unwrap();
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), 800);
    assert_eq!(breaker("m.concurrent").metrics().calls.successes, 800);
}
