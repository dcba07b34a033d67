//! `retry(..)` and `bulkhead(..)` (and `#[retry(..)]` / `#[bulkhead(..)]`
//! folded into them): a stage with the fields of its configuration section;
//! and `classify(..)`, the function's error kinds sorted by name.

use quote::ToTokens;
use syn::Lit;

use super::draft::{Draft, Seen};
use super::field::check_value;
use crate::breaker::args::{Arg, ArgValue, Args};
use crate::common::Errors;
use crate::common::fields::{self, Checked};
use crate::common::suggest::{backticked, with_suggestion};
use cb_syntax::schema::{LISTED_TWICE, listed_twice};

/// `retry(max_attempts = 3, ..)`, plus `retry_rejections`, which is not a
/// field; `retry = false` switches off a retry the configuration enables.
pub(super) fn retry(d: &mut Draft, arg: Arg, errors: &mut Errors) {
    match section(d, arg, "retry", errors) {
        Some(true) => d.stages.retry = true,
        Some(false) => d.stages.no_retry = true,
        None => {}
    }
}

/// `bulkhead(max_concurrent_calls = 10, ..)`; `bulkhead = false` switches
/// off a bulkhead the configuration enables.
pub(super) fn bulkhead(d: &mut Draft, arg: Arg, errors: &mut Errors) {
    match section(d, arg, "bulkhead", errors) {
        Some(true) => {
            d.stages.bulkhead = true;
            d.values.insert("bulkhead.enabled", Checked::Bool(true));
        }
        Some(false) => d.stages.no_bulkhead = true,
        None => {}
    }
}

/// `classify(failure = ["5xx"], excluded = ["NotFound"])`: error kinds the
/// breaker counts as failures or excluded over the error type's own
/// classification. Not a stage: it cannot be switched off, only left out.
pub(super) fn classify(d: &mut Draft, arg: Arg, errors: &mut Errors) {
    let key = arg.key.clone();
    if let ArgValue::Lit { .. } | ArgValue::Path(_) | ArgValue::List { .. } = arg.value {
        errors.push(
            arg.value.spanned(),
            format!("expected `classify(...)`, e.g. `{}`", example("classify")),
        );
        return;
    }
    if section(d, arg, "classify", errors).is_none() {
        return;
    }
    // `section` recorded it as a stage key; classification is not a stage.
    d.stage_keys.retain(|k| *k != key);
    if let (Some(Checked::List(failure)), Some(Checked::List(excluded))) = (
        d.values.get("classify.failure"),
        d.values.get("classify.excluded"),
    ) && let Some(twice) = listed_twice(failure, excluded)
        && let Some(at) = d.value_at.get("classify.excluded")
    {
        errors.push(at, format!("`classify.excluded` entry {twice:?} {LISTED_TWICE}"));
    }
}

/// Checks every setting of the section `name`: `Some(true)` when the
/// function writes the stage (its settings parsed, even if some are wrong:
/// those are reported), `Some(false)` for `name = false`.
fn section(d: &mut Draft, Arg { key, value }: Arg, name: &str, errors: &mut Errors) -> Option<bool> {
    if !d.seen.first(name, &key, errors) {
        return None;
    }
    let tokens = match value {
        ArgValue::Group { tokens, .. } => tokens,
        ArgValue::Lit {
            lit: Lit::Bool(b),
            negative: None,
        } if !b.value => return Some(false),
        other => {
            errors.push(
                other.spanned(),
                format!(
                    "expected `{name}(...)`, e.g. `{}`, or `{name} = false` to switch it off",
                    example(name)
                ),
            );
            return None;
        }
    };
    let inner = match syn::parse2::<Args>(tokens) {
        Ok(a) => a,
        Err(e) => {
            errors.add(e);
            return None;
        }
    };
    let mut seen = Seen::default();
    for arg in inner.0 {
        if name == "retry" && arg.key == "retry_rejections" {
            retry_rejections(d, &mut seen, arg, errors);
        } else {
            setting(d, &mut seen, name, arg, errors);
        }
    }
    d.stage_keys.push(key);
    Some(true)
}

