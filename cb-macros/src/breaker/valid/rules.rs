//! The rules between fields at compile time ([`cb_syntax::rules`], with the
//! runtime's words), over the arguments written on top of the built-in
//! template they refine: `template = "ai_provider"` with `call_timeout =
//! "20s"` can only fall back at run time, so it is refused here, at the
//! argument, saying which value the template holds.

use std::collections::BTreeMap;

use cb_syntax::duration;
use cb_syntax::names::ENVIRONMENTS;
use cb_syntax::rules::{Bound, Fact, RULES, Rule};
use cb_syntax::schema::Kind;
use cb_syntax::templates;
use proc_macro2::TokenStream;

use crate::common::Errors;
use crate::common::fields::{self, Checked};

/// What sits under the arguments, as far as the macro knows it.
#[derive(Clone, Copy, Default)]
pub(crate) struct Under<'a> {
    /// The built-in template refined (`None`: none, or a `template!`
    /// constant whose values only const evaluation sees).
    pub(crate) template: Option<&'a str>,
    /// The environment, when the arguments fix it; otherwise every
    /// environment's variant of the template is checked.
    pub(crate) environment: Option<&'a str>,
}

/// Reports each rule broken by the arguments `values` (written at `at`)
/// over the template in `under`. A rule is reported only when the field it
/// names or its bound was written, at that argument: a template's values
/// among themselves are checked by the template's own tests.
pub(crate) fn check(
    values: &BTreeMap<&'static str, Checked>,
    at: &BTreeMap<&'static str, TokenStream>,
    under: Under<'_>,
    errors: &mut Errors,
) {
    for rule in RULES {
        let [field, bound] = compared(rule);
        let Some(tokens) = at.get(field).or_else(|| at.get(bound)) else {
            continue;
        };
        // Each environment's variant, or the one the arguments fix.
        let variants: Vec<Option<&str>> = match (under.template, under.environment) {
            (Some(_), None) => ENVIRONMENTS.into_iter().map(Some).collect(),
            (_, env) => vec![env],
        };
        let mut found: Vec<(String, Vec<&str>)> = Vec::new();
        for env in &variants {
            let fact = |path: &str| match fields::fact(values, path) {
                Fact::Unknown => template_fact(under.template, *env, path),
                known => known,
            };
            let Some(broken) = rule.check(fact) else {
                continue;
            };
            let msg = annotated(rule, broken, values, under.template, *env);
            match found.iter_mut().find(|(m, _)| *m == msg) {
                Some((_, envs)) => envs.extend(*env),
                None => found.push((msg, env.iter().copied().collect())),
            }
        }
        for (msg, envs) in found {
            if !envs.is_empty() && envs.len() < variants.len() {
                errors.push(tokens, format!("{msg} (in {})", envs.join(", ")));
            } else {
                errors.push(tokens, msg);
            }
        }
    }
    count_based(values, at, under, errors);
}

/// The rule's field and the field its bound reads.
fn compared(rule: &Rule) -> [&'static str; 2] {
    match rule.bound {
        Bound::Field(f) | Bound::MillisPer { count: f, .. } => [rule.field, f],
    }
}

/// What the template chain says of `path` in `env`.
fn template_fact(template: Option<&str>, env: Option<&str>, path: &str) -> Fact<'static> {
    let (Some((_, text)), Some(field)) = (
        template.and_then(|t| templates::value(t, env, path)),
        cb_syntax::schema::field(path),
    ) else {
        return Fact::Unknown;
    };
    match field.kind {
        Kind::Duration { .. } => duration::parse(text).map_or(Fact::Set, Fact::Duration),
        Kind::Count { .. } => text.parse().map_or(Fact::Set, Fact::Count),
        Kind::Bool => match text {
            "true" => Fact::Bool(true),
            "false" => Fact::Bool(false),
            _ => Fact::Set,
        },
        Kind::Detector | Kind::Text => Fact::Name(text),
        _ => Fact::Set,
    }
}

/// Where a value not written as an argument comes from, when a template
/// set it: "from template `ai_provider`", or through a preset's base.
fn origin(
    template: Option<&str>,
    env: Option<&str>,
    path: &str,
    values: &BTreeMap<&str, Checked>,
) -> Option<String> {
    if values.contains_key(path) {
        return None;
    }
    let name = template?;
    let (set_by, _) = templates::value(name, env, path)?;
    Some(if set_by.name == name {
        format!("from template `{name}`")
    } else {
        format!("from template `{}`, the base of `{name}`", set_by.name)
    })
}

