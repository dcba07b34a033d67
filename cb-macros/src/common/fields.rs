//! Checking macro arguments against the configuration fields. The table
//! itself (names, aliases, types, ranges) is [`cb_syntax::schema`], the one
//! `cb_core::config` reads too, so a macro accepts exactly what a file does.

use std::collections::BTreeMap;
use std::time::Duration;

use syn::Lit;

use cb_syntax::rules::Fact;
pub(crate) use cb_syntax::schema::{DETECTORS, ErrorName, FIELDS, Field, JITTERS, Kind};

use super::duration;
use super::suggest::{backticked, with_suggestion};

/// What a field expects, as macro errors say it.
pub(crate) trait Expected {
    /// e.g. `an integer >= 1`.
    fn expected(self) -> String;
}

impl Expected for Kind {
    fn expected(self) -> String {
        match self {
            Kind::Count { min } => format!("an integer >= {min}"),
            Kind::Fraction => "a fraction > 0 and <= 1 (0.4 means 40%)".into(),
            Kind::Factor => "a finite number >= 1".into(),
            Kind::Duration { zero_ok } => format!(
                "a duration {} such as `\"500ms\"`, `\"30s\"`, `\"2m\"`",
                if zero_ok { ">= 0" } else { "> 0" }
            ),
            Kind::Bool => "`true` or `false`".into(),
            Kind::Text => "a non-empty string".into(),
            Kind::Url => "an `http://` or `https://` URL".into(),
            Kind::Detector => format!("one of {}", backticked(DETECTORS)),
            Kind::Jitter => format!("one of {} or a number >= 0 and <= 1", backticked(JITTERS)),
            Kind::ErrorNames => format!(
                "a list such as `[\"NotFound\", \"5xx\"]` of error kinds, each {}",
                cb_syntax::schema::ERROR_NAME_FORMS
            ),
        }
    }
}

/// The field called `name` in `section` (`None`: a top-level breaker field).
/// Macro arguments are code, so they take only the canonical name, the one
/// builder methods and `Settings` members use; an alias is an error, see
/// [`alias`].
pub(crate) fn find(section: Option<&str>, name: &str) -> Option<&'static Field> {
    cb_syntax::schema::field_in(section, name).filter(|f| f.key() == name)
}

/// When `name` is another name files and variables accept for a field of
/// `section` (`timeout` for `open_duration`), the error saying which
/// canonical name to write instead.
pub(crate) fn alias(section: Option<&str>, name: &str) -> Option<String> {
    let f = cb_syntax::schema::field_in(section, name).filter(|f| f.key() != name)?;
    Some(format!(
        "`{name}` is another name files and environment variables accept for `{key}`; \
         macro arguments use the field's own name: did you mean `{key}`?",
        key = f.key()
    ))
}

/// The canonical keys of a section, for messages.
pub(crate) fn keys(section: Option<&str>) -> Vec<&'static str> {
    FIELDS
        .iter()
        .filter(|f| f.section() == section)
        .map(Field::key)
        .collect()
}

/// A checked value, ready to emit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Checked {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Text as written (durations, detectors, jitters, labels); the runtime
    /// parses it again with the same grammar.
    Text(String),
    /// A list of names as written (`classify.excluded`).
    List(Vec<String>),
}

impl Checked {
    /// The value as a duration, when it is one.
    pub(crate) fn duration(&self) -> Option<Duration> {
        match self {
            Checked::Text(s) => duration::parse(s),
            Checked::Int(n) => u64::try_from(*n).ok().map(Duration::from_secs),
            Checked::Float(x) => Duration::try_from_secs_f64(*x).ok(),
            Checked::Bool(_) | Checked::List(_) => None,
        }
    }
}

/// What the arguments written say of the field at `path`, for the rules
/// between fields: a field not written is unknown (a template, file or
/// variable may set it).
pub(crate) fn fact<'a>(values: &'a BTreeMap<&'static str, Checked>, path: &str) -> Fact<'a> {
    let (Some(value), Some(field)) = (values.get(path), cb_syntax::schema::field(path)) else {
        return Fact::Unknown;
    };
    match (field.kind, value) {
        (Kind::Duration { .. }, v) => v.duration().map_or(Fact::Set, Fact::Duration),
        (_, Checked::Int(n)) => u64::try_from(*n).map_or(Fact::Set, Fact::Count),
        (_, Checked::Bool(b)) => Fact::Bool(*b),
        (_, Checked::Text(t)) => Fact::Name(t),
        (_, Checked::Float(_) | Checked::List(_)) => Fact::Set,
    }
}

