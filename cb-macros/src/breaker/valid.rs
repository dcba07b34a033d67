//! Validate: every argument's meaning, every problem at once, each at its
//! own token. The result is a [`Plan`] that `expand.rs` emits without checks.

use std::collections::BTreeMap;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Ident, Lit, LitStr, Path};

use super::args::{Arg, ArgValue, Args, PathList};
use super::shape::{Body, Shape};
use crate::common::fields::{self, Checked};
use crate::common::suggest::{backticked, with_suggestion};
use crate::common::{Errors, krate};

/// The built-in templates and the environments: the runtime's tables.
pub(crate) use cb_syntax::names::{ENVIRONMENTS, TEMPLATES};

/// Where the template comes from.
pub(crate) enum TemplateRef {
    Builtin(LitStr),
    /// A `const` made by `template!`.
    Const(Path),
}

/// Per-attempt stages around the breaker (R61), each opted into in code.
#[derive(Default)]
pub(crate) struct Stages {
    pub(crate) retry: bool,
    pub(crate) retry_rejections: bool,
    pub(crate) bulkhead: bool,
    pub(crate) call_timeout: bool,
}

impl Stages {
    pub(crate) fn any(&self) -> bool {
        self.retry || self.bulkhead || self.call_timeout
    }
}

/// Everything the expansion needs, checked.
pub(crate) struct Plan {
    pub(crate) krate: TokenStream,
    pub(crate) tiers_krate: TokenStream,
    pub(crate) name: Option<LitStr>,
    pub(crate) template: Option<TemplateRef>,
    pub(crate) environment: Option<String>,
    /// Field path → value, for the code layer of the configuration.
    pub(crate) values: BTreeMap<&'static str, Checked>,
    pub(crate) fallback: Option<Path>,
    pub(crate) error_from: bool,
    pub(crate) tiers: Vec<Path>,
    pub(crate) stages: Stages,
}

struct Seen(BTreeMap<String, Span>);

impl Seen {
    /// `false` (and an error at `at`) if `key` was given before.
    fn first(&mut self, key: &str, at: &Ident, errors: &mut Errors) -> bool {
        if self.0.contains_key(key) {
            errors.push(at, format!("duplicate `{key}` argument"));
            false
        } else {
            self.0.insert(key.to_owned(), at.span());
            true
        }
    }
}

const OWN_KEYS: [&str; 12] = [
    "name",
    "template",
    "environment",
    "fallback",
    "error",
    "crate",
    "call_timeout",
    "retry",
    "bulkhead",
    "tiers",
    "timeout",
    "failure_threshold",
];

fn all_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = OWN_KEYS[..10].to_vec();
    for f in fields::FIELDS.iter().filter(|f| f.section().is_none()) {
        keys.push(f.key());
        keys.extend(f.aliases.iter().copied());
    }
    keys
}

