//! Templates: named sets of values for a kind of service, inheriting from a base.

use super::environment::Environment;
use super::schema::{Value, coerce, field};
use crate::error::Violations;
use cb_syntax::rules::Fact;

/// A checked value with where it was written (for `explain` and messages).
/// `Debug` shows the value as messages do, secrets removed.
#[derive(Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) path: &'static str,
    pub(crate) value: Value,
    /// Where it was written: a file path such as `instances.claude.failure_threshold`.
    pub(crate) origin: String,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = field(self.path).map_or_else(
            || self.value.to_string(),
            |spec| super::schema::show(spec, &self.value),
        );
        write!(f, "{} = {shown} ({})", self.path, self.origin)
    }
}

/// The names of the built-in templates, `default` first: the table the
/// macros check `template = "..."` against.
pub const BUILTIN_TEMPLATES: [&str; cb_syntax::names::TEMPLATES.len()] = cb_syntax::names::TEMPLATES;

/// A named set of values over a base template.
///
/// The built-ins are `default` (empty: the built-in defaults) and one per
/// service type of the Python services:
///
/// - `ai_provider` — `adaptive`: failure rate over the last 20 calls, slow
///   calls (80 % slower than 30 s), an open period doubling up to 10 min,
///   one probe at a time; retries honour Retry-After; 60 s call timeout; a
///   20-call bulkhead.
/// - `database` — `percentage_based` over the last 50 calls; a 50-call
///   bulkhead, 10 s call timeout, health checks every 15 s.
/// - `mcp_server` — `count_based` (consecutive failures), one breaker per
///   server; a 10-call bulkhead and a 60 s tool timeout.
/// - `external_api` — `time_based` over 60 s in 10 buckets; retries honour
///   Retry-After; 30 s call timeout; health checks every 60 s.
///
/// Over those sit the per-service presets, each based on `ai_provider` or
/// `mcp_server` with a failure threshold for every environment, strictest
/// in production: `claude`, `gpt4`, `deepseek` (2–5 failures), `gemini`,
/// `huggingface` (3–8), `groq` (2–3), `ollama` (local and tolerant, 15–50);
/// `docker`, `slack` (3–8), `kubernetes`, `security_scanner` (3–10),
/// `desktop_commander` (5–30), `prometheus`, `s3` (2–5). The configuration
/// reference lists what each resolves to in each environment.
///
/// Your own templates name a `base` (any template, built-in or yours, to any
/// depth; a cycle is an error that names it).
///
/// ```
/// use cb_core::config::{ConfigLayers, Environment, Overrides, Template};
/// use std::time::Duration;
///
/// let mut layers = ConfigLayers::new(Environment::Production);
/// layers.add_template(Template::new("slow_llm").base("ai_provider").set("slow_call_duration_threshold", "45s"))?;
/// let s = layers.resolve_settings("local-llm", &Overrides::new().template("slow_llm"))?;
/// assert_eq!(s.breaker.slow_call_duration_threshold, Duration::from_secs(45));
/// assert_eq!(s.breaker.sliding_window_size, 20); // from ai_provider
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub(crate) name: String,
    pub(crate) base: Option<String>,
    pub(crate) values: Vec<(String, Value)>,
    /// Values for one environment only, beating `values` there.
    pub(crate) environments: Vec<(Environment, Vec<(String, Value)>)>,
}

