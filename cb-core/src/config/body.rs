//! Reading one body of a configuration file (an instance, a shared config,
//! a template or one of its environments): its fields, sections and meta
//! keys, every problem reported with the key's path.

use super::env::{EnvSource, shown_with_vars};
use super::environment::Environment;
use super::metadata::{self, Metadata};
use super::node::{Node, interpolate};
use super::schema::{Allowed, FIELDS, SECTIONS, Value, coerce, field_in, section, with_suggestion};
use super::template::Entry;
use crate::error::Violations;

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
    /// `metadata:` (and a top-level `description:`): labels, no behaviour.
    pub(crate) metadata: Metadata,
}

/// What a body is, which decides its meta keys.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Instance,
    Config,
    Template,
    /// One environment's values inside a template: fields only.
    TemplateEnvironment,
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Reads one body; returns it and its `name:` if it had one.
pub(crate) fn parse_body(
    node: &Node,
    prefix: &str,
    kind: BodyKind,
    env: &dyn EnvSource,
    v: &mut Violations,
) -> (Body, Option<String>) {
    let mut body = Body::default();
    let mut name = None;
    let mut metadata_template = None;
    let mut description = None;
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
                    body.metadata = metadata::parse(value, &at, env, v);
                    // `template` here is a fallback for `template:`.
                    if let Node::Map(m) = value
                        && let Some((_, Node::Str(t))) = m.iter().find(|(k, _)| k == "template")
                    {
                        metadata_template = Some(t.clone());
                    }
                }
                "description" => description = metadata::text(value, &at, env, v),
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
        } else if let Some(why) = cb_syntax::schema::not_yet(key) {
            v.push(at, "<key>", why);
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
    if body.metadata.description.is_none() {
        body.metadata.description = description;
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
