//! Pieces every macro shares: the error accumulator, the runtime crate path,
//! the field table, durations and "did you mean".

pub(crate) mod duration;
pub(crate) mod errors;
pub(crate) mod fields;
pub(crate) mod krate;
pub(crate) mod suggest;

pub(crate) use errors::{Errors, with_error};
