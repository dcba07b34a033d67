//! What the macros declared: every annotated function, listed before its
//! first call, and the configuration errors met when they created breakers.

use crate::error::ConfigError;
#[cfg(feature = "macros")]
use crate::macro_support::stage::Stage;
use crate::sync::MutexExt;

/// A function annotated with `#[circuit_breaker]` (or `#[fallback]`), as the
/// macro declared it at compile time: listed by [`declared`] before its
/// first call, so metrics and admin endpoints can show every breaker.
///
/// Several functions may declare one name: they share one breaker. If their
/// settings differ, the first declaration (by [`file`](Self::file), then
/// [`line`](Self::line)) gives the settings of all of them, and the conflict
/// is reported once ([`config_errors`] and a warning) at the first
/// resolution of that name.
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[derive(Debug)]
#[non_exhaustive]
pub struct Declared {
    /// The breaker's name (the `name` argument, else `module::function`).
    /// For a `#[tiered]` trait method it is `Trait::method`: that call site's
    /// breakers are named `"{tier}.{method}"` once the client's tiers are
    /// chosen at build time, and its `policies` are `["tiered", "breaker"]`.
    pub name: &'static str,
    /// The module path of the annotated function.
    pub module: &'static str,
    /// The function's name.
    pub function: &'static str,
    /// The template it names, if any.
    pub template: Option<&'static str>,
    /// The environment it pins, if any.
    pub environment: Option<&'static str>,
    /// The other tiers' breaker names, in order (from `#[fallback(...)]`);
    /// the function itself is tier 1.
    pub tiers: &'static [&'static str],
    /// The policy stages around the call, outermost first (R61 order), as
    /// its attributes wrote them, e.g. `["fallback", "breaker"]`; what runs
    /// once the configuration resolved is [`stages`](Self::stages).
    pub policies: &'static [&'static str],
    /// The source file of the annotated function (`file!()`), so that two
    /// declarations of one breaker can be told apart in reports.
    pub file: &'static str,
    /// The line of the annotation in [`file`](Self::file) (`line!()`).
    pub line: u32,
    /// What the function asks of the configuration (its template and
    /// arguments, the code layer's lowest part), so that `explain` gives the
    /// same answer before its first call as after.
    pub(super) code: Option<fn() -> crate::config::Overrides>,
    /// Its `template!` constant, if it names one.
    pub(super) code_template: Option<&'static crate::config::StaticTemplate>,
    /// How its per-attempt stages are decided, for functions whose first
    /// call builds a pipeline; see [`stages`](Self::stages).
    pub(super) stages: Option<DeclaredStages>,
}

/// A macro function's per-attempt stages as written (on, off, or left to
/// the configuration), and whether its body can run more than once.
#[cfg(feature = "macros")]
#[derive(Debug, Clone, Copy)]
pub(super) struct DeclaredStages {
    pub(super) retry: Stage,
    pub(super) call_timeout: Stage,
    pub(super) bulkhead: Stage,
    /// Asked at run time: whether every argument's type is `Clone` is
    /// answered by trait selection in the expansion, not by a constant.
    pub(super) replayable: fn() -> bool,
}

#[cfg(feature = "macros")]
impl Declared {
    /// For macro expansions only, which name it as
    /// `cb_core::__private::Declared::__new`: `Declared` is
    /// `#[non_exhaustive]` so that fields can be added without breaking
    /// users, which also stops expansions (in users' crates) from writing a
    /// struct literal. Not public API.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        name: &'static str,
        module: &'static str,
        function: &'static str,
        template: Option<&'static str>,
        environment: Option<&'static str>,
        tiers: &'static [&'static str],
        policies: &'static [&'static str],
        file: &'static str,
        line: u32,
    ) -> Self {
        Self {
            name,
            module,
            function,
            template,
            environment,
            tiers,
            policies,
            file,
            line,
            code: None,
            code_template: None,
            stages: None,
        }
    }

    /// For macro expansions only: what the function asks of the
    /// configuration (see [`__new`](Self::__new)). Not public API.
    #[doc(hidden)]
    pub const fn __with_code(
        mut self,
        code: fn() -> crate::config::Overrides,
        template: Option<&'static crate::config::StaticTemplate>,
    ) -> Self {
        self.code = Some(code);
        self.code_template = template;
        self
    }

    /// For macro expansions only: how the per-attempt stages of a function
    /// whose first call builds a pipeline are decided, so that
    /// [`stages`](Self::stages) answers before that call what it will build
    /// (see [`__new`](Self::__new)). Not public API.
    #[doc(hidden)]
    pub const fn __with_stages(
        mut self,
        retry: Stage,
        call_timeout: Stage,
        bulkhead: Stage,
        replayable: fn() -> bool,
    ) -> Self {
        self.stages = Some(DeclaredStages {
            retry,
            call_timeout,
            bulkhead,
            replayable,
        });
        self
    }

    /// Where the function is declared, as `file:line`.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// Its breaker in [`Registry::global`](crate::Registry::global), created
    /// now, exactly as its first call would (template, arguments and every
    /// configuration layer), when that call has not happened yet: so a
    /// health monitor can watch a function's breaker from the start.
    pub fn breaker(&self) -> crate::CircuitBreaker {
        let code = self.code.map(|code| code()).unwrap_or_default();
        crate::macro_support::resolve_breaker(self.name, code, self.code_template)
    }
}

