//! # cb-bench: what a circuit breaker costs per call
//!
//! The subjects (a direct call, an atomic floor, cb-core's detectors and the
//! peer crates) live here so that the criterion bench (`benches/breakers.rs`)
//! and the callgrind driver (`src/bin/subjects.rs`) measure the same code.
//! See `RESULTS.md` for the figures and how they were taken.

pub mod exec;
pub mod subject;

pub use subject::{Kind, Start, Subject, Visit, build, op};
