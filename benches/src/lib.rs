//! # cb-bench: what a circuit breaker costs per call
//!
//! The subjects (a direct call, an atomic floor, cb-core's detectors and the
//! peer crates) live here so that the criterion bench (`benches/breakers.rs`)
//! and the callgrind driver (`src/bin/subjects.rs`) measure the same code.
//! See `RESULTS.md` for the figures and how they were taken.

pub mod exec;
pub mod subject;

pub use subject::{Kind, Start, Subject, Visit, build, op};

/// Pins the calling thread to the `n`-th CPU this process may run on (modulo
/// their number), so the two-thread scenario runs its workers on two
/// different CPUs for the whole sample. Best effort: where pinning is
/// unavailable the thread stays where the scheduler put it.
///
/// The CPU list is read once, at the first call, from the calling thread's
/// mask: a pinned thread's mask (and its children's, which inherit it) holds
/// only its own CPU, so reading it later would put every worker on one CPU.
pub fn pin_to_cpu(n: usize) {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    {
        use std::sync::OnceLock;
        static CPUS: OnceLock<Vec<usize>> = OnceLock::new();
        let cpus = CPUS.get_or_init(|| {
            // SAFETY: `set` is a plain bitmask owned by this frame, filled by
            // sched_getaffinity for the calling thread; CPU_ISSET reads inside it.
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                    return Vec::new();
                }
                (0..libc::CPU_SETSIZE as usize)
                    .filter(|&c| libc::CPU_ISSET(c, &set))
                    .collect()
            }
        });
        let Some(&cpu) = cpus.get(n % cpus.len().max(1)) else {
            return;
        };
        // SAFETY: as above; `cpu` came from the mask, so it is below CPU_SETSIZE.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_ZERO(&mut set);
            libc::CPU_SET(cpu, &mut set);
            let _ = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = n;
}

/// Runs `n` calls on each of `threads` threads sharing `s`'s breaker, worker
/// `i` pinned to CPU `i` ([`pin_to_cpu`]), all started together by spinning
/// on a shared counter (waking a parked thread on another vCPU takes tens of
/// microseconds, which would skew the starts). Returns the wall time from the
/// first worker's start to the last one's end.
pub fn run_pinned<S: Subject>(s: &S, threads: usize, n: u64) -> std::time::Duration {
    let cpus: Vec<usize> = (0..threads).collect();
    let spans = run_pinned_on(s, &cpus, n);
    let start = spans.iter().map(|s| s.0).min().expect("at least one worker");
    let end = spans.iter().map(|s| s.1).max().expect("at least one worker");
    end - start
}

/// Like [`run_pinned`], one worker per entry of `cpus`, pinned there; returns
/// each worker's own start and end.
pub fn run_pinned_on<S: Subject>(
    s: &S,
    cpus: &[usize],
    n: u64,
) -> Vec<(std::time::Instant, std::time::Instant)> {
    use std::hint::black_box;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    let threads = cpus.len();
    let ready = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = cpus
            .iter()
            .map(|&cpu| {
                let mut s = s.clone();
                let ready = &ready;
                scope.spawn(move || {
                    pin_to_cpu(cpu);
                    ready.fetch_add(1, Ordering::AcqRel);
                    while ready.load(Ordering::Acquire) < threads {
                        std::hint::spin_loop();
                    }
                    let start = Instant::now();
                    for _ in 0..n {
                        black_box(s.call(black_box(1)));
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker panicked"))
            .collect()
    })
}
