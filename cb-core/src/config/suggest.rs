//! "Did you mean ...?": the suggestions shared with the macros
//! (see [`cb_syntax::suggest`]).

pub(crate) use cb_syntax::suggest::{backticked, nearest, with_suggestion};
