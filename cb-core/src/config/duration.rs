//! Durations as files write them: the grammar shared with the macros
//! (see [`cb_syntax::duration`]).

pub(crate) use cb_syntax::duration::{
    Refusal, format as format_duration, from_secs_f64, parse_checked as parse_duration, within_max,
};
