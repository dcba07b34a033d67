//! `#[derive(Classify)]`: one `#[classify(...)]` per variant, the single
//! source of truth for how an error counts.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, Lit, LitBool, Member};

use crate::breaker::args::{ArgValue, Args};
use crate::common::suggest::with_suggestion;
use crate::common::{Errors, krate};

const KEYS: [&str; 5] = ["failure", "excluded", "retryable", "retry_after", "crate"];

struct Variant {
    pattern: TokenStream,
    outcome: TokenStream,
    retryable: bool,
    /// The bound field, and the user's field token: a field of the wrong
    /// type is reported there.
    retry_after: Option<(TokenStream, Span)>,
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.into_compile_error(),
    };
    let mut errors = Errors::default();
    let mut krate_lit = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("classify")) {
        match attr.parse_args::<Args>() {
            Ok(args) =>
            {
                #[allow(clippy::needless_borrow)]
                for a in args.0 {
                    match (a.key.to_string().as_str(), &a.value) {
                        ("crate", ArgValue::Lit { lit: Lit::Str(s), .. }) => krate_lit = Some(s.clone()),
                        _ => errors.push(&a.key, "on the enum, `#[classify]` only takes `crate = \"...\"`; classify each variant instead"),
                    }
                }
            }
            Err(e) => errors.add(e),
        }
    }
    let k = match krate::path(krate_lit.as_ref(), quote!(::cb_core)) {
        Ok(k) => k,
        Err(e) => {
            errors.add(e);
            quote!(::cb_core)
        }
    };
    let data = match &input.data {
        Data::Enum(e) => e,
        Data::Struct(s) => {
            errors.push(
                s.struct_token,
                "#[derive(Classify)] is for error enums: one `#[classify(...)]` per variant",
            );
            return errors
                .finish()
                .err()
                .map(syn::Error::into_compile_error)
                .unwrap_or_default();
        }
        Data::Union(u) => {
            errors.push(u.union_token, "#[derive(Classify)] is for error enums");
            return errors
                .finish()
                .err()
                .map(syn::Error::into_compile_error)
                .unwrap_or_default();
        }
    };
    let mut variants = Vec::new();
    for v in &data.variants {
        let ident = &v.ident;
        let attrs: Vec<_> = v.attrs.iter().filter(|a| a.path().is_ident("classify")).collect();
        let Some(attr) = attrs.first() else {
            errors.push(
                ident,
                format!("variant `{ident}` is not classified; add `#[classify(failure)]` or `#[classify(excluded)]`"),
            );
            continue;
        };
        if let Some(second) = attrs.get(1) {
            errors.push(
                second,
                "duplicate `#[classify]` on this variant; put everything in one",
            );
        }
        let args = match attr.parse_args_with(flags) {
            Ok(a) => a,
            Err(e) => {
                errors.add(e);
                continue;
            }
        };
        let mut outcome: Option<(Ident, TokenStream)> = None;
        let mut bad = false;
        let mut retryable: Option<bool> = None;
        let mut retry_after = None;
        let mut seen: Vec<String> = Vec::new();
        for a in args.0 {
            let key = a.key.to_string();
            if seen.contains(&key) {
                errors.push(&a.key, format!("duplicate `{key}`"));
                continue;
            }
            seen.push(key.clone());
            match key.as_str() {
                "failure" | "excluded" => {
                    if let Some((prev, _)) = &outcome {
                        errors.push(
                            &a.key,
                            format!(
                                "a variant is `failure` or `excluded`, not both (`{prev}` is already given)"
                            ),
                        );
                        continue;
                    }
                    let o = if key == "failure" {
                        quote!(Failure)
                    } else {
                        quote!(Excluded)
                    };
                    outcome = Some((a.key.clone(), o));
                }
                "retryable" => match &a.value {
                    ArgValue::Group { tokens, .. } if tokens.is_empty() => retryable = Some(true),
                    ArgValue::Lit {
                        lit: Lit::Bool(LitBool { value, .. }),
                        ..
                    } => retryable = Some(*value),
                    other => errors.push(other.spanned(), "expected `retryable` or `retryable = false`"),
                },
                "retry_after" => {
                    let member: Option<Member> = match &a.value {
                        ArgValue::Path(p) => p.get_ident().cloned().map(Member::Named),
                        ArgValue::Lit { lit: Lit::Int(i), .. } => {
                            i.base10_parse::<usize>().ok().map(|n| Member::Unnamed(n.into()))
                        }
                        _ => None,
                    };
                    let Some(member) = member else {
                        errors.push(a.value.spanned(), "expected a field: `retry_after = wait` (or `retry_after = 0` in a tuple variant)");
                        continue;
                    };
                    let exists = match (&v.fields, &member) {
                        (Fields::Named(n), Member::Named(m)) => {
                            n.named.iter().any(|f| f.ident.as_ref() == Some(m))
                        }
                        (Fields::Unnamed(u), Member::Unnamed(i)) => (i.index as usize) < u.unnamed.len(),
                        _ => false,
                    };
                    if !exists {
                        let names: Vec<String> = v
                            .fields
                            .iter()
                            .enumerate()
                            .map(|(i, f)| f.ident.as_ref().map_or(i.to_string(), |id| id.to_string()))
                            .collect();
                        let shown = member.to_token_stream().to_string();
                        errors.push(
                            a.value.spanned(),
                            with_suggestion(
                                format!("variant `{ident}` has no field `{shown}`"),
                                &shown,
                                &names,
                            ),
                        );
                        continue;
                    }
                    retry_after = Some((member, a.value.spanned().span()));
                }
                other => {
                    bad = true;
                    errors.push(
                    &a.key,
                    with_suggestion(format!("unknown classification `{other}`; expected `failure`, `excluded`, `retryable` or `retry_after = <field>`"), other, &KEYS),
                    )
                }
            }
        }
        let Some((_, outcome)) = outcome else {
            if bad {
                continue;
            }
            errors.push(
                attr,
                format!("say whether `{ident}` is a `failure` or `excluded`"),
            );
            continue;
        };
        if retryable == Some(true) && outcome.to_string() == "Excluded" {
            errors.push(attr, "an excluded error is not retried: it says nothing about the downstream; remove `retryable` or make it a `failure`");
        }
        let retryable = retryable.unwrap_or(outcome.to_string() == "Failure");
        let (pattern, retry_after) = match (&v.fields, &retry_after) {
            (Fields::Unit, _) => (quote!(Self::#ident), None),
            (Fields::Named(_), Some((Member::Named(m), at))) => (
                quote!(Self::#ident { #m: __cb_field, .. }),
                Some((quote!(__cb_field), *at)),
            ),
            (Fields::Named(_), _) => (quote!(Self::#ident { .. }), None),
            (Fields::Unnamed(u), Some((Member::Unnamed(i), at))) => {
                let pats = (0..u.unnamed.len()).map(|j| {
                    if j == i.index as usize {
                        quote!(__cb_field)
                    } else {
                        quote!(_)
                    }
                });
                (quote!(Self::#ident(#(#pats),*)), Some((quote!(__cb_field), *at)))
            }
            (Fields::Unnamed(_), _) => (quote!(Self::#ident(..)), None),
        };
        variants.push(Variant {
            pattern,
            outcome,
            retryable,
            retry_after,
        });
    }
    if let Err(e) = errors.finish() {
        return e.into_compile_error();
    }
    let name = &input.ident;
    let (ig, tg, wc) = input.generics.split_for_impl();
    let outcome_arms = variants.iter().map(|v| {
        let (p, o) = (&v.pattern, &v.outcome);
        quote!(#p => #k::__private::Outcome::#o,)
    });
    let retry_arms = variants.iter().map(|v| {
        let (p, r) = (&v.pattern, v.retryable);
        quote!(#p => #r,)
    });
    let after_arms = variants.iter().map(|v| {
        let p = &v.pattern;
        match &v.retry_after {
            Some((f, at)) => {
                // Spanned at the user's field token, so that a field of the
                // wrong type is reported where the attribute names it.
                let hint = respan(quote!(#k::__private::IntoRetryAfter::to_retry_after(#f)), *at);
                quote!(#p => #hint,)
            }
            None => quote!(#p => ::core::option::Option::None,),
        }
    });
    // The variant's name as written: what a configuration's `classify`
    // lists match (`classify.excluded = ["NotFound"]`).
    let kind_arms = data.variants.iter().map(|v| {
        let ident = &v.ident;
        let name = syn::ext::IdentExt::unraw(ident).to_string();
        quote!(Self::#ident { .. } => #k::classify::ErrorKind::Variant(#name),)
    });
    let empty = data.variants.is_empty().then(|| quote!(_ => match *self {},));
    quote! {
        #[automatically_derived]
        impl #ig #k::Classify for #name #tg #wc {
            fn outcome(&self) -> #k::__private::Outcome {
                #[allow(unused_variables)]
                match self { #(#outcome_arms)* #empty }
            }
            fn retryable(&self) -> bool {
                #[allow(unused_variables)]
                match self { #(#retry_arms)* #empty }
            }
            fn retry_after(&self) -> ::core::option::Option<#k::__private::Duration> {
                match self { #(#after_arms)* #empty }
            }
            fn kind(&self) -> #k::classify::ErrorKind {
                match self { #(#kind_arms)* #empty }
            }
        }
    }
}

/// `failure, retryable` (bare words) as keys with empty groups.
fn flags(input: syn::parse::ParseStream<'_>) -> syn::Result<Args> {
    use syn::Token;
    let mut out = Vec::new();
    while !input.is_empty() {
        let key: Ident = input.parse()?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            if input.peek(Lit) {
                ArgValue::Lit {
                    lit: input.parse()?,
                    negative: None,
                }
            } else {
                ArgValue::Path(input.parse()?)
            }
        } else {
            ArgValue::Group {
                span: Span::call_site(),
                tokens: TokenStream::new(),
            }
        };
        out.push(crate::breaker::args::Arg { key, value });
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(Args(out))
}

/// `tokens` with every span set to `at`, inside groups too.
fn respan(tokens: TokenStream, at: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|t| match t {
            TokenTree::Group(g) => {
                let mut g = Group::new(g.delimiter(), respan(g.stream(), at));
                g.set_span(at);
                TokenTree::Group(g)
            }
            mut t => {
                t.set_span(at);
                t
            }
        })
        .collect()
}
