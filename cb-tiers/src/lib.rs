//! # cb-tiers: tier chains, tiered clients, health monitoring, dual-path breakers
//!
//! Tier runtime of the `cb` resilience SDK, built on `cb-core` breakers:
//!
//! - [`TierChain`]: ordered tiers (primary → secondary → tertiary …), each
//!   behind its own breaker, with an optional per-tier timeout and retry. A
//!   tier whose breaker refuses is skipped without a call; a recovered tier
//!   gets the next call first; [`AllTiersFailed`] lists every tier's reason.
//! - [`Tiered`]: a tiered client over your own implementations of a trait,
//!   with one breaker per tier and method (what `#[tiered]` generates code for).
//! - [`health`]: a background monitor that checks each tier and opens and
//!   closes its breaker, Kubernetes-style.
//! - [`dual`]: the dual-path (MCP + REST) breaker.
//! - `http` (feature `http`): HTTP tiers on reqwest.
//!
//! The rules cited as R62–R75 are in the project's `SEMANTICS.md`.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod dual;
pub mod error;
pub mod health;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod select;
pub mod tiered;

pub use error::{AllTiersFailed, AttemptKind, ChainError, TierAttempt};
pub use select::{ByClassifier, Judge, Sequence, Served, Tier, TierChain, TierRetry, Verdict};
pub use tiered::{TierOptions, Tiered, TieredBuilder};

/// Used by `cb-macros` expansions (`#[tiered]`). Not public API; it can change
/// in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::error::ChainError;
    pub use crate::select::{Served, Tier, TierChain};
    pub use crate::tiered::{TierOptions, Tiered, TieredBuilder};
    pub use ::cb_core;
    pub use ::core::future::Future;
    pub use ::core::result::Result;
    pub use ::std::sync::OnceLock;
}
