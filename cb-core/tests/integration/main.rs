//! cb-core's own behaviour, through its public API only, linked once into one
//! test binary instead of one binary per file.
//!
//! Where a test lives: a crate's own behaviour is tested in `<crate>/tests`,
//! cross-crate and macro behaviour in the workspace's `tests/` package, and
//! the integration tests of a package that need no allocator or process of
//! their own share one test binary. So `rejection_cache.rs` (it switches
//! process-wide state that every breaker reads) and `events_bounded.rs` (a
//! load test that wants the machine's threads to itself) stay binaries of
//! their own beside this one.
//!
//! Each module is built only with the features it exercises (`test-util`
//! for tokio's paused time and the `testing` helpers, `yaml`/`toml` for
//! configuration files), so `cargo test -p cb-core --no-default-features`
//! still builds and passes. The modules are public so that their public
//! helpers stay reachable, as they were at a crate root.

#[cfg(feature = "test-util")]
pub mod breaker_rules;
#[cfg(feature = "test-util")]
pub mod bulkhead;
#[cfg(all(feature = "yaml", feature = "toml", feature = "test-util"))]
pub mod classify_by_name;
#[cfg(feature = "test-util")]
pub mod concurrency;
#[cfg(all(feature = "yaml", feature = "toml"))]
pub mod config_files;
#[cfg(all(feature = "yaml", feature = "toml"))]
pub mod config_fuzz;
#[cfg(feature = "yaml")]
pub mod config_layers;
#[cfg(feature = "yaml")]
pub mod config_live;
#[cfg(all(feature = "yaml", feature = "test-util"))]
pub mod config_policies;
#[cfg(feature = "yaml")]
pub mod config_templates;
#[cfg(feature = "yaml")]
pub mod config_validation;
#[cfg(all(feature = "yaml", feature = "test-util"))]
pub mod engine_rules;
#[cfg(feature = "test-util")]
pub mod retry;
#[cfg(feature = "test-util")]
pub mod timeout_rescue;
