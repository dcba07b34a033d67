//! Support code shared by the workspace's test binaries and benchmarks.
//!
//! The integration tests themselves live in `tests/tests/`: cross-crate and
//! macro behaviour there, each crate's own behaviour in `<crate>/tests`. What
//! several of those binaries (and the benches) need, such as counting heap
//! allocations, lives here once.

pub mod alloc;
