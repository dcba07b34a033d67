//! `#[fallback(tier2, tier3)]`, folded in as `tiers(..)`: the functions tried
//! after this one, each once.

use quote::ToTokens;

use super::draft::Draft;
use crate::breaker::args::{Arg, ArgValue, PathList};
use crate::common::Errors;

/// At least one path, none listed twice.
pub(super) fn tiers(d: &mut Draft, Arg { key, value }: Arg, errors: &mut Errors) {
    if !d.seen.first("tiers", &key, errors) {
        return;
    }
    let ArgValue::Group { tokens, span } = value else {
        errors.push(value.spanned(), "expected `#[fallback(tier2, tier3)]`");
        return;
    };
    match syn::parse2::<PathList>(tokens) {
        Ok(list) if list.0.is_empty() => errors.push_at(
            span,
            "`#[fallback(...)]` needs at least one function: `#[fallback(ask_gpt)]`",
        ),
        Ok(list) => {
            for (i, p) in list.0.iter().enumerate() {
                let shown = p.to_token_stream().to_string();
                if list.0[..i]
                    .iter()
                    .any(|q| q.to_token_stream().to_string() == shown)
                {
                    errors.push(
                        p,
                        format!(
                            "`{}` is listed twice; each tier is tried once",
                            shown.replace(' ', "")
                        ),
                    );
                }
            }
            d.tiers = list.0;
        }
        Err(e) => errors.add(syn::Error::new(
            e.span(),
            "expected the paths of the other tiers' functions: `#[fallback(ask_gpt, ask_local)]`",
        )),
    }
}