/// `retry_rejections = true`: retry the calls the breaker refused.
fn retry_rejections(d: &mut Draft, seen: &mut Seen, Arg { key, value }: Arg, errors: &mut Errors) {
    if !seen.first("retry_rejections", &key, errors) {
        return;
    }
    match &value {
        ArgValue::Lit {
            lit: Lit::Bool(b), ..
        } => {
            d.stages.retry_rejections = b.value;
            if b.value {
                d.retry_rejections_at = Some(b.to_token_stream());
            }
        }
        other => errors.push(other.spanned(), "expected `true` or `false`"),
    }
}

/// One field of the section; `enabled` is not one: writing the section enables it.
fn setting(d: &mut Draft, seen: &mut Seen, name: &str, Arg { key, value }: Arg, errors: &mut Errors) {
    let given = key.to_string();
    let Some(field) = fields::find(Some(name), &given).filter(|f| f.key() != "enabled") else {
        if let Some(msg) = fields::alias(Some(name), &given) {
            errors.push(&key, msg);
            return;
        }
        let mut keys: Vec<&str> = fields::keys(Some(name))
            .into_iter()
            .filter(|x| *x != "enabled")
            .collect();
        if name == "retry" {
            keys.push("retry_rejections");
        }
        errors.push(
            &key,
            with_suggestion(
                format!(
                    "unknown `{name}` argument `{given}`; expected one of {}",
                    backticked(&keys)
                ),
                &given,
                &keys,
            ),
        );
        return;
    };
    if seen.first(field.key(), &key, errors) {
        check_value(field, &key, &value, errors, &mut d.values, &mut d.value_at);
    }
}

fn example(name: &str) -> &'static str {
    match name {
        "retry" => "retry(max_attempts = 3, max_elapsed = \"10s\")",
        "classify" => "classify(excluded = [\"NotFound\", \"4xx\"])",
        _ => "bulkhead(max_concurrent_calls = 10)",
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    fn expanded(args: proc_macro2::TokenStream) -> String {
        crate::breaker::expand(
            args,
            quote!(
                fn get() -> Result<(), E> {
                    Ok(())
                }
            ),
        )
        .to_string()
    }

    #[test]
    fn classify_lists_reach_the_code_layer() {
        let out = expanded(quote!(classify(
            failure = ["5xx", 429],
            excluded = ["NotFound", "timeout"]
        )));
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("\"classify.failure\""), "{out}");
        assert!(out.contains("String :: from (\"429\")"), "{out}");
        assert!(out.contains("String :: from (\"NotFound\")"), "{out}");
    }

    #[test]
    fn classify_mistakes_name_the_field_and_the_allowed_forms() {
        let out = expanded(quote!(classify(excluded = "NotFound")));
        assert!(
            out.contains("write `excluded` as a list, even of one: `excluded = [\\\"NotFound\\\"]`"),
            "{out}"
        );
        let out = expanded(quote!(classify(failure = ["Not Found"])));
        assert!(
            out.contains("is not an error kind for `classify.failure`"),
            "{out}"
        );
        assert!(out.contains("`1xx`..`5xx`"), "{out}");
        let out = expanded(quote!(classify(retryable = ["x"])));
        assert!(out.contains("expected one of `failure`, `excluded`"), "{out}");
        let out = expanded(quote!(classify = false));
        assert!(out.contains("expected `classify(...)`"), "{out}");
        let out = expanded(quote!(excluded = ["NotFound"]));
        assert!(out.contains("write `classify(excluded = [...])`"), "{out}");
        let out = expanded(quote!(failure_threshold = [1]));
        assert!(out.contains("not a list"), "{out}");
    }
}
