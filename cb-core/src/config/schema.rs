//! Value coercion against the field table: files, environment variables,
//! templates and code overrides all go through [`coerce`], so a value is
//! checked the same way wherever it was written. The table itself (types,
//! aliases, ranges) is [`cb_syntax::schema`], shared with the macros.

use std::time::Duration;

pub(crate) use cb_syntax::schema::{FIELDS, Field as FieldSpec, Kind, SECTIONS, field, field_in, section};

use super::duration::{Refusal, from_secs_f64, parse_duration, within_max};
pub(crate) use super::suggest::{backticked, nearest, with_suggestion};
pub(crate) use super::value::{Detector, Jitter, Value};

/// What a field accepts, as violations say it (the text after the `:`).
pub(crate) trait Allowed {
    /// e.g. `must be an integer >= 1`.
    fn allowed(self) -> String;
}

impl Allowed for Kind {
    fn allowed(self) -> String {
        match self {
            Kind::Count { min } => format!("must be an integer >= {min}"),
            Kind::Fraction => cb_syntax::schema::FRACTION_ALLOWED.into(),
            Kind::Factor => "must be a finite number >= 1".into(),
            Kind::Duration { zero_ok } => format!(
                "must be a duration {} (seconds, or a string such as \"500ms\", \"30s\", \"2m\")",
                if zero_ok { ">= 0" } else { "> 0" }
            ),
            Kind::Bool => "must be true or false".into(),
            Kind::Text => "must be a non-empty string".into(),
            Kind::Url => "must be an http:// or https:// URL".into(),
            Kind::Detector => format!(
                "must be one of {}",
                backticked(Detector::ALL.map(Detector::as_str))
            ),
            Kind::Jitter => {
                "must be one of `none`, `full`, `equal`, `decorrelated`, or a number >= 0 and <= 1 \
                 (proportional jitter)"
                    .into()
            }
            Kind::ErrorNames => cb_syntax::schema::ERROR_NAMES_ALLOWED.into(),
        }
    }
}

/// A rejected value, ready to become a violation: the value as shown and
/// what is allowed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rejection {
    pub(crate) shown: String,
    pub(crate) allowed: String,
}