#[cfg(feature = "macros")]
inventory::collect!(Declared);

/// Declares in `layers` what the macro function named `name` asks for, as
/// its first call will: `explain` before that call then answers as after
/// it (declaring replaces, so doing it again changes nothing).
#[cfg(feature = "macros")]
pub(crate) fn declare_into(layers: &mut crate::config::ConfigLayers, name: &str) {
    let Some((code, code_template)) = declaration_of(name) else {
        return;
    };
    if let Some(t) = code_template
        && !layers.has_code_template(t.name)
    {
        let _ = layers.add_template(t.to_template());
    }
    layers.declare(name, code);
}

/// What the functions declaring `name` ask of the configuration (their
/// arguments and `template!` constant), or `None` when no macro function
/// declares it. When several do, the first by file, then line, wins for all
/// of them, whichever is called first; if their settings differ, that is
/// reported once (a warning and [`config_errors`]), naming both call sites.
#[cfg(feature = "macros")]
pub(crate) fn declaration_of(
    name: &str,
) -> Option<(
    crate::config::Overrides,
    Option<&'static crate::config::StaticTemplate>,
)> {
    let mut all: Vec<(&'static Declared, crate::config::Overrides)> = inventory::iter::<Declared>
        .into_iter()
        .filter(|d| d.name == name)
        .filter_map(|d| d.code.map(|code| (d, code())))
        .collect();
    all.sort_by(|(a, _), (b, _)| (a.file, a.line, a.module).cmp(&(b.file, b.line, b.module)));
    let ((first, code), others) = all.split_first()?;
    let mut v = crate::error::Violations::new();
    for (other, other_code) in others {
        let (mine, theirs) = differences((first, code), (other, other_code));
        if !mine.is_empty() || !theirs.is_empty() {
            v.push(
                "name",
                format!("{name:?}"),
                format!(
                    "declared twice with different settings: at {} ({mine}) and {} ({theirs}); \
                     the first declaration's settings apply to both",
                    first.location(),
                    other.location(),
                ),
            );
        }
    }
    if let Err(error) = v.finish() {
        let shown = error.to_string();
        if record_config_error(name, error) {
            tracing::warn!(breaker = name, error = %shown, "one breaker declared with different settings");
        }
    }
    Some((code.clone(), first.code_template))
}

/// The settings on which two declarations differ, each side as
/// `field = value` (or `field not set`), joined by commas: `template`,
/// `environment`, then fields by path.
#[cfg(feature = "macros")]
fn differences(
    (a, a_code): (&Declared, &crate::config::Overrides),
    (b, b_code): (&Declared, &crate::config::Overrides),
) -> (String, String) {
    type Diff = (String, Option<String>, Option<String>);
    let mut diffs: Vec<Diff> = Vec::new();
    let template = |o: &crate::config::Overrides| o.template.as_deref().map(|t| format!("{t:?}"));
    if a_code.template != b_code.template {
        diffs.push(("template".into(), template(a_code), template(b_code)));
    } else if a.code_template != b.code_template {
        let t = template(a_code).unwrap_or_default();
        diffs.push((
            "template".into(),
            Some(format!("{t} (one `template!` constant)")),
            Some(format!("{t} (another constant of that name)")),
        ));
    }
    if a_code.environment != b_code.environment {
        let env = |o: &crate::config::Overrides| o.environment.map(|e| e.to_string());
        diffs.push(("environment".into(), env(a_code), env(b_code)));
    }
    let value = |o: &crate::config::Overrides, path: &str| {
        o.values
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, v)| v.to_string())
    };
    let mut paths: Vec<&str> = a_code
        .values
        .iter()
        .chain(&b_code.values)
        .map(|(p, _)| p.as_str())
        .collect();
    paths.sort_unstable();
    paths.dedup();
    for path in paths {
        let (x, y) = (value(a_code, path), value(b_code, path));
        if x != y {
            diffs.push((path.to_owned(), x, y));
        }
    }
    let side = |pick: fn(&Diff) -> &Option<String>| {
        diffs
            .iter()
            .map(|d| match pick(d) {
                Some(v) => format!("{} = {v}", d.0),
                None => format!("{} not set", d.0),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    (side(|d| &d.1), side(|d| &d.2))
}

/// The stages each macro function's pipeline runs, by breaker name, as
/// resolved at its first call.
#[cfg(feature = "macros")]
pub(super) static RUNNING: super::Named<&'static [&'static str]> = super::Named::new();

#[cfg(feature = "macros")]
pub(crate) fn record_policies(name: &str, stages: &'static [&'static str]) {
    // The latest first call wins, as it did for the breaker's settings.
    RUNNING.remove(name);
    let _ = RUNNING.insert_new(name.to_owned(), stages);
}

