//! The `ai_provider` template's whole stack (breaker, retry, call timeout,
//! bulkhead) on an async function, against the bare async breaker call and
//! tower-resilience's equivalent layers.
//!
//! Every row awaits the same non-inlined downstream, [`downstream`], inside
//! one tokio current-thread runtime with its timer on (a per-attempt timeout
//! needs one), so the rows differ only by what each wraps around the call.
//! The criterion bench (`benches/stack.rs`) and the callgrind driver
//! (`subjects stack <row> <N>`) both drive [`Stack::call`].

use std::cell::Cell;
use std::hint::black_box;
use std::time::Duration;

use cb_core::retry::{Backoff, RetryPolicy};
use cb_core::{Bulkhead, CircuitBreaker, Pipeline, Registry, circuit_breaker};
use tower::{Service, ServiceBuilder, ServiceExt};

use crate::subject::{Fail, op};

/// The name of [`template_stack`]'s breaker, which the bare row and the
/// hand-built pipeline share: one breaker, three ways of calling it.
pub const NAME: &str = "bench.stack";

/// The downstream every row awaits: `op(x)` behind an `async fn` that is
/// ready at its first poll.
#[inline(never)]
pub async fn downstream(x: u64) -> Result<u64, Fail> {
    op(black_box(x))
}

/// The `ai_provider` template alone on an async function: its breaker,
/// 3 attempts (exponential from 1 s, full jitter), a 60 s call timeout and a
/// 20-call bulkhead with a 10 s queue, all from the template.
#[circuit_breaker(name = "bench.stack", template = "ai_provider")]
pub async fn template_stack(x: u64) -> Result<u64, Fail> {
    downstream(x).await
}

/// Which row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// `breaker.call(downstream(x)).await` on the template's breaker: the
    /// bare async breaker call, the target's unit.
    BareBreaker,
    /// [`template_stack`]: what `#[circuit_breaker(template = "ai_provider")]`
    /// generates.
    Template,
    /// The same four stages built by hand with `Pipeline`, on the same breaker.
    Pipeline,
    /// tower-resilience 0.13: retry (3) + circuit breaker (consecutive 5) +
    /// time limiter (60 s) + bulkhead (20) layers around the same downstream.
    Tower,
    /// The hand-built stack with an immediate retry, on an operation that
    /// fails at its first attempt and succeeds at its second: one failure,
    /// one retry and one success per call. Its breaker trips after 5
    /// consecutive failures, which alternating attempts never reach.
    Retried,
}

impl Row {
    /// Every row, in table order.
    pub const ALL: [Row; 5] = [
        Row::BareBreaker,
        Row::Template,
        Row::Pipeline,
        Row::Tower,
        Row::Retried,
    ];

    /// The row's name on the command line and in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Row::BareBreaker => "bare-breaker",
            Row::Template => "template",
            Row::Pipeline => "pipeline",
            Row::Tower => "tower-resilience",
            Row::Retried => "retried",
        }
    }

    /// The row named `name`.
    pub fn from_name(name: &str) -> Option<Row> {
        Row::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// The subjects of every row, built once; call them inside
/// [`Stack::runtime`]. `S` is tower-resilience's layered service, kept
/// unboxed so that its row pays for its layers and nothing else.
#[allow(missing_debug_implementations)] // tower-resilience's services have no Debug
pub struct Stack<S> {
    runtime: tokio::runtime::Runtime,
    breaker: CircuitBreaker,
    pipeline: Pipeline<u64, Fail>,
    retried: Pipeline<u64, Fail>,
    tower: S,
    attempts: Cell<u64>,
}

fn policy(backoff: Backoff) -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(3)
        .backoff(backoff)
        .build()
        .expect("a valid retry policy")
}

fn bulkhead(name: &'static str) -> Bulkhead {
    Bulkhead::builder(name)
        .max_concurrent(20)
        .queue_timeout(Duration::from_secs(10))
        .build()
        .expect("a valid bulkhead")
}

