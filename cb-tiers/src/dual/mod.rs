//! The dual-path breaker: per server, an MCP path and a REST path, each a full
//! breaker with its own thresholds, an aggregate state and a routing decision
//! that reserves what it reports (R66–R70). Feature `dual`.
//!
//! ```
//! use cb_core::clock::ManualClock;
//! use cb_tiers::dual::{AggregateState, DualPathBreaker, Route};
//! use std::time::Duration;
//!
//! let clock = ManualClock::new();
//! let c = clock.clone();
//! let server = DualPathBreaker::builder("github")
//!     .mcp_failure_threshold(2)
//!     .rest_failure_threshold(3)
//!     .open_duration(Duration::from_secs(30))
//!     .configure(move |b| b.clock(c.clone()))
//!     .build()?;
//!
//! // Two failed MCP health checks open the MCP path; REST keeps serving.
//! server.evaluate(Some(false), Some(true));
//! server.evaluate(Some(false), Some(true));
//! assert_eq!(server.state(), AggregateState::RestOnly);
//!
//! match server.route() {
//!     Route::RestOnly(permit) => permit.success(), // call over REST, record how it went
//!     other => unreachable!("{other:?}"),
//! }
//! assert_eq!(server.retry_after(), Some(Duration::from_secs(30)));
//! # Ok::<(), cb_core::ConfigError>(())
//! ```

mod breaker;
mod listener;
mod registry;
mod route;
mod state;

pub use breaker::{DualMetrics, DualPathBreaker, DualPathBreakerBuilder, Path};
pub use listener::AggregateTransition;
pub use registry::DualPathRegistry;
pub use route::{AvailablePaths, Route, RouteKind};
pub use state::{AggregateState, aggregate_state};
