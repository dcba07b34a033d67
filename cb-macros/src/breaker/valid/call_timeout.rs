//! `call_timeout = "5s"`, and `#[timeout("5s")]` / `#[timeout(duration = "5s")]`
//! folded into it: the per-call deadline stage.

use quote::{ToTokens, quote};
use syn::{Lit, Token};

use super::draft::Draft;
use crate::breaker::args::{Arg, ArgValue, Args};
use crate::common::Errors;
use crate::common::fields::{self, Checked};

/// Checks the deadline and turns the stage on. `#[timeout]` with no
/// duration turns it on with the resolved one; `call_timeout = false`
/// switches off a call timeout the configuration enables.
pub(super) fn call_timeout(d: &mut Draft, Arg { key, value }: Arg, errors: &mut Errors) {
    if !d.seen.first("call_timeout", &key, errors) {
        return;
    }
    match &value {
        ArgValue::Lit {
            lit: Lit::Bool(b),
            negative: None,
        } if !b.value => {
            d.stages.no_call_timeout = true;
            return;
        }
        ArgValue::Group { tokens, .. } if tokens.is_empty() => {
            d.values.insert("call_timeout.enabled", Checked::Bool(true));
            d.stages.call_timeout = true;
            d.stage_keys.push(key);
            return;
        }
        _ => {}
    }
    let Some((lit, negative)) = duration_literal(value, errors) else {
        return;
    };
    let field = fields::find(Some("call_timeout"), "duration").expect("in the table");
    match fields::check(field, &lit, negative.is_some()) {
        Ok(v) => {
            d.value_at
                .insert("call_timeout.duration", lit.to_token_stream());
            d.values.insert("call_timeout.duration", v);
            d.values
                .insert("call_timeout.enabled", Checked::Bool(true));
            d.stages.call_timeout = true;
            d.stage_keys.push(key);
        }
        Err(_) if matches!(lit, Lit::Int(_) | Lit::Float(_)) => errors.push(
            quote!(#negative #lit),
            format!(
                "write the call timeout as a string with a unit: `#[timeout(\"{}s\")]` or `call_timeout = \"{}s\"`",
                lit.to_token_stream(),
                lit.to_token_stream()
            ),
        ),
        Err(msg) => errors.push(
            quote!(#negative #lit),
            msg.replace("`duration`", "`call_timeout`"),
        ),
    }
}

/// The literal of `= "5s"`, `("5s")` or `(duration = "5s")`.
fn duration_literal(value: ArgValue, errors: &mut Errors) -> Option<(Lit, Option<Token![-]>)> {
    match value {
        ArgValue::Lit { lit, negative } => Some((lit, negative)),
        ArgValue::Group { tokens, span } => match syn::parse2::<Args>(tokens.clone()) {
            Ok(a) if a.0.len() == 1 && a.0[0].key == "duration" => match &a.0[0].value {
                ArgValue::Lit { lit, negative } => Some((lit.clone(), *negative)),
                other => {
                    errors.push(other.spanned(), "expected a duration such as `\"5s\"`");
                    None
                }
            },
            _ => match syn::parse2::<Lit>(tokens) {
                Ok(lit) => Some((lit, None)),
                Err(_) => {
                    errors.push_at(
                        span,
                        "expected a duration: `#[timeout(\"5s\")]` or `call_timeout = \"5s\"`",
                    );
                    None
                }
            },
        },
        other @ (ArgValue::Path(_) | ArgValue::List { .. }) => {
            errors.push(other.spanned(), "expected a duration such as `\"5s\"`");
            None
        }
    }
}
