//! Durations as files write them: the grammar shared with the macros
//! (see [`cb_syntax::duration`]).

pub(crate) use cb_syntax::duration::{format as format_duration, parse as parse_duration};
