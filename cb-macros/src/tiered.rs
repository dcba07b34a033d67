//! `#[tiered]` on a trait: the routing implementation over an ordered set of
//! implementations, one breaker per tier and method (cb-tiers' `Tiered`).

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::{FnArg, ItemTrait, Pat, ReturnType, TraitItem};

use crate::breaker::args::{ArgValue, Args};
use crate::breaker::shape::result_parts;
use crate::common::{Errors, krate};

/// The largest tuple of implementations with a generated impl; more tiers
/// of one type go in a `Vec`.
const MAX_TUPLE: usize = 8;

struct Method {
    ident: syn::Ident,
    inputs: Vec<(syn::Ident, syn::Type)>,
    ok: syn::Type,
    err: syn::Type,
    attrs: Vec<syn::Attribute>,
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_trait: ItemTrait = match syn::parse2(item.clone()) {
        Ok(t) => t,
        Err(_) => {
            let err = match syn::parse2::<syn::Item>(item.clone()) {
                Ok(syn::Item::Fn(f)) => syn::Error::new_spanned(
                    f.sig.fn_token,
                    "#[tiered] goes on a trait; for one function with fallback tiers use `#[fallback(tier2, tier3)]`",
                ),
                Ok(syn::Item::Struct(s)) => {
                    syn::Error::new_spanned(s.struct_token, "#[tiered] goes on a trait")
                }
                Ok(syn::Item::Impl(i)) => syn::Error::new_spanned(
                    i.impl_token,
                    "#[tiered] goes on the trait, not on an implementation",
                ),
                _ => syn::Error::new(proc_macro2::Span::call_site(), "#[tiered] goes on a trait"),
            };
            let mut out = item;
            out.extend(err.into_compile_error());
            return out;
        }
    };
    let mut errors = Errors::default();
    let mut krate_lit = None;
    match syn::parse2::<Args>(args) {
        Ok(a) => {
            for arg in a.0 {
                match (arg.key.to_string().as_str(), &arg.value) {
                    ("crate", ArgValue::Lit { lit: syn::Lit::Str(s), .. }) => krate_lit = Some(s.clone()),
                    _ => errors.push(&arg.key, format!("unknown `#[tiered]` argument `{}`; expected `crate = \"...\"` (tiers are chosen when the client is built)", arg.key)),
                }
            }
        }
        Err(e) => errors.add(e),
    }
    let tk = match krate::path(krate_lit.as_ref(), quote!(::cb_tiers)) {
        Ok(k) => k,
        Err(e) => {
            errors.add(e);
            quote!(::cb_tiers)
        }
    };
    if !item_trait.generics.params.is_empty() {
        errors.push(
            &item_trait.generics,
            "#[tiered] does not support generic traits yet",
        );
    }
    let mut methods = Vec::new();
    for ti in &item_trait.items {
        let TraitItem::Fn(f) = ti else { continue };
        let sig = &f.sig;
        if sig.asyncness.is_none() {
            errors.push(
                sig.fn_token,
                format!("#[tiered] methods must be `async fn`; `{}` is not", sig.ident),
            );
            continue;
        }
        if !sig.generics.params.is_empty() {
            errors.push(&sig.generics, "#[tiered] methods cannot be generic yet");
            continue;
        }
        match sig.receiver() {
            Some(r) if r.reference.is_some() && r.mutability.is_none() => {}
            Some(r) => {
                errors.push(
                    r,
                    "#[tiered] methods take `&self`: every tier is called through a shared reference",
                );
                continue;
            }
            None => {
                errors.push(
                    &sig.ident,
                    format!("#[tiered] methods take `&self`; `{}` has no receiver", sig.ident),
                );
                continue;
            }
        }
        let ReturnType::Type(_, ret) = &sig.output else {
            errors.push(
                &sig.ident,
                format!(
                    "#[tiered] methods return `Result<T, E>`; `{}` returns `()`",
                    sig.ident
                ),
            );
            continue;
        };
        let Some((ok, err)) = result_parts(ret) else {
            errors.push(
                ret,
                "#[tiered] methods return `Result<T, E>` with the error type written out",
            );
            continue;
        };
        let mut inputs = Vec::new();
        for input in sig.inputs.iter().skip(1) {
            if let FnArg::Typed(t) = input {
                match &*t.pat {
                    Pat::Ident(p) => inputs.push((p.ident.clone(), (*t.ty).clone())),
                    other => errors.push(other, "#[tiered] methods need plain argument names"),
                }
            }
        }
        let attrs = f
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .cloned()
            .collect();
        methods.push(Method {
            ident: sig.ident.clone(),
            inputs,
            ok,
            err,
            attrs,
        });
    }
    // Each method gets a companion `<method>_served` on the client.
    for m in &methods {
        let served = format!("{}_served", m.ident);
        if let Some(clash) = methods.iter().find(|other| other.ident == served) {
            errors.push(
                &clash.ident,
                format!(
                    "the tiered client adds `{served}` beside `{}` (it says which tier served the call); rename this method",
                    m.ident
                ),
            );
        }
    }
    if methods.is_empty() && item_trait.items.iter().all(|i| !matches!(i, TraitItem::Fn(_))) {
        errors.push(
            &item_trait.ident,
            format!("`{}` has no `async fn` to route", item_trait.ident),
        );
    }
    // With an error, the client and builder are still emitted for the
    // methods that are right, so callers get the one error, not a cascade
    // of "cannot find" errors. A generic trait cannot be named without its
    // parameters: it gets the trait alone.
    let checked = errors.finish();
    if let Err(e) = &checked
        && !item_trait.generics.params.is_empty()
    {
        let mut out = item_trait.into_token_stream();
        out.extend(e.to_compile_error());
        return out;
    }
    let errors = checked.err().map(|e| e.into_compile_error());