/// Every breaker declared with the macros anywhere in the program, sorted by
/// name, whether or not it was called yet (a static inventory built at link
/// time).
///
/// ```
/// // In a program with `#[circuit_breaker(name = "claude")] async fn ask(..)`:
/// let names: Vec<&str> = cb_core::registry::declared().iter().map(|d| d.name).collect();
/// # let _ = names;
/// ```
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub fn declared() -> Vec<&'static Declared> {
    let mut all: Vec<&'static Declared> = inventory::iter::<Declared>.into_iter().collect();
    all.sort_by(|a, b| a.name.cmp(b.name).then(a.module.cmp(b.module)));
    all
}

static CONFIG_ERRORS: std::sync::Mutex<Vec<(String, ConfigError)>> = std::sync::Mutex::new(Vec::new());

/// The configuration problems the macros met, by breaker name, each once
/// (a log line was written when it was first met):
///
/// - a breaker whose configuration failed to resolve when it was created
///   (a bad `CB_ENVIRONMENT`, variable or file). It runs on its declared,
///   compile-time-checked arguments and template over the built-in layers,
///   never on the library defaults alone; its declaration is kept in the
///   layers, so a later [`LiveConfig::update`](crate::config::LiveConfig::update),
///   reload or [`install_global`](crate::config::install_global) that
///   repairs the configuration re-resolves it through every layer;
/// - a name declared by two functions with different settings (field
///   `name`, naming both call sites): the first declaration, by file then
///   line, gives the settings of both;
/// - stages a function's configuration enables but its shape cannot run.
///
/// The list is a record of what happened: a repair does not remove entries.
pub fn config_errors() -> Vec<(String, ConfigError)> {
    CONFIG_ERRORS.lock_unpoisoned().clone()
}

/// Keeps `error` for [`config_errors`], once: returns whether it is new
/// (the same error for the same breaker is not listed, or logged, again).
#[cfg(feature = "macros")]
pub(crate) fn record_config_error(name: &str, error: ConfigError) -> bool {
    let mut all = CONFIG_ERRORS.lock_unpoisoned();
    if all.iter().any(|(n, e)| n == name && *e == error) {
        return false;
    }
    all.push((name.to_owned(), error));
    true
}

#[cfg(all(test, feature = "macros"))]
mod tests {
    use super::*;
    use crate::config::{Environment, Overrides};
    use std::time::Duration;

    #[test]
    fn a_conflict_names_each_differing_setting_on_both_sides() {
        let a = Declared::__new("x", "m", "f", None, None, &[], &["breaker"], "a.rs", 10);
        let b = Declared::__new("x", "m", "g", None, None, &[], &["breaker"], "b.rs", 20);
        let a_code = Overrides::new()
            .template("ai_provider")
            .set("failure_threshold", 3u32)
            .set("minimum_calls", 5u32);
        let b_code = Overrides::new()
            .template("database")
            .environment(Environment::Staging)
            .set("minimum_calls", 5u32)
            .set("open_duration", Duration::from_secs(5));
        let (x, y) = differences((&a, &a_code), (&b, &b_code));
        assert_eq!(
            x,
            "template = \"ai_provider\", environment not set, failure_threshold = 3, open_duration not set"
        );
        assert_eq!(
            y,
            "template = \"database\", environment = staging, failure_threshold not set, open_duration = 5s"
        );
        assert_eq!(
            differences((&a, &a_code), (&b, &a_code)),
            (String::new(), String::new())
        );
        assert_eq!(b.location(), "b.rs:20");
    }
}
