//! Whether a macro's arguments fit the `template!` constant they refine,
//! decided by const evaluation: `#[circuit_breaker(template = PAYMENTS,
//! call_timeout = "20s")]` cannot see `PAYMENTS`'s values, but the constant
//! it expands to can, so a contradiction is a compile error instead of a
//! configuration that falls back at run time.
//!
//! The rules are [`cb_syntax::rules::RULES`], judged as the runtime judges
//! them (a value not known is not judged, a condition not known may hold),
//! over the arguments, then the template (in each environment), then its
//! built-in bases from [`cb_syntax::templates`].

use cb_syntax::duration::nanos;
use cb_syntax::names::ENVIRONMENTS;
use cb_syntax::rules::{Bound, Order, RULES, When};
use cb_syntax::templates::{self, str_eq};

use super::environment::Environment;
use super::template::{StaticTemplate, StaticValue};

/// A value as const code sees it: the text of a built-in's value, or a
/// `template!` value.
#[derive(Clone, Copy)]
enum Known {
    Text(&'static str),
    Value(StaticValue),
}

/// Whether the rule `RULES[rule]` is broken by the arguments `args` over
/// `template`, in `environment` or, when `None`, in any environment.
/// `false` when the rule cannot be judged (a value no layer known at
/// compile time sets).
pub const fn template_breaks(
    template: &StaticTemplate,
    args: &[(&'static str, StaticValue)],
    environment: Option<Environment>,
    rule: usize,
) -> bool {
    if rule >= RULES.len() {
        return false;
    }
    if let Some(env) = environment {
        return broken_in(template, args, Some(env), rule);
    }
    let mut i = 0;
    while i < Environment::ALL.len() {
        if broken_in(template, args, Some(Environment::ALL[i]), rule) {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether `template` (with its built-in bases) sets `path` to the name
/// `name`, in `environment` or, when `None`, in any environment: for the
/// rules about a detector (`count_based` has no failure rate) when the
/// arguments leave the detector to the template.
pub const fn template_sets(
    template: &StaticTemplate,
    environment: Option<Environment>,
    path: &str,
    name: &str,
) -> bool {
    let mut i = 0;
    while i < Environment::ALL.len() {
        let env = Environment::ALL[i];
        let wanted = match environment {
            Some(e) => e as usize == env as usize,
            None => true,
        };
        if wanted
            && let Some(Known::Value(StaticValue::Text(s)) | Known::Text(s)) =
                lookup(template, &[], Some(env), path)
            && str_eq(s, name)
        {
            return true;
        }
        i += 1;
    }
    false
}

const fn broken_in(
    t: &StaticTemplate,
    args: &[(&'static str, StaticValue)],
    env: Option<Environment>,
    rule: usize,
) -> bool {
    let rule = &RULES[rule];
    let mut w = 0;
    while w < rule.when.len() {
        if !may_hold(rule.when[w], t, args, env) {
            return false;
        }
        w += 1;
    }
    let Some(value) = duration(lookup(t, args, env, rule.field)) else {
        return false;
    };
    let bound = match rule.bound {
        Bound::Field(other) => match duration(lookup(t, args, env, other)) {
            Some(d) => d,
            None => return false,
        },
        Bound::MillisPer { count, .. } => match lookup(t, args, env, count) {
            Some(Known::Value(StaticValue::Int(n))) if n >= 0 => n as u64 * 1_000_000,
            Some(Known::Text(s)) => match integer(s) {
                Some(n) => n * 1_000_000,
                None => return false,
            },
            _ => return false,
        },
    };
    match rule.order {
        Order::AtLeast => value < bound,
        Order::Below => value >= bound,
    }
}

/// `false` only when the known values show the condition does not hold.
const fn may_hold(
    when: When,
    t: &StaticTemplate,
    args: &[(&'static str, StaticValue)],
    env: Option<Environment>,
) -> bool {
    match when {
        When::On(path) => match lookup(t, args, env, path) {
            Some(Known::Value(StaticValue::Bool(false))) => false,
            Some(Known::Text(s)) => !str_eq(s, "false"),
            _ => true,
        },
        When::Set(_) => true,
        When::Is(path, name) => match lookup(t, args, env, path) {
            Some(Known::Value(StaticValue::Text(s)) | Known::Text(s)) => str_eq(s, name),
            Some(_) => false,
            None => true,
        },
    }
}

/// The value at `path`: an argument, else the template's (its environment's
/// first), else its built-in bases'. `None` when none of those sets it.
const fn lookup(
    t: &StaticTemplate,
    args: &[(&'static str, StaticValue)],
    env: Option<Environment>,
    path: &str,
) -> Option<Known> {
    if let Some(v) = templates::lookup(args, path) {
        return Some(Known::Value(v));
    }
    let env_name = match env {
        Some(e) => Some(ENVIRONMENTS[e as usize]),
        None => None,
    };
    if let Some(e) = env {
        let mut i = 0;
        while i < t.environments.len() {
            if t.environments[i].0 as usize == e as usize
                && let Some(v) = templates::lookup(t.environments[i].1, path)
            {
                return Some(Known::Value(v));
            }
            i += 1;
        }
    }
    if let Some(v) = templates::lookup(t.values, path) {
        return Some(Known::Value(v));
    }
    // A base made by `template!` is known here by name only: its values
    // are left to the run-time check.
    match t.base {
        Some(base) => match templates::value(base, env_name, path) {
            Some((_, text)) => Some(Known::Text(text)),
            None => None,
        },
        None => None,
    }
}

/// A duration, in nanoseconds, when the value is one.
const fn duration(v: Option<Known>) -> Option<u64> {
    match v {
        Some(Known::Value(StaticValue::Text(s)) | Known::Text(s)) => nanos(s),
        _ => None,
    }
}

/// A non-negative integer written as text.
const fn integer(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            return None;
        }
        n = n * 10 + (b[i] - b'0') as u64;
        i += 1;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(field: &str, bound: &str) -> usize {
        RULES
            .iter()
            .position(|r| {
                r.field == field
                    && matches!(r.bound, Bound::Field(b) | Bound::MillisPer { count: b, .. } if b == bound)
            })
            .unwrap()
    }

    const CHAT: StaticTemplate = StaticTemplate {
        name: "chat",
        base: Some("ai_provider"),
        values: &[("retry.max_delay", StaticValue::Text("5s"))],
        environments: &[(
            Environment::Production,
            &[("call_timeout.duration", StaticValue::Text("40s"))],
        )],
    };

    #[test]
    fn arguments_are_judged_over_the_template_and_its_builtin_base() {
        let slow = rule("slow_call_duration_threshold", "call_timeout.duration");
        let timeout = |t| [("call_timeout.duration", StaticValue::Text(t))];
        // ai_provider counts calls over 30s as slow.
        assert!(template_breaks(&CHAT, &timeout("20s"), None, slow));
        assert!(!template_breaks(&CHAT, &timeout("45s"), None, slow));
        let delay = rule("retry.max_delay", "retry.base_delay");
        let base = |t| [("retry.base_delay", StaticValue::Text(t))];
        assert!(template_breaks(&CHAT, &base("6s"), None, delay));
        assert!(!template_breaks(&CHAT, &base("1.5s"), None, delay));
    }

    #[test]
    fn an_environment_value_counts_in_its_environment_only() {
        let queue = rule("bulkhead.queue_timeout", "call_timeout.duration");
        let wait = [("bulkhead.queue_timeout", StaticValue::Text("50s"))];
        // 40s in production, ai_provider's 60s elsewhere.
        assert!(template_breaks(&CHAT, &wait, None, queue));
        assert!(template_breaks(
            &CHAT,
            &wait,
            Some(Environment::Production),
            queue
        ));
        assert!(!template_breaks(&CHAT, &wait, Some(Environment::Staging), queue));
        let off = [
            ("bulkhead.queue_timeout", StaticValue::Text("50s")),
            ("bulkhead.enabled", StaticValue::Bool(false)),
        ];
        assert!(!template_breaks(&CHAT, &off, None, queue));
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let own = StaticTemplate {
            name: "own",
            base: Some("payments"),
            values: &[],
            environments: &[],
        };
        let slow = rule("slow_call_duration_threshold", "call_timeout.duration");
        let args = [("call_timeout.duration", StaticValue::Text("1ms"))];
        assert!(!template_breaks(&own, &args, None, slow));
        assert!(!template_breaks(&own, &args, None, RULES.len()));
    }

    #[test]
    fn a_detector_is_found_through_the_builtin_base() {
        let tools = StaticTemplate {
            name: "tools",
            base: Some("mcp_server"),
            values: &[],
            environments: &[(
                Environment::Testing,
                &[("circuit_type", StaticValue::Text("adaptive"))],
            )],
        };
        assert!(template_sets(&tools, None, "circuit_type", "count_based"));
        assert!(!template_sets(
            &tools,
            Some(Environment::Testing),
            "circuit_type",
            "count_based"
        ));
        assert!(!template_sets(&CHAT, None, "circuit_type", "count_based"));
    }

    #[test]
    fn the_check_runs_in_a_const() {
        // The rule at index 2 is the slow-call one; the `const` block fails
        // the build of this test if the check cannot run at compile time or
        // misses the contradiction.
        assert_eq!(rule("slow_call_duration_threshold", "call_timeout.duration"), 2);
        const {
            assert!(template_breaks(
                &CHAT,
                &[("call_timeout.duration", StaticValue::Text("20s"))],
                None,
                2,
            ))
        };
    }
}