/// The rule's message, as the runtime words it, saying which compared
/// value the template holds.
fn annotated(
    rule: &Rule,
    broken: cb_syntax::rules::Broken,
    values: &BTreeMap<&'static str, Checked>,
    template: Option<&str>,
    env: Option<&str>,
) -> String {
    let [field, bound] = compared(rule);
    if let Some(from) = origin(template, env, field, values) {
        return format!(
            "{} = {} ({from}): {}",
            broken.field, broken.value, broken.requirement
        );
    }
    let Some(from) = origin(template, env, bound, values) else {
        return broken.to_string();
    };
    let marker = match rule.bound {
        Bound::Field(b) => format!("{b} ("),
        Bound::MillisPer { unit, .. } => format!("per {unit} ("),
    };
    let mut requirement = broken.requirement.clone();
    if let Some(open) = requirement.find(&marker)
        && let Some(close) = requirement[open..].find([')', '='])
    {
        let at = open + close;
        let at = if requirement[..at].ends_with(' ') {
            at - 1
        } else {
            at
        };
        requirement.insert_str(at, &format!(", {from}"));
    }
    format!("{} = {}: {requirement}", broken.field, broken.value)
}

/// The fields a `count_based` detector ignores: it counts consecutive
/// failures, with no window or rate.
pub(super) const COUNT_BASED_IGNORES: [&str; 3] =
    ["failure_rate_threshold", "sliding_window_size", "minimum_calls"];

/// What a rate or window written for a `count_based` detector says;
/// `from` is where the detector comes from when not an argument.
pub(super) fn count_based_message(rate: &str, from: Option<&str>) -> String {
    match from {
        None => format!(
            "`{rate}` has no effect with `circuit_type = \"count_based\"` (it trips on consecutive failures only); remove one of them"
        ),
        Some(from) => format!(
            "`{rate}` has no effect with `circuit_type = \"count_based\"` ({from}; it trips on consecutive failures only); remove it or set another `circuit_type`"
        ),
    }
}

/// `count_based` trips on consecutive failures only: a rate or window
/// written for it has no effect.
fn count_based(
    values: &BTreeMap<&'static str, Checked>,
    at: &BTreeMap<&'static str, TokenStream>,
    under: Under<'_>,
    errors: &mut Errors,
) {
    let from = match values.get("circuit_type") {
        Some(Checked::Text(t)) if t == "count_based" => None,
        Some(_) => return,
        None => match under
            .template
            .and_then(|t| templates::value(t, under.environment, "circuit_type"))
        {
            Some((_, "count_based")) => origin(under.template, under.environment, "circuit_type", values),
            _ => return,
        },
    };
    for rate in COUNT_BASED_IGNORES {
        let Some(tokens) = at.get(rate) else {
            continue;
        };
        errors.push(tokens, count_based_message(rate, from.as_deref()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn messages(written: &[(&'static str, &str)], under: Under<'_>) -> Vec<String> {
        let values = written
            .iter()
            .map(|(p, v)| (*p, Checked::Text((*v).to_owned())))
            .collect();
        let at = written.iter().map(|(p, v)| (*p, quote!(#v))).collect();
        let mut errors = Errors::default();
        check(&values, &at, under, &mut errors);
        errors
            .finish()
            .err()
            .map_or_else(Vec::new, |e| e.into_iter().map(|e| e.to_string()).collect())
    }

    fn over(template: &str) -> Under<'_> {
        Under {
            template: Some(template),
            environment: None,
        }
    }

    #[test]
    fn a_value_inherited_by_a_preset_names_the_template_that_set_it() {
        assert_eq!(
            messages(&[("call_timeout.duration", "10s")], over("groq")),
            [
                "bulkhead.queue_timeout = 10s (from template `ai_provider`, the base of `groq`): \
              must be < call_timeout.duration (10s): the queue wait counts toward the call's timeout (R61)"
            ]
        );
        assert_eq!(
            messages(&[("call_timeout.duration", "12s")], over("groq")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_bound_from_the_template_is_named_beside_its_value() {
        assert_eq!(
            messages(&[("window_duration", "5ms")], over("external_api")),
            [
                "window_duration = 5ms: must be >= 1ms per bucket (10 buckets, from template `external_api` => >= 10ms)"
            ]
        );
    }

    #[test]
    fn without_a_template_only_the_arguments_are_judged() {
        assert!(messages(&[("call_timeout.duration", "1ms")], Under::default()).is_empty());
        assert_eq!(
            messages(
                &[("retry.base_delay", "2s"), ("retry.max_delay", "1s")],
                Under::default()
            ),
            ["retry.max_delay = 1s: must be >= retry.base_delay (2s)"]
        );
    }
}
