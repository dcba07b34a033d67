//! Procedural macros for the `cb` resilience SDK.
//!
//! Users do not depend on this crate directly: `cb-core` re-exports its macros.
