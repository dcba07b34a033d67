//! # cb-bench: what a circuit breaker costs per call
//!
//! The subjects (a direct call, an atomic floor, cb-core's detectors and the
//! peer crates) live here so that the criterion bench (`benches/breakers.rs`)
//! and the callgrind driver (`src/bin/subjects.rs`) measure the same code.
//! See `RESULTS.md` for the figures and how they were taken.

pub mod async_subject;
pub mod exec;
pub mod stack;
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
    let start = spans.iter().map(|s| s.start).min().expect("at least one worker");
    let end = spans.iter().map(|s| s.end).max().expect("at least one worker");
    end - start
}

/// One worker's run in [`run_pinned_on`].
#[derive(Debug, Clone, Copy)]
pub struct Span {
    /// When the worker made its first call.
    pub start: std::time::Instant,
    /// When its last call returned.
    pub end: std::time::Instant,
    /// The calls it had completed when the first worker to finish finished
    /// (all of them, for that worker). Workers look every [`CHUNK`] calls, so
    /// this may fall short by up to that many: it never overstates.
    pub calls_by_first_end: u64,
}

impl Span {
    /// Millions of calls per second, for a run of `n` calls.
    pub fn rate(&self, n: u64) -> f64 {
        n as f64 / (self.end - self.start).as_secs_f64() / 1e6
    }
}

/// How many calls a worker makes between looks at whether another finished.
pub const CHUNK: u64 = 1024;

/// Like [`run_pinned`], one worker per entry of `cpus`, pinned there; returns
/// each worker's [`Span`].
pub fn run_pinned_on<S: Subject>(s: &S, cpus: &[usize], n: u64) -> Vec<Span> {
    use std::hint::black_box;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Instant;

    let threads = cpus.len();
    let ready = AtomicUsize::new(0);
    let one_finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let workers: Vec<_> = cpus
            .iter()
            .map(|&cpu| {
                let mut s = s.clone();
                let (ready, one_finished) = (&ready, &one_finished);
                scope.spawn(move || {
                    pin_to_cpu(cpu);
                    ready.fetch_add(1, Ordering::AcqRel);
                    while ready.load(Ordering::Acquire) < threads {
                        std::hint::spin_loop();
                    }
                    let start = Instant::now();
                    let (mut made, mut by_first_end) = (0, None);
                    while made < n {
                        // A line nobody writes until the end: a cached read.
                        if by_first_end.is_none() && one_finished.load(Ordering::Relaxed) {
                            by_first_end = Some(made);
                        }
                        let chunk = (n - made).min(CHUNK);
                        for _ in 0..chunk {
                            black_box(s.call(black_box(1)));
                        }
                        made += chunk;
                    }
                    let end = Instant::now();
                    let first = !one_finished.swap(true, Ordering::AcqRel);
                    let calls_by_first_end = if first { n } else { by_first_end.unwrap_or(n) };
                    Span {
                        start,
                        end,
                        calls_by_first_end,
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker panicked"))
            .collect()
    })
}
