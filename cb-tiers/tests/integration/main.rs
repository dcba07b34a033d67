//! cb-tiers' own behaviour, linked once into one test binary instead of one
//! binary per file. Behaviour that needs a process of its own (a global
//! allocator, process environment variables) is tested in the workspace's
//! `tests/` package instead. The modules are public so that their public
//! helpers stay reachable, as they were at a crate root.

pub mod classify_by_status;
#[cfg(feature = "dual")]
pub mod dual;
pub mod health;
pub mod http;
pub mod policies;
pub mod select;
pub mod tiered;
