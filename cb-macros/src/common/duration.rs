//! Durations as configuration files write them (the grammar of `cb_core::config`,
//! from the shared `cb-syntax` crate).

pub(crate) use cb_syntax::duration::parse;
