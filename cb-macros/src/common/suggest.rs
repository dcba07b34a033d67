//! "Did you mean ...?" (the same rule as `cb_core::config`, from the shared
//! `cb-syntax` crate).

pub(crate) use cb_syntax::suggest::{backticked, with_suggestion};
