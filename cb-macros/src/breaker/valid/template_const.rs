//! `template = PAYMENTS`: the arguments against a `template!` constant's
//! values, which this macro cannot see. For each rule between fields that an
//! argument takes part in, the expansion carries a `const` that asks
//! `cb-core` (by const evaluation, over the constant and its built-in bases)
//! whether the rule is broken, and fails to compile with the rule's message,
//! written here, at the argument.

use std::collections::BTreeMap;

use cb_syntax::duration;
use cb_syntax::rules::{Bound, Order, RULES};
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::Path;

use crate::common::fields::Checked;

/// The `const` checks for the arguments `values` (written at `at`) over
/// the template constant `template`, in `environment` or in each. They read
/// it through the typed `__CB_TEMPLATE` the expansion declares beside them,
/// so a path of the wrong type is one error, not one per check.
pub(super) fn checks(
    k: &TokenStream,
    template: &Path,
    values: &BTreeMap<&'static str, Checked>,
    at: &BTreeMap<&'static str, TokenStream>,
    environment: Option<&str>,
) -> TokenStream {
    let name = template.to_token_stream().to_string().replace(' ', "");
    let from = format!("from template `{name}`");
    let args = crate::template::static_values(k, values).collect::<Vec<_>>();
    let env = match environment {
        Some(e) => {
            let mut variant = e.to_owned();
            variant[..1].make_ascii_uppercase();
            let variant = format_ident!("{variant}");
            quote!(#k::__private::Option::Some(#k::__private::Environment::#variant))
        }
        None => quote!(#k::__private::Option::None),
    };
    let mut out = TokenStream::new();
    for (index, rule) in RULES.iter().enumerate() {
        let bound = match rule.bound {
            Bound::Field(f) | Bound::MillisPer { count: f, .. } => f,
        };
        // Both written: already judged without the template.
        let (tokens, msg) = match (at.get(rule.field), at.get(bound)) {
            (Some(tokens), None) => {
                let Some(value) = values.get(rule.field).and_then(Checked::duration) else {
                    continue;
                };
                let requirement = match rule.bound {
                    Bound::Field(b) => format!("{b} ({from})"),
                    Bound::MillisPer { count, unit } => format!("1ms per {unit} ({count} {from})"),
                };
                let value = duration::format(value);
                (
                    tokens,
                    format!(
                        "{} = {value}: must be {} {requirement}",
                        rule.field,
                        symbol(rule.order)
                    ),
                )
            }
            (None, Some(tokens)) => {
                let requirement = match (rule.bound, values.get(bound)) {
                    (Bound::Field(b), Some(v)) => match v.duration() {
                        Some(d) => format!("{b} ({})", duration::format(d)),
                        None => continue,
                    },
                    (Bound::MillisPer { unit, .. }, Some(Checked::Int(n))) => {
                        let sym = symbol(rule.order);
                        format!("1ms per {unit} ({n} {unit}s => {sym} {n}ms)")
                    }
                    _ => continue,
                };
                (
                    tokens,
                    format!(
                        "{} ({from}): must be {} {requirement}",
                        rule.field,
                        symbol(rule.order)
                    ),
                )
            }
            _ => continue,
        };
        let mut msg = msg;
        if !rule.why.is_empty() {
            msg = format!("{msg}: {}", rule.why);
        }
        let msg = msg.replace('{', "{{").replace('}', "}}");
        let span = tokens
            .clone()
            .into_iter()
            .next()
            .map_or_else(proc_macro2::Span::call_site, |t| t.span());
        out.extend(quote_spanned! {span=>
            const _: () = ::core::assert!(
                !#k::__private::template_breaks(__CB_TEMPLATE, &[#(#args),*], #env, #index),
                #msg
            );
        });
    }
    // `count_based` counts consecutive failures: a rate or window written
    // for the template's detector has no effect.
    if !values.contains_key("circuit_type") {
        for rate in super::rules::COUNT_BASED_IGNORES {
            let Some(tokens) = at.get(rate) else {
                continue;
            };
            let msg = super::rules::count_based_message(rate, Some(&from));
            let span = tokens
                .clone()
                .into_iter()
                .next()
                .map_or_else(proc_macro2::Span::call_site, |t| t.span());
            out.extend(quote_spanned! {span=>
                const _: () = ::core::assert!(
                    !#k::__private::template_sets(__CB_TEMPLATE, #env, "circuit_type", "count_based"),
                    #msg
                );
            });
        }
    }
    out
}

/// The comparison as the runtime's messages write it.
fn symbol(order: Order) -> &'static str {
    match order {
        Order::AtLeast => ">=",
        Order::Below => "<",
    }
}
