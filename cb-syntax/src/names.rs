//! The names a `template` or `environment` may take, for the runtime (which
//! resolves them) and the macros (which reject an unknown one at compile
//! time) alike.

/// The built-in templates, `default` (the base of every other) first.
pub const TEMPLATES: [&str; 5] = ["default", "ai_provider", "database", "mcp_server", "external_api"];

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
