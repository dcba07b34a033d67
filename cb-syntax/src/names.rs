//! The names a `template` or `environment` may take, for the runtime (which
//! resolves them) and the macros (which reject an unknown one at compile
//! time) alike.

/// The built-in templates, `default` (the base of every other) first: the
/// service types, then the per-service [`PRESETS`] in their order.
pub const TEMPLATES: [&str; 19] = [
    "default",
    "ai_provider",
    "database",
    "mcp_server",
    "external_api",
    "claude",
    "gpt4",
    "gemini",
    "deepseek",
    "groq",
    "ollama",
    "huggingface",
    "docker",
    "kubernetes",
    "desktop_commander",
    "prometheus",
    "slack",
    "s3",
    "security_scanner",
];

/// The built-in templates for one named service, as `(preset, service type
/// it is based on)`. Separate from the service types because a breaker's
/// name may select one of these (see [`infer_preset`]) and the reference
/// documents them in a table of their own.
pub const PRESETS: [(&str, &str); 14] = [
    ("claude", "ai_provider"),
    ("gpt4", "ai_provider"),
    ("gemini", "ai_provider"),
    ("deepseek", "ai_provider"),
    ("groq", "ai_provider"),
    ("ollama", "ai_provider"),
    ("huggingface", "ai_provider"),
    ("docker", "mcp_server"),
    ("kubernetes", "mcp_server"),
    ("desktop_commander", "mcp_server"),
    ("prometheus", "mcp_server"),
    ("slack", "mcp_server"),
    ("s3", "mcp_server"),
    ("security_scanner", "mcp_server"),
];

/// The preset a breaker called `breaker` is for, when template inference is
/// switched on: the longest preset name that starts the breaker's name
/// (ignoring case) and is followed by `_`, `-`, `.` or nothing. A separator
/// is required so that `s3` does not claim `s3cret_store`.
///
/// ```
/// use cb_syntax::names::infer_preset;
/// assert_eq!(infer_preset("claude_expert_opus"), Some("claude"));
/// assert_eq!(infer_preset("Desktop_Commander-files"), Some("desktop_commander"));
/// assert_eq!(infer_preset("s3"), Some("s3"));
/// assert_eq!(infer_preset("s3cret"), None);
/// assert_eq!(infer_preset("payments"), None);
/// ```
pub fn infer_preset(breaker: &str) -> Option<&'static str> {
    let lower = breaker.to_ascii_lowercase();
    PRESETS
        .into_iter()
        .map(|(preset, _)| preset)
        .filter(|preset| {
            lower
                .strip_prefix(preset)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['_', '-', '.']))
        })
        .max_by_key(|preset| preset.len())
}

/// The deployment environments, by their canonical names, in documentation order.
pub const ENVIRONMENTS: [&str; 4] = ["development", "staging", "production", "testing"];

/// The short names an environment variable may use for an environment, as
/// `(alias, canonical name)`.
pub const ENVIRONMENT_ALIASES: [(&str, &str); 4] = [
    ("dev", "development"),
    ("stage", "staging"),
    ("prod", "production"),
    ("test", "testing"),
];

/// The canonical environment written as `name`: any case, surrounding
/// spaces ignored, short aliases accepted.
///
/// ```
/// assert_eq!(cb_syntax::names::environment(" Prod"), Some("production"));
/// assert_eq!(cb_syntax::names::environment("producton"), None);
/// ```
pub fn environment(name: &str) -> Option<&'static str> {
    let lower = name.trim().to_ascii_lowercase();
    ENVIRONMENTS.into_iter().find(|e| *e == lower).or_else(|| {
        ENVIRONMENT_ALIASES
            .into_iter()
            .find(|(alias, _)| *alias == lower)
            .map(|(_, canonical)| canonical)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_the_tail_of_the_templates_and_based_on_a_service_type() {
        let tail = &TEMPLATES[TEMPLATES.len() - PRESETS.len()..];
        for ((preset, base), name) in PRESETS.iter().zip(tail) {
            assert_eq!(preset, name);
            assert!(TEMPLATES[1..5].contains(base), "{preset}: {base}");
        }
    }

    #[test]
    fn inference_takes_the_longest_separated_prefix() {
        assert_eq!(infer_preset("gpt4.turbo"), Some("gpt4"));
        assert_eq!(infer_preset("security_scanner_eu"), Some("security_scanner"));
        assert_eq!(infer_preset("groqish"), None);
        assert_eq!(infer_preset(""), None);
    }

    #[test]
    fn every_alias_names_an_environment() {
        for (alias, canonical) in ENVIRONMENT_ALIASES {
            assert!(ENVIRONMENTS.contains(&canonical), "{alias}");
            assert_eq!(environment(alias), Some(canonical));
        }
        for e in ENVIRONMENTS {
            assert_eq!(environment(&e.to_ascii_uppercase()), Some(e));
        }
    }
}
