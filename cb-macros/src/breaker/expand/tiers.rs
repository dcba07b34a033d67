//! Emit for a function with `#[fallback(..)]` tiers: the chain call, each
//! tier called through a check that reports a signature mismatch in cb's
//! words at the tier's path, and the `<fn>_served` companion that says which
//! tier served the call.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat, ReturnType, Type};

use super::super::plan::Plan;
use super::super::shape::Shape;

/// What the chain call is built from, made by `emit` for every shape.
pub(super) struct Parts<'a> {
    /// The tier-1 breaker's name.
    pub(super) name: &'a TokenStream,
    /// The tier-1 breaker's code layer.
    pub(super) overrides: &'a TokenStream,
    /// The `template!` constant, if any.
    pub(super) template_arg: &'a TokenStream,
    /// Tier 1: the body with its type fixed to the declared return type.
    pub(super) typed_body: &'a TokenStream,
    /// Binds `__cb_classifier`.
    pub(super) classifier: &'a TokenStream,
}

/// Statements that end with `let __cb_result = ..;`, the chain's
/// `Result<Served<T>, ChainError<E>>`.
pub(super) fn chain_call(plan: &Plan, shape: &Shape, func: &ItemFn, parts: Parts<'_>) -> TokenStream {
    let Parts {
        name,
        overrides,
        template_arg,
        typed_body,
        classifier,
    } = parts;
    let k = &plan.krate;
    let tk = &plan.tiers_krate;
    let inferred = &shape.result_inferred;
    let tier_breakers = plan.tiers.iter().map(|path| {
        let tier_name = super::tier_name(path);
        quote! {
            #k::__private::resolve_breaker(#tier_name, #k::__private::Overrides::new(), ::core::option::Option::None)
        }
    });
    let receiver = func.sig.receiver().map(|_| quote!(self));
    let args: Vec<_> = shape.args.iter().filter_map(|a| a.as_ref().ok()).collect();
    // Each tier's copy is as mutable as the parameter was (tier 1's body
    // may need it; the other tiers do not).
    let muts: Vec<_> = func
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) if p.subpat.is_none() => Some(p.mutability),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect();
    let values: Vec<TokenStream> = receiver
        .iter()
        .cloned()
        .chain(args.iter().map(|a| quote!(#a)))
        .collect();
    let types = argument_types(func);
    let n = plan.tiers.len();
    let arms = plan.tiers.iter().enumerate().map(|(i, path)| {
        let pat = if i + 1 == n {
            quote!(_)
        } else {
            let i = i + 1;
            quote!(#i)
        };
        let fits = fits_trait(plan, shape, func, &types, path, i + 1);
        let check = format_ident!("__CbTierFits{}", i + 1);
        // The call covers exactly the path (it starts at its first token and
        // ends at its last), so a mismatch is reported there, with one label,
        // and only once: the call's result is then unknown, so nothing else
        // complains.
        let tokens: Vec<_> = path.to_token_stream().into_iter().collect();
        let first = tokens.first().map_or_else(|| path.span(), |t| t.span());
        let last = tokens.last().map_or(first, |t| t.span());
        let callee = respan(quote!(#check::<(#(#types,)*), #inferred, _>::), first);
        let method = respan(quote!(__cb_call), last);
        let callee = quote!(#callee #method);
        let values = respan(quote!((#(#values,)*)), last);
        let mut args = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, quote!(#path, #values));
        args.set_span(last);
        let call = quote!(#callee #args);
        let call = quote_spanned!(last=> #call.await);
        quote! { #pat => { #fits let __cb_ret: #inferred = #call; __cb_ret } }
    });
    quote! {
        #classifier
        static __CB_CHAIN: #k::__private::OnceLock<#tk::__private::TierChain> = #k::__private::OnceLock::new();
        let __cb_chain = __CB_CHAIN.get_or_init(|| #tk::__private::chain(::std::vec![
            #k::__private::resolve_breaker(#name, #overrides, #template_arg),
            #(#tier_breakers),*
        ]));
        let __cb_result = __cb_chain
            .call_with(
                move |__cb_tier: usize| {
                    #(
                        #[allow(unused_mut)]
                        let #muts #args = ::core::clone::Clone::clone(&#args);
                    )*
                    async move {
                        match __cb_tier {
                            0usize => async move #typed_body.await,
                            #(#arms)*
                        }
                    }
                },
                &__cb_classifier,
            )
            .await;
    }
}

/// The types of the arguments every tier takes, `self`'s first; an
/// `impl Trait` argument is inferred (`_`).
fn argument_types(func: &ItemFn) -> Vec<TokenStream> {
    func.sig
        .inputs
        .iter()
        .map(|input| {
            let ty = match input {
                FnArg::Receiver(r) => &r.ty,
                FnArg::Typed(t) => &t.ty,
            };
            if mentions_impl(ty.to_token_stream()) {
                quote!(_)
            } else {
                quote!(#ty)
            }
        })
        .collect()
}

fn mentions_impl(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Group(g) => mentions_impl(g.stream()),
        proc_macro2::TokenTree::Ident(i) => i == "impl",
        _ => false,
    })
}

/// The check for the tier at `path`, position `position` in the chain: a
/// trait whose message names the tier and tier 1, implemented through
/// `TierFn<_, _, Fits>` and `TierFn<_, _, Misfit>` (see cb-tiers'
/// `tier_fn` for why two).
fn fits_trait(
    plan: &Plan,
    shape: &Shape,
    func: &ItemFn,
    types: &[TokenStream],
    path: &syn::Path,
    position: usize,
) -> TokenStream {
    let tk = &plan.tiers_krate;
    let check = format_ident!("__CbTierFits{}", position);
    let primary = func.sig.ident.to_string();
    let tier = render(path.to_token_stream());
    let ret = render(shape.result.to_token_stream());
    let args = types
        .iter()
        .map(|t| render(t.clone()))
        .collect::<Vec<_>>()
        .join(", ");
    let message = escape(&format!(
        "tier `{tier}` must take the same arguments and return the same `{ret}` as `{primary}`"
    ));
    let label = escape(&format!("expected an `async fn({args}) -> {ret}`"));
    let note = escape(&format!(
        "each tier is called with a clone of every argument of `{primary}`, and what it returns is what `{primary}` returns"
    ));
    let fits = quote!(#tk::__private::Fits);
    let misfit = quote!(#tk::__private::Misfit);
    let tier_fn = quote!(#tk::__private::TierFn);
    let imp = |via: &TokenStream| {
        quote! {
            impl<__CbF: #tier_fn<__CbArgs, __CbR, #via>, __CbArgs, __CbR> #check<__CbArgs, __CbR, #via> for __CbF {
                type Fut = <__CbF as #tier_fn<__CbArgs, __CbR, #via>>::Fut;
                fn __cb_call(self, args: __CbArgs) -> Self::Fut {
                    #tier_fn::call(self, args)
                }
            }
        }
    };
    let (via_fits, via_misfit) = (imp(&fits), imp(&misfit));
    quote! {
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        trait #check<__CbArgs, __CbR, __CbVia> {
            type Fut: ::core::future::Future<Output = __CbR>;
            fn __cb_call(self, args: __CbArgs) -> Self::Fut;
        }
        #via_fits
        #via_misfit
    }
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                t = proc_macro2::TokenTree::Group(group);
            } else {
                t.set_span(span);
            }
            t
        })
        .collect()
}

/// Tokens as a user writes them: `Result<String, AiError>`, `&Self`.
fn render(tokens: TokenStream) -> String {
    let mut s = tokens.to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        (" ;", ";"),
        ("& ", "&"),
        ("' ", "'"),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// `{` and `}` are format placeholders in `#[diagnostic]` messages.
fn escape(s: &str) -> String {
    s.replace('{', "{{").replace('}', "}}")
}

/// The function, which keeps its signature and calls its companion, and the
/// companion `<fn>_served`, which holds the chain (one body, one static) and
/// returns `Served<T>`: which tier served the call.
pub(super) fn with_served(
    plan: &Plan,
    shape: &Shape,
    mut func: ItemFn,
    new_ret: Type,
    chain: TokenStream,
) -> TokenStream {
    let tk = &plan.tiers_krate;
    let mut companion = served_fn(plan, shape, &func);
    *companion.block = syn::parse_quote!({ #chain });

    let callee = served_path(plan, &func);
    let receiver = func.sig.receiver().map(|_| quote!(self));
    let mut args = Vec::new();
    for input in func.sig.inputs.iter_mut() {
        // The function only passes its arguments on.
        if let FnArg::Typed(t) = input
            && let Pat::Ident(p) = &mut *t.pat
        {
            p.mutability = None;
            p.by_ref = None;
            args.push(p.ident.clone());
        }
    }
    let values = receiver.into_iter().chain(args.iter().map(|a| quote!(#a)));
    let call = quote!(#callee(#(#values),*).await.map(#tk::Served::into_value));
    let call = if func.sig.unsafety.is_some() {
        quote!(unsafe { #call })
    } else {
        call
    };
    if let ReturnType::Type(arrow, _) = &func.sig.output {
        func.sig.output = ReturnType::Type(*arrow, Box::new(new_ret));
    }
    // A lint expectation is about the body, which is the companion's now.
    func.attrs.retain(|a| !a.path().is_ident("expect"));
    *func.block = syn::parse_quote!({ #call });
    quote! { #func #companion }
}

/// How the function calls its companion: a sibling in the same impl block
/// for methods (and functions whose tiers are `Self::..`), else a free one.
fn served_path(plan: &Plan, func: &ItemFn) -> TokenStream {
    let served = served_ident(func);
    if in_impl(plan, func) {
        quote!(Self::#served)
    } else {
        quote!(#served)
    }
}

/// Whether the function is known to be in an impl block. An associated
/// function without `self` whose tiers are all free functions looks like a
/// free function to the macro.
fn in_impl(plan: &Plan, func: &ItemFn) -> bool {
    func.sig.receiver().is_some()
        || plan
            .tiers
            .iter()
            .any(|p| p.segments.first().is_some_and(|s| s.ident == "Self"))
}

fn served_ident(func: &ItemFn) -> syn::Ident {
    format_ident!("{}_served", func.sig.ident, span = func.sig.ident.span())
}

/// The companion's item without its body: the function's parameters,
/// visibility, receiver, generics and `cfg`s and lint levels, returning
/// `Result<Served<T>, ChainError<E>>` (`Result<Served<T>, E>` with
/// `error = from`).
pub(super) fn served_fn(plan: &Plan, shape: &Shape, func: &ItemFn) -> ItemFn {
    let tk = &plan.tiers_krate;
    let (ok, err) = (&shape.ok, &shape.err);
    let ret: Type = if plan.error_from {
        syn::parse_quote!(::core::result::Result<#tk::Served<#ok>, #err>)
    } else {
        syn::parse_quote!(::core::result::Result<#tk::Served<#ok>, #tk::ChainError<#err>>)
    };
    let mut served = func.clone();
    served.sig.ident = served_ident(func);
    // Its parameters are only cloned, once per tier.
    for input in served.sig.inputs.iter_mut() {
        if let FnArg::Typed(t) = input
            && let Pat::Ident(p) = &mut *t.pat
        {
            p.mutability = None;
        }
    }
    if let ReturnType::Type(arrow, _) = &func.sig.output {
        served.sig.output = ReturnType::Type(*arrow, Box::new(ret));
    }
    let ident = &func.sig.ident;
    let link = if in_impl(plan, func) {
        format!("Like [`{ident}`](Self::{ident}), and says which tier served the call.")
    } else {
        format!("Like [`{ident}`], and says which tier served the call.")
    };
    served.attrs = vec![
        syn::parse_quote!(#[doc = #link]),
        // Generated for every tiered function, used where wanted.
        syn::parse_quote!(#[allow(dead_code)]),
    ];
    served.attrs.extend(
        func.attrs
            .iter()
            .filter(|a| {
                ["cfg", "cfg_attr", "allow", "expect", "warn", "deny", "forbid"]
                    .iter()
                    .any(|name| a.path().is_ident(name))
            })
            .cloned(),
    );
    served
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::{ToTokens, quote};

    fn items(out: TokenStream) -> Vec<syn::ItemFn> {
        let file: syn::File = syn::parse2(out).expect("items");
        file.items
            .into_iter()
            .map(|item| match item {
                syn::Item::Fn(f) => f,
                other => panic!("not a function: {}", quote!(#other)),
            })
            .collect()
    }

    #[test]
    fn a_tiered_function_calls_its_companion_which_holds_the_one_chain() {
        let out = crate::breaker::expand(
            quote!(tiers(ask_gpt)),
            quote!(
                /// Asks.
                pub async fn ask(mut p: String) -> Result<String, AiError> {
                    p.push('!');
                    Ok(p)
                }
            ),
        );
        let fns = items(out);
        let [main, served] = fns.as_slice() else {
            panic!("two functions, not {}", fns.len())
        };
        assert_eq!(served.sig.ident, "ask_served");
        let served_ret = served.sig.output.to_token_stream().to_string();
        assert!(served_ret.contains("Served < String >"), "{served_ret}");
        let main_body = main.block.to_token_stream().to_string();
        assert!(
            main_body.contains("ask_served (p)") && !main_body.contains("__CB_CHAIN"),
            "{main_body}"
        );
        let served_body = served.block.to_token_stream().to_string();
        assert_eq!(
            served_body.matches("__CB_CHAIN").count(),
            2,
            "one static, used once: {served_body}"
        );
        assert_eq!(
            served_body.matches("p . push").count(),
            1,
            "tier 1's body once: {served_body}"
        );
        let attrs = &served.attrs;
        let docs = quote!(#(#attrs)*).to_string();
        assert!(
            docs.contains("Like [`ask`], and says which tier served the call."),
            "{docs}"
        );
    }

    #[test]
    fn with_an_argument_error_the_companion_is_still_emitted() {
        for error in [quote!(), quote!(error = from,)] {
            let out = crate::breaker::expand(
                quote!(#error open_duration = 30, tiers(ask_gpt)),
                quote!(
                    async fn ask(p: String) -> Result<String, AiError> {
                        Ok(p)
                    }
                ),
            )
            .to_string();
            assert!(
                out.contains("write durations as strings") && out.contains("async fn ask_served"),
                "{out}"
            );
        }
    }

    #[test]
    fn a_method_calls_its_companion_through_self() {
        let out = crate::breaker::expand(
            quote!(tiers(Self::backup)),
            quote!(
                async fn ask(&self, p: String) -> Result<String, AiError> {
                    Ok(p)
                }
            ),
        );
        let fns = items(out);
        let main_body = fns[0].block.to_token_stream().to_string();
        assert!(main_body.contains("Self :: ask_served (self , p)"), "{main_body}");
    }
}
