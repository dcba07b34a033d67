//! The built-in templates' values, written as files write them (`"30s"`,
//! `"0.8"`, `"adaptive"`): one table, read by `cb-core` (which parses each
//! value with the file parser and resolves breakers from it) and by
//! `cb-macros` (which checks the arguments of `#[circuit_breaker(template =
//! "ai_provider")]` against it at compile time). A value changed here
//! changes what a breaker gets and what a macro accepts together.
//!
//! Plain data in `const`s, so that `const fn` code (the compile-time check
//! of a `template!` constant's arguments) can read it too.

use crate::names::ENVIRONMENTS;

/// One built-in template: the values it sets over its base.
#[derive(Debug)]
pub struct Builtin {
    /// Its name, one of [`crate::names::TEMPLATES`].
    pub name: &'static str,
    /// The template it inherits from; `None` for `default` and the service
    /// types, which sit directly over the built-in defaults.
    pub base: Option<&'static str>,
    /// `(field path, value as a file writes it)`.
    pub values: &'static [(&'static str, &'static str)],
    /// Values for one environment only (canonical name), beating
    /// [`Builtin::values`] there.
    pub environments: &'static [(&'static str, &'static [(&'static str, &'static str)])],
}

/// A preset's failure threshold in every environment, in
/// [`ENVIRONMENTS`] order: development, staging, production, testing.
/// Stated for each so the generic environment profile never decides it.
macro_rules! thresholds {
    ($dev:literal, $staging:literal, $prod:literal, $test:literal) => {
        &[
            (ENVIRONMENTS[0], &[("failure_threshold", $dev)]),
            (ENVIRONMENTS[1], &[("failure_threshold", $staging)]),
            (ENVIRONMENTS[2], &[("failure_threshold", $prod)]),
            (ENVIRONMENTS[3], &[("failure_threshold", $test)]),
        ]
    };
}

/// A preset over `base`: its thresholds per environment and what sets the
/// service apart.
macro_rules! preset {
    ($name:literal over $base:literal, $thresholds:expr, $values:expr) => {
        Builtin {
            name: $name,
            base: Some($base),
            values: $values,
            environments: $thresholds,
        }
    };
}

