//! Configuration files (YAML and TOML): shared named configs, per-instance
//! overrides and user templates, every problem reported at once.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::env::{EnvSource, shown_with_vars};
use super::environment::Environment;
use super::node::{Node, interpolate};
use super::schema::{Allowed, FIELDS, SECTIONS, Value, coerce, field_in, section, with_suggestion};
use super::template::{Entry, rules_within};
use crate::error::{ConfigError, Violations};

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// YAML (feature `yaml`).
    Yaml,
    /// TOML (feature `toml`).
    Toml,
}

impl Format {
    /// The format a file name's extension says: `.yaml`/`.yml` or `.toml`.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Yaml => "YAML",
            Format::Toml => "TOML",
        })
    }
}

/// Why a file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The extension is neither `.yaml`, `.yml` nor `.toml`.
    #[error("cannot tell the format of `{}`: use a .yaml, .yml or .toml extension", .0.display())]
    UnknownFormat(PathBuf),
    /// The format's feature is not enabled.
    #[error("{0} configuration files need cb-core's `{1}` feature")]
    Unsupported(Format, &'static str),
    /// The document is not well-formed. The message gives the position and
    /// never quotes the document (it may hold secrets).
    #[error("{format} syntax error: {message}")]
    Syntax {
        /// The format.
        format: Format,
        /// What is wrong, and where.
        message: String,
    },
    /// The document is well-formed but its values are not.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
}

/// The values of one instance, shared config or template in a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Body {
    pub(crate) entries: Vec<Entry>,
    /// `template:`, else `metadata.template:` (the Python services' example file writes it there).
    pub(crate) template: Option<String>,
    /// `base_config:` (configs and instances) or `base:` (templates).
    pub(crate) base: Option<String>,
    /// A template's `environments:` section: values for one environment.
    pub(crate) environments: Vec<(Environment, Vec<Entry>)>,
}

/// A parsed, checked configuration file.
///
/// Two shapes are accepted. A *single* configuration (the Python services' shape)
/// holds a breaker's keys at the top level; its `name` says which breaker it
/// configures, and without a `name` it applies to every breaker. A *multi*
/// file has up to three sections:
///
/// ```yaml
/// templates:            # your templates (the template layer)
///   chat_llm:
///     base: ai_provider
///     minimum_calls: 8
///     environments:     # beat the template's other values in that environment
///       production: { failure_threshold: 3 }
/// configs:              # shared named configs (the file layer)
///   default: { retry: { max_attempts: 2 } }   # applies to every breaker
///   critical: { template: chat_llm, failure_threshold: 2 }
/// instances:            # per-breaker overrides (the file layer, highest)
///   claude: { base_config: critical, open_duration: 30s }
/// ```
///
/// ```
/// # #[cfg(feature = "yaml")] {
/// use cb_core::config::{ConfigFile, NoEnv};
/// let file = ConfigFile::from_yaml("instances:\n  claude:\n    failure_threshold: 2\n", &NoEnv)?;
/// assert_eq!(file.instance_names().collect::<Vec<_>>(), ["claude"]);
/// # }
/// # Ok::<(), cb_core::config::LoadError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigFile {
    pub(crate) templates: BTreeMap<String, Body>,
    pub(crate) configs: BTreeMap<String, Body>,
    pub(crate) instances: BTreeMap<String, Body>,
}

/// Documents nested deeper than this are refused before parsing (nothing
/// legitimate comes close; it keeps recursive parsers off the stack limit).
const MAX_DEPTH: usize = 64;

impl ConfigFile {
    /// Reads and parses the file at `path`; the format comes from the extension.
    pub fn load(path: impl AsRef<Path>, env: &dyn EnvSource) -> Result<ConfigFile, LoadError> {
        let path = path.as_ref();
        let format = Format::from_path(path).ok_or_else(|| LoadError::UnknownFormat(path.to_owned()))?;
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        ConfigFile::parse(&text, format, env)
    }

    /// Parses a YAML document.
    #[cfg(feature = "yaml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "yaml")))]
    pub fn from_yaml(text: &str, env: &dyn EnvSource) -> Result<ConfigFile, LoadError> {
        ConfigFile::parse(text, Format::Yaml, env)
    }

    /// Parses a TOML document.
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
    pub fn from_toml(text: &str, env: &dyn EnvSource) -> Result<ConfigFile, LoadError> {
        ConfigFile::parse(text, Format::Toml, env)
    }

