//! A breaker's own hot paths allocate nothing per call: the closed success
//! (sync and async, on both detectors) and the open and forced-open
//! rejections, including the `Error` a rejected call returns. The allocator
//! counts only the test thread's allocations. Also: what `memory_usage`
//! reports per breaker.
#![allow(clippy::unwrap_used)] // test setup unwraps

use std::time::Duration;

use cb_core::{CircuitBreaker, Error};

use cb_tests::alloc as counting_alloc;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

const CALLS: usize = 10_000;

fn allocations(mut f: impl FnMut()) -> u64 {
    for _ in 0..100 {
        f(); // warm up: this thread's counter stripe, lazily built state
    }
    counting_alloc::start();
    for _ in 0..CALLS {
        f();
    }
    counting_alloc::stop()
}

fn consecutive() -> CircuitBreaker {
    CircuitBreaker::builder("alloc-consecutive").build().unwrap()
}

fn count_window() -> CircuitBreaker {
    CircuitBreaker::builder("alloc-window")
        .no_failure_threshold()
        .failure_rate_threshold(0.5)
        .sliding_window_size(100)
        .minimum_calls(10)
        .build()
        .unwrap()
}

#[test]
fn the_counter_counts() {
    counting_alloc::start();
    drop(std::hint::black_box(Box::new(1u64)));
    assert_eq!(counting_alloc::stop(), 1);
}

#[test]
fn closed_success_allocates_nothing() {
    for b in [consecutive(), count_window()] {
        let n = allocations(|| assert_eq!(b.call_sync(|| Ok::<_, ()>(1)).unwrap(), 1));
        assert_eq!(n, 0, "{}", b.name());
        let n = allocations(|| drop(b.try_acquire().unwrap()));
        assert_eq!(n, 0, "{} (permit)", b.name());
    }
}

#[test]
fn async_closed_success_allocates_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    for b in [consecutive(), count_window()] {
        let n = allocations(|| {
            let v = rt.block_on(b.call(async { Ok::<_, ()>(2) })).unwrap();
            assert_eq!(v, 2);
        });
        assert_eq!(n, 0, "{}", b.name());
        let classify = |r: &Result<u32, u32>| match r {
            Ok(_) => cb_core::Outcome::Success,
            Err(_) => cb_core::Outcome::Excluded,
        };
        let n = allocations(|| {
            let v = rt.block_on(b.call_with(async { Ok::<u32, u32>(3) }, &classify));
            assert_eq!(v.unwrap(), 3);
        });
        assert_eq!(n, 0, "{} (call_with)", b.name());
    }
}

#[test]
fn async_open_and_forced_open_rejections_allocate_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let open = consecutive();
    open.open_for(Some(Duration::from_secs(3600)));
    let forced = count_window();
    forced.force_open();
    for b in [open, forced] {
        let n = allocations(|| {
            let e = rt.block_on(b.call(async { Ok::<_, ()>(1) })).unwrap_err();
            assert!(matches!(e, Error::Rejected(_)), "{e:?}");
        });
        assert_eq!(n, 0, "{}", b.name());
    }
}

#[test]
fn open_and_forced_open_rejections_allocate_nothing() {
    let open = consecutive();
    open.open_for(Some(Duration::from_secs(3600)));
    let forced = count_window();
    forced.force_open();
    for b in [open, forced] {
        let n = allocations(|| {
            let e = b.call_sync(|| Ok::<_, ()>(1)).unwrap_err();
            assert!(matches!(e, Error::Rejected(_)), "{e:?}");
        });
        assert_eq!(n, 0, "{}", b.name());
        let n = allocations(|| assert!(b.try_acquire().is_err()));
        assert_eq!(n, 0, "{} (try_acquire)", b.name());
    }
}

/// On the production clock an open rejection reads the OS clock, or the
/// process's rejection cache once a storm has started it: neither allocates.
/// (Starting the cache's thread allocates once per process, before this
/// test measures.)
#[test]
fn open_rejections_on_the_system_clock_allocate_nothing_with_or_without_the_cache() {
    use cb_core::clock::{SystemClock, rejection_cache_running, set_rejection_cache};
    let b = CircuitBreaker::builder("alloc-system")
        .clock(SystemClock)
        .build()
        .unwrap();
    b.open_for(Some(Duration::from_secs(3600)));
    let reject = || assert!(b.try_acquire().is_err());

    set_rejection_cache(false);
    assert_eq!(allocations(reject), 0, "OS clock");

    set_rejection_cache(true);
    for _ in 0..1000 {
        if rejection_cache_running() {
            break;
        }
        for _ in 0..2000 {
            reject();
        }
    }
    assert!(rejection_cache_running(), "a rejection storm starts the cache");
    // Best of three: should this thread sleep through the cache's once-a-second
    // probe, the cache stops and the next storm starts its thread again, which
    // allocates once; an allocation per call would show in every attempt.
    let fewest = (0..3).map(|_| allocations(reject)).min();
    assert_eq!(fewest, Some(0), "cached time");
}

