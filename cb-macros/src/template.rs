//! `template! { ... }`: a user-defined template, checked at compile time,
//! emitted as a `const StaticTemplate`.

use std::collections::BTreeMap;

use cb_syntax::names::{self, TEMPLATES};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, Lit, LitStr, Token, Visibility};

use crate::breaker::args::{Arg, ArgValue, Args};
use crate::breaker::valid::{self, Stages, TemplateRef};
use crate::common::fields::{self, Checked};
use crate::common::suggest::{backticked, with_suggestion};
use crate::common::{Errors, krate};

struct Input {
    attrs: Vec<Attribute>,
    vis: Visibility,
    /// `const NAME =` when written.
    ident: Option<Ident>,
    args: Args,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if input.peek(Token![const]) {
            input.parse::<Token![const]>()?;
            let ident: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let content;
            syn::braced!(content in input);
            let args: Args = content.parse()?;
            let _ = input.parse::<Option<Token![;]>>()?;
            if !input.is_empty() {
                return Err(input.error("one template per `template!`"));
            }
            Ok(Input {
                attrs,
                vis,
                ident: Some(ident),
                args,
            })
        } else {
            Ok(Input {
                attrs,
                vis,
                ident: None,
                args: input.parse()?,
            })
        }
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: Input = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.into_compile_error(),
    };
    let mut errors = Errors::default();
    let mut name: Option<LitStr> = None;
    let mut base: Option<TokenStream> = None;
    let mut krate_lit: Option<LitStr> = None;
    let mut own = Fields::default();
    // Per environment (canonical name), in the order written.
    let mut environments: Vec<(&'static str, Fields)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut base_builtin: Option<LitStr> = None;
    let mut name_given = false; // set when `name` is written
    for arg in input.args.0 {
        let k = arg.key.to_string();
        if seen.contains(&k) {
            errors.push(&arg.key, format!("duplicate `{k}` argument"));
            continue;
        }
        seen.push(k.clone());
        match (k.as_str(), &arg.value) {
            (
                "name",
                ArgValue::Lit {
                    lit: Lit::Str(s),
                    negative: None,
                },
            ) => {
                name_given = true;
                let v = s.value();
                if v.is_empty()
                    || !v
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    errors.push(
                        s,
                        "a template name is lowercase letters, digits and `_`, such as `\"payments\"`",
                    );
                } else if TEMPLATES.contains(&v.as_str()) {
                    errors.push(
                        s,
                        format!("`{v}` is a built-in template; give yours another name and `base = \"{v}\"`"),
                    );
                } else {
                    name = Some(s.clone());
                }
            }
            (
                "base",
                ArgValue::Lit {
                    lit: Lit::Str(s),
                    negative: None,
                },
            ) => {
                let v = s.value();
                if TEMPLATES.contains(&v.as_str()) {
                    base = Some(quote!(::core::option::Option::Some(#s)));
                    base_builtin = Some(s.clone());
                } else {
                    errors.push(
                        s,
                        with_suggestion(
                            format!("unknown base template `{v}`; expected one of {}, or the path of another `template!` constant", backticked(TEMPLATES)),
                            &v,
                            &TEMPLATES,
                        ),
                    );
                }
            }
            ("base", ArgValue::Path(p)) => base = Some(quote!(::core::option::Option::Some(#p.name))),
            (
                "crate",
                ArgValue::Lit {
                    lit: Lit::Str(s),
                    negative: None,
                },
            ) => krate_lit = Some(s.clone()),
            ("name" | "base" | "crate", other) => {
                errors.push(other.spanned(), format!("expected a string for `{k}`"));
            }
            (env, ArgValue::Group { tokens, .. }) if let Some(canonical) = names::environment(env) => {
                if environments.iter().any(|(e, _)| *e == canonical) {
                    errors.push(&arg.key, format!("`{canonical}` values are given twice"));
                    continue;
                }
                let mut scoped = Fields::default();
                match syn::parse2::<Args>(tokens.clone()) {
                    Ok(inner) => {
                        let mut inner_seen: Vec<String> = Vec::new();
                        for a in &inner.0 {
                            let ik = a.key.to_string();
                            if inner_seen.contains(&ik) {
                                errors.push(&a.key, format!("duplicate `{ik}` argument"));
                            } else if !field_arg(a, &mut scoped, &mut errors) {
                                let keys = fields::keys(None);
                                errors.push(
                                    &a.key,
                                    with_suggestion(
                                        format!(
                                            "unknown field `{ik}` in `{env}(..)`; expected `retry(..)`, `bulkhead(..)`, \
                                             `call_timeout` or a breaker field such as `failure_threshold`"
                                        ),
                                        &ik,
                                        &keys,
                                    ),
                                );
                            }
                            inner_seen.push(ik);
                        }
                    }
                    Err(e) => errors.add(e),
                }
                environments.push((canonical, scoped));
            }
            _ => {
                if !field_arg(&arg, &mut own, &mut errors) {
                    let mut keys = vec!["name", "base", "retry", "bulkhead", "call_timeout", "crate"];
                    keys.extend(fields::keys(None));
                    errors.push(
                        &arg.key,
                        with_suggestion(format!("unknown template field `{k}`; expected `name`, `base`, `retry(..)`, `bulkhead(..)`, `call_timeout` or a breaker field such as `failure_threshold`"), &k, &keys),
                    );
                }
            }
        }
    }
    let Fields { values, at } = own;
    let template = base_builtin.map(TemplateRef::Builtin);
    valid::cross_checks(
        &values,
        &at,
        &template,
        None,
        &Stages::default(),
        None,
        &mut errors,
    );
    // Each environment's values over the template's own, in that environment.
    for (env, scoped) in &environments {
        let mut merged = values.clone();
        merged.extend(scoped.values.iter().map(|(p, v)| (*p, v.clone())));
        valid::cross_checks(
            &merged,
            &scoped.at,
            &template,
            Some(env),
            &Stages::default(),
            None,
            &mut errors,
        );
    }

    let ident = match (&input.ident, &name) {
        (Some(i), _) => Some(i.clone()),
        (None, Some(n)) => Some(format_ident!(
            "{}",
            n.value().to_ascii_uppercase(),
            span = n.span()
        )),
        (None, None) if name_given => None,
        (None, None) => {
            errors.push_at(
                Span::call_site(),
                "a template needs a `name = \"...\"` (or write `pub const NAME = { ... }`)",
            );
            None
        }
    };
    let name_lit = match (&name, &input.ident) {
        (Some(n), _) => Some(n.clone()),
        (None, Some(i)) => Some(LitStr::new(&i.to_string().to_ascii_lowercase(), i.span())),
        _ => None,
    };
    let k = match krate::path(krate_lit.as_ref(), quote!(::cb_core)) {
        Ok(k) => k,
        Err(e) => {
            errors.add(e);
            quote!(::cb_core)
        }
    };
    if let Err(e) = errors.finish() {
        return e.into_compile_error();
    }
    let (Some(ident), Some(name_lit)) = (ident, name_lit) else {
        return TokenStream::new();
    };
    let attrs = &input.attrs;
    let doc = if attrs.iter().any(|a| a.path().is_ident("doc")) {
        quote!()
    } else {
        let text = format!(
            "The `{}` circuit-breaker template (made by `template!`).",
            name_lit.value()
        );
        quote!(#[doc = #text])
    };
    let vis = if input.ident.is_some() {
        input.vis.to_token_stream()
    } else {
        quote!(pub)
    };
    let base = base.unwrap_or_else(|| quote!(::core::option::Option::None));
    let entries = static_values(&k, &values);
    let environments = environments.iter().map(|(env, scoped)| {
        let mut variant = env.to_string();
        variant[..1].make_ascii_uppercase();
        let variant = format_ident!("{variant}");
        let entries = static_values(&k, &scoped.values);
        quote!((#k::config::Environment::#variant, &[#(#entries),*]))
    });
    quote! {
        #(#attrs)*
        #doc
        #vis const #ident: #k::config::StaticTemplate = #k::config::StaticTemplate {
            name: #name_lit,
            base: #base,
            values: &[#(#entries),*],
            environments: &[#(#environments),*],
        };
    }
}

/// Checked values and where each was written.
#[derive(Default)]
struct Fields {
    values: BTreeMap<&'static str, Checked>,
    at: BTreeMap<&'static str, TokenStream>,
}

/// Checks one field argument: a breaker field, `call_timeout = ".."`,
/// `retry(..)`, `bulkhead(..)` or `classify(..)`. `false` when `arg` is none of those (the
/// caller words the error, which depends on where the argument was written).
fn field_arg(arg: &Arg, into: &mut Fields, errors: &mut Errors) -> bool {
    let k = arg.key.to_string();
    let Fields { values, at } = into;
    match (k.as_str(), &arg.value) {
        ("retry" | "bulkhead" | "classify", ArgValue::Group { tokens, .. }) => {
            match syn::parse2::<Args>(tokens.clone()) {
                Ok(inner) => {
                    for a in inner.0 {
                        let ik = a.key.to_string();
                        match fields::find(Some(&k), &ik) {
                            Some(f) => valid::check_value(f, &a.key, &a.value, errors, values, at),
                            None if let Some(msg) = fields::alias(Some(&k), &ik) => {
                                errors.push(&a.key, msg);
                            }
                            None => {
                                let keys = fields::keys(Some(&k));
                                errors.push(
                                    &a.key,
                                    with_suggestion(
                                        format!(
                                            "unknown `{k}` field `{ik}`; expected one of {}",
                                            backticked(&keys)
                                        ),
                                        &ik,
                                        &keys,
                                    ),
                                );
                            }
                        }
                    }
                }
                Err(e) => errors.add(e),
            }
        }
        ("call_timeout", ArgValue::Lit { .. }) => {
            let f = fields::find(Some("call_timeout"), "duration").expect("in the table");
            valid::check_value(f, &arg.key, &arg.value, errors, values, at);
            values.insert("call_timeout.enabled", Checked::Bool(true));
        }
        _ if let Some(why) = cb_syntax::schema::not_yet(&k) => errors.push(&arg.key, format!("`{k}`: {why}")),
        _ => match fields::find(None, &k) {
            Some(f) => valid::check_value(f, &arg.key, &arg.value, errors, values, at),
            None if let Some(msg) = fields::alias(None, &k) => {
                errors.push(&arg.key, msg);
            }
            None => return false,
        },
    }
    true
}

/// `(path, StaticValue)` tokens for each checked value.
pub(crate) fn static_values<'a>(
    k: &'a TokenStream,
    values: &'a BTreeMap<&'static str, Checked>,
) -> impl Iterator<Item = TokenStream> + 'a {
    values.iter().map(move |(path, v)| {
        let v = match v {
            Checked::Int(n) => quote!(#k::__private::StaticValue::Int(#n)),
            Checked::Float(x) => quote!(#k::__private::StaticValue::Float(#x)),
            Checked::Bool(b) => quote!(#k::__private::StaticValue::Bool(#b)),
            Checked::Text(s) => quote!(#k::__private::StaticValue::Text(#s)),
            Checked::List(items) => quote!(#k::__private::StaticValue::List(&[#(#items),*])),
        };
        quote!((#path, #v))
    })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// An environment group becomes that environment's values, checked like the others.
    #[test]
    fn environment_groups_are_checked_and_emitted_per_environment() {
        let out = super::expand(quote!(
            name = "pay",
            failure_threshold = 10,
            prod(failure_threshold = 2, retry(max_attempts = 1)),
            development(failure_threshold = 20)
        ))
        .to_string();
        assert!(out.contains("Environment :: Production"), "{out}");
        assert!(out.contains("Environment :: Development"), "{out}");
        assert!(out.contains("\"retry.max_attempts\""), "{out}");

        let out = super::expand(quote!(
            name = "pay",
            production(failure_threshold = 0, failure_treshold = 2),
            prod(minimum_calls = 2)
        ))
        .to_string();
        assert!(out.contains("`failure_threshold = 0` is out of range"), "{out}");
        assert!(
            out.contains("unknown field `failure_treshold` in `production(..)`"),
            "{out}"
        );
        assert!(out.contains("`production` values are given twice"), "{out}");
    }

    /// The runtime's rules between fields, with the runtime's words, at
    /// compile time: a queue wait that outlasts the call timeout.
    #[test]
    fn a_rule_between_fields_says_what_the_runtime_says() {
        let out = super::expand(quote!(
            name = "slow_db",
            bulkhead(queue_timeout = "30s"),
            call_timeout = "10s"
        ))
        .to_string();
        assert!(
            out.contains(
                "bulkhead.queue_timeout = 30s: must be < call_timeout.duration (10s): \
                 the queue wait counts toward the call's timeout (R61)"
            ),
            "{out}"
        );
    }
}
