//! Emit: turns a checked [`Plan`] into code. Cannot fail.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType, Stmt, Type};

use super::plan::{Plan, TemplateRef};
use super::shape::{Body, Shape, replace_future_output};
use crate::common::fields::Checked;

mod tiers;

/// The wrapped function.
pub(crate) fn emit(plan: &Plan, shape: &Shape, mut func: ItemFn) -> TokenStream {
    let k = &plan.krate;
    let ok = &shape.ok;
    let err = &shape.err;
    let declared_ret = &shape.result;
    let ret_span = declared_ret.span();
    let fn_name = func.sig.ident.to_string();

    let name = match &plan.name {
        Some(lit) => quote!(#lit),
        None => quote!(::core::concat!(::core::module_path!(), "::", #fn_name)),
    };
    let overrides = overrides(plan);
    let template_arg = match &plan.template {
        Some(TemplateRef::Const(_)) => quote!(::core::option::Option::Some(__CB_TEMPLATE)),
        _ => quote!(::core::option::Option::None),
    };
    // The one place the template path is used, typed: a wrong path is one
    // error at the user's token.
    let template_const = match &plan.template {
        Some(TemplateRef::Const(p)) => quote_spanned! {p.span()=>
            const __CB_TEMPLATE: &#k::__private::StaticTemplate = &#p;
        },
        _ => quote!(),
    };
    let stages = match staged(plan, shape, &func) {
        Some(replay) if plan.tiers.is_empty() => declared_stages(plan, &replay, &func),
        _ => None,
    };
    let declared = declared(plan, &name, &fn_name, stages);
    let checks = &plan.template_checks;
    let declared = quote!(#template_const #checks #declared);

    // The body with its type fixed to the declared return type, so type
    // errors land in the user's code.
    let inferred = &shape.result_inferred;
    let block = &func.block;
    // A one-line body's braces are the user's and needed as written: the
    // `unused_braces` lint would flag them here and suggest invalid Rust.
    let typed_body = quote_spanned! {ret_span=> {
        #[allow(unused_braces)]
        let __cb_ret: #inferred = #block;
        __cb_ret
    }};

    // Variant names in `classify(..)` match only what `Classify::kind`
    // names: an error type without it is a compile error at the type.
    let names_variants = names_variants(plan).then(|| {
        quote_spanned! {err.span()=> #k::__private::names_variants::<#err>(); }
    });
    let classifier = quote! {
        #names_variants
        #[allow(unused_imports)]
        use #k::__private::{ViaClassify as _, ViaDefault as _};
        let __cb_classifier = (&#k::__private::Dispatch::<#err>::new()).__cb_classifier();
    };
    let rescue_fn = plan.rescue.as_ref().map(|fb| {
        if shape.impl_in_result {
            quote!(#fb)
        } else {
            quote_spanned! {fb.span()=> {
                let __cb_rescue: fn(&#k::__private::Cause<'_, #err>) -> #k::__private::Result<#ok, #err> = #fb;
                __cb_rescue
            }}
        }
    });

    let (new_ret, body): (Type, TokenStream) = if !plan.tiers.is_empty() {
        let tk = &plan.tiers_krate;
        let chain = tiers::chain_call(
            plan,
            shape,
            &func,
            tiers::Parts {
                name: &name,
                overrides: &overrides,
                template_arg: &template_arg,
                typed_body: &typed_body,
                classifier: &classifier,
            },
        );
        let wrapped: Type = syn::parse_quote!(::core::result::Result<#ok, #tk::ChainError<#err>>);
        let from = plan.error_from.then(|| {
            quote_spanned! {err.span()=>
                let __cb_result = __cb_result.map_err(<#err as ::core::convert::From<#tk::ChainError<#err>>>::from);
            }
        });
        if !matches!(shape.body, Body::AsyncTrait(_)) {
            let new_ret = if plan.error_from {
                declared_ret.clone()
            } else {
                wrapped
            };
            return tiers::with_served(
                plan,
                shape,
                func,
                new_ret,
                quote! { #declared #chain #from __cb_result },
            );
        }
        // An `#[async_trait]` method is in a trait impl, which has no room
        // for a companion.
        let body = quote! {
            #declared #chain
            let __cb_result = __cb_result.map(#tk::__private::Served::into_value);
            #from
            __cb_result
        };
        (wrapped, body)
    } else if let Some(replay) = staged(plan, shape, &func) {
        let s = &plan.stages;
        let rr = s.retry_rejections;
        let (retry, bh, ct) = (
            stage(k, s.retry, s.no_retry),
            stage(k, s.bulkhead, s.no_bulkhead),
            stage(k, s.call_timeout, s.no_call_timeout),
        );
        let rescue = match &rescue_fn {
            Some(f) => quote!(::core::option::Option::Some(#f)),
            None => quote!(::core::option::Option::None),
        };
        let (slots, replayable, call) = match replay {
            // `#[retry]`: every argument is cloned per attempt, as written.
            Replay::Clone => {
                let args: Vec<_> = shape.args.iter().filter_map(|a| a.as_ref().ok()).collect();
                let call = quote! {
                    __cb_staged.pipeline().call(move || {
                        #( let #args = ::core::clone::Clone::clone(&#args); )*
                        async move #typed_body
                    }).await
                };
                (quote!(), quote!(true), call)
            }
            // A retry only the configuration may enable: each argument is
            // cloned for another attempt when its type allows and the
            // pipeline retries, else moved into the one attempt.
            Replay::Maybe(args) => {
                // Each attempt rebinds the argument (`mut` there); the
                // parameter itself is only moved into its slot.
                for input in func.sig.inputs.iter_mut() {
                    if let syn::FnArg::Typed(t) = input
                        && let syn::Pat::Ident(p) = &mut *t.pat
                    {
                        p.mutability = None;
                    }
                }
                let slots: Vec<_> = (0..args.len()).map(|i| format_ident!("__cb_arg{}", i)).collect();
                let names: Vec<_> = args.iter().map(|(_, n)| n).collect();
                let muts: Vec<_> = args.iter().map(|(m, _)| m).collect();
                let call = quote! {
                    __cb_staged.pipeline().call({
                        let __cb_again = __cb_staged.retries();
                        move || {
                        #( let #names = (&mut #k::__private::Replay(&mut #slots, __cb_again)).__cb_next(); )*
                        async move {
                            #(
                                // Only a replayable function is attempted twice.
                                let ::core::option::Option::Some(#muts #names) = #names else {
                                    ::core::unreachable!("an argument was moved into an earlier attempt")
                                };
                            )*
                            #typed_body
                        }
                    }}).await
                };
                let slots_init = quote! {
                    #[allow(unused_imports)]
                    use #k::__private::{ReplayClone as _, ReplayOnce as _};
                    #( let mut #slots = ::core::option::Option::Some(#names); )*
                };
                let replayable =
                    quote!(true #( && (&mut #k::__private::Replay(&mut #slots, true)).__cb_replayable() )*);
                (slots_init, replayable, call)
            }
            Replay::Never => (
                quote!(),
                quote!(false),
                quote!(__cb_staged.pipeline().call_once(async move #typed_body).await),
            ),
        };
        let body = quote! {
            static __CB_PIPELINE: #k::__private::OnceLock<#k::__private::Staged<#ok, #err>> = #k::__private::OnceLock::new();
            #slots
            let __cb_staged = __CB_PIPELINE.get_or_init(|| {
                #classifier
                let __cb_dispatch = &#k::__private::Dispatch::<#err>::new();
                #k::__private::build_pipeline::<#ok, #err, _>(
                    #k::__private::resolve_breaker(#name, #overrides, #template_arg),
                    #overrides,
                    #template_arg,
                    #k::__private::StageSpec {
                        retry: #retry,
                        retry_rejections: #rr,
                        bulkhead: #bh,
                        call_timeout: #ct,
                        replayable: #replayable,
                    },
                    __cb_classifier,
                    __cb_dispatch.__cb_retryable(),
                    __cb_dispatch.__cb_retry_after(),
                    #rescue,
                )
            });
            let __cb_result = #call;
        };
        let wrapped: Type = syn::parse_quote!(::core::result::Result<#ok, #k::Error<#err>>);
        (wrapped, {
            let tail = tail_error(plan, k, err);
            quote! { #declared #body #tail __cb_result }
        })
    } else {
        let call = match &shape.body {
            Body::Sync => quote! {
                __cb_breaker.call_sync_with(move || #typed_body, &__cb_classifier)
            },
            Body::Async => quote! {
                __cb_breaker.call_with(async move #typed_body, &__cb_classifier).await
            },
            Body::AsyncTrait(inner) => quote! {
                __cb_breaker.call_with(#inner, &__cb_classifier).await
            },
        };
        let rescue = rescue_fn.map(|f| {
            quote! { let __cb_result = #k::__private::run_rescue(__cb_result, __cb_breaker, &__cb_classifier, #f); }
        });
        let unstaged = unstaged(plan, shape);
        let body = quote! {
            #classifier
            static __CB_BREAKER: #k::__private::OnceLock<#k::__private::CircuitBreaker> = #k::__private::OnceLock::new();
            let __cb_breaker = __CB_BREAKER.get_or_init(|| {
                let __cb_breaker = #k::__private::resolve_breaker(#name, #overrides, #template_arg);
                #unstaged
                __cb_breaker
            });
            let __cb_result = #call;
            #rescue
        };
        let wrapped: Type = syn::parse_quote!(::core::result::Result<#ok, #k::Error<#err>>);
        (wrapped, {
            let tail = tail_error(plan, k, err);
            quote! { #declared #body #tail __cb_result }
        })
    };

    // The signature: `Result<T, E>` becomes the wrapped error, unless `error = from`.
    let new_ret = if plan.error_from {
        declared_ret.clone()
    } else {
        new_ret
    };
    match shape.body {
        Body::AsyncTrait(_) => {
            if let ReturnType::Type(arrow, ty) = &func.sig.output {
                let replaced = replace_future_output(ty, &new_ret);
                func.sig.output = ReturnType::Type(*arrow, Box::new(replaced));
            }
            let mut stmts = func.block.stmts.clone();
            stmts.pop();
            let stmts = stmts.iter().map(|s: &Stmt| quote!(#s));
            let attrs = &func.attrs;
            let vis = &func.vis;
            let sig = &func.sig;
            quote! {
                #(#attrs)* #vis #sig {
                    #(#stmts)*
                    ::std::boxed::Box::pin(async move { #body })
                }
            }
        }
        _ => {
            if let ReturnType::Type(arrow, _) = &func.sig.output {
                func.sig.output = ReturnType::Type(*arrow, Box::new(new_ret));
            }
            let attrs = &func.attrs;
            let vis = &func.vis;
            let sig = &func.sig;
            quote! { #(#attrs)* #vis #sig { #body } }
        }
    }
}

/// How a staged function's arguments reach each attempt.
enum Replay {
    /// `#[retry]`: cloned, checked at compile time.
    Clone,
    /// Each argument's slot, `mut` and name: cloned if its type allows
    /// and the resolved configuration retries.
    Maybe(Vec<(Option<syn::Token![mut]>, syn::Ident)>),
    /// Patterns or `self` by value: one attempt.
    Never,
}

/// Whether the function runs through a pipeline whose stages its resolved
/// configuration decides, and how its arguments are replayed. A pipeline is
/// one `static` per function, so its `Result` types must be nameable there:
/// no generics, `impl Trait`, references, lifetimes or `Self`. Other shapes
/// (and functions that switch every stage off) get the breaker alone, and
/// the stages their configuration enables are reported instead.
fn staged(plan: &Plan, shape: &Shape, func: &ItemFn) -> Option<Replay> {
    if plan.stages.any() {
        // Checked by `valid::fits`: the shape carries a pipeline.
        return Some(if plan.stages.retry {
            Replay::Clone
        } else {
            replay(plan, shape, func)
        });
    }
    let nameable = !shape.generic && !shape.impl_in_result && static_type(&shape.result);
    let runs = matches!(shape.body, Body::Async) && plan.tiers.is_empty() && !plan.stages.all_off();
    (nameable && runs).then(|| replay(plan, shape, func))
}

/// The arguments of a function whose retry the configuration decides.
fn replay(plan: &Plan, shape: &Shape, func: &ItemFn) -> Replay {
    if plan.stages.no_retry || shape.self_by_value {
        return Replay::Never;
    }
    let mut args = Vec::new();
    for input in &func.sig.inputs {
        if let syn::FnArg::Typed(t) = input {
            match &*t.pat {
                syn::Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => {
                    args.push((p.mutability, p.ident.clone()));
                }
                _ => return Replay::Never,
            }
        }
    }
    Replay::Maybe(args)
}

/// Whether `ty` can be written in a `static`: no reference, lifetime or `Self`.
fn static_type(ty: &Type) -> bool {
    fn clean(tokens: TokenStream) -> bool {
        tokens.into_iter().all(|t| match t {
            proc_macro2::TokenTree::Group(g) => clean(g.stream()),
            proc_macro2::TokenTree::Punct(p) => p.as_char() != '&' && p.as_char() != '\'',
            proc_macro2::TokenTree::Ident(i) => i != "Self",
            proc_macro2::TokenTree::Literal(_) => true,
        })
    }
    clean(quote!(#ty))
}

/// In the breaker-only expansion: the stages the resolved configuration
/// enables are reported once, unless every stage is switched off.
fn unstaged(plan: &Plan, shape: &Shape) -> TokenStream {
    let k = &plan.krate;
    let s = &plan.stages;
    if s.all_off() {
        return quote!();
    }
    let why = if matches!(shape.body, Body::Sync) {
        "needs an `async fn` (a blocking call can be neither cancelled nor queued); write `retry = false`, `call_timeout = false` and `bulkhead = false` to say so"
    } else if matches!(shape.body, Body::AsyncTrait(_)) {
        "not supported on `#[async_trait]` methods yet; write `retry = false`, `call_timeout = false` and `bulkhead = false` to say so"
    } else {
        "needs a non-generic function whose `Result` types have no reference, lifetime, `impl Trait` or `Self` (its pipeline is one `static` per function); write `retry = false`, `call_timeout = false` and `bulkhead = false` to say so"
    };
    let overrides = overrides(plan);
    let (retry, bh, ct) = (
        stage(k, false, s.no_retry),
        stage(k, false, s.no_bulkhead),
        stage(k, false, s.no_call_timeout),
    );
    quote! {
        #k::__private::report_unstaged(
            #k::__private::CircuitBreaker::name(&__cb_breaker),
            #overrides,
            #k::__private::StageSpec { retry: #retry, retry_rejections: false, bulkhead: #bh, call_timeout: #ct, replayable: false },
            #why,
        );
    }
}

/// A stage as the runtime's `Stage`: written on the function, switched off,
/// or left to the configuration.
fn stage(k: &TokenStream, written: bool, off: bool) -> TokenStream {
    match (written, off) {
        (true, _) => quote!(#k::__private::Stage::Written),
        (false, true) => quote!(#k::__private::Stage::Off),
        (false, false) => quote!(#k::__private::Stage::Configured),
    }
}

/// With `error = from`: `Error<E>` converts into the declared `E`.
fn tail_error(plan: &Plan, k: &TokenStream, err: &Type) -> Option<TokenStream> {
    plan.error_from.then(|| {
        quote_spanned! {err.span()=>
            let __cb_result = __cb_result.map_err(<#err as ::core::convert::From<#k::Error<#err>>>::from);
        }
    })
}

/// The code layer: template, environment and the checked values.
fn overrides(plan: &Plan) -> TokenStream {
    let k = &plan.krate;
    let mut out = quote!(#k::__private::Overrides::new());
    match &plan.template {
        Some(TemplateRef::Builtin(s)) => out = quote!(#out.template(#s)),
        Some(TemplateRef::Const(_)) => out = quote!(#out.template(__CB_TEMPLATE.name)),
        None => {}
    }
    if let Some(env) = &plan.environment {
        let variant = format_ident!("{}", capitalize(env));
        out = quote!(#out.environment(#k::__private::Environment::#variant));
    }
    for (path, value) in &plan.values {
        let v = match value {
            Checked::Int(n) => quote!(#k::__private::Value::Int(#n)),
            Checked::Float(x) => quote!(#k::__private::Value::Float(#x)),
            Checked::Bool(b) => quote!(#k::__private::Value::Bool(#b)),
            Checked::Text(s) => quote!(#k::__private::Value::Text(::std::string::String::from(#s))),
            Checked::List(items) => {
                quote!(#k::__private::Value::List(::std::vec![#(::std::string::String::from(#items)),*]))
            }
        };
        out = quote!(#out.set(#path, #v));
    }
    out
}

/// Whether `classify(..)` lists a variant name (not only `timeout`,
/// statuses and classes).
fn names_variants(plan: &Plan) -> bool {
    ["classify.failure", "classify.excluded"].iter().any(|path| {
        matches!(plan.values.get(path), Some(Checked::List(items))
            if items.iter().any(|i| matches!(cb_syntax::schema::ErrorName::parse(i), Some(cb_syntax::schema::ErrorName::Variant(_)))))
    })
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// The tier breaker's name: the path as written, under the declaring module
/// for relative paths (`ask_gpt` in `app::ai` is `app::ai::ask_gpt`).
fn tier_name(path: &syn::Path) -> TokenStream {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segs.first().map(String::as_str) {
        Some("crate") => {
            let rest = segs[1..].join("::");
            quote!(::core::concat!(::core::env!("CARGO_CRATE_NAME"), "::", #rest))
        }
        Some("Self") => {
            let rest = segs.join("::");
            quote!(::core::concat!(::core::module_path!(), "::", #rest))
        }
        _ if path.leading_colon.is_some() => {
            let all = segs.join("::");
            quote!(#all)
        }
        _ => {
            let all = segs.join("::");
            quote!(::core::concat!(::core::module_path!(), "::", #all))
        }
    }
}

/// For the inventory entry of a function with a pipeline: its stages as
/// written and whether its body can run again (asked of the argument types
/// as the pipeline asks of the arguments, with every lifetime `'static`,
/// since the entry is an item of its own). `None` when an argument's type
/// names `Self` or `impl`, which such an item cannot.
fn declared_stages(plan: &Plan, replay: &Replay, func: &ItemFn) -> Option<(TokenStream, TokenStream)> {
    use syn::visit_mut::VisitMut;
    struct Static;
    impl VisitMut for Static {
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            *l = syn::Lifetime::new("'static", l.span());
        }
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if r.lifetime.is_none() {
                r.lifetime = Some(syn::Lifetime::new("'static", r.and_token.span));
            }
            syn::visit_mut::visit_type_reference_mut(self, r);
        }
    }
    let k = &plan.krate;
    let s = &plan.stages;
    let replayable = match replay {
        Replay::Clone => quote!(true),
        Replay::Never => quote!(false),
        Replay::Maybe(_) => {
            let mut types = Vec::new();
            for input in &func.sig.inputs {
                if let syn::FnArg::Typed(t) = input {
                    let mut ty = (*t.ty).clone();
                    let named = quote!(#ty).into_iter().any(|t| {
                        fn has(t: &proc_macro2::TokenTree) -> bool {
                            match t {
                                proc_macro2::TokenTree::Ident(i) => i == "Self" || i == "impl",
                                proc_macro2::TokenTree::Group(g) => g.stream().into_iter().any(|t| has(&t)),
                                _ => false,
                            }
                        }
                        has(&t)
                    });
                    if named {
                        return None;
                    }
                    Static.visit_type_mut(&mut ty);
                    types.push(ty);
                }
            }
            quote! {
                #[allow(unused_imports)]
                use #k::__private::{ReplayClone as _, ReplayOnce as _};
                true #( && (&mut #k::__private::Replay(&mut ::core::option::Option::<#types>::None, true)).__cb_replayable() )*
            }
        }
    };
    let (retry, bh, ct) = (
        stage(k, s.retry, s.no_retry),
        stage(k, s.bulkhead, s.no_bulkhead),
        stage(k, s.call_timeout, s.no_call_timeout),
    );
    Some((
        quote! {
            fn __cb_replayable() -> bool {
                #replayable
            }
        },
        quote!(.__with_stages(#retry, #ct, #bh, __cb_replayable)),
    ))
}

/// The static inventory entry.
fn declared(
    plan: &Plan,
    name: &TokenStream,
    fn_name: &str,
    stages: Option<(TokenStream, TokenStream)>,
) -> TokenStream {
    let k = &plan.krate;
    let template = match &plan.template {
        Some(TemplateRef::Builtin(s)) => quote!(::core::option::Option::Some(#s)),
        Some(TemplateRef::Const(_)) => quote!(::core::option::Option::Some(__CB_TEMPLATE.name)),
        None => quote!(::core::option::Option::None),
    };
    let env = match &plan.environment {
        Some(e) => quote!(::core::option::Option::Some(#e)),
        None => quote!(::core::option::Option::None),
    };
    let tiers: Vec<TokenStream> = plan.tiers.iter().map(tier_name).collect();
    let mut policies: Vec<&str> = Vec::new();
    if plan.rescue.is_some() {
        policies.push("rescue");
    }
    if !plan.tiers.is_empty() {
        policies.push("tiers");
    }
    if plan.stages.retry {
        policies.push("retry");
    }
    policies.push("breaker");
    if plan.stages.call_timeout {
        policies.push("timeout");
    }
    if plan.stages.bulkhead {
        policies.push("bulkhead");
    }
    let code = overrides(plan);
    let code_template = match &plan.template {
        Some(TemplateRef::Const(_)) => quote!(::core::option::Option::Some(__CB_TEMPLATE)),
        _ => quote!(::core::option::Option::None),
    };
    let (stages_fn, with_stages) = stages.unwrap_or_default();
    quote! {
        fn __cb_code() -> #k::__private::Overrides {
            #code
        }
        #stages_fn
        #k::__private::inventory::submit! {
            #k::__private::Declared::__new(#name, ::core::module_path!(), #fn_name, #template, #env, &[#(#tiers),*], &[#(#policies),*], ::core::file!(), ::core::line!())
                .__with_code(__cb_code, #code_template)
                #with_stages
        }
    }
}

/// The function when its attribute has an error: the signature callers will
/// see once the error is fixed (the wrapped `Result`), with a body that does
/// not run, so the one error is not followed by type mismatches at every
/// call site. Shapes whose wrapped type cannot stand alone (`impl Trait` in
/// the `Result`, `#[async_trait]` methods) are emitted as written.
pub(crate) fn emit_unchecked(plan: &Plan, shape: &Shape, mut func: ItemFn) -> TokenStream {
    // The companion too, so its callers get no error either.
    let companion = (!plan.tiers.is_empty()
        && !shape.impl_in_result
        && !matches!(shape.body, Body::AsyncTrait(_)))
    .then(|| {
        let mut served = tiers::served_fn(plan, shape, &func);
        *served.block =
            syn::parse_quote!({ ::core::unreachable!("a `#[circuit_breaker]` argument is a compile error") });
        served
            .attrs
            .push(syn::parse_quote!(#[allow(unused_variables, unused_mut, unreachable_code)]));
        served
    });
    if shape.impl_in_result
        || matches!(shape.body, Body::AsyncTrait(_))
        || plan.error_from
        || func.sig.constness.is_some()
    {
        return quote!(#func #companion);
    }
    let (ok, err) = (&shape.ok, &shape.err);
    let new_ret: Type = if plan.tiers.is_empty() {
        let k = &plan.krate;
        syn::parse_quote!(::core::result::Result<#ok, #k::Error<#err>>)
    } else {
        let tk = &plan.tiers_krate;
        syn::parse_quote!(::core::result::Result<#ok, #tk::ChainError<#err>>)
    };
    if let ReturnType::Type(arrow, _) = &func.sig.output {
        func.sig.output = ReturnType::Type(*arrow, Box::new(new_ret));
    }
    // The sibling attributes' `use`s stay, so their imports are used.
    let items = func.block.stmts.iter().filter(|s| matches!(s, Stmt::Item(_)));
    *func.block = syn::parse_quote!({
        #(#items)*
        ::core::unreachable!("a `#[circuit_breaker]` argument is a compile error")
    });
    func.attrs
        .push(syn::parse_quote!(#[allow(unused_variables, unused_mut, unreachable_code, dead_code)]));
    quote!(#func #companion)
}