impl Template {
    /// An empty template called `name`, based on `default`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            base: None,
            values: Vec::new(),
            environments: Vec::new(),
        }
    }

    /// Inherits every value of `base` that this template does not set.
    pub fn base(mut self, base: impl Into<String>) -> Self {
        self.base = Some(base.into());
        self
    }

    /// Sets the field at `path` (e.g. `"failure_threshold"`,
    /// `"retry.max_attempts"`); checked when the template is added.
    pub fn set(mut self, path: &str, value: impl Into<Value>) -> Self {
        self.values.push((path.to_owned(), value.into()));
        self
    }

    /// Values that apply only in `environment`, where they beat this
    /// template's other values (and the environment's generic profile
    /// always loses to the template). `set` calls inside `values` are
    /// collected; anything else it does is ignored.
    ///
    /// ```
    /// use cb_core::config::{ConfigLayers, Environment, Overrides, Template};
    ///
    /// let t = Template::new("payments")
    ///     .set("failure_threshold", 10u32)
    ///     .in_environment(Environment::Production, |t| t.set("failure_threshold", 3u32));
    /// let o = Overrides::new().template("payments");
    /// for (env, expected) in [(Environment::Production, 3), (Environment::Staging, 10)] {
    ///     let mut layers = ConfigLayers::new(env);
    ///     layers.add_template(t.clone())?;
    ///     assert_eq!(layers.resolve("pay", &o)?.failure_threshold, Some(expected));
    ///     let why = layers.explain("pay", &o)?;
    ///     let shown = why.get("failure_threshold").unwrap().source.to_string();
    ///     if env == Environment::Production {
    ///         assert_eq!(shown, "template `payments` (production)");
    ///     } else {
    ///         assert_eq!(shown, "template `payments`");
    ///     }
    /// }
    /// # Ok::<(), cb_core::ConfigError>(())
    /// ```
    pub fn in_environment(
        mut self,
        environment: Environment,
        values: impl FnOnce(Template) -> Template,
    ) -> Self {
        let scoped = values(Template::new(self.name.clone())).values;
        match self.environments.iter_mut().find(|(e, _)| *e == environment) {
            Some((_, existing)) => existing.extend(scoped),
            None => self.environments.push((environment, scoped)),
        }
        self
    }

    /// The template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The base it inherits from, if any (`default` otherwise).
    pub fn base_name(&self) -> Option<&str> {
        self.base.as_deref()
    }

    /// The built-in template called `name`, from the one table of built-in
    /// values ([`cb_syntax::templates::BUILTINS`]) that the macros check
    /// arguments against too. Each value is parsed as a file's would be.
    pub fn builtin(name: &str) -> Option<Template> {
        let b = cb_syntax::templates::builtin(name)?;
        let mut t = Template::new(name);
        if let Some(base) = b.base {
            t = t.base(base);
        }
        for (path, text) in b.values {
            t = t.set(path, parsed(path, text));
        }
        for (env, values) in b.environments {
            let env = Environment::ALL
                .into_iter()
                .find(|e| e.as_str() == *env)
                .expect("the table's environments are canonical names");
            t = t.in_environment(env, |mut scoped| {
                for (path, text) in *values {
                    scoped = scoped.set(path, parsed(path, text));
                }
                scoped
            });
        }
        Some(t)
    }
}

/// A built-in value as a file's would be parsed. A value the field refuses
/// (a typo in the table) stays text, so checking the template reports it
/// as it would a file's; a unit test checks every built-in.
fn parsed(path: &str, text: &str) -> Value {
    let text = Value::Text(text.to_owned());
    match field(path).map(|spec| coerce(spec, &text)) {
        Some(Ok(value)) => value,
        _ => text,
    }
}

/// A value of a [`StaticTemplate`]: what a `template!` invocation writes.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum StaticValue {
    /// An integer.
    Int(i64),
    /// A number (rates are fractions).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string: a duration such as `"30s"`, a detector, a label.
    Text(&'static str),
    /// A list of names (`classify.excluded`).
    List(&'static [&'static str]),
}

impl From<StaticValue> for Value {
    fn from(v: StaticValue) -> Self {
        match v {
            StaticValue::Int(n) => Value::Int(n),
            StaticValue::Float(x) => Value::Float(x),
            StaticValue::Bool(b) => Value::Bool(b),
            StaticValue::Text(s) => Value::Text(s.to_owned()),
            StaticValue::List(items) => Value::from(items),
        }
    }
}

/// A template defined at compile time by the `template!` macro (feature
/// `macros`): a `const` whose values the macro checked when your crate
/// compiled. `#[circuit_breaker(template = PAYMENTS)]` takes it by path and
/// adds it to the global configuration before the breaker is resolved.
///
/// ```
/// use cb_core::config::{StaticTemplate, StaticValue};
/// use cb_core::config::Environment;
/// const PAYMENTS: StaticTemplate = StaticTemplate {
///     name: "payments",
///     base: Some("mcp_server"),
///     values: &[("failure_threshold", StaticValue::Int(5))],
///     environments: &[(Environment::Production, &[("failure_threshold", StaticValue::Int(2))])],
/// };
/// let t = PAYMENTS.to_template();
/// assert_eq!(t.name(), "payments");
/// assert_eq!(t.base_name(), Some("mcp_server"));
///
/// use cb_core::config::{ConfigLayers, Overrides};
/// for (env, expected) in [(Environment::Production, 2), (Environment::Staging, 5)] {
///     let mut layers = ConfigLayers::new(env);
///     layers.add_template(t.clone())?;
///     let cfg = layers.resolve("pay", &Overrides::new().template("payments"))?;
///     assert_eq!(cfg.failure_threshold, Some(expected));
/// }
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaticTemplate {
    /// The template's name, as files and `explain` show it.
    pub name: &'static str,
    /// The template it inherits from (`None`: `default`).
    pub base: Option<&'static str>,
    /// The values it sets, by field path (`"retry.max_attempts"`).
    pub values: &'static [(&'static str, StaticValue)],
    /// Values for one environment only (`production(..)` in `template!`),
    /// beating `values` there; see [`Template::in_environment`].
    pub environments: &'static [(Environment, &'static [(&'static str, StaticValue)])],
}

impl StaticTemplate {
    /// The same template as a run-time [`Template`].
    pub fn to_template(&self) -> Template {
        let mut t = Template::new(self.name);
        if let Some(b) = self.base {
            t = t.base(b);
        }
        for (path, value) in self.values {
            t = t.set(path, *value);
        }
        for (env, values) in self.environments {
            t = t.in_environment(*env, |mut scoped| {
                for (path, value) in *values {
                    scoped = scoped.set(path, *value);
                }
                scoped
            });
        }
        t
    }
}

/// A template whose values were checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CheckedTemplate {
    pub(crate) name: String,
    pub(crate) base: Option<String>,
    pub(crate) entries: Vec<Entry>,
    /// Entries for one environment, applied after `entries` there.
    pub(crate) environments: Vec<(Environment, Vec<Entry>)>,
}

