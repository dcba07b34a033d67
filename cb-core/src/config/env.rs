//! Environment variables: where they are read from, and the variable layer.
//!
//! Every field can be set for all breakers with `CIRCUIT_BREAKER_<FIELD>` and
//! for one breaker with `CIRCUIT_BREAKER_<NAME>_<FIELD>` (the per-breaker
//! variable wins). `<FIELD>` is the field's path in upper case with `.`
//! replaced by `_` (`RETRY_MAX_ATTEMPTS`); the other names of top-level
//! fields work too (pybreaker's `FAIL_MAX` and `RESET_TIMEOUT`, the older
//! `RECOVERY_TIMEOUT` and `TIMEOUT` for `OPEN_DURATION`, `HALF_OPEN_CALLS`,
//! gobreaker's `MAX_REQUESTS` for `HALF_OPEN_MAX_CALLS` and `INTERVAL` for
//! `CLOSED_COUNT_INTERVAL`). `<NAME>` is the breaker's name in
//! upper case with every character other than a letter or digit replaced by
//! `_`: breaker `claude-opus` reads `CIRCUIT_BREAKER_CLAUDE_OPUS_FAILURE_THRESHOLD`.
//! A variable set to the empty string counts as unset.
//! A non-empty `CIRCUIT_BREAKER_*` variable that answers to no field (for any
//! breaker) is an error naming the nearest variable that would, reported when
//! the environment is read ([`ConfigLayers::from_env`](super::ConfigLayers::from_env))
//! and when a file is checked against it: a typo must not silently leave a
//! default in place.

use std::collections::{BTreeMap, HashMap};

use super::schema::{FIELDS, FieldSpec, field, is_secret_name};
use crate::error::{ConfigError, Violation};
use cb_syntax::suggest::levenshtein;

/// The prefix of every per-field variable.
pub const PREFIX: &str = "CIRCUIT_BREAKER_";

/// Where variables are read from. The process environment is the default;
/// tests pass a map so they never race on the global environment.
///
/// ```
/// use cb_core::config::EnvSource;
/// use std::collections::HashMap;
///
/// let vars = HashMap::from([("CIRCUIT_BREAKER_FAILURE_THRESHOLD".to_string(), "7".to_string())]);
/// assert_eq!(vars.var("CIRCUIT_BREAKER_FAILURE_THRESHOLD").as_deref(), Some("7"));
/// ```
pub trait EnvSource: Send + Sync + 'static {
    /// The variable's value, if it is set (and valid Unicode).
    fn var(&self, key: &str) -> Option<String>;

    /// The names of every variable set, when the source can list them (a
    /// closure cannot, and lists nothing). Only used to report a
    /// `CIRCUIT_BREAKER_*` variable that matches no field, which would
    /// otherwise be ignored without a word.
    fn names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The process environment (`std::env::var`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
    fn names(&self) -> Vec<String> {
        std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect()
    }
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key).cloned()
    }
    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

impl EnvSource for BTreeMap<String, String> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key).cloned()
    }
    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

/// No variables at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnv;

impl EnvSource for NoEnv {
    fn var(&self, _key: &str) -> Option<String> {
        None
    }
}

/// A closure as an [`EnvSource`].
///
/// ```
/// use cb_core::config::{EnvSource, FnEnv};
/// let env = FnEnv(|k: &str| (k == "X").then(|| "1".to_string()));
/// assert_eq!(env.var("X").as_deref(), Some("1"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FnEnv<F>(pub F);

impl<F: Fn(&str) -> Option<String> + Send + Sync + 'static> EnvSource for FnEnv<F> {
    fn var(&self, key: &str) -> Option<String> {
        (self.0)(key)
    }
}

