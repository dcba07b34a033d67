//! Resolution: every field comes from the highest layer that sets it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use super::env::{
    EnvSource, PREFIX, ProcessEnv, env_name, legacy_from_env, legacy_lookup, lookup, shown_with_vars, unknown,
};
use super::environment::Environment;
use super::explain::{Explained, Explanation};
use super::file::{Body, ConfigFile};
use super::infer;
use super::overrides::Overrides;
use super::schema::{Value, coerce, field, is_secret_name};
use super::settings::Settings;
use super::source::Source;
use super::template::{BUILTIN_TEMPLATES, CheckedTemplate, Entry, Template, check_values};
use crate::breaker::BreakerConfig;
use crate::error::{ConfigError, Violation, Violations};
use cb_syntax::names::infer_preset;

mod chains;

use chains::chain;

/// The layers a breaker's configuration is resolved through, lowest first:
///
/// 1. built-in defaults ([`Settings::default`]);
/// 2. the environment's generic profile ([`Environment`]: failure threshold,
///    open duration, failure rate), for breakers whose templates leave them;
/// 3. templates: `default`, then the breaker's template and its bases, root
///    first, each followed by its own values for the environment
///    ([`Template::in_environment`], a file template's `environments:`), so
///    that what a template declares is what its breakers get;
/// 4. the file: `configs.default`, the instance's `base_config` chain, the instance;
/// 5. environment variables: `CIRCUIT_BREAKER_<FIELD>`, then `CIRCUIT_BREAKER_<NAME>_<FIELD>`;
/// 6. code: what the declaring code asked for ([`ConfigLayers::declare`]),
///    the overrides passed to [`ConfigLayers::resolve`], then run-time
///    updates ([`ConfigLayers::set_overrides`]).
///
/// Merging is per field: a layer overrides only what it sets. The
/// breaker's template is the first named by: the code overrides, the
/// instance (`template:`), its `base_config` chain, `configs.default`.
///
/// ```
/// use cb_core::config::{ConfigLayers, Environment, Layer, Overrides};
/// use std::collections::HashMap;
///
/// let env = HashMap::from([("CIRCUIT_BREAKER_CLAUDE_MINIMUM_CALLS".to_string(), "12".to_string())]);
/// let layers = ConfigLayers::new(Environment::Staging).with_env_source(env);
/// let o = Overrides::new().template("ai_provider");
/// let why = layers.explain("claude", &o)?;
/// assert_eq!(why.get("failure_threshold").unwrap().source.layer(), Layer::Environment); // 5 (staging)
/// assert_eq!(why.get("minimum_calls").unwrap().value.as_deref(), Some("12"));
/// assert_eq!(why.get("minimum_calls").unwrap().source.layer(), Layer::EnvVar);
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ConfigLayers {
    environment: Environment,
    env: Arc<dyn EnvSource>,
    code_templates: BTreeMap<String, CheckedTemplate>,
    file: ConfigFile,
    code: HashMap<String, Overrides>,
    declared: HashMap<String, Overrides>,
    infer_template: bool,
    legacy_variables: bool,
}

impl fmt::Debug for ConfigLayers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigLayers")
            .field("environment", &self.environment)
            .field("templates", &self.code_templates.keys().collect::<Vec<_>>())
            .field("file", &self.file)
            .field("code", &self.code)
            .field("declared", &self.declared)
            .field("infer_template", &self.infer_template)
            .field("legacy_variables", &self.legacy_variables)
            .finish_non_exhaustive()
    }
}

impl ConfigLayers {
    /// Layers for `environment`, reading variables from the process
    /// environment, with no file and no overrides.
    pub fn new(environment: Environment) -> Self {
        Self {
            environment,
            env: Arc::new(ProcessEnv),
            code_templates: BTreeMap::new(),
            file: ConfigFile::default(),
            code: HashMap::new(),
            declared: HashMap::new(),
            infer_template: false,
            legacy_variables: false,
        }
    }