impl CheckedTemplate {
    /// Checks every path and value; problems go to `v` with paths under `prefix`.
    pub(crate) fn check(t: &Template, prefix: &str, v: &mut Violations) -> CheckedTemplate {
        let entries = check_values(&t.values, prefix, v);
        let environments = t
            .environments
            .iter()
            .map(|(env, values)| {
                let at = if prefix.is_empty() {
                    format!("environments.{env}")
                } else {
                    format!("{prefix}.environments.{env}")
                };
                (*env, check_values(values, &at, v))
            })
            .collect();
        CheckedTemplate {
            name: t.name.clone(),
            base: t.base.clone(),
            entries,
            environments,
        }
    }
}

/// Checks `(path, value)` pairs written in code: unknown paths and bad values
/// become violations at `prefix.path` (or `path` when `prefix` is empty).
pub(crate) fn check_values(values: &[(String, Value)], prefix: &str, v: &mut Violations) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (path, value) in values {
        let at = if prefix.is_empty() {
            path.clone()
        } else {
            format!("{prefix}.{path}")
        };
        match field(path) {
            None if let Some(why) = cb_syntax::schema::not_yet(path) => v.push(at, value, why),
            None => {
                let paths: Vec<&str> = super::schema::FIELDS.iter().map(|f| f.path).collect();
                v.push(
                    at,
                    value,
                    super::schema::with_suggestion("unknown field".into(), path, &paths),
                );
            }
            Some(spec) => match coerce(spec, value) {
                Ok(value) => entries.push(Entry {
                    path: spec.path,
                    value,
                    origin: at,
                }),
                Err(rej) => v.push(at, rej.shown, rej.allowed),
            },
        }
    }
    entries
}

/// Checks the rules between fields among `entries` alone (a field not among
/// them is unknown, so its rules are not judged), reporting each broken rule
/// at the entry where its field was written. Used when a file already has
/// field errors, so a cross-field mistake written next to them is reported
/// in the same pass instead of only after the first round is fixed.
pub(crate) fn rules_within(entries: &[Entry], v: &mut Violations) {
    let fact = |path: &str| match entries.iter().rev().find(|e| e.path == path) {
        None => Fact::Unknown,
        Some(e) => match &e.value {
            Value::Duration(d) => Fact::Duration(*d),
            Value::Int(n) => u64::try_from(*n).map_or(Fact::Set, Fact::Count),
            Value::Bool(b) => Fact::Bool(*b),
            Value::Detector(d) => Fact::Name(d.as_str()),
            Value::Text(t) => Fact::Name(t),
            _ => Fact::Set,
        },
    };
    for rule in cb_syntax::rules::RULES {
        if let Some(broken) = rule.check(fact)
            && let Some(at) = entries.iter().rev().find(|e| e.path == broken.field)
        {
            v.push(at.origin.clone(), broken.value, broken.requirement);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_valid() {
        for name in BUILTIN_TEMPLATES {
            let t = Template::builtin(name).unwrap();
            let mut v = Violations::new();
            let c = CheckedTemplate::check(&t, name, &mut v);
            v.finish().unwrap();
            assert_eq!(c.entries.len(), t.values.len());
            for ((_, checked), (_, values)) in c.environments.iter().zip(&t.environments) {
                assert_eq!(checked.len(), values.len());
            }
        }
        assert!(Template::builtin("nope").is_none());
    }
}
