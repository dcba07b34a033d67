//! # cb-core: the runtime of the `cb` resilience SDK
//!
//! Circuit breakers with lock-free hot paths, typed rejections and injectable
//! time; the registry of named breakers; events and metrics snapshots; and
//! the policies that compose with them into one [`Pipeline`]: retry with
//! backoff and jitter, bulkheads, timeouts, fallbacks and adaptive
//! protection (throttling, latency-relative slow calls, adaptive concurrency
//! limits). With the `tower` feature, [`tower::PipelineLayer`] puts a
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
//! The numbered rules (R1–R95) cited in these docs are in the project's
//! `SEMANTICS.md`.
//!
//! ## The project README
#![doc = include_str!("../../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod adaptive;
pub mod breaker;
pub mod bulkhead;
pub mod clock;
pub mod config;
pub mod error;
pub mod event;
pub mod fallback;
pub mod metrics;
pub mod pipeline;
pub mod random;
pub mod registry;
pub mod retry;
pub mod testing;
pub mod timeout;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;

pub use breaker::{
    BreakerBuilder, BreakerConfig, CircuitBreaker, Classifier, DefaultClassifier, Outcome, Permit, State,
    TransitionReason, Window,
};
pub use error::{ConfigError, Error, Name, RejectReason, Rejected, Violation};
pub use event::{Event, EventKind, Listener};
pub use metrics::{LifetimeCounters, MemoryUsage, MetricsSnapshot};
pub use registry::{ConfigSource, Registry};

pub use adaptive::{AdaptiveThrottle, ConcurrencyLimit, LatencyBaseline};
pub use bulkhead::{Bulkhead, BulkheadPermit, BulkheadPools};
pub use fallback::{Cause, CauseKind, FailureKind, Fallback};
pub use pipeline::{Pipeline, PipelineBuilder};
pub use retry::{Backoff, Jitter, RetryBudget, RetryPolicy};
pub use timeout::Timeout;