/// Checks `args` against the function's `shape`.
pub(crate) fn check(args: Args, shape: &Shape, errors: &mut Errors) -> Option<Plan> {
    let mut seen = Seen(BTreeMap::new());
    let mut plan_krate: Option<LitStr> = None;
    let mut name = None;
    let mut template = None;
    let mut environment = None;
    let mut values: BTreeMap<&'static str, Checked> = BTreeMap::new();
    let mut value_at: BTreeMap<&'static str, TokenStream> = BTreeMap::new();
    let mut fallback = None;
    let mut error_from = false;
    let mut tiers = Vec::new();
    let mut stages = Stages::default();
    let mut stage_keys: Vec<Ident> = Vec::new();
    let mut retry_rejections_at: Option<TokenStream> = None;

    for Arg { key, value } in args.0 {
        let k = key.to_string();
        match k.as_str() {
            "name" => {
                if seen.first("name", &key, errors)
                    && let Some(s) = lit_str(&key, &value, errors, "a string such as `name = \"claude\"`")
                {
                    if s.value().trim().is_empty() {
                        errors.push(&s, "the breaker name must not be empty");
                    } else {
                        name = Some(s);
                    }
                }
            }
            "template" => {
                if seen.first("template", &key, errors) {
                    match &value {
                        ArgValue::Lit { lit: Lit::Str(s), negative: None } => {
                            let v = s.value();
                            if TEMPLATES.contains(&v.as_str()) {
                                template = Some(TemplateRef::Builtin(s.clone()));
                            } else {
                                errors.push(
                                    s,
                                    with_suggestion(
                                        format!(
                                            "unknown template `{v}`; expected one of {}, or the path of a `template!` constant",
                                            backticked(TEMPLATES)
                                        ),
                                        &v,
                                        &TEMPLATES,
                                    ),
                                );
                            }
                        }
                        ArgValue::Path(p) => template = Some(TemplateRef::Const(p.clone())),
                        other => errors.push(
                            other.spanned(),
                            "expected a template name such as `\"ai_provider\"` or the path of a `template!` constant",
                        ),
                    }
                }
            }
            "environment" => {
                if seen.first("environment", &key, errors)
                    && let Some(s) = lit_str(
                        &key,
                        &value,
                        errors,
                        "a string such as `environment = \"production\"`",
                    )
                {
                    let v = s.value();
                    if ENVIRONMENTS.contains(&v.as_str()) {
                        environment = Some(v);
                    } else {
                        errors.push(
                            &s,
                            with_suggestion(
                                format!(
                                    "unknown environment `{v}`; expected one of {}",
                                    backticked(ENVIRONMENTS)
                                ),
                                &v,
                                &ENVIRONMENTS,
                            ),
                        );
                    }
                }
            }
            "fallback" => {
                if seen.first("fallback", &key, errors) {
                    match value {
                        ArgValue::Path(p) => fallback = Some(p),
                        other => errors.push(
                            other.spanned(),
                            "expected the path of a function: `fallback = cached_answer`",
                        ),
                    }
                }
            }
            "error" => {
                if seen.first("error", &key, errors) {
                    match &value {
                        ArgValue::Path(p) if p.is_ident("from") => error_from = true,
                        ArgValue::Path(p) if p.is_ident("wrap") => error_from = false,
                        other => errors.push(
                            other.spanned(),
                            "expected `error = wrap` (the default) or `error = from`",
                        ),
                    }
                }
            }
            "crate" => {
                if seen.first("crate", &key, errors) {
                    plan_krate = lit_str(&key, &value, errors, "a crate path such as `crate = \"cb_core\"`");
                }
            }
            "call_timeout" => {
                if seen.first("call_timeout", &key, errors) {
                    let lit = match value {
                        ArgValue::Lit { lit, negative } => Some((lit, negative)),
                        ArgValue::Group { tokens, span } => match syn::parse2::<Args>(tokens.clone()) {
                            Ok(a) if a.0.len() == 1 && a.0[0].key == "duration" => match &a.0[0].value {
                                ArgValue::Lit { lit, negative } => Some((lit.clone(), *negative)),
                                other => {
                                    errors.push(other.spanned(), "expected a duration such as `\"5s\"`");
                                    None
                                }
                            },
                            _ => match syn::parse2::<Lit>(tokens.clone()) {
                                Ok(lit) => Some((lit, None)),
                                Err(_) => {
                                    errors.push_at(span, "expected a duration: `#[timeout(\"5s\")]` or `call_timeout = \"5s\"`");
                                    None
                                }
                            },
                        },
                        ArgValue::Path(p) => {
                            errors.push(&p, "expected a duration such as `\"5s\"`");
                            None
                        }
                    };
                    if let Some((lit, negative)) = lit {
                        let field = fields::find(Some("call_timeout"), "duration").expect("in the table");
                        match fields::check(field, &lit, negative.is_some()) {
                            Ok(v) => {
                                value_at.insert("call_timeout.duration", lit.to_token_stream());
                                values.insert("call_timeout.duration", v);
                                values.insert("call_timeout.enabled", Checked::Bool(true));
                                stages.call_timeout = true;
                                stage_keys.push(key.clone());
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
                }
            }
            "retry" | "bulkhead" => {
                if !seen.first(&k, &key, errors) {
                    continue;
                }
                let ArgValue::Group { tokens, .. } = value else {
                    errors.push(
                        value.spanned(),
                        format!("expected `{k}(...)`, e.g. `{}`", example(&k)),
                    );
                    continue;
                };
                let inner = match syn::parse2::<Args>(tokens) {
                    Ok(a) => a,
                    Err(e) => {
                        errors.add(e);
                        continue;
                    }
                };
                let mut inner_seen = Seen(BTreeMap::new());
                for Arg { key: ik, value: iv } in inner.0 {
                    let ik_s = ik.to_string();
                    if k == "retry" && ik_s == "retry_rejections" {
                        if inner_seen.first(&ik_s, &ik, errors) {
                            match &iv {
                                ArgValue::Lit {
                                    lit: Lit::Bool(b), ..
                                } => {
                                    stages.retry_rejections = b.value;
                                    if b.value {
                                        retry_rejections_at = Some(b.to_token_stream());
                                    }
                                }
                                other => errors.push(other.spanned(), "expected `true` or `false`"),
                            }
                        }
                        continue;
                    }
                    let Some(field) = fields::find(Some(&k), &ik_s).filter(|f| f.key() != "enabled") else {
                        let mut keys: Vec<&str> = fields::keys(Some(&k))
                            .into_iter()
                            .filter(|x| *x != "enabled")
                            .collect();
                        if k == "retry" {
                            keys.push("retry_rejections");
                        }
                        errors.push(
                            &ik,
                            with_suggestion(
                                format!(
                                    "unknown `{k}` argument `{ik_s}`; expected one of {}",
                                    backticked(&keys)
                                ),
                                &ik_s,
                                &keys,
                            ),
                        );
                        continue;
                    };
                    if !inner_seen.first(field.key(), &ik, errors) {
                        continue;
                    }
                    check_value(field, &ik, &iv, errors, &mut values, &mut value_at);
                }
                if k == "retry" {
                    stages.retry = true;
                } else {
                    stages.bulkhead = true;
                    values.insert("bulkhead.enabled", Checked::Bool(true));
                }
                stage_keys.push(key.clone());
            }
            "tiers" => {
                if !seen.first("tiers", &key, errors) {
                    continue;
                }
                let ArgValue::Group { tokens, span } = value else {
                    errors.push(value.spanned(), "expected `#[fallback(tier2, tier3)]`");
                    continue;
                };
                match syn::parse2::<PathList>(tokens) {
                    Ok(list) if list.0.is_empty() => {
                        errors.push_at(
                            span,
                            "`#[fallback(...)]` needs at least one function: `#[fallback(ask_gpt)]`",
                        );
                    }
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
                        tiers = list.0
                    }
                    Err(e) => errors.add(syn::Error::new(
                        e.span(),
                        "expected the paths of the other tiers' functions: `#[fallback(ask_gpt, ask_local)]`",
                    )),
                }
            }
            _ => match fields::find(None, &k) {
                Some(field) => {
                    if seen.first(field.path, &key, errors) {
                        check_value(field, &key, &value, errors, &mut values, &mut value_at);
                    }
                }
                None => {
                    let in_section = ["retry", "bulkhead"]
                        .into_iter()
                        .find(|s| fields::find(Some(s), &k).is_some());
                    let msg = match in_section {
                        Some(s) => format!(
                            "`{k}` is a `{s}` setting: write `{s}({k} = ...)` or put `#[{s}({k} = ...)]` on the function"
                        ),
                        None => with_suggestion(
                            format!(
                                "unknown argument `{k}`; expected `name`, `template`, `environment`, `fallback`, `error`, `crate`, `call_timeout`, `retry(..)`, `bulkhead(..)` or a breaker field such as `failure_threshold`"
                            ),
                            &k,
                            &all_keys(),
                        ),
                    };
                    errors.push(&key, msg);
                }
            },
        }
    }

    cross_checks(
        &values,
        &value_at,
        &template,
        &stages,
        retry_rejections_at,
        errors,
    );

    if let Some(fb) = &fallback
        && !tiers.is_empty()
    {
        errors.push(
            fb,
            "`fallback = ...` cannot be combined with `#[fallback(...)]` tiers; make it the last tier instead",
        );
    }
    for k in &stage_keys {
        let attr = if k == "call_timeout" {
            "timeout".to_owned()
        } else {
            k.to_string()
        };
        let why = match attr.as_str() {
            "retry" => "it waits between attempts without blocking a thread",
            "timeout" => "a blocking call cannot be cancelled",
            _ => "it waits for a slot without blocking a thread",
        };
        if !tiers.is_empty() {
            errors.push(
                k,
                format!("`#[{attr}]` cannot be combined with `#[fallback(...)]` tiers yet"),
            );
        } else if matches!(shape.body, Body::Sync) {
            errors.push(k, format!("`#[{attr}]` needs an `async fn`: {why}"));
        } else if shape.generic || shape.impl_in_result {
            errors.push(k, format!("`#[{attr}]` needs a non-generic function with a nameable return type (its pipeline is one `static` per function)"));
        } else if matches!(shape.body, Body::AsyncTrait(_)) {
            errors.push(
                k,
                format!("`#[{attr}]` is not supported on `#[async_trait]` methods yet"),
            );
        }
    }
    if stages.retry {
        for a in &shape.args {
            if let Err(pat) = a {
                errors.push(pat, "a retried function needs plain argument names (each attempt gets a clone of every argument)");
            }
        }
        if shape.self_by_value {
            errors.push(
                stage_keys
                    .iter()
                    .find(|k| *k == "retry")
                    .expect("retry is a stage key"),
                "a retried method cannot take `self` by value: each attempt needs it again; take `&self`",
            );
        }
    }
    if !tiers.is_empty() {
        if matches!(shape.body, Body::Sync) {
            errors.push(&tiers[0], "`#[fallback(...)]` tiers need an `async fn`");
        }
        for a in &shape.args {
            if let Err(pat) = a {
                errors.push(
                    pat,
                    "a tiered function needs plain argument names (each tier gets a clone of every argument)",
                );
            }
        }
        if shape.self_by_value {
            errors.push(
                &tiers[0],
                "a tiered method cannot take `self` by value; take `&self`",
            );
        }
    }

    let krate = match krate::path(plan_krate.as_ref(), quote!(::cb_core)) {
        Ok(k) => k,
        Err(e) => {
            errors.add(e);
            quote!(::cb_core)
        }
    };
    let tiers_krate = match &plan_krate {
        Some(_) => quote!(#krate),
        None => quote!(::cb_tiers),
    };
    Some(Plan {
        krate,
        tiers_krate,
        name,
        template,
        environment,
        values,
        fallback,
        error_from,
        tiers,
        stages,
    })
}

fn example(k: &str) -> &'static str {
    match k {
        "retry" => "retry(max_attempts = 3, max_elapsed = \"10s\")",
        _ => "bulkhead(max_concurrent_calls = 10)",
    }
}

fn lit_str(key: &Ident, value: &ArgValue, errors: &mut Errors, expected: &str) -> Option<LitStr> {
    match value {
        ArgValue::Lit {
            lit: Lit::Str(s),
            negative: None,
        } => Some(s.clone()),
        other => {
            errors.push(other.spanned(), format!("expected {expected} for `{key}`"));
            None
        }
    }
}

pub(crate) fn check_value(
    field: &'static fields::Field,
    key: &Ident,
    value: &ArgValue,
    errors: &mut Errors,
    values: &mut BTreeMap<&'static str, Checked>,
    value_at: &mut BTreeMap<&'static str, TokenStream>,
) {
    match value {
        ArgValue::Lit { lit, negative } => match fields::check(field, lit, negative.is_some()) {
            Ok(v) => {
                values.insert(field.path, v);
                value_at.insert(field.path, value.spanned());
            }
            Err(msg) => {
                let msg = if key != field.key() {
                    msg.replace(&format!("`{}", field.key()), &format!("`{key}"))
                } else {
                    msg
                };
                errors.push(value.spanned(), msg)
            }
        },
        other => errors.push(other.spanned(), format!("expected a literal value for `{key}`")),
    }
}

/// The rules between fields, as the runtime checks them
/// ([`cb_syntax::rules`]), over the arguments written, plus the rules about
/// arguments only a macro sees.
pub(crate) fn cross_checks(
    values: &BTreeMap<&'static str, Checked>,
    at: &BTreeMap<&'static str, TokenStream>,
    template: &Option<TemplateRef>,
    stages: &Stages,
    retry_rejections_at: Option<TokenStream>,
    errors: &mut Errors,
) {
    use cb_syntax::rules::RULES;

    for rule in RULES {
        if let Some(broken) = rule.check(|path| fields::fact(values, path))
            && let Some(tokens) = at.get(broken.field)
        {
            errors.push(tokens, broken);
        }
    }
    if let Some(Checked::Text(t)) = values.get("circuit_type")
        && t == "count_based"
    {
        for rate in ["failure_rate_threshold", "sliding_window_size", "minimum_calls"] {
            if let Some(tokens) = at.get(rate) {
                errors.push(
                    tokens,
                    format!("`{rate}` has no effect with `circuit_type = \"count_based\"` (it trips on consecutive failures only); remove one of them"),
                );
            }
        }
    }
    if let Some(tokens) = retry_rejections_at
        && !matches!(values.get("retry.respect_retry_after"), Some(Checked::Bool(true)))
    {
        errors.push(
            tokens,
            "retrying rejections hammers a circuit that just said no; opt in with `respect_retry_after = true` so each retry waits for the time the breaker asks",
        );
    }
    if stages.retry
        && !values.contains_key("retry.max_elapsed")
        && let Some(TemplateRef::Builtin(t)) = template
        && t.value() == "ai_provider"
    {
        errors.push(
            t,
            "a retry on an `ai_provider` needs a total deadline: AI calls are slow, and retries without one can run for minutes; add `max_elapsed = \"60s\"` to the retry",
        );
    }
}
