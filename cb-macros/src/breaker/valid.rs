//! Validate: every argument's meaning, every problem at once, each at its
//! own token. The result is a [`Plan`] that `expand.rs` emits without checks.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use syn::{Ident, Lit};

use super::args::{Arg, ArgValue, Args};
use super::plan::Plan;
use super::shape::Shape;
use crate::common::Errors;
use crate::common::fields::{self, Checked};
use crate::common::suggest::{backticked, with_suggestion};
use draft::Draft;

/// The built-in templates and the environments: the runtime's tables.
pub(crate) use cb_syntax::names::{ENVIRONMENTS, TEMPLATES};

mod call_timeout;
mod draft;
mod field;
mod fits;
mod own;
mod rules;
mod section;
mod template_const;
mod tiers;
mod unique;

// `template!` checks the same fields and cross-field rules with these.
pub(crate) use super::plan::{Stages, TemplateRef};
pub(crate) use field::check_value;
pub(crate) use rules::Under;

/// Checks one argument: records what it means in the draft, or reports why
/// it cannot, and lets the others be checked too.
type Checker = fn(&mut Draft, Arg, &mut Errors);

/// The arguments that are not configuration fields, each with its checker,
/// in the order "did you mean" offers them. Anything else is a breaker field.
const ARGUMENTS: [(&str, Checker); 11] = [
    ("name", own::name),
    ("template", template),
    ("environment", environment),
    ("rescue", own::rescue),
    ("error", own::error),
    ("crate", own::krate),
    ("call_timeout", call_timeout::call_timeout),
    ("retry", section::retry),
    ("bulkhead", section::bulkhead),
    ("tiers", tiers::tiers),
    ("classify", section::classify),
];

/// Checks `args` against the function's `shape`: each argument on its own,
/// then the rules between fields, then the rules between arguments and shape.
pub(crate) fn check(args: Args, shape: &Shape, errors: &mut Errors) -> Plan {
    let mut d = Draft::default();
    for arg in args.0 {
        let key = arg.key.to_string();
        match ARGUMENTS.iter().find(|(k, _)| *k == key) {
            Some((_, checker)) => checker(&mut d, arg, errors),
            None if let Some(why) = cb_syntax::schema::not_yet(&key) => {
                errors.push(&arg.key, format!("`{key}`: {why}"));
            }
            None => match fields::find(None, &key) {
                Some(f) => field::breaker_field(&mut d, f, arg, errors),
                None => match fields::alias(None, &key) {
                    Some(msg) => errors.push(&arg.key, msg),
                    None => unknown(&arg.key, errors),
                },
            },
        }
    }
    cross_checks(
        &d.values,
        &d.value_at,
        &d.template,
        d.environment.as_deref(),
        &d.stages,
        d.retry_rejections_at.take(),
        errors,
    );
    fits::fits(&d, shape, errors);
    if let Some(name) = &d.name {
        let template = match &d.template {
            Some(TemplateRef::Builtin(s)) => s.value(),
            Some(TemplateRef::Const(p)) => quote::ToTokens::to_token_stream(p).to_string(),
            None => String::new(),
        };
        let settings = format!("{template} {:?} {:?}", d.environment, d.values);
        unique::check(name, settings, errors);
    }
    let template_checks = match &d.template {
        Some(TemplateRef::Const(p)) => Some((
            p.clone(),
            d.values.clone(),
            d.value_at.clone(),
            d.environment.clone(),
        )),
        _ => None,
    };
    let mut plan = d.into_plan(errors);
    if let Some((p, values, at, env)) = template_checks {
        plan.template_checks = template_const::checks(&plan.krate, &p, &values, &at, env.as_deref());
    }
    plan
}

/// `template = "ai_provider"` (a built-in) or `template = PAYMENTS` (a
/// `template!` const, whose type rustc checks).
fn template(d: &mut Draft, Arg { key, value }: Arg, errors: &mut Errors) {
    if !d.seen.first("template", &key, errors) {
        return;
    }
    match &value {
        ArgValue::Lit {
            lit: Lit::Str(s),
            negative: None,
        } => {
            let v = s.value();
            if TEMPLATES.contains(&v.as_str()) {
                d.template = Some(TemplateRef::Builtin(s.clone()));
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
        ArgValue::Path(p) => d.template = Some(TemplateRef::Const(p.clone())),
        other => errors.push(
            other.spanned(),
            "expected a template name such as `\"ai_provider\"` or the path of a `template!` constant",
        ),
    }
}

/// `environment = "production"`: one of the environments files know.
fn environment(d: &mut Draft, Arg { key, value }: Arg, errors: &mut Errors) {
    if !d.seen.first("environment", &key, errors) {
        return;
    }
    let Some(s) = own::lit_str(
        &key,
        &value,
        errors,
        "a string such as `environment = \"production\"`",
    ) else {
        return;
    };
    let v = s.value();
    if ENVIRONMENTS.contains(&v.as_str()) {
        d.environment = Some(v);
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

/// Neither an argument nor a breaker field: a section's setting written at
/// the top, or a typo.
fn unknown(key: &Ident, errors: &mut Errors) {
    let k = key.to_string();
    let in_section = ["retry", "bulkhead", "classify"]
        .into_iter()
        .find(|s| fields::find(Some(s), &k).is_some());
    let msg = match in_section {
        None if k == "fallback" => "a value computed when the call is refused or fails is a rescue: \
             write `rescue = path`; `#[fallback(tier2, tier3)]` is for a chain of tiers"
            .to_owned(),
        Some("classify") => format!("`{k}` is a `classify` setting: write `classify({k} = [...])`"),
        Some(s) => format!(
            "`{k}` is a `{s}` setting: write `{s}({k} = ...)` or put `#[{s}({k} = ...)]` on the function"
        ),
        None => with_suggestion(
            format!(
                "unknown argument `{k}`; expected `name`, `template`, `environment`, `rescue`, `error`, `crate`, `call_timeout`, `retry(..)`, `bulkhead(..)`, `classify(..)` or a breaker field such as `failure_threshold`"
            ),
            &k,
            &all_keys(),
        ),
    };
    errors.push(key, msg);
}

/// Every key "did you mean" may offer at the top level.
fn all_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = ARGUMENTS.iter().map(|(k, _)| *k).collect();
    for f in fields::FIELDS.iter().filter(|f| f.section().is_none()) {
        keys.push(f.key());
        keys.extend(f.aliases.iter().copied());
    }
    keys
}

/// The rules between fields, as the runtime checks them
/// ([`cb_syntax::rules`]), over the arguments written on top of the
/// built-in template when there is one (in `environment`, or in each), plus
/// the rules about arguments only a macro sees.
pub(crate) fn cross_checks(
    values: &BTreeMap<&'static str, Checked>,
    at: &BTreeMap<&'static str, TokenStream>,
    template: &Option<TemplateRef>,
    environment: Option<&str>,
    stages: &Stages,
    retry_rejections_at: Option<TokenStream>,
    errors: &mut Errors,
) {
    let builtin = match template {
        Some(TemplateRef::Builtin(t)) => Some(t.value()),
        _ => None,
    };
    let under = Under {
        template: builtin.as_deref(),
        environment,
    };
    rules::check(values, at, under, errors);
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