/// Every built-in template, in [`crate::names::TEMPLATES`] order.
pub const BUILTINS: &[Builtin] = &[
    // The built-in defaults themselves.
    Builtin {
        name: "default",
        base: None,
        values: &[],
        environments: &[],
    },
    // Failure rate over the last 20 calls, slow calls (80 % slower than
    // 30 s), an open period doubling up to 10 min, one probe at a time;
    // retries honour Retry-After; 60 s call timeout; a 20-call bulkhead.
    Builtin {
        name: "ai_provider",
        base: None,
        values: &[
            ("circuit_type", "adaptive"),
            ("sliding_window_size", "20"),
            ("minimum_calls", "5"),
            ("slow_call_rate_threshold", "0.8"),
            ("slow_call_duration_threshold", "30s"),
            ("open_duration_multiplier", "2.0"),
            ("max_open_duration", "600s"),
            ("half_open_max_calls", "1"),
            ("success_threshold", "2"),
            ("service_category", "ai"),
            ("retry.max_attempts", "3"),
            ("retry.base_delay", "1s"),
            ("retry.max_delay", "30s"),
            ("retry.jitter", "full"),
            ("retry.respect_retry_after", "true"),
            ("bulkhead.enabled", "true"),
            ("bulkhead.max_concurrent_calls", "20"),
            ("bulkhead.queue_timeout", "10s"),
            ("call_timeout.enabled", "true"),
            ("call_timeout.duration", "60s"),
        ],
        environments: &[],
    },
    // Failure percentage over the last 50 calls; a 50-call bulkhead, 10 s
    // call timeout, health checks every 15 s.
    Builtin {
        name: "database",
        base: None,
        values: &[
            ("circuit_type", "percentage_based"),
            ("sliding_window_size", "50"),
            ("minimum_calls", "10"),
            ("half_open_max_calls", "2"),
            ("success_threshold", "2"),
            ("service_category", "database"),
            ("retry.max_attempts", "2"),
            ("retry.base_delay", "50ms"),
            ("retry.max_delay", "1s"),
            ("bulkhead.enabled", "true"),
            ("bulkhead.max_concurrent_calls", "50"),
            ("bulkhead.queue_timeout", "2s"),
            ("call_timeout.enabled", "true"),
            ("call_timeout.duration", "10s"),
            ("health_check.enabled", "true"),
            ("health_check.interval", "15s"),
            ("health_check.timeout", "3s"),
        ],
        environments: &[],
    },
    // Consecutive failures, one breaker per server; a 10-call bulkhead and
    // a 60 s tool timeout.
    Builtin {
        name: "mcp_server",
        base: None,
        values: &[
            ("circuit_type", "count_based"),
            ("half_open_max_calls", "1"),
            ("success_threshold", "2"),
            ("service_category", "mcp"),
            ("retry.max_attempts", "2"),
            ("retry.base_delay", "200ms"),
            ("retry.max_delay", "2s"),
            ("bulkhead.enabled", "true"),
            ("bulkhead.max_concurrent_calls", "10"),
            ("bulkhead.queue_timeout", "5s"),
            ("call_timeout.enabled", "true"),
            ("call_timeout.duration", "60s"),
        ],
        environments: &[],
    },
    // Failures over 60 s in 10 buckets; retries honour Retry-After; 30 s
    // call timeout; health checks every 60 s.
    Builtin {
        name: "external_api",
        base: None,
        values: &[
            ("circuit_type", "time_based"),
            ("window_duration", "60s"),
            ("window_buckets", "10"),
            ("minimum_calls", "10"),
            ("half_open_max_calls", "2"),
            ("success_threshold", "2"),
            ("service_category", "external"),
            ("retry.max_attempts", "3"),
            ("retry.base_delay", "500ms"),
            ("retry.max_delay", "30s"),
            ("retry.respect_retry_after", "true"),
            ("call_timeout.enabled", "true"),
            ("call_timeout.duration", "30s"),
            ("health_check.enabled", "true"),
            ("health_check.interval", "60s"),
            ("health_check.timeout", "10s"),
        ],
        environments: &[],
    },
    // Hosted LLMs: long generations are normal, so only very slow calls count as slow.
    preset!("claude" over "ai_provider", thresholds!("5", "4", "3", "5"), &[
        ("slow_call_duration_threshold", "45s")
    ]),
    preset!("gpt4" over "ai_provider", thresholds!("5", "4", "3", "5"), &[
        ("slow_call_duration_threshold", "45s")
    ]),
    preset!("gemini" over "ai_provider", thresholds!("6", "5", "3", "8"), &[]),
    preset!("deepseek" over "ai_provider", thresholds!("5", "4", "3", "5"), &[
        ("slow_call_duration_threshold", "45s")
    ]),
    // Fast inference: a slow call is a symptom, and a short deadline sheds load sooner.
    preset!("groq" over "ai_provider", thresholds!("3", "3", "2", "3"), &[
        ("slow_call_duration_threshold", "5s"),
        ("call_timeout.duration", "15s"),
    ]),
    // Local models fail often while loading and run slowly on modest hardware.
    preset!("ollama" over "ai_provider", thresholds!("30", "20", "15", "50"), &[
        ("slow_call_duration_threshold", "120s"),
        ("call_timeout.duration", "300s"),
        ("retry.max_attempts", "1"),
    ]),
    // Cold starts on shared inference endpoints take minutes.
    preset!("huggingface" over "ai_provider", thresholds!("6", "5", "3", "8"), &[
        ("call_timeout.duration", "120s")
    ]),
    preset!("docker" over "mcp_server", thresholds!("6", "5", "3", "8"), &[
        ("call_timeout.duration", "120s")
    ]),
    preset!("kubernetes" over "mcp_server", thresholds!("8", "5", "3", "10"), &[]),
    // Local file and shell tools: failures are usually the command's, not the server's.
    preset!("desktop_commander" over "mcp_server", thresholds!("20", "10", "5", "30"), &[
        ("bulkhead.max_concurrent_calls", "5")
    ]),
    preset!("prometheus" over "mcp_server", thresholds!("4", "3", "2", "5"), &[
        ("call_timeout.duration", "10s")
    ]),
    // Slack rate-limits with Retry-After.
    preset!("slack" over "mcp_server", thresholds!("6", "5", "3", "8"), &[
        ("retry.respect_retry_after", "true")
    ]),
    preset!("s3" over "mcp_server", thresholds!("4", "3", "2", "5"), &[
        ("retry.max_attempts", "3")
    ]),
    // Scans of large trees are slow by nature.
    preset!("security_scanner" over "mcp_server", thresholds!("8", "5", "3", "10"), &[
        ("call_timeout.duration", "300s")
    ]),
];

