//! Configuration fields written as arguments (`failure_threshold = 2`,
//! `timeout = "30s"`), checked with the names, units and ranges of files.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use syn::Ident;

use super::draft::Draft;
use crate::breaker::args::{Arg, ArgValue};
use crate::common::Errors;
use crate::common::fields::{self, Checked};

/// A top-level breaker field; an alias and its field are one argument.
pub(super) fn breaker_field(
    d: &mut Draft,
    field: &'static fields::Field,
    Arg { key, value }: Arg,
    errors: &mut Errors,
) {
    if d.seen.first(field.path, &key, errors) {
        check_value(field, &key, &value, errors, &mut d.values, &mut d.value_at);
    }
}

/// Checks `value` against `field` and records it with the tokens it came
/// from; the error names the key as written (an alias stays an alias).
pub(crate) fn check_value(
    field: &'static fields::Field,
    key: &Ident,
    value: &ArgValue,
    errors: &mut Errors,
    values: &mut BTreeMap<&'static str, Checked>,
    value_at: &mut BTreeMap<&'static str, TokenStream>,
) {
    match value {
        ArgValue::Lit { lit, negative } => match fields::check(field, lit, negative.is_some()) {
            Ok(v) => {
                values.insert(field.path, v);
                value_at.insert(field.path, value.spanned());
            }
            Err(msg) => {
                let msg = if key != field.key() {
                    msg.replace(&format!("`{}", field.key()), &format!("`{key}"))
                } else {
                    msg
                };
                errors.push(value.spanned(), msg)
            }
        },
        ArgValue::List { tokens, items } => match fields::check_list(field, items) {
            Ok(v) => {
                values.insert(field.path, v);
                value_at.insert(field.path, tokens.clone());
            }
            Err((i, msg)) => match items.get(i) {
                Some(item) => errors.push(item, msg),
                None => errors.push(tokens, msg),
            },
        },
        other => errors.push(other.spanned(), format!("expected a literal value for `{key}`")),
    }
}
