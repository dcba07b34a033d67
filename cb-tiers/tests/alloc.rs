//! Routing allocates nothing when the first tier serves the call.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use cb_core::CircuitBreaker;
use cb_tiers::{Tier, TierChain};

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

#[allow(unsafe_code)]
// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

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
    let before = allocations();
    let probe = std::hint::black_box(vec![1u8]);
    assert!(allocations() > before, "the counter sees allocations");
    drop(probe);
    rt.block_on(async {
        // Warm up lazily initialised runtime and clock state.
        chain.call(|i| async move { Ok::<_, ()>(i) }).await.unwrap();
        let before = allocations();
        for _ in 0..1000 {
            let served = chain.call(|i| async move { Ok::<_, ()>(i) }).await.unwrap();
            assert_eq!(served.tier, 0);
        }
        assert_eq!(
            allocations() - before,
            0,
            "allocations on the first tier's success path"
        );
    });
}
