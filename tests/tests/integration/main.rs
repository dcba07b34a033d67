//! The workspace's cross-crate and macro integration tests that share one
//! process, linked once into one test binary instead of one binary per file.
//!
//! A test file stays a binary of its own in `tests/tests/` when sharing a
//! process would change what it checks: it installs a global allocator
//! (`*_alloc.rs`), sets process environment variables
//! (`macros_bad_config.rs`), switches process-wide state that every breaker
//! reads (`rejection_cache.rs`), names its breakers after its crate's module
//! path (`macros.rs`), or drives the compiler (`ui.rs`). The modules are
//! public so that their public helpers stay reachable, as they were at a
//! crate root.

pub mod breaker_rules;
pub mod bulkhead;
pub mod concurrency;
pub mod config_files;
pub mod config_fuzz;
pub mod config_layers;
pub mod config_live;
pub mod config_policies;
pub mod config_templates;
pub mod config_validation;
pub mod engine_rules;
pub mod macros_tiered;
pub mod registry;
pub mod retry;
pub mod rule_book;
pub mod timeout_fallback;
pub mod tower_http;
