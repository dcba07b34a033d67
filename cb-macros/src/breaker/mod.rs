//! `#[circuit_breaker]`: parse (args.rs) → validate (valid.rs) into a plan
//! (plan.rs) → emit (expand.rs).
//!
//! `#[retry]`, `#[bulkhead]`, `#[timeout]` and `#[fallback]` on the same
//! function are folded into one expansion, whatever their order: the one
//! that expands first moves its arguments into the other (see [`absorb`]).

pub(crate) mod args;
pub(crate) mod expand;
pub(crate) mod plan;
pub(crate) mod shape;
mod siblings;
pub(crate) mod valid;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Ident, ItemFn, Meta};

use crate::common::{Errors, with_error};
use args::Args;

/// Expands `#[circuit_breaker(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => return with_error(item.clone(), not_a_function(item, "circuit_breaker")),
    };
    let mut errors = Errors::default();
    let mut args = match syn::parse2::<Args>(args) {
        Ok(a) => a,
        Err(e) => return with_error(func.into_token_stream(), e),
    };
    // Our sibling attributes below this one: fold them in.
    let renamed = siblings::renamed(&args);
    let mut kept = Vec::new();
    let mut uses = TokenStream::new();
    for attr in std::mem::take(&mut func.attrs) {
        // A second breaker would wrap the first (`Error<Error<E>>`): one
        // breaker per function, and another tier is `#[fallback]`'s.
        if siblings::is_ours(
            attr.path(),
            "circuit_breaker",
            siblings::renamed_in(&attr).as_ref(),
        ) {
            errors.push(
                &attr,
                "this function already has a `#[circuit_breaker]`: one breaker per function; \
                 merge the arguments into one attribute, or call another breaker-guarded function \
                 as a tier with `#[fallback(..)]`",
            );
            continue;
        }
        match siblings::sibling_arg(&attr, renamed.as_ref()) {
            Some(Ok(arg)) => {
                // The attribute is consumed here, so rustc never resolves its
                // path: use it, or its import would be reported as unused.
                let path = attr.path();
                uses.extend(quote!(#[allow(unused_imports)] use #path as _;));
                args.0.push(arg)
            }
            Some(Err(e)) => errors.add(e),
            None => kept.push(attr),
        }
    }
    func.attrs = kept;
    if !uses.is_empty() {
        // First in the body, so it is there on the error path too.
        let block = &func.block;
        func.block = Box::new(syn::parse_quote!({ #uses #block }));
    }
    let Some(shape) = shape::read(&func, &mut errors) else {
        return with_error(
            func.into_token_stream(),
            errors
                .finish()
                .err()
                .unwrap_or_else(|| syn::Error::new(Span::call_site(), "unsupported function")),
        );
    };
    let plan = valid::check(args, &shape, &mut errors);
    match errors.finish() {
        Ok(()) => expand::emit(&plan, &shape, func),
        Err(e) => with_error(expand::emit_unchecked(&plan, &shape, func), e),
    }
}

/// Expands `#[retry]`, `#[bulkhead]`, `#[timeout]` or `#[fallback]` written
/// above `#[circuit_breaker]`: its arguments move into that attribute. A
/// `#[fallback]` alone is a `#[circuit_breaker]` with default arguments.
pub(crate) fn absorb(which: &str, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => return with_error(item.clone(), not_a_function(item, which)),
    };
    let key = Ident::new(siblings::argument_of(which), Span::call_site());
    let pos = func
        .attrs
        .iter()
        .position(|a| siblings::is_ours(a.path(), "circuit_breaker", siblings::renamed_in(a).as_ref()));
    match pos {
        Some(i) => {
            let attr = &mut func.attrs[i];
            let path = attr.path().clone();
            let existing = match &attr.meta {
                Meta::List(list) => list.tokens.clone(),
                _ => TokenStream::new(),
            };
            let sep = if existing.is_empty() { quote!() } else { quote!(,) };
            *attr = syn::parse_quote!(#[#path(#existing #sep #key(#args))]);
            func.into_token_stream()
        }
        None if which == "fallback" => expand(quote!(#key(#args)), func.into_token_stream()),
        None => with_error(
            func.into_token_stream(),
            syn::Error::new(
                Span::call_site(),
                format!(
                    "`#[{which}]` needs `#[circuit_breaker]` on the same function: the {which} stage runs around its breaker"
                ),
            ),
        ),
    }
}

/// The error for an item that is not a function with a body, at its keyword.
pub(crate) fn not_a_function(item: TokenStream, which: &str) -> syn::Error {
    let msg = format!("#[{which}] can only be used on functions and methods with a body");
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(s)) => syn::Error::new_spanned(s.struct_token, msg),
        Ok(syn::Item::Enum(e)) => syn::Error::new_spanned(e.enum_token, msg),
        Ok(syn::Item::Impl(i)) => syn::Error::new_spanned(
            i.impl_token,
            format!("#[{which}] goes on each method, not on the `impl` block"),
        ),
        Ok(syn::Item::Trait(t)) => syn::Error::new_spanned(
            t.trait_token,
            format!("#[{which}] goes on functions; for a tiered trait use `#[tiered]`"),
        ),
        Ok(syn::Item::Const(c)) => syn::Error::new_spanned(c.const_token, msg),
        Ok(syn::Item::Static(s)) => syn::Error::new_spanned(s.static_token, msg),
        Ok(syn::Item::Mod(m)) => syn::Error::new_spanned(m.mod_token, msg),
        _ => match syn::parse2::<syn::TraitItemFn>(item) {
            Ok(f) if f.default.is_none() => syn::Error::new_spanned(
                f.semi_token,
                format!("#[{which}] needs a function body; put it on the implementation's method"),
            ),
            _ => syn::Error::new(Span::call_site(), msg),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(out: &TokenStream) -> String {
        out.to_string()
    }

    #[test]
    fn the_expansion_is_one_function_with_the_wrapped_error() {
        let out = expand(
            quote!(name = "claude", failure_threshold = 2),
            quote!(
                async fn ask(p: &str) -> Result<String, AiError> {
                    Ok(p.into())
                }
            ),
        );
        let f: ItemFn = syn::parse2(out).expect("a function");
        let ret = f.sig.output.to_token_stream().to_string();
        assert!(ret.contains(":: cb_core :: Error < AiError >"), "{ret}");
        let body = f.block.to_token_stream().to_string();
        assert!(
            body.contains("__CB_PIPELINE") && body.contains("\"failure_threshold\""),
            "{body}"
        );
    }

    #[test]
    fn every_problem_is_reported_and_the_function_kept() {
        let out = expand(
            quote!(
                name = "a",
                name = "b",
                template = "ai_provder",
                failure_threshold = 0
            ),
            quote!(
                async fn ask() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        let s = errors_of(&out);
        assert!(s.contains("duplicate `name` argument"), "{s}");
        assert!(s.contains("did you mean `ai_provider`?"), "{s}");
        assert!(s.contains("`failure_threshold = 0` is out of range"), "{s}");
        assert!(
            s.contains("async fn ask"),
            "the user's function is still emitted: {s}"
        );
    }

    #[test]
    fn a_sibling_above_moves_into_circuit_breaker() {
        let out = absorb(
            "retry",
            quote!(max_attempts = 3),
            quote!(
                #[circuit_breaker(name = "x")]
                async fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        let f: ItemFn = syn::parse2(out).expect("a function");
        let attr = f.attrs[0].to_token_stream().to_string();
        assert!(attr.contains("retry (max_attempts = 3)"), "{attr}");
    }

    #[test]
    fn a_sibling_below_is_folded_in() {
        let out = expand(
            quote!(),
            quote!(
                #[timeout("5s")]
                async fn f(x: u32) -> Result<u32, E> {
                    Ok(x)
                }
            ),
        );
        let s = out.to_string();
        assert!(
            s.contains("__CB_PIPELINE")
                && s.contains("call_timeout : :: cb_core :: __private :: Stage :: Written"),
            "{s}"
        );
        assert!(!s.contains("# [timeout"), "{s}");
    }

    #[test]
    fn another_crates_timeout_below_is_emitted_untouched() {
        let out = expand(
            quote!(),
            quote!(
                #[ntest::timeout(100)]
                async fn f(x: u32) -> Result<u32, E> {
                    Ok(x)
                }
            ),
        );
        let f: ItemFn = syn::parse2(out).expect("a function, without errors");
        let attrs: Vec<String> = f.attrs.iter().map(|a| a.to_token_stream().to_string()).collect();
        assert_eq!(attrs, ["# [ntest :: timeout (100)]"]);
        let body = f.block.to_token_stream().to_string();
        assert!(
            body.contains("call_timeout : :: cb_core :: __private :: Stage :: Configured")
                && !body.contains("\"call_timeout"),
            "no call timeout stage of its own: {body}"
        );
    }

    #[test]
    fn a_sibling_under_the_renamed_crate_is_folded_in() {
        let out = expand(
            quote!(crate = "my_cb"),
            quote!(
                #[my_cb::timeout("5s")]
                async fn f(x: u32) -> Result<u32, E> {
                    Ok(x)
                }
            ),
        );
        let s = out.to_string();
        assert!(
            s.contains("call_timeout : :: my_cb :: __private :: Stage :: Written"),
            "{s}"
        );
        assert!(!s.contains("# [my_cb :: timeout"), "{s}");
    }

    #[test]
    fn a_stage_switched_off_never_runs_and_all_off_is_the_breaker_alone() {
        let one = expand(
            quote!(template = "ai_provider", retry = false),
            quote!(
                async fn f(x: u32) -> Result<u32, E> {
                    Ok(x)
                }
            ),
        )
        .to_string();
        assert!(
            one.contains("retry : :: cb_core :: __private :: Stage :: Off")
                && one.contains("call_timeout : :: cb_core :: __private :: Stage :: Configured")
                && one.contains("call_once"),
            "{one}"
        );
        let all = expand(
            quote!(retry = false, call_timeout = false, bulkhead = false),
            quote!(
                async fn f(x: u32) -> Result<u32, E> {
                    Ok(x)
                }
            ),
        )
        .to_string();
        assert!(
            all.contains("__CB_BREAKER") && !all.contains("report_unstaged"),
            "{all}"
        );
    }

    #[test]
    fn a_sibling_above_does_not_move_into_another_crates_circuit_breaker() {
        let out = absorb(
            "retry",
            quote!(max_attempts = 3),
            quote!(
                #[other::circuit_breaker(name = "x")]
                async fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        let s = out.to_string();
        assert!(s.contains("needs `#[circuit_breaker]`"), "{s}");
        assert!(s.contains("# [other :: circuit_breaker (name = \"x\")]"), "{s}");
    }

    #[test]
    fn non_functions_get_an_error_at_their_keyword() {
        let out = expand(
            quote!(),
            quote!(
                struct S;
            ),
        );
        assert!(out.to_string().contains("can only be used on functions"));
    }

    /// What depends on `cb-tiers` alone must compile: a function with tiers
    /// reaches the runtime through `::cb_tiers::__private`, never `::cb_core`.
    #[test]
    fn a_function_with_tiers_names_no_cb_core_path() {
        for (args, item) in [
            (
                quote!(tiers(ask_gpt)),
                quote!(
                    async fn ask(p: &str) -> Result<String, AiError> {
                        Ok(p.into())
                    }
                ),
            ),
            (
                quote!(
                    name = "claude",
                    template = "ai_provider",
                    tiers(ask_gpt, ask_local),
                    failure_threshold = 2
                ),
                quote!(
                    async fn ask(p: String) -> Result<String, AiError> {
                        Ok(p)
                    }
                ),
            ),
        ] {
            let out = expand(args, item).to_string();
            assert!(out.contains("cb_tiers :: __private :: cb_core"), "{out}");
            assert!(
                !out.replace(":: cb_tiers :: __private :: cb_core", "")
                    .contains(":: cb_core"),
                "{out}"
            );
        }
    }

    #[test]
    fn fallback_alone_names_no_cb_core_path() {
        let out = absorb(
            "fallback",
            quote!(ask_gpt, ask_local),
            quote!(
                async fn ask(p: &str) -> Result<String, AiError> {
                    Ok(p.into())
                }
            ),
        )
        .to_string();
        assert!(
            !out.replace(":: cb_tiers :: __private :: cb_core", "")
                .contains(":: cb_core"),
            "{out}"
        );
    }
}
