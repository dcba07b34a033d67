//! The value syntax shared by `cb`'s configuration files and its macro
//! arguments, so that a value a file accepts is exactly one a macro accepts:
//! the field table, the rules between fields, the template and environment
//! names, the built-in templates' values, human durations and "did you mean"
//! suggestions.
//!
//! Users do not depend on this crate directly; `cb-core` and `cb-macros` do.

pub mod duration;
pub mod names;
pub mod rules;
pub mod schema;
pub mod suggest;
pub mod templates;