    /// Parses a document in `format`, interpolating `${VAR}` from `env`, and
    /// checks every value. Never panics, whatever the input.
    pub fn parse(text: &str, format: Format, env: &dyn EnvSource) -> Result<ConfigFile, LoadError> {
        if nesting_depth(text) > MAX_DEPTH {
            return Err(LoadError::Syntax {
                format,
                message: format!("nested deeper than {MAX_DEPTH} levels"),
            });
        }
        let root = parse_node(text, format)?;
        Ok(from_node(root, env)?)
    }

    /// The breakers the file configures by name.
    pub fn instance_names(&self) -> impl Iterator<Item = &str> {
        self.instances.keys().map(String::as_str)
    }

    /// The shared config names.
    pub fn config_names(&self) -> impl Iterator<Item = &str> {
        self.configs.keys().map(String::as_str)
    }

    /// The templates the file defines.
    pub fn template_names(&self) -> impl Iterator<Item = &str> {
        self.templates.keys().map(String::as_str)
    }
}

#[allow(unused_variables)]
fn parse_node(text: &str, format: Format) -> Result<Node, LoadError> {
    match format {
        Format::Yaml => {
            #[cfg(feature = "yaml")]
            {
                serde_norway::from_str::<serde_norway::Value>(text)
                    .map(Node::from)
                    .map_err(|e| LoadError::Syntax {
                        format,
                        message: e.to_string(),
                    })
            }
            #[cfg(not(feature = "yaml"))]
            Err(LoadError::Unsupported(format, "yaml"))
        }
        Format::Toml => {
            #[cfg(feature = "toml")]
            {
                text.parse::<toml::Table>()
                    .map(|t| Node::from(toml::Value::Table(t)))
                    .map_err(|e| {
                        // Not `e.to_string()`: it quotes the offending line.
                        let at = e.span().map(|s| line_col(text, s.start)).unwrap_or_default();
                        LoadError::Syntax {
                            format,
                            message: format!("{}{at}", e.message().trim_end()),
                        }
                    })
            }
            #[cfg(not(feature = "toml"))]
            Err(LoadError::Unsupported(format, "toml"))
        }
    }
}

#[cfg(feature = "toml")]
fn line_col(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(" at line {line} column {col}")
}

