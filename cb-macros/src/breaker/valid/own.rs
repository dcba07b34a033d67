//! The arguments that are not configuration fields and take one value:
//! `name`, `rescue`, `error` and `crate`.

use syn::{Ident, Lit, LitStr};

use super::draft::Draft;
use crate::breaker::args::{Arg, ArgValue};
use crate::common::Errors;

/// `name = "claude"`: not empty, since it keys the registry, files and variables.
pub(super) fn name(d: &mut Draft, Arg { key, value }: Arg, errors: &mut Errors) {
    if d.seen.first("name", &key, errors)
        && let Some(s) = lit_str(&key, &value, errors, "a string such as `name = \"claude\"`")
    {
        if s.value().trim().is_empty() {
            errors.push(&s, "the breaker name must not be empty");
        } else {
            d.name = Some(s);
        }
    }
}

/// `rescue = cached_answer`: a path; rustc checks its signature.
pub(super) fn rescue(d: &mut Draft, Arg { key, value }: Arg, errors: &mut Errors) {
    if !d.seen.first("rescue", &key, errors) {
        return;
    }
    match value {
        ArgValue::Path(p) => d.rescue = Some(p),
        other => errors.push(
            other.spanned(),
            "expected the path of a function: `rescue = cached_answer`",
        ),
    }
}

/// `error = wrap` (the default) or `error = from`.
pub(super) fn error(d: &mut Draft, Arg { key, value }: Arg, errors: &mut Errors) {
    if !d.seen.first("error", &key, errors) {
        return;
    }
    match &value {
        ArgValue::Path(p) if p.is_ident("from") => d.error_from = true,
        ArgValue::Path(p) if p.is_ident("wrap") => d.error_from = false,
        other => errors.push(
            other.spanned(),
            "expected `error = wrap` (the default) or `error = from`",
        ),
    }
}

/// `crate = "my_cb"`: kept as written; the path is parsed when the plan is made.
pub(super) fn krate(d: &mut Draft, Arg { key, value }: Arg, errors: &mut Errors) {
    if d.seen.first("crate", &key, errors) {
        d.krate = lit_str(&key, &value, errors, "a crate path such as `crate = \"cb_core\"`");
    }
}

/// The value as a plain string literal, or an error saying what was `expected`.
pub(super) fn lit_str(key: &Ident, value: &ArgValue, errors: &mut Errors, expected: &str) -> Option<LitStr> {
    match value {
        ArgValue::Lit {
            lit: Lit::Str(s),
            negative: None,
        } => Some(s.clone()),
        other => {
            errors.push(other.spanned(), format!("expected {expected} for `{key}`"));
            None
        }
    }
}
