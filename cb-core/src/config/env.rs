//! Environment variables: where they are read from, and the variable layer.
//!
//! Every field can be set for all breakers with `CIRCUIT_BREAKER_<FIELD>` and
//! for one breaker with `CIRCUIT_BREAKER_<NAME>_<FIELD>` (the per-breaker
//! variable wins). `<FIELD>` is the field's path in upper case with `.`
//! replaced by `_` (`RETRY_MAX_ATTEMPTS`); the other names of top-level
//! fields work too (pybreaker's `FAIL_MAX` and `RESET_TIMEOUT`, the older
//! `RECOVERY_TIMEOUT` and `TIMEOUT` for `OPEN_DURATION`, `HALF_OPEN_CALLS`). `<NAME>` is the breaker's name in
//! upper case with every character other than a letter or digit replaced by
//! `_`: breaker `claude-opus` reads `CIRCUIT_BREAKER_CLAUDE_OPUS_FAILURE_THRESHOLD`.
//! A variable set to the empty string counts as unset.

use std::collections::{BTreeMap, HashMap};

use super::schema::{FIELDS, FieldSpec};

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
}

/// The process environment (`std::env::var`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key).cloned()
    }
}

impl EnvSource for BTreeMap<String, String> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key).cloned()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::field;

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
}
