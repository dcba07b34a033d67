//! Breaker names that `tests/macros_duplicate_names.rs` declares again.
//!
//! Two functions of one crate that give one name different settings are a
//! compile error; across crates only the run time can see them, so the
//! first declaration of each pair lives here, in another crate than the test.

use cb_core::circuit_breaker;

/// Declares `dup.differs` with a failure threshold of 3 (the test's has 5).
#[circuit_breaker(name = "dup.differs", failure_threshold = 3)]
pub async fn differs() -> Result<u32, String> {
    Ok(1)
}

/// Declares `dup.same` with the same settings as the test's.
#[circuit_breaker(name = "dup.same", failure_threshold = 6)]
pub async fn same() -> Result<u32, String> {
    Ok(1)
}
