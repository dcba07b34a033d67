//! The workspace's cross-crate and macro integration tests that share one
//! process, linked once into one test binary instead of one binary per file.
//!
//! Where a test lives: a crate's own behaviour is tested in `<crate>/tests`,
//! cross-crate and macro behaviour here in the workspace's `tests/` package,
//! and the integration tests of a package that need no allocator or process
//! of their own share one test binary. So cb-core's own behaviour is in
//! `cb-core/tests` and cb-tiers' in `cb-tiers/tests`; these modules are here
//! because each spans crates: `macros_classify` checks the macros' lists
//! against cb-core's breaker, `macros_tiered` uses the macros and cb-tiers,
//! `registry` lists cb-core's named registries beside cb-tiers' dual-path
//! one, `rule_book` checks the workspace's rule book against every crate's
//! tests, and `tower_http` drives cb-core's tower layer through a real axum
//! server and reqwest client, which stay out of cb-core's dev-dependencies.
//!
//! A test file stays a binary of its own in `tests/tests/` when sharing a
//! process would change what it checks: it installs a global allocator
//! (`*_alloc.rs`), sets process environment variables
//! (`macros_bad_config.rs`), names its breakers after its crate's module
//! path (`macros.rs`), or drives the compiler (`ui.rs`). The modules are
//! public so that their public helpers stay reachable, as they were at a
//! crate root.

pub mod macros_classify;
pub mod macros_tiered;
pub mod registry;
pub mod rule_book;
pub mod tower_http;
