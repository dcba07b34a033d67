//! Routing allocates nothing when the first tier serves the call. Its own
//! binary: it installs the counting allocator, which counts only the test
//! thread's allocations.
#![allow(clippy::unwrap_used)] // test setup unwraps

use cb_core::CircuitBreaker;
use cb_tests::alloc as counting_alloc;
use cb_tiers::{Tier, TierChain};

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn first_tier_success_path_allocates_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let chain = TierChain::new([
        Tier::new(CircuitBreaker::builder("primary").build().unwrap()).max_concurrent(4),
        Tier::new(
            CircuitBreaker::builder(String::from("secondary"))
                .build()
                .unwrap(),
        ),
    ])
    .unwrap();
    counting_alloc::start();
    let probe = std::hint::black_box(vec![1u8]);
    assert!(counting_alloc::stop() > 0, "the counter sees allocations");
    drop(probe);
    rt.block_on(async {
        // Warm up lazily initialised runtime and clock state.
        chain.call(|i| async move { Ok::<_, ()>(i) }).await.unwrap();
        counting_alloc::start();
        for _ in 0..1000 {
            let served = chain.call(|i| async move { Ok::<_, ()>(i) }).await.unwrap();
            assert_eq!(served.tier, 0);
        }
        assert_eq!(
            counting_alloc::stop(),
            0,
            "allocations on the first tier's success path"
        );
    });
}
