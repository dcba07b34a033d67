//! Compile-time behaviour of the macros: shapes that must compile (`pass/`)
//! and one mistake per file with the reviewed message (`fail/`).
//!
//! The `.stderr` files match the toolchain pinned in `rust-toolchain.toml`
//! (1.95.0). After an intended change: `TRYBUILD=overwrite cargo test -p
//! cb-tests --test ui`, then review every changed `.stderr` like code.
#![allow(missing_docs)]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/*/pass/*.rs");
    t.compile_fail("ui/*/fail/*.rs");
}