/// `memory_usage`: a one-pointer handle, the same shared block whatever the
/// configuration, and a heap that grows by one byte per count-window outcome
/// (the window itself is boxed, so breakers without one do not carry it), and
/// one pointer pair per listener (the README's memory figures come from it).
#[test]
fn memory_usage_reports_one_byte_per_window_outcome_and_a_pointer_handle() {
    let window = |n: u32| {
        CircuitBreaker::builder("memory")
            .no_failure_threshold()
            .failure_rate_threshold(0.5)
            .sliding_window_size(n)
            .minimum_calls(10)
            .build()
            .unwrap()
            .memory_usage()
    };
    let (small, large, none) = (window(100), window(10_000), consecutive().memory_usage());

    assert_eq!(none.handle_bytes, std::mem::size_of::<usize>());
    assert_eq!(none.handle_bytes, std::mem::size_of::<CircuitBreaker>());
    assert_eq!(
        (small.shared_bytes, large.shared_bytes),
        (none.shared_bytes, none.shared_bytes)
    );
    assert_eq!(large.heap_bytes - small.heap_bytes, 9_900, "one byte per outcome");
    // The window lives in the box a breaker also keeps its transition
    // records in, made at build time when there is a window.
    let window_fixed = small.heap_bytes - none.heap_bytes - 100;
    assert!(
        window_fixed <= 512,
        "a window of 100 and its box ({window_fixed} B) on top of the rest"
    );
    assert_eq!(
        large.total(),
        large.handle_bytes + large.shared_bytes + large.heap_bytes
    );

    let b = consecutive();
    b.subscribe(|_: &cb_core::Event| {});
    let with_listener = b.memory_usage();
    assert_eq!(
        with_listener.heap_bytes - none.heap_bytes,
        std::mem::size_of::<std::sync::Arc<dyn cb_core::Listener>>()
    );
}

/// The heap an idle consecutive breaker holds, measured by the allocator
/// after it is built and has made 100 successful calls on one thread: at
/// most 512 bytes whatever the CPU count, and exactly what `memory_usage`
/// reports plus the `Arc`'s two counts.
#[test]
fn an_idle_consecutive_breaker_holds_at_most_512_heap_bytes_as_memory_usage_reports() {
    let make = || {
        let b = consecutive();
        for _ in 0..100 {
            assert_eq!(b.call_sync(|| Ok::<_, ()>(1)).unwrap(), 1);
        }
        b
    };
    drop(make()); // this thread's counter slot is the process's, not the breaker's
    let (b, counts) = counting_alloc::measure(make);
    let reported = b.memory_usage();
    let measured = usize::try_from(counts.net_bytes).unwrap();
    assert!(measured <= 512, "{measured} heap bytes");
    let arc_counts = 2 * std::mem::size_of::<usize>();
    assert_eq!(
        measured,
        reported.shared_bytes + reported.heap_bytes + arc_counts,
        "memory_usage {reported:?} against the allocator"
    );
}

/// Its counters take no heap on a machine of any CPU count until a second
/// thread counts through it (the sizing rule the breaker follows).
#[test]
fn an_idle_breakers_counter_heap_does_not_change_with_the_cpu_count() {
    for cpus in [2, 16, 64] {
        assert_eq!(cb_core::metrics::counter_heap_bytes(cpus, 1), 0, "{cpus} CPUs");
    }
    let b = consecutive();
    let _ = b.call_sync(|| Ok::<_, ()>(1));
    let one_thread = b.memory_usage();
    std::thread::scope(|s| {
        s.spawn(|| b.call_sync(|| Ok::<_, ()>(1)).unwrap());
    });
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(
        b.memory_usage().heap_bytes - one_thread.heap_bytes >= cb_core::metrics::counter_heap_bytes(cpus, 2),
        "a second thread grows per-thread stripes"
    );
    assert_eq!(b.metrics().calls.successes, 2);
}
