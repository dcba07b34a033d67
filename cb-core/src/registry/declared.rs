//! What the macros declared: every annotated function, listed before its
//! first call, and the configuration errors met when they created breakers.

use crate::error::ConfigError;
use crate::sync::MutexExt;

/// A function annotated with `#[circuit_breaker]` (or `#[fallback]`), as the
/// macro declared it at compile time: listed by [`declared`] before its
/// first call, so metrics and admin endpoints can show every breaker.
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
    /// What the function asks of the configuration (its template and
    /// arguments, the code layer's lowest part), so that `explain` gives the
    /// same answer before its first call as after.
    code: Option<fn() -> crate::config::Overrides>,
    /// Its `template!` constant, if it names one.
    code_template: Option<&'static crate::config::StaticTemplate>,
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
    ) -> Self {
        Self {
            name,
            module,
            function,
            template,
            environment,
            tiers,
            policies,
            code: None,
            code_template: None,
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
}

#[cfg(feature = "macros")]
impl Declared {
    /// The stages the function really runs, outermost first: what its
    /// resolved configuration enabled when its first call built them
    /// (template, environment, file, variables and arguments), else what
    /// its attributes wrote ([`policies`](Self::policies)).
    ///
    /// ```
    /// // After a first call to `#[circuit_breaker(template = "ai_provider")] async fn ask(..)`:
    /// // ["retry", "breaker", "timeout", "bulkhead"]
    /// for d in cb_core::registry::declared() {
    ///     let _ = d.stages();
    /// }
    /// ```
    pub fn stages(&self) -> Vec<&'static str> {
        let running = RUNNING.get(self.name);
        match running {
            Some(stages) => {
                let rescue = self.policies.first().filter(|p| **p == "rescue");
                rescue
                    .into_iter()
                    .copied()
                    .chain(stages.iter().copied())
                    .collect()
            }
            None => self.policies.to_vec(),
        }
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
    let Some(d) = inventory::iter::<Declared>
        .into_iter()
        .find(|d| d.name == name && d.code.is_some())
    else {
        return;
    };
    if let Some(t) = d.code_template
        && !layers.has_code_template(t.name)
    {
        let _ = layers.add_template(t.to_template());
    }
    if let Some(code) = d.code {
        layers.declare(name, code());
    }
}

/// The stages each macro function's pipeline runs, by breaker name, as
/// resolved at its first call.
#[cfg(feature = "macros")]
static RUNNING: super::Named<&'static [&'static str]> = super::Named::new();

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

/// The breakers whose configuration failed to resolve when the macros
/// created them (an invalid environment variable or file, say), with the
/// error. Such a breaker runs on its declared, compile-time-checked
/// configuration instead (see `#[circuit_breaker]`); a later
/// [`LiveConfig::update`](crate::config::LiveConfig::update), reload or
/// [`install_global`](crate::config::install_global) re-resolves it.
pub fn config_errors() -> Vec<(String, ConfigError)> {
    CONFIG_ERRORS.lock_unpoisoned().clone()
}

#[cfg(feature = "macros")]
pub(crate) fn record_config_error(name: &str, error: ConfigError) {
    CONFIG_ERRORS.lock_unpoisoned().push((name.to_owned(), error));
}