/// The built-in template called `name`. A `const fn`, so compile-time
/// checks can walk a template's bases.
pub const fn builtin(name: &str) -> Option<&'static Builtin> {
    let mut i = 0;
    while i < BUILTINS.len() {
        if str_eq(BUILTINS[i].name, name) {
            return Some(&BUILTINS[i]);
        }
        i += 1;
    }
    None
}

/// What the built-in template `name` sets at `path` in `environment`
/// (`None`: in no particular one), through its bases: the template's own
/// environment value, then its own value, then its base's. `None` when no
/// template of the chain sets it (the built-in defaults decide); otherwise
/// the template of the chain that sets it and the value, as written.
pub const fn value(
    name: &str,
    environment: Option<&str>,
    path: &str,
) -> Option<(&'static Builtin, &'static str)> {
    let mut current = builtin(name);
    while let Some(t) = current {
        if let Some(env) = environment {
            let mut e = 0;
            while e < t.environments.len() {
                if str_eq(t.environments[e].0, env)
                    && let Some(v) = lookup(t.environments[e].1, path)
                {
                    return Some((t, v));
                }
                e += 1;
            }
        }
        if let Some(v) = lookup(t.values, path) {
            return Some((t, v));
        }
        current = match t.base {
            Some(base) => builtin(base),
            None => None,
        };
    }
    None
}

/// The value at `path` among `values`, the last one written winning: the
/// table's texts, or the typed values of a `template!` constant.
pub const fn lookup<T: Copy>(values: &[(&'static str, T)], path: &str) -> Option<T> {
    let mut i = values.len();
    while i > 0 {
        i -= 1;
        if str_eq(values[i].0, path) {
            return Some(values[i].1);
        }
    }
    None
}

/// `a == b`, usable in `const fn`.
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{PRESETS, TEMPLATES};
    use crate::schema::field;

    #[test]
    fn every_template_name_has_values_and_none_is_extra() {
        let names: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
        assert_eq!(names, TEMPLATES);
        for (preset, base) in PRESETS {
            assert_eq!(builtin(preset).and_then(|b| b.base), Some(base), "{preset}");
        }
        for b in &BUILTINS[..TEMPLATES.len() - PRESETS.len()] {
            assert_eq!(b.base, None, "{}", b.name);
        }
    }

    #[test]
    fn every_value_names_a_field_and_every_environment_is_known() {
        for b in BUILTINS {
            let scoped = b.environments.iter().flat_map(|(_, v)| v.iter());
            for (path, _) in b.values.iter().chain(scoped) {
                assert!(field(path).is_some(), "{}: {path}", b.name);
            }
            for (env, _) in b.environments {
                assert!(ENVIRONMENTS.contains(env), "{}: {env}", b.name);
            }
        }
    }

    #[test]
    fn values_come_through_the_base_and_environments_win() {
        let set = |name, env, path| value(name, env, path).map(|(t, v)| (t.name, v));
        assert_eq!(
            set("claude", None, "slow_call_duration_threshold"),
            Some(("claude", "45s"))
        );
        assert_eq!(
            set("claude", None, "call_timeout.duration"),
            Some(("ai_provider", "60s"))
        );
        assert_eq!(
            set("claude", Some("production"), "failure_threshold"),
            Some(("claude", "3"))
        );
        assert_eq!(set("claude", None, "failure_threshold"), None);
        assert_eq!(set("default", None, "call_timeout.duration"), None);
        assert_eq!(set("nope", None, "call_timeout.duration"), None);
    }
}