/// Checks a literal against `field`; the error says what was expected.
pub(crate) fn check(field: &Field, lit: &Lit, negative: bool) -> Result<Checked, String> {
    let kind = field.kind;
    let key = field.key();
    let bad = |what: &str| format!("{what} for `{key}`; expected {}", kind.expected());
    let out_of_range =
        |shown: String| format!("`{key} = {shown}` is out of range; expected {}", kind.expected());
    match (kind, lit) {
        (Kind::Count { min }, Lit::Int(i)) => {
            let n: i64 = i.base10_parse().map_err(|_| bad("this integer is too large"))?;
            let n = if negative { -n } else { n };
            if n < i64::from(min) || n > i64::from(u32::MAX) {
                return Err(out_of_range(n.to_string()));
            }
            Ok(Checked::Int(n))
        }
        (Kind::Fraction | Kind::Factor, Lit::Int(_) | Lit::Float(_)) => {
            let x: f64 = match lit {
                Lit::Int(i) => i
                    .base10_parse::<i64>()
                    .map(|n| n as f64)
                    .map_err(|_| bad("a bad number"))?,
                Lit::Float(x) => x.base10_parse().map_err(|_| bad("a bad number"))?,
                _ => unreachable!(),
            };
            let x = if negative { -x } else { x };
            let ok = match kind {
                Kind::Fraction => x.is_finite() && x > 0.0 && x <= 1.0,
                _ => x.is_finite() && x >= 1.0,
            };
            if !ok {
                let shown = lit_text(lit, negative);
                let mut msg = out_of_range(shown);
                if kind == Kind::Fraction && (2.0..=100.0).contains(&x) {
                    msg.push_str(&format!("; rates are fractions: did you mean `{}`?", x / 100.0));
                }
                return Err(msg);
            }
            Ok(Checked::Float(x))
        }
        (Kind::Duration { zero_ok }, Lit::Str(s)) => match duration::parse(&s.value()) {
            Some(d) if zero_ok || !d.is_zero() => Ok(Checked::Text(s.value())),
            Some(_) => Err(out_of_range(format!("{:?}", s.value()))),
            None => Err(format!(
                "cannot parse `{:?}` as a duration for `{key}`; expected {}",
                s.value(),
                kind.expected()
            )),
        },
        (Kind::Duration { .. }, Lit::Int(_) | Lit::Float(_)) => Err(format!(
            "write durations as strings with a unit for `{key}`: `{key} = \"{}s\"`",
            lit_text(lit, negative)
        )),
        (Kind::Bool, Lit::Bool(b)) => Ok(Checked::Bool(b.value)),
        (Kind::Text, Lit::Str(s)) if !s.value().trim().is_empty() => Ok(Checked::Text(s.value())),
        (Kind::Url, Lit::Str(s)) => {
            let v = s.value();
            let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
            match rest {
                Some(h) if !h.is_empty() && !h.starts_with('/') && !v.contains(char::is_whitespace) => {
                    Ok(Checked::Text(v))
                }
                _ => Err(bad("an invalid URL")),
            }
        }
        (Kind::Detector, Lit::Str(s)) => {
            let v = s.value();
            if DETECTORS.contains(&v.as_str()) {
                Ok(Checked::Text(v))
            } else {
                Err(with_suggestion(
                    format!(
                        "unknown circuit type `{v}`; expected one of {}",
                        backticked(DETECTORS)
                    ),
                    &v,
                    &DETECTORS,
                ))
            }
        }
        (Kind::Jitter, Lit::Str(s)) => {
            let v = s.value();
            if JITTERS.contains(&v.as_str()) {
                Ok(Checked::Text(v))
            } else {
                Err(with_suggestion(
                    format!("unknown jitter `{v}`; expected {}", kind.expected()),
                    &v,
                    &JITTERS,
                ))
            }
        }
        (Kind::ErrorNames, _) => Err(format!(
            "write `{key}` as a list, even of one: `{key} = [{}]`",
            lit_text(lit, negative)
        )),
        (Kind::Jitter, Lit::Float(_) | Lit::Int(_)) => {
            let x: f64 = match lit {
                Lit::Int(i) => i.base10_parse::<i64>().map(|n| n as f64).unwrap_or(f64::NAN),
                Lit::Float(x) => x.base10_parse().unwrap_or(f64::NAN),
                _ => unreachable!(),
            };
            if negative || !(0.0..=1.0).contains(&x) {
                return Err(out_of_range(lit_text(lit, negative)));
            }
            Ok(Checked::Float(x))
        }
        _ => Err(format!("expected {} for `{key}`", kind.expected())),
    }
}

/// Checks a list `[..]` against `field` (only lists of error kinds take
/// one); the error says which entry is wrong and what each may be. Statuses
/// may be written as integers (`[404]`).
pub(crate) fn check_list(field: &Field, items: &[Lit]) -> Result<Checked, (usize, String)> {
    let key = field.key();
    if field.kind != Kind::ErrorNames {
        return Err((
            usize::MAX,
            format!("expected {} for `{key}`, not a list", field.kind.expected()),
        ));
    }
    let mut names = Vec::with_capacity(items.len());
    for (i, lit) in items.iter().enumerate() {
        let name = match lit {
            Lit::Str(s) => s.value(),
            Lit::Int(n) => n.base10_digits().to_owned(),
            _ => String::new(),
        };
        if ErrorName::parse(&name).is_none() {
            return Err((
                i,
                format!(
                    "`{}` is not an error kind for `{}`; each entry is {}",
                    lit_text(lit, false),
                    field.path,
                    cb_syntax::schema::ERROR_NAME_FORMS
                ),
            ));
        }
        names.push(name);
    }
    Ok(Checked::List(names))
}

fn lit_text(lit: &Lit, negative: bool) -> String {
    let t = quote::ToTokens::to_token_stream(lit).to_string();
    if negative { format!("-{t}") } else { t }
}