/// A breaker name as it appears in a variable: upper case, every character
/// other than an ASCII letter or digit replaced by `_`.
pub fn env_name(breaker: &str) -> String {
    breaker
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The variable names a field answers to after `prefix` (`CIRCUIT_BREAKER_`
/// or `CIRCUIT_BREAKER_<NAME>_`), canonical name first.
pub(crate) fn var_names(prefix: &str, spec: &FieldSpec) -> Vec<String> {
    let mut names = vec![format!(
        "{prefix}{}",
        spec.path.replace('.', "_").to_ascii_uppercase()
    )];
    if spec.section().is_none() {
        names.extend(
            spec.aliases
                .iter()
                .map(|a| format!("{prefix}{}", a.to_ascii_uppercase())),
        );
    }
    names
}

/// For every field, the first variable set among its names under `prefix`.
pub(crate) fn lookup(env: &dyn EnvSource, prefix: &str) -> Vec<(&'static FieldSpec, String, String)> {
    let mut found = Vec::new();
    for spec in FIELDS {
        for name in var_names(prefix, spec) {
            if let Some(value) = env.var(&name) {
                found.push((spec, name, value));
                break;
            }
        }
    }
    found
}

/// A rejected value that came from variables: `"abc" (from ${X})`, or
/// `<redacted> (from ${DB_PASSWORD})` when a variable's name says it is a secret.
pub(crate) fn shown_with_vars(shown: String, vars: &[String]) -> String {
    if vars.is_empty() {
        return shown;
    }
    let shown = if vars.iter().any(|n| is_secret_name(n)) {
        "<redacted>".to_owned()
    } else {
        shown
    };
    let list: Vec<String> = vars.iter().map(|n| format!("${{{n}}}")).collect();
    format!("{shown} (from {})", list.join(", "))
}

/// The variable that switches the legacy variable names on (`true`) or off
/// (`false`, the default when unset or empty).
pub const LEGACY_VARIABLES_VAR: &str = "CB_LEGACY_VARIABLES";

/// The variables of the Python services this SDK replaces, and the field each
/// one meant, read for every breaker when switched on (below the
/// `CIRCUIT_BREAKER_*` variables, which win). Off by default: names this
/// generic may be set for some other program in the same environment.
/// `RETRY_JITTER_ENABLED` is a boolean: `true` is the default jitter
/// (`full`), `false` is `none`.
pub const LEGACY_VARIABLES: &[(&str, &str)] = &[
    ("MAX_RETRY_ATTEMPTS", "retry.max_attempts"),
    ("RETRY_BASE_DELAY", "retry.base_delay"),
    ("RETRY_MAX_DELAY", "retry.max_delay"),
    ("RETRY_EXPONENTIAL_BASE", "retry.multiplier"),
    ("RETRY_JITTER_ENABLED", "retry.jitter"),
    ("HEALTH_CHECK_INTERVAL", "health_check.interval"),
    ("HEALTH_CHECK_TIMEOUT", "health_check.timeout"),
];

/// Whether [`LEGACY_VARIABLES_VAR`] switches the legacy names on.
pub(crate) fn legacy_from_env(env: &dyn EnvSource) -> Result<bool, ConfigError> {
    let Some(raw) = env.var(LEGACY_VARIABLES_VAR) else {
        return Ok(false);
    };
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "false" => Ok(false),
        "true" => Ok(true),
        _ => Err(ConfigError::new(vec![Violation {
            field: LEGACY_VARIABLES_VAR.into(),
            value: format!("{raw:?}"),
            allowed: "must be `true` or `false`".into(),
        }])),
    }
}

/// Every legacy variable set (non-empty) in `env`: its field, its name and
/// its value in the file syntax, or what it must be when it cannot be one.
pub(crate) fn legacy_lookup(
    env: &dyn EnvSource,
) -> Vec<(&'static FieldSpec, &'static str, Result<String, String>)> {
    let mut found = Vec::new();
    for (var, path) in LEGACY_VARIABLES {
        let (Some(spec), Some(raw)) = (field(path), env.var(var)) else {
            continue;
        };
        if raw.trim().is_empty() {
            continue;
        }
        let value = if spec.path == "retry.jitter" {
            // Python writes `True`/`False`.
            match raw.trim().to_ascii_lowercase().as_str() {
                "true" => Ok("full".to_owned()),
                "false" => Ok("none".to_owned()),
                _ => Err(format!("{raw:?}")),
            }
        } else {
            Ok(raw)
        };
        found.push((spec, *var, value));
    }
    found
}

/// Every `CIRCUIT_BREAKER_*` variable in `env` that no field answers to,
/// globally or for some breaker, with what is wrong: the nearest name that
/// would, or why a setting cb does not take yet is refused. A typo in a
/// variable is otherwise the quietest misconfiguration there is.
pub(crate) fn unknown(env: &dyn EnvSource) -> Vec<(String, String)> {
    let suffixes: Vec<String> = FIELDS.iter().flat_map(|spec| var_names("", spec)).collect();
    let mut found = Vec::new();
    for name in env.names() {
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        // `rest` is `<FIELD>` or `<NAME>_<FIELD>`: every `_` may end the breaker's name.
        let splits = std::iter::once(0).chain(rest.match_indices('_').map(|(i, _)| i + 1));
        let known = splits.clone().any(|i| suffixes.iter().any(|f| f == &rest[i..]));
        if known {
            continue;
        }
        let refused = splits
            .clone()
            .find_map(|i| cb_syntax::schema::not_yet(&rest[i..].to_ascii_lowercase()));
        if let Some(why) = refused {
            found.push((name, why.to_owned()));
            continue;
        }
        let best = splits
            .filter_map(|i| {
                let got = &rest[i..];
                let limit = (got.chars().count() / 3).max(1);
                suffixes
                    .iter()
                    .map(|f| (levenshtein(got, f), f))
                    .filter(|(d, _)| *d <= limit)
                    .min_by_key(|(d, _)| *d)
                    .map(|(d, f)| (d, format!("{PREFIX}{}{f}", &rest[..i])))
            })
            .min_by_key(|(d, _)| *d)
            .map(|(_, suggestion)| suggestion);
        let allowed = match best {
            Some(best) => format!("matches no breaker field; did you mean `{best}`?"),
            None => format!(
                "matches no breaker field (`{PREFIX}<FIELD>` or `{PREFIX}<NAME>_<FIELD>`, \
                 see the configuration reference)"
            ),
        };
        found.push((name, allowed));
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_documented_scheme() {
        assert_eq!(env_name("claude-opus.v2"), "CLAUDE_OPUS_V2");
        let f = field("failure_threshold").unwrap();
        assert_eq!(
            var_names(PREFIX, f),
            ["CIRCUIT_BREAKER_FAILURE_THRESHOLD", "CIRCUIT_BREAKER_FAIL_MAX"]
        );
        let r = field("retry.max_attempts").unwrap();
        assert_eq!(
            var_names("CIRCUIT_BREAKER_RAG_", r),
            ["CIRCUIT_BREAKER_RAG_RETRY_MAX_ATTEMPTS"]
        );
        let t = field("open_duration").unwrap();
        assert_eq!(
            var_names(PREFIX, t),
            [
                "CIRCUIT_BREAKER_OPEN_DURATION",
                "CIRCUIT_BREAKER_RECOVERY_TIMEOUT",
                "CIRCUIT_BREAKER_TIMEOUT",
                "CIRCUIT_BREAKER_RESET_TIMEOUT",
            ]
        );
    }

    #[test]
    fn every_legacy_variable_names_a_field() {
        for (var, path) in LEGACY_VARIABLES {
            assert!(field(path).is_some(), "{var} -> {path}");
        }
    }

    #[test]
    fn unknown_variables_get_the_nearest_name() {
        let vars = HashMap::from(
            [
                "CIRCUIT_BREAKER_FAILURE_TRESHOLD",
                "CIRCUIT_BREAKER_RAG_RETRY_MAX_ATEMPTS",
                "CIRCUIT_BREAKER_RAG_RETRY_MAX_ATTEMPTS",
                "CIRCUIT_BREAKER_FAIL_MAX",
                "CIRCUIT_BREAKER_NONSENSE",
                "PATH",
            ]
            .map(|k| (k.to_string(), "1".to_string())),
        );
        assert_eq!(
            unknown(&vars),
            [
                (
                    "CIRCUIT_BREAKER_FAILURE_TRESHOLD".to_string(),
                    "matches no breaker field; did you mean `CIRCUIT_BREAKER_FAILURE_THRESHOLD`?".to_string()
                ),
                (
                    "CIRCUIT_BREAKER_NONSENSE".to_string(),
                    "matches no breaker field (`CIRCUIT_BREAKER_<FIELD>` or \
                     `CIRCUIT_BREAKER_<NAME>_<FIELD>`, see the configuration reference)"
                        .to_string()
                ),
                (
                    "CIRCUIT_BREAKER_RAG_RETRY_MAX_ATEMPTS".to_string(),
                    "matches no breaker field; did you mean `CIRCUIT_BREAKER_RAG_RETRY_MAX_ATTEMPTS`?"
                        .to_string()
                ),
            ]
        );
    }
}
