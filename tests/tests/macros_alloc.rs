//! A `#[circuit_breaker]` call allocates nothing per call: its pipeline (or,
//! for a blocking `fn`, its breaker) is a static resolved once, and when the
//! configuration enables no stage beyond the breaker the arguments are moved
//! into the one attempt, not cloned (a `String` argument would allocate).
//! Its allocator counts only the test thread's allocations.
#![allow(missing_docs, clippy::unwrap_used)]

use cb_core::circuit_breaker;

use cb_tests::alloc as counting_alloc;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

#[circuit_breaker(name = "alloc.async")]
async fn answer(x: u64) -> Result<u64, std::io::Error> {
    Ok(x + 1)
}

#[circuit_breaker(name = "alloc.owned")]
async fn owned(s: String) -> Result<usize, std::io::Error> {
    Ok(s.len())
}

#[circuit_breaker(name = "alloc.sync")]
fn answer_sync(x: u64) -> Result<u64, std::io::Error> {
    Ok(x + 1)
}

#[test]
fn a_generated_call_allocates_nothing_after_the_first() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        for i in 0..100 {
            // the first call resolves the breaker; the rest warm up tokio and the breaker's window
            answer(i).await.unwrap();
            answer_sync(i).unwrap();
        }
        let mut texts: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
        assert_eq!(owned(String::new()).await.unwrap(), 0);
        counting_alloc::start();
        for i in 0..10_000 {
            assert_eq!(answer(i).await.unwrap(), i + 1);
            assert_eq!(answer_sync(i).unwrap(), i + 1);
            let text = std::mem::take(&mut texts[i as usize]);
            let len = text.len();
            assert_eq!(owned(text).await.unwrap(), len);
        }
        assert_eq!(counting_alloc::stop(), 0);
    });
}

/// The `ai_provider` template alone: breaker, retry, a 60 s call timeout and
/// a 20-call bulkhead on every call.
#[circuit_breaker(name = "alloc.template", template = "ai_provider")]
async fn provider(x: u64) -> Result<u64, std::io::Error> {
    Ok(x + 1)
}

static FAIL_NEXT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static FLAKY_ATTEMPTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The same template on an operation that fails when told to (with an error
/// that holds no allocation of its own).
#[circuit_breaker(name = "alloc.template_retried", template = "ai_provider")]
async fn flaky(x: u64) -> Result<u64, std::io::Error> {
    FLAKY_ATTEMPTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if FAIL_NEXT.swap(false, std::sync::atomic::Ordering::Relaxed) {
        return Err(std::io::ErrorKind::ConnectionReset.into());
    }
    Ok(x + 1)
}

#[test]
fn the_template_stack_allocates_nothing_per_call_when_it_succeeds_or_retries() {
    // Paused time: the retry's backoff (1 s, full jitter) passes at once.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let retried = |i: u64| {
            FAIL_NEXT.store(true, std::sync::atomic::Ordering::Relaxed);
            flaky(i)
        };
        for i in 0..100 {
            provider(i).await.unwrap();
            retried(i).await.unwrap();
            // successes between the retried calls keep the failure rate low
            // enough for the template's breaker to stay closed
            for _ in 0..3 {
                flaky(i).await.unwrap();
            }
        }
        let declared = cb_core::Registry::global().get("alloc.template").unwrap();
        assert_eq!(declared.state(), cb_core::State::Closed);
        let before = tokio::time::Instant::now();
        let attempts = FLAKY_ATTEMPTS.load(std::sync::atomic::Ordering::Relaxed);
        counting_alloc::start();
        for i in 0..2_000 {
            assert_eq!(provider(i).await.unwrap(), i + 1);
            assert_eq!(retried(i).await.unwrap(), i + 1);
            for _ in 0..3 {
                assert_eq!(flaky(i).await.unwrap(), i + 1);
            }
        }
        assert_eq!(counting_alloc::stop(), 0);
        // Each retried call made two attempts and waited out a backoff between them.
        let made = FLAKY_ATTEMPTS.load(std::sync::atomic::Ordering::Relaxed) - attempts;
        assert_eq!(made, 2_000 * (2 + 3));
        assert!(tokio::time::Instant::now() > before);
        let flaky_breaker = cb_core::Registry::global().get("alloc.template_retried").unwrap();
        assert_eq!(flaky_breaker.state(), cb_core::State::Closed);
    });
}