    /// Layers whose environment comes from `CB_ENVIRONMENT` (or the legacy
    /// `ENVIRONMENT` variable; production when neither is set), reading the process
    /// environment, with template inference as [`INFER_TEMPLATE_VAR`](super::INFER_TEMPLATE_VAR)
    /// (`CB_INFER_TEMPLATE`) says, and the Python services' variable names read
    /// as [`LEGACY_VARIABLES_VAR`](super::LEGACY_VARIABLES_VAR) (`CB_LEGACY_VARIABLES`) says.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_source(ProcessEnv)
    }

    /// Like [`ConfigLayers::from_env`], reading variables from `env`.
    pub fn from_env_source(env: impl EnvSource) -> Result<Self, ConfigError> {
        let mut v = Violations::new();
        unknown_variables(&env, &mut v);
        v.finish()?;
        let environment = Environment::from_env(&env)?;
        let infer = infer::from_env(&env)?;
        let legacy = legacy_from_env(&env)?;
        Ok(Self::new(environment)
            .with_env_source(env)
            .with_template_inference(infer)
            .with_legacy_variables(legacy))
    }

    /// Also reads the variables of the Python services this SDK replaces
    /// ([`LEGACY_VARIABLES`](super::LEGACY_VARIABLES): `MAX_RETRY_ATTEMPTS`,
    /// `RETRY_BASE_DELAY`, ...) for every breaker, below the
    /// `CIRCUIT_BREAKER_*` variables. Off by default: such generic names may
    /// belong to another program sharing the environment.
    pub fn with_legacy_variables(mut self, on: bool) -> Self {
        self.legacy_variables = on;
        self
    }

    /// Whether the legacy variable names are read.
    pub fn legacy_variables(&self) -> bool {
        self.legacy_variables
    }

    /// Reads variables (the variable layer) from `env` instead of the process.
    pub fn with_env_source(mut self, env: impl EnvSource) -> Self {
        self.env = Arc::new(env);
        self
    }

    /// The variables' source, e.g. to parse a file with the same variables.
    pub fn env_source(&self) -> &dyn EnvSource {
        &*self.env
    }

    /// Uses this file (replacing any earlier one). Checks that its templates
    /// and configs resolve for every instance it names, reporting every
    /// problem at once.
    pub fn with_file(mut self, file: ConfigFile) -> Result<Self, ConfigError> {
        self.file = file;
        self.check()?;
        Ok(self)
    }

    /// The file in use.
    pub fn file(&self) -> &ConfigFile {
        &self.file
    }

    /// The environment.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Changes the environment.
    pub fn set_environment(&mut self, environment: Environment) {
        self.environment = environment;
    }

    /// Switches template inference from breaker names on or off (off by
    /// default): with it on, a breaker that no code or file gives a template
    /// gets the longest preset its name starts with, followed by `_`, `-`,
    /// `.` or the end (`claude_expert_opus` → `claude`). `explain` says so.
    ///
    /// ```
    /// use cb_core::config::{ConfigLayers, Environment, Overrides};
    /// use std::collections::HashMap;
    ///
    /// let layers = ConfigLayers::new(Environment::Production)
    ///     .with_env_source(HashMap::new())
    ///     .with_template_inference(true);
    /// let why = layers.explain("claude_expert_opus", &Overrides::new())?;
    /// assert_eq!(why.template, "claude");
    /// assert!(why.template_inferred);
    /// // A template named anywhere wins over the name.
    /// let why = layers.explain("claude_expert_opus", &Overrides::new().template("database"))?;
    /// assert_eq!((why.template.as_str(), why.template_inferred), ("database", false));
    /// # Ok::<(), cb_core::ConfigError>(())
    /// ```
    pub fn with_template_inference(mut self, on: bool) -> Self {
        self.infer_template = on;
        self
    }

    /// Like [`ConfigLayers::with_template_inference`], in place.
    pub fn set_template_inference(&mut self, on: bool) {
        self.infer_template = on;
    }

    /// Whether template inference from breaker names is on.
    pub fn template_inference(&self) -> bool {
        self.infer_template
    }

    /// Adds a template defined in code. Built-in names other than `default`
    /// cannot be redefined (base a new template on them instead).
    pub fn add_template(&mut self, template: Template) -> Result<&mut Self, ConfigError> {
        let mut v = Violations::new();
        let prefix = format!("templates.{}", template.name);
        if template.name != "default" && BUILTIN_TEMPLATES.contains(&template.name.as_str()) {
            v.push(
                &prefix,
                format!("{:?}", template.name),
                format!(
                    "is a built-in template; give yours another name with `base: {}`",
                    template.name
                ),
            );
        }
        if template.name == "default" && template.base.is_some() {
            v.push(
                format!("{prefix}.base"),
                format!("{:?}", template.base),
                "`default` is the root and has no base",
            );
        }
        let checked = CheckedTemplate::check(&template, &prefix, &mut v);
        v.finish()?;
        self.code_templates.insert(template.name.clone(), checked);
        Ok(self)
    }

    /// Whether a template called `name` was added in code.
    pub(crate) fn has_code_template(&self, name: &str) -> bool {
        self.code_templates.contains_key(name)
    }

    /// Registers code overrides for the breaker `name` (replacing earlier ones).
    pub fn set_overrides(&mut self, name: &str, overrides: Overrides) {
        self.code.insert(name.to_owned(), overrides);
    }

    /// Records what the code that declares the breaker `name` asks for (a
    /// macro's `template = ...` and arguments): the lowest part of the code
    /// layer, kept across reloads, below [`ConfigLayers::set_overrides`].
    pub fn declare(&mut self, name: &str, overrides: Overrides) {
        self.declared.insert(name.to_owned(), overrides);
    }

    /// Takes `other`'s code layer (declarations and run-time overrides) and
    /// the templates its code added that these layers lack, so a breaker
    /// declared with a `template!` constant keeps it across a replacement.
    pub(crate) fn keep_code_of(&mut self, other: &ConfigLayers) {
        self.code.clone_from(&other.code);
        self.declared.clone_from(&other.declared);
        for (name, template) in &other.code_templates {
            self.code_templates
                .entry(name.clone())
                .or_insert_with(|| template.clone());
        }
    }

    /// The breakers the code layer names (declared or given overrides).
    pub(crate) fn code_names(&self) -> impl Iterator<Item = &str> {
        self.declared.keys().chain(self.code.keys()).map(String::as_str)
    }

    /// The code overrides registered for `name`.
    pub fn overrides(&self, name: &str) -> Option<&Overrides> {
        self.code.get(name)
    }

    /// The core breaker configuration for `name`.
    pub fn resolve(&self, name: &str, overrides: &Overrides) -> Result<BreakerConfig, ConfigError> {
        Ok(self.resolve_settings(name, overrides)?.breaker_config())
    }

    /// Every setting for `name`: breaker, retry, bulkhead, timeout, health check.
    pub fn resolve_settings(&self, name: &str, overrides: &Overrides) -> Result<Settings, ConfigError> {
        Ok(self.explain(name, overrides)?.settings)
    }

    /// For every field of `name`, its value and the layer that set it.
    /// Fails like [`ConfigLayers::resolve`] when the result is invalid.
    pub fn explain(&self, name: &str, overrides: &Overrides) -> Result<Explanation, ConfigError> {
        let (map, (template, template_inferred), environment) = self.merge(name, overrides)?;
        let mut settings = Settings::default();
        for (path, (value, _)) in &map {
            settings.set(path, value);
        }
        settings.validate()?;
        let fields = settings
            .values()
            .into_iter()
            .map(|(path, value)| {
                let source = map.get(path).map_or(Source::Default, |(_, s)| s.clone());
                let shown = value
                    .as_ref()
                    .and_then(|v| field(path).map(|spec| super::schema::show(spec, v)));
                Explained {
                    path,
                    value: shown,
                    source,
                }
            })
            .collect();
        Ok(Explanation {
            name: name.to_owned(),
            template,
            template_inferred,
            environment,
            fields,
            settings,
        })
    }

    /// Resolves every breaker the file names and every template it defines,
    /// reporting all problems together, each under `instances.<name>`.
    pub fn check(&self) -> Result<(), ConfigError> {
        let mut v = Violations::new();
        for name in self.file.templates.keys() {
            if name != "default" && BUILTIN_TEMPLATES.contains(&name.as_str()) {
                v.push(
                    format!("templates.{name}"),
                    format!("{name:?}"),
                    format!("is a built-in template; give yours another name with `base: {name}`"),
                );
                continue;
            }
            if let Err(e) = self.template_chain(name) {
                v.extend(e);
            }
        }
        let mut names: Vec<&str> = self.file.instance_names().collect();
        // A file without instances is checked as it applies to any breaker,
        // and its problems are reported without an instance prefix.
        let anonymous = names.is_empty();
        if anonymous {
            names.push("");
        }
        unknown_variables(&*self.env, &mut v);
        let mut all: Vec<Violation> = v
            .finish()
            .err()
            .map(ConfigError::into_violations)
            .unwrap_or_default();
        for name in names {
            if let Err(e) = self.explain(name, &Overrides::new()) {
                for mut violation in e.into_violations() {
                    // A template's own problem is reported once, at the template.
                    if !anonymous && !violation.field.starts_with("templates.") {
                        violation.field = format!("instances.{name}.{}", violation.field);
                    }
                    if !all.contains(&violation) {
                        all.push(violation);
                    }
                }
            }
        }
        if all.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::new(all))
        }
    }

    /// Merges the layers for `name`: path → (value, source).
    #[allow(clippy::type_complexity)]
    fn merge(
        &self,
        name: &str,
        overrides: &Overrides,
    ) -> Result<
        (
            BTreeMap<&'static str, (Value, Source)>,
            (String, bool),
            Environment,
        ),
        ConfigError,
    > {
        let mut v = Violations::new();
        let mut code = self
            .declared
            .get(name)
            .cloned()
            .unwrap_or_default()
            .merged(overrides);
        if let Some(registered) = self.code.get(name) {
            code = code.merged(registered);
        }
        let mut map: BTreeMap<&'static str, (Value, Source)> = BTreeMap::new();

        // The file's chain: configs.default, the base_config chain root first, the instance.
        let mut file_bodies: Vec<&Body> = Vec::new();
        if let Some(d) = self.file.configs.get("default") {
            file_bodies.push(d);
        }
        if let Some(instance) = self.file.instances.get(name) {
            match chain(&instance.base, "base_config", "config", &|n| {
                self.file.configs.get(n)
            }) {
                Ok(bases) => {
                    file_bodies.extend(bases.into_iter().filter(|(n, _)| n != "default").map(|(_, b)| b))
                }
                Err((field, value, allowed)) => v.push(field, value, allowed),
            }
            file_bodies.push(instance);
        }

        // The template: code, then the nearest file body that names one, then
        // (when switched on) the breaker's name, then `default`.
        let named = code
            .template
            .clone()
            .or_else(|| file_bodies.iter().rev().find_map(|b| b.template.clone()));
        let inferred = match named {
            None if self.infer_template => infer_preset(name),
            _ => None,
        };
        let template = named
            .or_else(|| inferred.map(str::to_owned))
            .unwrap_or_else(|| "default".to_owned());
        let environment = code.environment.unwrap_or(self.environment);
        for (path, value) in environment.values() {
            if let Some(spec) = field(path) {
                map.insert(spec.path, (value, Source::Environment(environment)));
            }
        }

        // Root first; each template's values for this environment beat its others.
        match self.template_chain(&template) {
            Ok(chain) => {
                for t in chain {
                    for e in t.entries {
                        map.insert(e.path, (e.value, Source::Template(t.name.clone())));
                    }
                    let scoped = t.environments.into_iter().filter(|(env, _)| *env == environment);
                    for e in scoped.flat_map(|(_, entries)| entries) {
                        let source = Source::TemplateEnvironment(t.name.clone(), environment);
                        map.insert(e.path, (e.value, source));
                    }
                }
            }
            Err(e) => v.extend(e),
        }

        for body in file_bodies {
            for e in &body.entries {
                map.insert(e.path, (e.value.clone(), Source::File(e.origin.clone())));
            }
        }

        if self.legacy_variables {
            for (spec, var, text) in legacy_lookup(&*self.env) {
                let vars = [var.to_owned()];
                let checked = text
                    .map_err(|shown| (shown, "must be true or false".to_owned()))
                    .and_then(|text| {
                        coerce(spec, &Value::Text(text)).map_err(|rej| (rej.shown, rej.allowed))
                    });
                match checked {
                    Ok(value) => {
                        map.insert(spec.path, (value, Source::EnvVar(var.to_owned())));
                    }
                    Err((shown, allowed)) => v.push(spec.path, shown_with_vars(shown, &vars), allowed),
                }
            }
        }
        let per_breaker = format!("{PREFIX}{}_", env_name(name));
        for prefix in [PREFIX, per_breaker.as_str()] {
            for (spec, var, raw) in lookup(&*self.env, prefix) {
                // An empty variable is unset (what `FOO=` means to most deployment tools).
                if raw.trim().is_empty() {
                    continue;
                }
                match coerce(spec, &Value::Text(raw)) {
                    Ok(value) => {
                        map.insert(spec.path, (value, Source::EnvVar(var)));
                    }
                    Err(rej) => v.push(spec.path, shown_with_vars(rej.shown, &[var]), rej.allowed),
                }
            }
        }

        for Entry { path, value, .. } in check_values(&code.values, "", &mut v) {
            map.insert(path, (value, Source::Code));
        }
        v.finish()?;
        Ok((map, (template, inferred.is_some()), environment))
    }
}

/// Reports every `CIRCUIT_BREAKER_*` variable that matches no field, with
/// the nearest name that would, so a misspelt variable is an error rather
/// than a setting that silently never applies.
fn unknown_variables(env: &dyn EnvSource, v: &mut Violations) {
    for (var, allowed) in unknown(env) {
        // An empty variable is unset, here as for known fields.
        let shown = match env.var(&var) {
            Some(raw) if raw.trim().is_empty() => continue,
            Some(_) if is_secret_name(&var) => "<redacted>".to_owned(),
            Some(raw) => format!("{raw:?}"),
            None => continue,
        };
        v.push(var, shown, allowed);
    }
}