/// Builds every row's subject (the template's by one first call).
pub fn stack() -> Stack<impl Service<u64, Response = u64> + Clone> {
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a tokio runtime");
        runtime
            .block_on(template_stack(1))
            .expect("the template stack's first call succeeds");
        let breaker = Registry::global()
            .get(NAME)
            .expect("the template function registered its breaker");
        let backoff = Backoff::exponential(Duration::from_secs(1))
            .max_delay(Duration::from_secs(30))
            .build()
            .expect("a valid backoff");
        let pipeline = Pipeline::builder("bench.stack.hand")
            .retry(policy(backoff))
            .breaker(breaker.clone())
            .timeout(Duration::from_secs(60))
            .bulkhead(bulkhead("bench.stack.hand"))
            .build()
            .expect("a valid pipeline");
        let retried = Pipeline::builder("bench.stack.retried")
            .retry(policy(Backoff::immediate()))
            .breaker(
                CircuitBreaker::builder("bench.stack.retried")
                    .failure_threshold(5)
                    .build()
                    .expect("a valid breaker"),
            )
            .timeout(Duration::from_secs(60))
            .bulkhead(bulkhead("bench.stack.retried"))
            .build()
            .expect("a valid pipeline");
        let tower = runtime.block_on(async { tower_stack() });
        Stack {
            runtime,
            breaker,
            pipeline,
            retried,
            tower,
            attempts: Cell::new(0),
        }
    }
}

impl<S: Service<u64, Response = u64> + Clone> Stack<S> {
    /// The runtime every call runs in.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// One call of `row` with input `x`: `Some` with its value when it
    /// succeeded. Await it inside [`runtime`](Self::runtime).
    pub async fn call(&self, row: Row, x: u64) -> Option<u64> {
        match row {
            Row::BareBreaker => self.breaker.call(downstream(x)).await.ok(),
            Row::Template => template_stack(x).await.ok(),
            Row::Pipeline => self.pipeline.call(|| downstream(x)).await.ok(),
            Row::Tower => {
                let mut svc = self.tower.clone();
                match svc.ready().await {
                    Ok(svc) => svc.call(x).await.ok(),
                    Err(_) => None,
                }
            }
            Row::Retried => self
                .retried
                .call(|| {
                    let n = self.attempts.get() + 1;
                    self.attempts.set(n);
                    downstream(if n % 2 == 1 { crate::subject::POISON } else { x })
                })
                .await
                .ok(),
        }
    }

    /// `n` calls of `row` awaited one after another in one `block_on`: the
    /// callgrind driver's loop. Returns how many succeeded.
    pub fn run(&self, row: Row, n: u64) -> u64 {
        self.runtime.block_on(async {
            let mut ok = 0;
            for _ in 0..n {
                ok += u64::from(black_box(self.call(row, black_box(1)).await).is_some());
            }
            ok
        })
    }
}

fn tower_stack() -> impl Service<u64, Response = u64> + Clone {
    use tower_resilience::bulkhead::BulkheadLayer;
    use tower_resilience::circuitbreaker::CircuitBreakerLayer;
    use tower_resilience::retry::RetryLayer;
    use tower_resilience::timelimiter::TimeLimiterLayer;
    ServiceBuilder::new()
        .layer(
            RetryLayer::builder()
                .max_attempts(3)
                .exponential_backoff(Duration::from_secs(1))
                .build(),
        )
        .layer(
            CircuitBreakerLayer::builder()
                .consecutive_failures(5)
                .build()
                .expect("a valid breaker"),
        )
        .layer(
            TimeLimiterLayer::builder()
                .timeout_duration(Duration::from_secs(60))
                .build(),
        )
        .layer(
            BulkheadLayer::builder()
                .max_concurrent_calls(20)
                .max_wait_duration(Duration::from_secs(10))
                .build()
                .expect("a valid bulkhead"),
        )
        .service(tower::service_fn(downstream))
}
