//! The shapes of function `#[circuit_breaker]` can wrap, and the clear
//! errors for those it cannot.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit_mut::VisitMut;
use syn::{
    Expr, FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, ReturnType, Stmt, Type, TypeParamBound,
};

use crate::common::Errors;

/// How the body runs.
pub(crate) enum Body {
    /// `async fn`.
    Async,
    /// A plain `fn`.
    Sync,
    /// An `#[async_trait]` method after `async_trait` expanded it: a plain
    /// `fn` returning `Pin<Box<dyn Future<Output = ..> + ..>>` whose body ends
    /// in `Box::pin(async move { .. })`; this is that async block.
    AsyncTrait(Box<Expr>),
}

/// What the expansion needs to know about the function.
pub(crate) struct Shape {
    pub(crate) body: Body,
    /// The declared `Result<T, E>` (as written).
    pub(crate) result: Type,
    pub(crate) ok: Type,
    pub(crate) err: Type,
    /// The declared `Result<T, E>` with every `impl Trait` replaced by `_`.
    pub(crate) result_inferred: Type,
    /// Whether the function has type or const parameters (or `impl Trait` arguments).
    pub(crate) generic: bool,
    /// Whether `T` or `E` mention `impl Trait`.
    pub(crate) impl_in_result: bool,
    /// Argument names, or the pattern that is not a plain name.
    pub(crate) args: Vec<Result<Ident, TokenStream>>,
    /// Whether the function takes `self` by value (not `&self`).
    pub(crate) self_by_value: bool,
}

/// Reads the function's shape; every unsupported part is an error at its token.
pub(crate) fn read(func: &ItemFn, errors: &mut Errors) -> Option<Shape> {
    let sig = &func.sig;
    if let Some(c) = &sig.constness {
        errors.push(
            c,
            "#[circuit_breaker] cannot wrap a `const fn`: a breaker runs at run time",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.push(abi, "#[circuit_breaker] cannot wrap an `extern` function");
    }
    if let Some(v) = &sig.variadic {
        errors.push(v, "#[circuit_breaker] cannot wrap a variadic function");
    }
    let (body, output) = if sig.asyncness.is_some() {
        (Body::Async, output_type(&sig.output))
    } else if let Some((inner, out)) = async_trait_shape(func) {
        (Body::AsyncTrait(Box::new(inner)), Some(out))
    } else {
        (Body::Sync, output_type(&sig.output))
    };
    let Some(output) = output else {
        errors.push(
            &sig.ident,
            format!(
                "#[circuit_breaker] needs a function returning `Result<T, E>`; `{}` returns `()`",
                sig.ident
            ),
        );
        return None;
    };
    let Some((ok, err)) = result_parts(&output) else {
        let msg = match &output {
            Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Result") => {
                "#[circuit_breaker] needs the error type written out: `Result<T, E>` (a `Result<T>` alias hides `E`, which the breaker wraps)"
                    .to_owned()
            }
            Type::ImplTrait(_) => {
                "#[circuit_breaker] cannot wrap a function returning `impl Future`; write it as an `async fn` returning `Result<T, E>`"
                    .to_owned()
            }
            other => format!(
                "#[circuit_breaker] needs a function returning `Result<T, E>`; found `{}`",
                other.to_token_stream().to_string().replace(" < ", "<").replace(" >", ">").replace(" ,", ",")
            ),
        };
        errors.push(&output, msg);
        return None;
    };
    let mut result_inferred = output.clone();
    let mut replacer = ImplToInfer(false);
    replacer.visit_type_mut(&mut result_inferred);
    let impl_in_result = replacer.0;

    let mut generic = sig
        .generics
        .params
        .iter()
        .any(|p| !matches!(p, syn::GenericParam::Lifetime(_)));
    let mut args = Vec::new();
    let mut self_by_value = false;
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => {
                if r.reference.is_none() {
                    self_by_value = true;
                }
            }
            FnArg::Typed(t) => {
                if matches!(*t.ty, Type::ImplTrait(_)) {
                    generic = true;
                }
                match &*t.pat {
                    Pat::Ident(p) if p.subpat.is_none() => args.push(Ok(p.ident.clone())),
                    other => args.push(Err(other.to_token_stream())),
                }
            }
        }
    }
    Some(Shape {
        body,
        result: output,
        ok,
        err,
        result_inferred,
        generic,
        impl_in_result,
        args,
        self_by_value,
    })
}

fn output_type(out: &ReturnType) -> Option<Type> {
    match out {
        ReturnType::Default => None,
        ReturnType::Type(_, t) => Some((**t).clone()),
    }
}

/// `Result<T, E>` → `(T, E)`, looking through parentheses.
pub(crate) fn result_parts(ty: &Type) -> Option<(Type, Type)> {
    match ty {
        Type::Paren(p) => result_parts(&p.elem),
        Type::Group(g) => result_parts(&g.elem),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Result" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            let tys: Vec<&Type> = args
                .args
                .iter()
                .filter_map(|a| match a {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                })
                .collect();
            match tys.as_slice() {
                [t, e] => Some(((*t).clone(), (*e).clone())),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `#[async_trait]` output: `fn f(..) -> Pin<Box<dyn Future<Output = R> + Send + 'a>>`
/// with a body ending in `Box::pin(async move { .. })`.
fn async_trait_shape(func: &ItemFn) -> Option<(Expr, Type)> {
    let ReturnType::Type(_, ty) = &func.sig.output else {
        return None;
    };
    let out = pinned_future_output(ty)?;
    let Some(Stmt::Expr(Expr::Call(call), None)) = func.block.stmts.last() else {
        return None;
    };
    let Expr::Path(callee) = &*call.func else {
        return None;
    };
    let names: Vec<String> = callee.path.segments.iter().map(|s| s.ident.to_string()).collect();
    if !names.ends_with(&["Box".to_owned(), "pin".to_owned()]) || call.args.len() != 1 {
        return None;
    }
    match &call.args[0] {
        e @ Expr::Async(_) => Some((e.clone(), out)),
        _ => None,
    }
}

fn pinned_future_output(ty: &Type) -> Option<Type> {
    let inner = single_generic(ty, "Pin")?;
    let boxed = single_generic(&inner, "Box")?;
    let Type::TraitObject(obj) = boxed else {
        return None;
    };
    obj.bounds.iter().find_map(|b| match b {
        TypeParamBound::Trait(t) => {
            let last = t.path.segments.last()?;
            if last.ident != "Future" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            args.args.iter().find_map(|a| match a {
                GenericArgument::AssocType(at) if at.ident == "Output" => Some(at.ty.clone()),
                _ => None,
            })
        }
        _ => None,
    })
}

fn single_generic(ty: &Type, name: &str) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

/// Replaces `impl Trait` by `_`, so the body's type can be fixed to the
/// declared return type (type errors then land in the user's code).
struct ImplToInfer(bool);

impl VisitMut for ImplToInfer {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if matches!(ty, Type::ImplTrait(_)) {
            self.0 = true;
            *ty = syn::parse_quote!(_);
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

/// `Pin<Box<dyn Future<Output = R> + ..>>` with `R` replaced, for `#[async_trait]`.
pub(crate) fn replace_future_output(ty: &Type, new: &Type) -> Type {
    struct Replace<'a>(&'a Type);
    impl VisitMut for Replace<'_> {
        fn visit_assoc_type_mut(&mut self, at: &mut syn::AssocType) {
            if at.ident == "Output" {
                at.ty = self.0.clone();
            }
        }
    }
    let mut ty = ty.clone();
    Replace(new).visit_type_mut(&mut ty);
    ty
}
