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
