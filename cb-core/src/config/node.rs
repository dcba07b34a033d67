//! A format-neutral document tree (YAML and TOML both become a [`Node`]) and
//! `${VAR}` / `${VAR:-default}` interpolation (R80).

use super::env::EnvSource;

/// A parsed document, whatever its format.
#[cfg_attr(not(any(feature = "yaml", feature = "toml")), allow(dead_code))]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order.
    Map(Vec<(String, Node)>),
    /// Something no field accepts (a YAML tag, a TOML date): its kind.
    Other(&'static str),
}

impl Node {
    /// What the node is, for "expected a mapping, found ..." messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
            Node::Other(k) => k,
        }
    }
}

#[cfg(feature = "yaml")]
impl From<serde_norway::Value> for Node {
    fn from(v: serde_norway::Value) -> Self {
        use serde_norway::Value as Y;
        match v {
            Y::Null => Node::Null,
            Y::Bool(b) => Node::Bool(b),
            Y::Number(n) => match n.as_i64() {
                Some(i) => Node::Int(i),
                None => n
                    .as_f64()
                    .map_or(Node::Other("a number out of range"), Node::Float),
            },
            Y::String(s) => Node::Str(s),
            Y::Sequence(items) => Node::Seq(items.into_iter().map(Node::from).collect()),
            Y::Mapping(m) => Node::Map(
                m.into_iter()
                    .map(|(k, v)| {
                        let key = match k {
                            Y::String(s) => s,
                            Y::Bool(b) => b.to_string(),
                            Y::Number(n) => n.to_string(),
                            Y::Null => "null".into(),
                            _ => "<complex key>".into(),
                        };
                        (key, Node::from(v))
                    })
                    .collect(),
            ),
            Y::Tagged(_) => Node::Other("a tagged value"),
        }
    }
}

#[cfg(feature = "toml")]
impl From<toml::Value> for Node {
    fn from(v: toml::Value) -> Self {
        use toml::Value as T;
        match v {
            T::String(s) => Node::Str(s),
            T::Integer(i) => Node::Int(i),
            T::Float(x) => Node::Float(x),
            T::Boolean(b) => Node::Bool(b),
            T::Datetime(_) => Node::Other("a date-time"),
            T::Array(items) => Node::Seq(items.into_iter().map(Node::from).collect()),
            T::Table(t) => Node::Map(t.into_iter().map(|(k, v)| (k, Node::from(v))).collect()),
        }
    }
}

/// Why interpolation failed; becomes a violation's "allowed" text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InterpError {
    /// `${X}` with `X` unset (or empty) and no default.
    Missing(String),
    /// `${` without `}`.
    Unterminated,
    /// `${}` or a name with characters other than letters, digits and `_`.
    BadName(String),
}

impl std::fmt::Display for InterpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InterpError::Missing(v) => write!(f, "environment variable `{v}` is not set and has no default"),
            InterpError::Unterminated => {
                f.write_str("unterminated `${` (write `${VAR}` or `${VAR:-default}`)")
            }
            InterpError::BadName(v) => {
                write!(
                    f,
                    "invalid variable name `{v}` in `${{...}}` (use letters, digits and `_`)"
                )
            }
        }
    }
}

/// The items of a list of names, with the variables their interpolation read.
pub(crate) struct Names {
    pub(crate) names: Vec<String>,
    pub(crate) vars: Vec<String>,
}

/// A list of names (`classify.excluded: [NotFound, 404]`): strings,
/// interpolated, and integers as written. `Err` holds the value as shown
/// and, for a bad interpolation, why.
pub(crate) fn names(items: &[Node], env: &dyn EnvSource) -> Result<Names, (String, Option<String>)> {
    let mut out = Names {
        names: Vec::new(),
        vars: Vec::new(),
    };
    for item in items {
        match item {
            Node::Int(n) => out.names.push(n.to_string()),
            Node::Str(s) => match interpolate(s, env) {
                Ok((text, mut used)) => {
                    out.names.push(text);
                    out.vars.append(&mut used);
                }
                Err(e) => return Err((format!("{s:?}"), Some(e.to_string()))),
            },
            other => return Err((format!("<a list holding {}>", other.kind()), None)),
        }
    }
    Ok(out)
}

/// Replaces every `${VAR}` and `${VAR:-default}` in `text`; `$$` is a
/// literal `$`. Returns the result and the variables it read.
///
/// `${VAR:-default}` uses the default when `VAR` is unset or empty (the
/// shell's meaning); a default is literal text up to the first `}`.
pub(crate) fn interpolate(text: &str, env: &dyn EnvSource) -> Result<(String, Vec<String>), InterpError> {
    if !text.contains('$') {
        return Ok((text.to_owned(), Vec::new()));
    }
    let mut out = String::with_capacity(text.len());
    let mut vars = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or(InterpError::Unterminated)?;
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(InterpError::BadName(name.to_owned()));
            }
            let value = env.var(name).filter(|v| !(default.is_some() && v.is_empty()));
            match (value, default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(InterpError::Missing(name.to_owned())),
            }
            vars.push(name.to_owned());
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok((out, vars))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env() -> HashMap<String, String> {
        HashMap::from([
            ("A".to_owned(), "1".to_owned()),
            ("EMPTY".to_owned(), String::new()),
        ])
    }

    #[test]
    fn r80_replaces_vars_and_defaults() {
        let e = env();
        assert_eq!(interpolate("${A}", &e).unwrap(), ("1".into(), vec!["A".into()]));
        assert_eq!(interpolate("x${B:-2}y", &e).unwrap().0, "x2y");
        assert_eq!(interpolate("${EMPTY:-3}", &e).unwrap().0, "3");
        assert_eq!(interpolate("${EMPTY}", &e).unwrap().0, "");
        assert_eq!(interpolate("$$A $5", &e).unwrap().0, "$A $5");
        assert_eq!(interpolate("${B:-}", &e).unwrap().0, "");
    }

    #[test]
    fn r80_reports_missing_and_malformed() {
        let e = env();
        assert_eq!(interpolate("${B}", &e), Err(InterpError::Missing("B".into())));
        assert_eq!(interpolate("${A", &e), Err(InterpError::Unterminated));
        assert_eq!(interpolate("${}", &e), Err(InterpError::BadName(String::new())));
        assert_eq!(interpolate("${A-B}", &e), Err(InterpError::BadName("A-B".into())));
    }
}