/// Checks `value` against the field's type and range and returns it in its
/// canonical form (an `Int` for counts, a `Float` for rates, ...).
pub(crate) fn coerce(spec: &FieldSpec, value: &Value) -> Result<Value, Rejection> {
    let reject = |allowed: String| Rejection {
        shown: show(spec, value),
        allowed,
    };
    let kind = spec.kind;
    match (kind, value) {
        (Kind::Count { min }, v) => {
            let n = match v {
                Value::Int(n) => Some(*n),
                Value::Text(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            match n {
                Some(n) if n >= i64::from(min) && n <= i64::from(u32::MAX) => Ok(Value::Int(n)),
                Some(n) if n > i64::from(u32::MAX) => {
                    Err(reject(format!("{} and <= {}", kind.allowed(), u32::MAX)))
                }
                _ => Err(reject(kind.allowed())),
            }
        }
        (Kind::Fraction | Kind::Factor, v) => {
            let x = match v {
                Value::Int(n) => Some(*n as f64),
                Value::Float(x) => Some(*x),
                Value::Text(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            let ok = |x: f64| match kind {
                Kind::Fraction => x.is_finite() && x > 0.0 && x <= 1.0,
                _ => x.is_finite() && x >= 1.0,
            };
            match x {
                Some(x) if ok(x) => Ok(Value::Float(x)),
                _ => Err(reject(kind.allowed())),
            }
        }
        (Kind::Duration { zero_ok }, v) => {
            let d = match v {
                Value::Duration(d) => within_max(*d),
                Value::Int(n) => u64::try_from(*n)
                    .map_err(|_| Refusal::Malformed)
                    .and_then(|n| within_max(Duration::from_secs(n))),
                Value::Float(x) => from_secs_f64(*x),
                Value::Text(s) => parse_duration(s),
                _ => Err(Refusal::Malformed),
            };
            match d {
                Ok(d) if zero_ok || !d.is_zero() => Ok(Value::Duration(d)),
                Ok(_) => Err(reject(kind.allowed())),
                Err(refusal) => Err(reject(refusal.allowed(kind.allowed()))),
            }
        }
        (Kind::Bool, Value::Bool(b)) => Ok(Value::Bool(*b)),
        (Kind::Bool, Value::Text(s)) => match s.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(reject(kind.allowed())),
        },
        (Kind::Text, Value::Text(s)) if !s.trim().is_empty() => Ok(Value::Text(s.clone())),
        (Kind::Url, Value::Text(s)) => {
            let s = s.trim();
            let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
            match rest {
                Some(host)
                    if !host.is_empty() && !host.starts_with('/') && !s.contains(char::is_whitespace) =>
                {
                    Ok(Value::Text(s.to_owned()))
                }
                _ => Err(reject(kind.allowed())),
            }
        }
        (Kind::Detector, Value::Detector(d)) => Ok(Value::Detector(*d)),
        (Kind::Detector, Value::Text(s)) => {
            let s = s.trim();
            match Detector::ALL.into_iter().find(|d| d.as_str() == s) {
                Some(d) => Ok(Value::Detector(d)),
                None => {
                    let names = Detector::ALL.map(Detector::as_str);
                    Err(reject(with_suggestion(kind.allowed(), s, &names)))
                }
            }
        }
        (Kind::Jitter, v) => {
            let j = match v {
                Value::Jitter(j) => Some(*j),
                Value::Int(n) => Some(Jitter::Proportional(*n as f64)),
                Value::Float(x) => Some(Jitter::Proportional(*x)),
                Value::Text(s) => match s.trim() {
                    "none" => Some(Jitter::None),
                    "full" => Some(Jitter::Full),
                    "equal" => Some(Jitter::Equal),
                    "decorrelated" => Some(Jitter::Decorrelated),
                    other => other.parse::<f64>().ok().map(Jitter::Proportional),
                },
                _ => None,
            };
            match j {
                Some(Jitter::Proportional(x)) if !(x.is_finite() && (0.0..=1.0).contains(&x)) => {
                    Err(reject(kind.allowed()))
                }
                Some(j) => Ok(Value::Jitter(j)),
                None => Err(reject(kind.allowed())),
            }
        }
        (Kind::ErrorNames, Value::List(items)) => error_names(items.clone()).map_err(reject),
        // `excluded: 404` in a file: a status, a list of one.
        (Kind::ErrorNames, Value::Int(n)) => error_names(vec![n.to_string()]).map_err(reject),
        // A variable's list: comma-separated, blanks around names ignored.
        (Kind::ErrorNames, Value::Text(s)) => error_names(
            s.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect(),
        )
        .map_err(reject),
        _ => Err(reject(kind.allowed())),
    }
}

/// A `classify` list whose every entry has an allowed form; otherwise what
/// is allowed, naming the first entry that is not.
fn error_names(items: Vec<String>) -> Result<Value, String> {
    match items
        .iter()
        .find(|n| cb_syntax::schema::ErrorName::parse(n).is_none())
    {
        None => Ok(Value::List(items)),
        Some(bad) => Err(format!(
            "{}; {bad:?} is none of these",
            Kind::ErrorNames.allowed()
        )),
    }
}

/// A value as an error message or `explain` shows it, with secrets removed.
pub(crate) fn show(spec: &FieldSpec, value: &Value) -> String {
    match (spec.kind, value) {
        (Kind::Url, Value::Text(s)) => format!("{:?}", redact_url(s)),
        _ => value.to_string(),
    }
}

/// `https://user:pass@host/x` → `https://<redacted>@host/x`.
pub(crate) fn redact_url(s: &str) -> String {
    let (scheme, rest) = match s.find("://") {
        Some(i) => (&s[..i + 3], &s[i + 3..]),
        None => ("", s),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}<redacted>{}", &rest[at..]),
        None => s.to_owned(),
    }
}

/// Whether a variable's name says it holds a secret; its value is then never shown.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "CREDENTIAL",
        "PRIVATE_KEY",
    ]
    .iter()
    .any(|s| upper.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_sections_known() {
        for (i, a) in FIELDS.iter().enumerate() {
            assert!(FIELDS[i + 1..].iter().all(|b| b.path != a.path), "{}", a.path);
            if let Some(s) = a.section() {
                assert!(section(s).is_some(), "{}", a.path);
            }
            assert_eq!(field_in(a.section(), a.key()).map(|f| f.path), Some(a.path));
            for alias in a.aliases {
                assert_eq!(
                    field_in(a.section(), alias).map(|f| f.path),
                    Some(a.path),
                    "{alias}"
                );
            }
        }
    }

    #[test]
    fn r80_urls_lose_their_credentials() {
        assert_eq!(
            redact_url("https://u:p@h.example/x?y=1"),
            "https://<redacted>@h.example/x?y=1"
        );
        assert_eq!(redact_url("https://h.example/a@b"), "https://h.example/a@b");
        assert!(is_secret_name("DB_PASSWORD") && !is_secret_name("CB_FT"));
    }
}
