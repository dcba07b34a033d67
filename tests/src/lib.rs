//! Support code shared by the workspace's test binaries and benchmarks.
//!
//! A crate's own behaviour is tested in `<crate>/tests`, cross-crate and
//! macro behaviour in this package's `tests/`, and a package's integration
//! tests that need no allocator or process of their own share one test
//! binary (`tests/integration/main.rs`). So cb-core's behaviour through its
//! public API is in `cb-core/tests` and cb-tiers' in `cb-tiers/tests`; the
//! macros, what spans crates, and the binaries that count heap allocations
//! are tested here. What several of those binaries (and the benches) need,
//! such as counting heap allocations, lives here once.

pub mod alloc;
pub mod duplicate;

/// The errors `cb_core::registry::config_errors()` lists for the breaker
/// `name`, in the order they were met: what the macro tests ask of it.
pub fn config_errors_of(name: &str) -> Vec<cb_core::ConfigError> {
    cb_core::registry::config_errors()
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, e)| e)
        .collect()
}
