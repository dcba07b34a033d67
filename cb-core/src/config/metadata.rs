//! A file body's `metadata:` section: labels operators give a
//! configuration (tags, environment, description, version), kept and
//! queryable instead of skipped.

use super::env::EnvSource;
use super::environment::Environment;
use super::node::{Node, interpolate};
use crate::error::Violations;

/// What a file says about a configuration rather than how it behaves: the
/// `metadata:` section of an instance or shared config (the Python
/// services' shape). Nothing here changes a breaker; it is kept so that
/// configurations can be found by tag or environment
/// ([`ConfigLayers::tagged`](super::ConfigLayers::tagged),
/// [`ConfigLayers::for_environment`](super::ConfigLayers::for_environment))
/// and shown.
///
/// `metadata.template` is the configuration's template when `template:` is
/// absent; other keys under `metadata:` are free-form and not read.
///
/// ```
/// # #[cfg(feature = "yaml")] {
/// use cb_core::config::{ConfigFile, ConfigLayers, Environment, NoEnv};
/// let yaml = "instances:\n  claude:\n    metadata:\n      tags: [ai, critical]\n      environment: prod\n      version: 1.2.0\n";
/// let layers = ConfigLayers::new(Environment::Production)
///     .with_env_source(NoEnv)
///     .with_file(ConfigFile::from_yaml(yaml, &NoEnv)?)?;
/// let m = layers.metadata("claude");
/// assert_eq!(m.tags, ["ai", "critical"]);
/// assert_eq!(m.environment, Some(Environment::Production));
/// assert_eq!(m.version.as_deref(), Some("1.2.0"));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metadata {
    /// `metadata.tags`: labels such as `critical` (a list of strings).
    pub tags: Vec<String>,
    /// `metadata.environment` (one of the known environments, or their
    /// short names): the deployment the configuration is written for. It
    /// labels the configuration; the environment the layers resolve in is
    /// still [`ConfigLayers::environment`](super::ConfigLayers::environment).
    pub environment: Option<Environment>,
    /// `metadata.description`, else the body's own `description:`.
    pub description: Option<String>,
    /// `metadata.version`.
    pub version: Option<String>,
}

impl Metadata {
    /// `self` with what it leaves unset taken from `base` (a configuration
    /// it builds on): tags are combined, base first, without repeats.
    pub(crate) fn over(&self, base: &Metadata) -> Metadata {
        let mut tags = base.tags.clone();
        for t in &self.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        Metadata {
            tags,
            environment: self.environment.or(base.environment),
            description: self.description.clone().or_else(|| base.description.clone()),
            version: self.version.clone().or_else(|| base.version.clone()),
        }
    }
}

/// Reads the known keys of a `metadata:` mapping at `at` (`template` is read
/// by the body itself).
pub(crate) fn parse(node: &Node, at: &str, env: &dyn EnvSource, v: &mut Violations) -> Metadata {
    let mut out = Metadata::default();
    let Node::Map(map) = node else {
        v.push(at, format!("<{}>", node.kind()), "must be a mapping");
        return out;
    };
    for (key, value) in map {
        let here = format!("{at}.{key}");
        match key.as_str() {
            "tags" => match value {
                Node::Seq(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(tag) = text(item, &format!("{here}[{i}]"), env, v) {
                            out.tags.push(tag);
                        }
                    }
                }
                other => v.push(
                    here,
                    format!("<{}>", other.kind()),
                    "must be a list of strings, e.g. [ai, critical]",
                ),
            },
            "environment" => {
                if let Some(name) = text(value, &here, env, v) {
                    match name.parse::<Environment>() {
                        Ok(e) => out.environment = Some(e),
                        Err(e) => {
                            for violation in e.into_violations() {
                                v.push(here.clone(), violation.value, violation.allowed);
                            }
                        }
                    }
                }
            }
            "description" => out.description = text(value, &here, env, v),
            "version" => out.version = text(value, &here, env, v),
            _ => {}
        }
    }
    out
}

/// A string (interpolated) or a number, as text; anything else is a violation.
pub(crate) fn text(node: &Node, at: &str, env: &dyn EnvSource, v: &mut Violations) -> Option<String> {
    match node {
        Node::Str(s) => match interpolate(s, env) {
            Ok((t, _)) if !t.trim().is_empty() => Some(t),
            Ok(_) => {
                v.push(at, format!("{s:?}"), "must be a non-empty string");
                None
            }
            Err(e) => {
                v.push(at, format!("{s:?}"), e.to_string());
                None
            }
        },
        Node::Int(n) => Some(n.to_string()),
        Node::Float(x) => Some(x.to_string()),
        other => {
            v.push(at, format!("<{}>", other.kind()), "must be a string");
            None
        }
    }
}
