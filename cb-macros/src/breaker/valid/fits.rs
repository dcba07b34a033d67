//! Whether the stages and tiers asked for fit together and fit the function
//! they wrap: checked once every argument is read.

use super::draft::Draft;
use crate::breaker::shape::{Body, Shape};
use crate::common::Errors;

/// Every rule between the arguments given and the function's `shape`.
pub(super) fn fits(d: &Draft, shape: &Shape, errors: &mut Errors) {
    fallback_and_tiers(d, errors);
    stages(d, shape, errors);
    if d.stages.retry {
        retried(d, shape, errors);
    }
    if !d.tiers.is_empty() {
        tiered(d, shape, errors);
    }
}

/// One way out: a rescue value or the last tier, not both.
fn fallback_and_tiers(d: &Draft, errors: &mut Errors) {
    if let Some(fb) = &d.rescue
        && !d.tiers.is_empty()
    {
        errors.push(
            fb,
            "`rescue = ...` cannot be combined with `#[fallback(...)]` tiers; make it the last tier instead",
        );
    }
}

/// Each stage needs an `async fn` with a nameable type, and no tiers yet.
fn stages(d: &Draft, shape: &Shape, errors: &mut Errors) {
    for k in &d.stage_keys {
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
        if !d.tiers.is_empty() {
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
}

/// Each attempt gets its own copy of every argument.
fn retried(d: &Draft, shape: &Shape, errors: &mut Errors) {
    plain_arguments(
        shape,
        "a retried function needs plain argument names (each attempt gets a clone of every argument)",
        errors,
    );
    if shape.self_by_value {
        errors.push(
            d.stage_keys
                .iter()
                .find(|k| *k == "retry")
                .expect("retry is a stage key"),
            "a retried method cannot take `self` by value: each attempt needs it again; take `&self`",
        );
    }
}

/// Each tier is awaited and gets its own copy of every argument.
fn tiered(d: &Draft, shape: &Shape, errors: &mut Errors) {
    if matches!(shape.body, Body::Sync) {
        errors.push(&d.tiers[0], "`#[fallback(...)]` tiers need an `async fn`");
    }
    plain_arguments(
        shape,
        "a tiered function needs plain argument names (each tier gets a clone of every argument)",
        errors,
    );
    if shape.self_by_value {
        errors.push(
            &d.tiers[0],
            "a tiered method cannot take `self` by value; take `&self`",
        );
    }
}

/// Cloning an argument needs its name: `msg` at each pattern that is not one.
fn plain_arguments(shape: &Shape, msg: &str, errors: &mut Errors) {
    for pat in shape.args.iter().filter_map(|a| a.as_ref().err()) {
        errors.push(pat, msg);
    }
}
