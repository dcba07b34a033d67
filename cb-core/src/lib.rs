//! # cb-core: the runtime of the `cb` resilience SDK
//!
//! Circuit breakers with lock-free hot paths, typed rejections and injectable
//! time; the registry of named breakers; events and metrics snapshots; and
//! the policies that compose with them into one [`Pipeline`]: retry with
//! backoff and jitter, bulkheads, timeouts, rescue values and adaptive
//! protection (throttling, latency-relative slow calls, adaptive concurrency
//! limits). With the `tower` feature, `tower::PipelineLayer` puts a
//! pipeline in front of any `tower::Service`.
//!
//! ```
//! use cb_core::{CircuitBreaker, State};
//! use cb_core::clock::ManualClock;
//! use std::time::Duration;
//!
//! let clock = ManualClock::new();
//! let breaker = CircuitBreaker::builder("claude")
//!     .failure_threshold(3)
//!     .open_duration(Duration::from_secs(60))
//!     .success_threshold(1)
//!     .clock(clock.clone())
//!     .build()?;
//!
//! for _ in 0..3 {
//!     let _ = breaker.call_sync(|| Err::<(), _>("503"));
//! }
//! assert_eq!(breaker.state(), State::Open);
//! let rejected = breaker.call_sync(|| Ok::<_, &str>(())).unwrap_err();
//! assert_eq!(rejected.retry_after(), Some(Duration::from_secs(60)));
//!
//! clock.advance(Duration::from_secs(60));
//! assert_eq!(breaker.state(), State::HalfOpen);
//! breaker.call_sync(|| Ok::<_, &str>(())).unwrap();  // the probe succeeds
//! assert_eq!(breaker.state(), State::Closed);
//! # Ok::<(), cb_core::ConfigError>(())
//! ```
//!
//! Breakers get their configuration by name through [`config`]: templates
//! per service type, environments, YAML/TOML files, environment variables
//! and code overrides, validated all at once and updatable at run time.
//!
//! The numbered rules (R1–R95) cited in these docs are collected in
//! [`rules`], each with the tests that check it (in the repository:
//! `docs/semantics.md`).
//!
// The README's examples use the attribute macros, so it is shown (and its
// examples tested) only with the `macros` feature.
#![cfg_attr(feature = "macros", doc = "## The project README\n", doc = include_str!("../../README.md"))]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod adaptive;
pub mod breaker;
pub mod bulkhead;
pub mod classify;
pub mod clock;
pub mod config;
pub mod error;
pub mod event;
#[cfg(feature = "macros")]
mod macro_support;
pub mod metrics;
pub mod pipeline;
pub mod random;
pub mod registry;
pub mod rescue;
pub mod retry;
mod state;
pub mod sync;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod testing;
pub mod timeout;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;

/// The rule book: what the breakers, policies and tiers promise, rule by
/// rule, with the tests that check each rule. Documentation only.
pub mod rules {
    #![doc = include_str!("../../docs/semantics.md")]
}

pub use breaker::{BreakerConfig, CircuitBreaker, CircuitBreakerBuilder, Permit, Window};
pub use error::{ConfigError, Error, Name, RejectReason, Rejected, RescueError, Violation};
pub use event::{EVENT_QUEUE_BOUND, Event, EventKind, Listener};
pub use metrics::{LifetimeCounters, MemoryUsage, MetricsSnapshot};
pub use registry::{ConfigSource, Registry};
pub use state::{Outcome, State, TransitionReason};

pub use adaptive::{AdaptiveThrottle, ConcurrencyLimit, LatencyBaseline};
pub use bulkhead::{Bulkhead, BulkheadPermit, BulkheadPools};
pub use classify::{ByClassify, Classifier, Classify, DefaultClassifier, Predicates, Verdict};
pub use pipeline::{Pipeline, PipelineBuilder};
pub use rescue::{Cause, CauseKind, FailureKind, Rescue};
pub use retry::{Backoff, Jitter, RetryBudget, RetryPolicy};
pub use timeout::Timeout;

/// The macros (feature `macros`, on by default). Depend on `cb-core` for
/// these and on `cb-tiers` for `#[fallback]` and `#[tiered]` (which it
/// re-exports together with these). Their documentation is on each macro.
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[doc(inline)]
pub use cb_macros::{Classify, bulkhead, circuit_breaker, retry, template, timeout};

/// Used by `cb-macros` expansions. Not public API; it can change in any release.
#[cfg(feature = "macros")]
#[doc(hidden)]
pub mod __private {
    pub use crate::breaker::CircuitBreaker;
    pub use crate::classify::dispatch::{Dispatch, IntoRetryAfter, ViaClassify, ViaDefault, names_variants};
    pub use crate::config::fits::{template_breaks, template_sets};
    pub use crate::config::{Environment, Overrides, StaticTemplate, StaticValue, Value};
    pub use crate::error::{Error, Rejected};
    pub use crate::macro_support::{
        Replay, ReplayClone, ReplayOnce, Stage, StageSpec, Staged, build_pipeline, report_unstaged,
        resolve_breaker, run_rescue,
    };
    pub use crate::pipeline::Pipeline;
    pub use crate::registry::Declared;
    pub use crate::rescue::Cause;
    pub use crate::state::Outcome;
    pub use ::core::convert::From;
    pub use ::core::convert::Infallible;
    pub use ::core::future::Future;
    pub use ::core::option::Option;
    pub use ::core::result::Result;
    pub use ::core::time::Duration;
    pub use ::inventory;
    pub use ::std::boxed::Box;
    pub use ::std::sync::OnceLock;
}