/// The deepest bracket nesting outside quoted strings (YAML flow collections,
/// TOML arrays and inline tables). YAML block nesting is bounded by the
/// parser's own recursion limit.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut max, mut quote) = (0usize, 0usize, None::<char>);
    let mut escaped = false;
    for c in text.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q || c == '\n' {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' | '{' => {
                    depth += 1;
                    max = max.max(depth);
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    max
}

const MULTI_KEYS: [&str; 4] = ["templates", "configs", "instances", "breakers"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Instance,
    Config,
    Template,
    /// One environment's values inside a template: fields only.
    TemplateEnvironment,
}

fn from_node(root: Node, env: &dyn EnvSource) -> Result<ConfigFile, ConfigError> {
    let mut v = Violations::new();
    let mut file = ConfigFile::default();
    let map = match root {
        Node::Null => return Ok(file),
        Node::Map(m) if m.is_empty() => return Ok(file),
        Node::Map(m) => m,
        other => {
            v.push(
                "<document>",
                format!("<{}>", other.kind()),
                "must be a mapping of keys to values",
            );
            return Err(v.finish().err().unwrap_or_else(|| ConfigError::new(vec![])));
        }
    };
    if map.iter().any(|(k, _)| MULTI_KEYS.contains(&k.as_str())) {
        for (key, node) in map {
            let (target, kind) = match key.as_str() {
                "templates" => (&mut file.templates, BodyKind::Template),
                "configs" => (&mut file.configs, BodyKind::Config),
                "instances" | "breakers" => (&mut file.instances, BodyKind::Instance),
                "metadata" => continue,
                other => {
                    let mut keys = MULTI_KEYS.to_vec();
                    keys.push("metadata");
                    let msg = with_suggestion(
                        format!(
                            "unknown key; a file with sections accepts {}",
                            super::schema::backticked(&keys)
                        ),
                        other,
                        &keys,
                    );
                    v.push(other, "<key>", msg);
                    continue;
                }
            };
            let Node::Map(entries) = node else {
                v.push(
                    &key,
                    format!("<{}>", node.kind()),
                    "must be a mapping of names to settings",
                );
                continue;
            };
            for (name, body) in entries {
                let prefix = format!("{key}.{name}");
                let parsed = parse_body(&body, &prefix, kind, env, &mut v);
                if let Some(declared) = parsed.1
                    && declared != name
                {
                    v.push(
                        format!("{prefix}.name"),
                        format!("{declared:?}"),
                        format!("must match its key `{name}`"),
                    );
                }
                if target.insert(name.clone(), parsed.0).is_some() {
                    v.push(prefix, "<duplicate>", "defined twice");
                }
            }
        }
    } else {
        let (body, name) = parse_body(&Node::Map(map), "", BodyKind::Instance, env, &mut v);
        match name {
            Some(name) => file.instances.insert(name, body),
            None => file.configs.insert("default".into(), body),
        };
    }
    // Field errors already fail the file: the rules broken among the values
    // accepted alongside them are reported in the same pass.
    let Err(e) = v.finish() else { return Ok(file) };
    let mut rules = Violations::new();
    let bodies = file.templates.values().chain(file.configs.values());
    for body in bodies.chain(file.instances.values()) {
        rules_within(&body.entries, &mut rules);
    }
    let mut all = e.into_violations();
    all.extend(
        rules
            .finish()
            .err()
            .map(ConfigError::into_violations)
            .unwrap_or_default(),
    );
    Err(ConfigError::new(all))
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Reads one body; returns it and its `name:` if it had one.
fn parse_body(
    node: &Node,
    prefix: &str,
    kind: BodyKind,
    env: &dyn EnvSource,
    v: &mut Violations,
) -> (Body, Option<String>) {
    let mut body = Body::default();
    let mut name = None;
    let mut metadata_template = None;
    let Node::Map(map) = node else {
        v.push(
            if prefix.is_empty() { "<document>" } else { prefix },
            format!("<{}>", node.kind()),
            "must be a mapping",
        );
        return (body, name);
    };
    let meta_keys: &[&str] = match kind {
        BodyKind::Template => &["base", "description", "metadata", "environments"],
        BodyKind::TemplateEnvironment => &[],
        _ => &["name", "template", "base_config", "description", "metadata"],
    };
    let mut seen: Vec<(&'static str, String)> = Vec::new();
    for (key, value) in map {
        let at = join(prefix, key);
        if meta_keys.contains(&key.as_str()) {
            match key.as_str() {
                "metadata" => {
                    // Free-form: only `template` is read, as a fallback for `template:`.
                    if let Node::Map(m) = value
                        && let Some((_, Node::Str(t))) = m.iter().find(|(k, _)| k == "template")
                    {
                        metadata_template = Some(t.clone());
                    }
                }
                "description" => {}
                "environments" => body.environments = parse_environments(value, &at, env, v),
                _ => {
                    if let Some(text) = scalar_text(value, &at, env, v) {
                        match key.as_str() {
                            "name" => name = Some(text),
                            "template" => body.template = Some(text),
                            _ => body.base = Some(text),
                        }
                    }
                }
            }
        } else if let Some(sec) = section(key) {
            let Node::Map(entries) = value else {
                v.push(
                    at,
                    format!("<{}>", value.kind()),
                    format!("must be a mapping of `{sec}` settings"),
                );
                continue;
            };
            let mut has_enabled = false;
            for (k, val) in entries {
                let at = join(&join(prefix, key), k);
                match field_in(Some(sec), k) {
                    Some(spec) => {
                        has_enabled |= spec.key() == "enabled";
                        read_field(spec, val, at, env, &mut seen, &mut body.entries, v);
                    }
                    None => {
                        let names: Vec<&str> = FIELDS
                            .iter()
                            .filter(|f| f.section() == Some(sec))
                            .flat_map(|f| std::iter::once(f.key()).chain(f.aliases.iter().copied()))
                            .collect();
                        v.push(at, "<key>", unknown_key_message(k, &names));
                    }
                }
            }
            // Writing a section turns it on unless it says `enabled: false`.
            let enabled_path = format!("{sec}.enabled");
            if !has_enabled && let Some(spec) = super::schema::field(&enabled_path) {
                body.entries.push(Entry {
                    path: spec.path,
                    value: Value::Bool(true),
                    origin: join(prefix, key),
                });
            }
        } else if let Some(spec) = field_in(None, key) {
            read_field(spec, value, at, env, &mut seen, &mut body.entries, v);
        } else {
            let mut names: Vec<&str> = meta_keys.to_vec();
            names.extend(
                FIELDS
                    .iter()
                    .filter(|f| f.section().is_none())
                    .flat_map(|f| std::iter::once(f.path).chain(f.aliases.iter().copied())),
            );
            names.extend(
                SECTIONS
                    .iter()
                    .flat_map(|(s, a)| std::iter::once(*s).chain(a.iter().copied())),
            );
            v.push(at, "<key>", unknown_key_message(key, &names));
        }
    }
    if body.template.is_none() {
        body.template = metadata_template;
    }
    (body, name)
}

/// A template's `environments:` section: `{ production: { failure_threshold: 3 }, ... }`.
fn parse_environments(
    node: &Node,
    at: &str,
    env: &dyn EnvSource,
    v: &mut Violations,
) -> Vec<(Environment, Vec<Entry>)> {
    let Node::Map(map) = node else {
        v.push(
            at,
            format!("<{}>", node.kind()),
            "must be a mapping of environment names to settings",
        );
        return Vec::new();
    };
    let mut out: Vec<(Environment, Vec<Entry>)> = Vec::new();
    for (name, body) in map {
        let prefix = join(at, name);
        match name.parse::<Environment>() {
            Ok(environment) => {
                let (parsed, _) = parse_body(body, &prefix, BodyKind::TemplateEnvironment, env, v);
                if out.iter().any(|(e, _)| *e == environment) {
                    v.push(
                        prefix,
                        "<duplicate>",
                        format!("names `{environment}` a second time"),
                    );
                } else {
                    out.push((environment, parsed.entries));
                }
            }
            Err(e) => {
                for violation in e.into_violations() {
                    v.push(prefix.clone(), violation.value, violation.allowed);
                }
            }
        }
    }
    out
}

/// A request timeout written where no field of that name is (`request_timeout`
/// anywhere, `timeout` in `retry:` or `bulkhead:`) is pointed at the call
/// deadline: the nearest spelling would be a different, wrong field.
fn unknown_key_message(key: &str, names: &[&str]) -> String {
    if [
        "timeout",
        "request_timeout",
        "timeout_seconds",
        "request_timeout_seconds",
    ]
    .contains(&key)
    {
        return "unknown key; a call's deadline (a request timeout) is `call_timeout.duration`".into();
    }
    with_suggestion("unknown key".into(), key, names)
}

/// A string-valued meta key (`name`, `template`, `base_config`, `base`), interpolated.
fn scalar_text(node: &Node, at: &str, env: &dyn EnvSource, v: &mut Violations) -> Option<String> {
    match node {
        Node::Str(s) => match interpolate(s, env) {
            Ok((text, _)) if !text.trim().is_empty() => Some(text),
            Ok(_) => {
                v.push(at, format!("{s:?}"), "must be a non-empty name");
                None
            }
            Err(e) => {
                v.push(at, format!("{s:?}"), e.to_string());
                None
            }
        },
        other => {
            v.push(at, format!("<{}>", other.kind()), "must be a name (a string)");
            None
        }
    }
}

fn read_field(
    spec: &'static super::schema::FieldSpec,
    node: &Node,
    at: String,
    env: &dyn EnvSource,
    seen: &mut Vec<(&'static str, String)>,
    out: &mut Vec<Entry>,
    v: &mut Violations,
) {
    if let Some((_, first)) = seen.iter().find(|(p, _)| *p == spec.path) {
        v.push(at, "<key>", format!("sets the same field as `{first}`; keep one"));
        return;
    }
    seen.push((spec.path, at.clone()));
    let (value, vars) = match node {
        Node::Int(n) => (Value::Int(*n), Vec::new()),
        Node::Float(x) => (Value::Float(*x), Vec::new()),
        Node::Bool(b) => (Value::Bool(*b), Vec::new()),
        Node::Str(s) => match interpolate(s, env) {
            Ok((text, vars)) => (Value::Text(text), vars),
            Err(e) => {
                v.push(at, format!("{s:?}"), e.to_string());
                return;
            }
        },
        Node::Seq(items) if spec.kind == super::schema::Kind::ErrorNames => {
            match super::node::names(items, env) {
                Ok(list) => (Value::List(list.names), list.vars),
                Err((shown, why)) => return v.push(at, shown, why.unwrap_or_else(|| spec.kind.allowed())),
            }
        }
        other => {
            v.push(at, format!("<{}>", other.kind()), spec.kind.allowed());
            return;
        }
    };
    match coerce(spec, &value) {
        Ok(value) => out.push(Entry {
            path: spec.path,
            value,
            origin: at,
        }),
        Err(rej) => v.push(at, shown_with_vars(rej.shown, &vars), rej.allowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_brackets_outside_strings() {
        assert_eq!(nesting_depth("a = [[1], {b = \"[[[[\"}]"), 2);
        assert_eq!(nesting_depth(&"[".repeat(100)), 100);
    }
}
