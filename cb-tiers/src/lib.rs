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
//! - `dual` (feature `dual`): the dual-path (MCP + REST) breaker.
//! - `http` (feature `http`): HTTP tiers on reqwest.
//!
//! ```
//! use cb_core::CircuitBreaker;
//! use cb_tiers::{ChainError, Tier, TierChain};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), cb_core::ConfigError> {
//! let breaker = |name: &'static str| {
//!     CircuitBreaker::builder(name).failure_threshold(1).open_duration(Duration::from_secs(30)).build()
//! };
//! let chain = TierChain::new([
//!     Tier::new(breaker("claude")?).timeout(Duration::from_secs(20)),
//!     Tier::new(breaker("gpt")?).timeout(Duration::from_secs(20)),
//!     Tier::new(breaker("local")?),
//! ])?;
//!
//! // Everything is down: the error lists every tier, in order.
//! let err = chain.call(|_tier| async { Err::<String, _>("503") }).await.unwrap_err();
//! let ChainError::AllFailed(all) = err else { unreachable!() };
//! let kinds: Vec<_> = all.attempts.iter().map(|a| (a.name.as_str(), a.kind.as_str())).collect();
//! assert_eq!(kinds, [("claude", "failure"), ("gpt", "failure"), ("local", "failure")]);
//!
//! // Every circuit is open now: the next call is refused by all three
//! // without calling any, and says when to come back.
//! let err = chain.call(|_tier| async { Ok::<_, &str>("unused") }).await.unwrap_err();
//! assert!(err.all_failed().unwrap().all_skipped());
//! assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
//! # Ok(()) }
//! ```
//!
//! The rules cited as R62–R75 are in cb-core's rule book, [`cb_core::rules`].
#![cfg_attr(docsrs, feature(doc_cfg))]

mod chain;
#[cfg(feature = "dual")]
#[cfg_attr(docsrs, doc(cfg(feature = "dual")))]
pub mod dual;
pub mod error;
pub mod health;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod tier;
mod tier_fn;
mod tier_retry;
mod tiered;

pub use chain::{Sequence, Served, TierChain};
pub use error::{AllTiersFailed, AttemptKind, ChainError, TierAttempt};
pub use tier::Tier;
pub use tier_retry::TierRetry;
pub use tiered::{Tiered, TieredBuilder};

/// The macros: `#[fallback]` and `#[tiered]` are this crate's; the others
/// come from `cb-core`, re-exported so one `use cb_tiers::...` covers all.
/// Documentation is on each macro.
#[doc(inline)]
pub use cb_core::{Classify, bulkhead, circuit_breaker, retry, template, timeout};
#[doc(inline)]
pub use cb_macros::{fallback, tiered};

/// Used by `cb-macros` expansions (`#[fallback]`, `#[tiered]`). Not public
/// API; it can change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::error::ChainError;
    pub use crate::tier_fn::{Fits, Misfit, TierFn};
    pub use crate::{Served, Tier, TierChain, Tiered, TieredBuilder};
    pub use ::cb_core;
    pub use ::core::future::Future;
    pub use ::core::result::Result;
    pub use ::std::sync::OnceLock;

    /// The chain of a `#[fallback(..)]` function: one tier per breaker, in
    /// order. Never fails: a repeated name (the same function listed twice)
    /// keeps its first tier, and the problem is logged.
    pub fn chain(breakers: Vec<cb_core::CircuitBreaker>) -> TierChain {
        let mut tiers: Vec<Tier> = Vec::with_capacity(breakers.len());
        for b in breakers {
            if tiers.iter().any(|t| t.name() == b.name()) {
                tracing::error!(tier = b.name(), "a tier is listed twice; keeping the first");
                continue;
            }
            tiers.push(Tier::new(b));
        }
        match TierChain::new(tiers) {
            Ok(chain) => chain,
            Err(e) => {
                tracing::error!(error = %e, "invalid tier chain");
                #[allow(clippy::expect_used)]
                TierChain::new([Tier::new(
                    cb_core::CircuitBreaker::builder("cb-invalid-chain")
                        .build()
                        .expect("the default configuration is valid"),
                )])
                .expect("one tier is a valid chain")
            }
        }
    }
}