    let tr = &item_trait.ident;
    let vis = &item_trait.vis;
    let ext = format_ident!("{}Tiered", tr);
    let builder = format_ident!("{}_tiered", snake(&tr.to_string()));
    let names: Vec<String> = methods.iter().map(|m| m.ident.to_string()).collect();
    // One static inventory entry per method: the call site is known at
    // compile time, its tiers (and so its breakers' names) when the client is built.
    let trait_name = tr.to_string();
    let declared = names.iter().map(|method| {
        let site = format!("{trait_name}::{method}");
        quote! {
            #tk::__private::cb_core::__private::inventory::submit! {
                #tk::__private::cb_core::__private::Declared::__new(
                    #site, ::core::module_path!(), #method, ::core::option::Option::None,
                    ::core::option::Option::None, &[], &["tiered", "breaker"],
                    ::core::file!(), ::core::line!(),
                )
            }
        }
    });
    let ext_doc = format!(
        "`{tr}` on a tiered client: each method tries the tiers in order, skipping those whose circuit is open (generated by `#[tiered]`)."
    );
    let builder_doc = format!(
        "Starts a tiered `{tr}` client over `services` (a tuple of up to {MAX_TUPLE} implementations, or a `Vec` of one type) with the methods of `{tr}`; add one `.tier(name)` per implementation, in order, then `.build()` (with `.in_global_registry()` first to configure its breakers by name through every configuration layer)."
    );
    // Each method calls its companion, which runs the chain and says which
    // tier served the call.
    let sigs = methods.iter().map(|m| {
        let (ident, ok, err, attrs) = (&m.ident, &m.ok, &m.err, &m.attrs);
        let served = served_ident(&m.ident);
        let served_doc = format!("Like [`{ident}`](Self::{ident}), and says which tier served the call.");
        let args: Vec<_> = m.inputs.iter().map(|(i, t)| quote!(#i: #t)).collect();
        let names = m.inputs.iter().map(|(i, _)| i);
        quote! {
            #(#attrs)*
            fn #ident(&self, #(#args),*) -> impl ::core::future::Future<Output = ::core::result::Result<#ok, #tk::ChainError<#err>>> {
                async move { self.#served(#(#names),*).await.map(#tk::__private::Served::into_value) }
            }
            #[doc = #served_doc]
            fn #served(&self, #(#args),*) -> impl ::core::future::Future<Output = ::core::result::Result<#tk::__private::Served<#ok>, #tk::ChainError<#err>>>;
        }
    });
    let impl_for = |target: TokenStream,
                    generics: TokenStream,
                    bounds: TokenStream,
                    call: &dyn Fn(&Method) -> TokenStream| {
        let bodies = methods.iter().enumerate().map(|(index, m)| {
            let (ok, err) = (&m.ok, &m.err);
            let served = served_ident(&m.ident);
            let args: Vec<_> = m.inputs.iter().map(|(i, _)| i).collect();
            let typed = m.inputs.iter().map(|(i, t)| quote!(#i: #t));
            let dispatch = call(m);
            quote! {
                async fn #served(&self, #(#typed),*) -> ::core::result::Result<#tk::__private::Served<#ok>, #tk::ChainError<#err>> {
                    #[allow(unused_imports)]
                    use #tk::__private::cb_core::__private::{ViaClassify as _, ViaDefault as _};
                    let __cb_classifier = (&#tk::__private::cb_core::__private::Dispatch::<#err>::new()).__cb_classifier();
                    let __cb_services = self.services();
                    self.call_with(#index, |__cb_tier: usize| {
                        #( let #args = ::core::clone::Clone::clone(&#args); )*
                        async move { #dispatch }
                    }, &__cb_classifier)
                    .await
                }
            }
        });
        quote! {
            #[allow(private_interfaces, private_bounds)]
            impl<#generics> #ext for #tk::Tiered<#target> where #bounds {
                #(#bodies)*
            }
        }
    };
    let mut impls = Vec::new();
    for n in 1..=MAX_TUPLE {
        let tys: Vec<_> = (0..n).map(|i| format_ident!("__CbT{}", i)).collect();
        let target = quote!((#(#tys,)*));
        let generics = quote!(#(#tys),*);
        let bounds = quote!(#(#tys: #tr + ::core::marker::Sync),*);
        let call = |m: &Method| {
            let ident = &m.ident;
            let args: Vec<_> = m.inputs.iter().map(|(i, _)| i).collect();
            let arms = (0..n).map(|i| {
                let idx = syn::Index::from(i);
                let pat = if i + 1 == n { quote!(_) } else { quote!(#i) };
                quote!(#pat => #tr::#ident(&__cb_services.#idx, #(#args),*).await,)
            });
            quote!(match __cb_tier { #(#arms)* })
        };
        impls.push(impl_for(target, generics, bounds, &call));
    }
    let vec_call = |m: &Method| {
        let ident = &m.ident;
        let args: Vec<_> = m.inputs.iter().map(|(i, _)| i).collect();
        quote!(#tr::#ident(&__cb_services[__cb_tier], #(#args),*).await)
    };
    impls.push(impl_for(
        quote!(::std::vec::Vec<__CbS>),
        quote!(__CbS),
        quote!(__CbS: #tr + ::core::marker::Sync),
        &vec_call,
    ));

    quote! {
        // `#[tiered]` asks for `async fn` methods; the lint against them in
        // public traits is about a choice the macro made for the user.
        #[allow(async_fn_in_trait)]
        #item_trait

        // The client's methods name the trait's own types: when one is
        // more private than the trait, the trait already says so, once.
        #[doc = #ext_doc]
        #[allow(async_fn_in_trait, private_interfaces, private_bounds)]
        #vis trait #ext {
            #(#sigs)*
        }

        #(#impls)*

        #[doc = #builder_doc]
        #vis fn #builder<S>(services: S) -> #tk::TieredBuilder<S> {
            #tk::Tiered::builder(services).methods::<&'static str>([#(#names),*])
        }

        #(#declared)*

        #errors
    }
}

fn served_ident(method: &syn::Ident) -> syn::Ident {
    format_ident!("{}_served", method)
}

fn snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_named_like_a_companion_is_an_error_at_its_name() {
        let out = expand(
            quote!(),
            quote!(
                trait Accounts {
                    async fn get(&self) -> Result<u64, ApiError>;
                    async fn get_served(&self) -> Result<u64, ApiError>;
                }
            ),
        )
        .to_string();
        assert!(
            out.contains("the tiered client adds `get_served` beside `get` (it says which tier served the call); rename this method"),
            "{out}"
        );
    }

    /// `#[tiered]` needs `cb-tiers` alone: it names the runtime through
    /// `::cb_tiers::__private`, never `::cb_core`.
    #[test]
    fn names_no_cb_core_path() {
        let out = expand(
            quote!(),
            quote!(
                pub trait Accounts {
                    async fn get(&self, id: u64) -> Result<u64, ApiError>;
                }
            ),
        )
        .to_string();
        assert!(out.contains("accounts_tiered"), "{out}");
        assert!(
            !out.replace(":: cb_tiers :: __private :: cb_core", "")
                .contains(":: cb_core"),
            "{out}"
        );
    }
}
