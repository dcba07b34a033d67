//! Support code shared by the workspace's test binaries and benchmarks.
//!
//! The tests themselves are in `tests/tests/`: the runtime's behaviour
//! through cb-core's public API, the macros' behaviour, and everything that
//! spans crates. cb-tiers' own behaviour is tested in `cb-tiers/tests`. What
//! several of those binaries (and the benches) need, such as counting heap
//! allocations, lives here once.

pub mod alloc;
