//! What `cb-macros` expansions call at run time (re-exported through
//! `__private`). Not public API.

use crate::breaker::CircuitBreaker;
use crate::config::{ConfigLayers, Environment, LiveConfig, NoEnv, Overrides, StaticTemplate};
use crate::registry::Registry;

pub(crate) mod stage;

pub use stage::Stage;

/// The breaker `name` of the global registry, created on first use through
/// every configuration layer ([`LiveConfig::global`]) with `declared` (the
/// macro's arguments) as the code layer.
///
/// Never panics and never fails the call: if the layers cannot resolve it
/// (a bad `CB_ENVIRONMENT`, variable or file), the error is logged once
/// (`tracing`, level error), kept for [`crate::registry::config_errors`],
/// and the breaker is built from `declared` and its template over the
/// built-in layers only (the production environment, no file, no
/// variables), which the macro checked when the crate compiled; never from
/// the library defaults alone. The declaration is recorded in the layers
/// all the same, so a repair ([`LiveConfig::update`], a reload,
/// [`install_global`](crate::config::install_global)) re-resolves the
/// breaker through every layer with its template and arguments.
///
/// When several functions declare `name`, the first declaration (by file,
/// then line) gives the settings of all of them; differing ones are
/// reported ([`crate::registry::config_errors`] and a warning) once.
pub fn resolve_breaker(
    name: &'static str,
    declared: Overrides,
    template: Option<&StaticTemplate>,
) -> CircuitBreaker {
    let (declared, template) = declaration(name, declared, template);
    let live = LiveConfig::global();
    let registry = Registry::global();
    if let Some(t) = template
        && let Err(e) = live.add_template(t.to_template())
    {
        tracing::error!(breaker = name, template = t.name, error = %e, "could not add the template");
    }
    match live.breaker(registry, name, declared.clone()) {
        Ok(b) => b,
        Err(error) => {
            let shown = error.to_string();
            if crate::registry::record_config_error(name, error) {
                tracing::error!(
                    breaker = name,
                    error = %shown,
                    "invalid circuit-breaker configuration; using the declared configuration over the built-in defaults"
                );
            }
            safe_breaker(registry, name, declared, template)
        }
    }
}

/// What the function declaring `name` asks for: `declared` and `template`,
/// unless another function declares the same name first (by file, then
/// line), whose declaration then wins for both.
fn declaration<'a>(
    name: &str,
    declared: Overrides,
    template: Option<&'a StaticTemplate>,
) -> (Overrides, Option<&'a StaticTemplate>) {
    match crate::registry::declaration_of(name) {
        Some((code, code_template)) => (code, code_template),
        None => (declared, template),
    }
}

/// The layers a macro breaker falls back to when the configuration cannot
/// resolve it: the built-in ones (production, no file, no variables) and
/// its template, under its declared, compile-time-checked arguments.
fn fallback_layers(template: Option<&StaticTemplate>) -> ConfigLayers {
    let mut layers = ConfigLayers::new(Environment::default()).with_env_source(NoEnv);
    if let Some(t) = template {
        let _ = layers.add_template(t.to_template());
    }
    layers
}

fn safe_breaker(
    registry: &Registry,
    name: &'static str,
    declared: Overrides,
    template: Option<&StaticTemplate>,
) -> CircuitBreaker {
    let config = fallback_layers(template)
        .resolve(name, &declared)
        .unwrap_or_default();
    match registry.get_or_create(name, |b| b.config(config)) {
        Ok(b) => b,
        // The default configuration is valid (a tested constant); this arm
        // only exists so that nothing here can panic.
        Err(_) => registry
            .get_or_create(name, |b| b)
            .unwrap_or_else(|_| unreachable_breaker(name)),
    }
}

#[cold]
fn unreachable_breaker(name: &'static str) -> CircuitBreaker {
    // `BreakerConfig::default()` always validates (see breaker::config tests).
    #[allow(clippy::expect_used)]
    CircuitBreaker::builder(name)
        .build()
        .expect("the default breaker configuration is valid")
}

/// The per-attempt stages of a macro function.
#[derive(Debug, Clone, Copy)]
pub struct StageSpec {
    /// The retry.
    pub retry: Stage,
    /// `#[retry(retry_rejections = true)]`.
    pub retry_rejections: bool,
    /// The bulkhead.
    pub bulkhead: Stage,
    /// The call timeout.
    pub call_timeout: Stage,
    /// Whether the body can run more than once: plain argument names whose
    /// types are all `Clone`, and no `self` taken by value. A retry its
    /// settings enable on a function that cannot is left out and reported.
    pub replayable: bool,
}

impl StageSpec {
    /// The stages, outermost first, as [`crate::registry::Declared::policies`] lists them.
    pub const fn names(retry: bool, call_timeout: bool, bulkhead: bool) -> &'static [&'static str] {
        stage::names(retry, call_timeout, bulkhead)
    }

    /// What these stages run under `settings` (see [`resolved`]).
    pub(crate) fn running(&self, settings: &crate::config::Settings, retry_set: bool) -> stage::Running {
        stage::decide(
            self.retry,
            self.call_timeout,
            self.bulkhead,
            self.replayable,
            settings,
            retry_set,
        )
    }
}

/// One argument of a function whose retry is decided at run time, and
/// whether the pipeline retries. Each attempt gets a clone when the type is
/// `Clone` and another attempt may follow ([`ReplayClone`]), else the value
/// itself, once ([`ReplayOnce`]); the method is chosen by autoref
/// (`(&mut Replay(&mut slot, again)).__cb_next()`), so the expansion
/// compiles for any argument type, and a function that does not retry moves
/// its arguments as a plain call does.
#[derive(Debug)]
pub struct Replay<'a, T>(pub &'a mut Option<T>, pub bool);

/// [`Replay`] for `Clone` arguments.
pub trait ReplayClone<T> {
    /// Whether the argument can be given to any number of attempts.
    fn __cb_replayable(&mut self) -> bool;
    /// The next attempt's argument.
    fn __cb_next(&mut self) -> Option<T>;
}

impl<T: Clone> ReplayClone<T> for Replay<'_, T> {
    fn __cb_replayable(&mut self) -> bool {
        true
    }
    fn __cb_next(&mut self) -> Option<T> {
        if self.1 { self.0.clone() } else { self.0.take() }
    }
}

/// [`Replay`] for other arguments: only one attempt gets it.
pub trait ReplayOnce<T> {
    /// Whether the argument can be given to any number of attempts.
    fn __cb_replayable(&mut self) -> bool;
    /// The argument, the first time.
    fn __cb_next(&mut self) -> Option<T>;
}

impl<T> ReplayOnce<T> for &mut Replay<'_, T> {
    fn __cb_replayable(&mut self) -> bool {
        false
    }
    fn __cb_next(&mut self) -> Option<T> {
        self.0.take()
    }
}

/// A `rescue = path` function.
pub(crate) type RescueFn<T, E> = fn(&crate::rescue::Cause<'_, E>) -> Result<T, E>;

/// The pipeline of a function with per-attempt stages, in the R61 order:
/// rescue ∘ retry ∘ breaker ∘ timeout ∘ bulkhead. Stage values come from
/// the breaker's resolved settings (template, environment, file, variables,
/// the macro's arguments); on a configuration error, from the declared
/// values over the built-in layers, as for the breaker. The retry policy
/// and the bulkhead are built as a file's sections build them
/// ([`RetrySettings::policy`](crate::config::RetrySettings::policy),
/// [`BulkheadSettings::bulkhead`](crate::config::BulkheadSettings::bulkhead));
/// a stage that cannot be built is left out and reported like a bad
/// breaker configuration.
///
/// Which stages run is decided here, once, at the function's first call
/// (the decision [`crate::registry::Declared::stages`] also takes before
/// it): a later update, reload or `install_global` changes the breaker's
/// settings, but neither adds nor removes a stage, nor changes a stage's
/// values (retry policy, call timeout, bulkhead), which were built then.
/// A function first called while the configuration was broken keeps the
/// stages its declaration and template give over the built-in layers.
#[allow(clippy::too_many_arguments)]
pub fn build_pipeline<T: 'static, E: 'static, C>(
    breaker: CircuitBreaker,
    declared: Overrides,
    template: Option<&StaticTemplate>,
    stages: StageSpec,
    classifier: C,
    retryable: Option<fn(&E) -> bool>,
    retry_after: Option<fn(&E) -> Option<std::time::Duration>>,
    rescue: Option<RescueFn<T, E>>,
) -> Staged<T, E>
where
    C: crate::Classifier<T, E> + Send + Sync + 'static,
{
    let name = breaker.name_handle().clone();
    let (declared, template) = declaration(&name, declared, template);
    let (settings, retry_set) = resolved(&name, &declared, template);
    let mut b = crate::Pipeline::builder(name.clone())
        .breaker(breaker)
        .classifier(classifier);
    let decided = stages.running(&settings, retry_set);
    if decided.retry_unreplayable {
        not_replayable(&name, settings.retry.max_attempts);
    }
    // What runs: (retry, timeout, bulkhead), for `registry::declared`.
    let mut runs = (decided.retry, false, false);
    if runs.0 {
        let r = &settings.retry;
        match r.policy_retrying_rejections(stages.retry_rejections) {
            Ok(p) => b = b.retry(p),
            Err(error) => {
                runs.0 = false;
                stage_error(&name, error, "invalid retry settings; retries are off");
            }
        }
        if let Some(f) = retryable {
            b = b.retry_if(move |e: &crate::Error<E>| match e {
                crate::Error::Inner(inner) => f(inner),
                _ => true,
            });
        }
        if let Some(f) = retry_after.filter(|_| r.respect_retry_after) {
            b = b.retry_after_hint(f);
        }
    }
    if decided.call_timeout {
        runs.1 = true;
        b = b.timeout(settings.call_timeout.duration);
    }
    if decided.bulkhead {
        match settings.bulkhead.shared_by_owner(&name) {
            Ok(bh) => {
                runs.2 = true;
                b = b.bulkhead(bh);
            }
            Err(error) => stage_error(&name, error, "invalid bulkhead settings; the bulkhead is off"),
        }
    }
    if let Some(f) = rescue {
        b = b.rescue(crate::Rescue::from_fn(f));
    }
    let pipeline = match b.build() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(breaker = %name, error = %e, "invalid pipeline; calls go through the breaker only");
            runs = (false, false, false);
            let breaker = LiveConfig::global()
                .breaker(Registry::global(), name.clone(), Overrides::new())
                .unwrap_or_else(|_| {
                    safe_breaker(Registry::global(), "cb-invalid-pipeline", Overrides::new(), None)
                });
            crate::Pipeline::builder(name.clone())
                .breaker(breaker)
                .build()
                .unwrap_or_else(|_| unreachable_pipeline())
        }
    };
    crate::registry::record_policies(&name, StageSpec::names(runs.0, runs.1, runs.2));
    Staged {
        pipeline,
        retries: runs.0,
    }
}

/// The settings of `name` through every layer, and whether a layer above the
/// built-in defaults sets `retry.max_attempts`: the default (3) applies to
/// `#[retry]` and to file sections, but a function that never asked for
/// retries gets them only when its template, file, variables or arguments
/// say so. On a configuration error, the declared values and template over
/// the built-in layers, as for the breaker. Before the function's first
/// call this is what that call will resolve (its template and arguments are
/// given here, not yet recorded in the layers).
pub(crate) fn resolved(
    name: &str,
    declared: &Overrides,
    template: Option<&StaticTemplate>,
) -> (crate::config::Settings, bool) {
    let live = LiveConfig::global();
    let explained = if live.is_broken() {
        fallback_layers(template).explain(name, declared)
    } else {
        let mut layers = live.layers();
        if let Some(t) = template
            && !layers.has_code_template(t.name)
        {
            let _ = layers.add_template(t.to_template());
        }
        layers
            .explain(name, declared)
            .or_else(|_| fallback_layers(template).explain(name, declared))
    };
    match explained {
        Ok(e) => {
            let set = e
                .get("retry.max_attempts")
                .is_some_and(|f| !matches!(f.source, crate::config::Source::Default));
            (e.settings, set)
        }
        Err(_) => (crate::config::Settings::default(), false),
    }
}

/// What a function's first call will run, for [`crate::registry::Declared::stages`]
/// before that call: the pipeline's own decision over the same resolution.
pub(crate) fn planned_stages(
    name: &str,
    declared: Overrides,
    template: Option<&StaticTemplate>,
    stages: &StageSpec,
) -> &'static [&'static str] {
    let (declared, template) = declaration(name, declared, template);
    let (settings, retry_set) = resolved(name, &declared, template);
    stages.running(&settings, retry_set).names()
}

/// A retry the configuration enables on a function whose body cannot run
/// twice: the other stages apply, and this is said once.
#[cold]
fn not_replayable(name: &str, max_attempts: u32) {
    let mut v = crate::error::Violations::new();
    v.push(
        "retry.max_attempts",
        max_attempts,
        "needs a function that can run more than once (plain argument names of `Clone` types, \
         no `self` by value); its other stages apply without retries; write `retry = false` to say so",
    );
    if let Err(error) = v.finish() {
        stage_error(name, error, "the function cannot be retried; retries are off");
    }
}

/// A macro function's pipeline, and whether it retries: arguments are
/// cloned for another attempt only then, so a function whose configuration
/// enables no retry moves its arguments in as a plain call does.
#[derive(Debug)]
pub struct Staged<T, E> {
    pipeline: crate::Pipeline<T, E>,
    retries: bool,
}

impl<T, E> Staged<T, E> {
    /// The pipeline the calls go through.
    pub fn pipeline(&self) -> &crate::Pipeline<T, E> {
        &self.pipeline
    }
    /// Whether a call may make more than one attempt.
    pub fn retries(&self) -> bool {
        self.retries
    }
}

/// A function whose shape cannot carry per-attempt stages (a blocking `fn`,
/// a generic one, an `#[async_trait]` method, a tier chain): if its resolved
/// configuration enables any, they are reported once (a log line and
/// [`crate::registry::config_errors`]) instead of silently doing nothing.
#[cold]
pub fn report_unstaged(name: &str, declared: Overrides, stages: StageSpec, why: &'static str) {
    let (declared, template) = declaration(name, declared, None);
    let (settings, retry_set) = resolved(name, &declared, template);
    // Every stage the configuration enables, replayable or not.
    let enabled = StageSpec {
        replayable: true,
        ..stages
    }
    .running(&settings, retry_set);
    let mut v = crate::error::Violations::new();
    if enabled.retry {
        v.push("retry.max_attempts", settings.retry.max_attempts, why);
    }
    if enabled.call_timeout {
        v.push("call_timeout.enabled", true, why);
    }
    if enabled.bulkhead {
        v.push("bulkhead.enabled", true, why);
    }
    if let Err(error) = v.finish() {
        stage_error(
            name,
            error,
            "stages the configuration enables cannot run on this function; they are off",
        );
    }
}

/// A stage the settings cannot build: reported like a breaker's bad
/// configuration (a log line and [`crate::registry::config_errors`]), and
/// the function runs without that stage rather than failing its calls.
#[cold]
fn stage_error(name: &str, error: crate::ConfigError, what: &'static str) {
    let shown = error.to_string();
    if crate::registry::record_config_error(name, error) {
        tracing::error!(breaker = %name, error = %shown, "{what}");
    }
}

#[cold]
fn unreachable_pipeline<T: 'static, E: 'static>() -> crate::Pipeline<T, E> {
    // A pipeline with no stage always builds.
    #[allow(clippy::expect_used)]
    crate::Pipeline::builder("cb")
        .build()
        .expect("an empty pipeline is valid")
}

/// Applies a `rescue = path` to a call's result (R58–R60): it runs for
/// rejections, failures and timeouts, not for errors the classifier (or the
/// breaker's configured `classify` lists) excludes, at most once; if it
/// fails too, both causes are kept (R59).
pub fn run_rescue<T, E, C>(
    result: Result<T, crate::Error<E>>,
    breaker: &CircuitBreaker,
    classifier: &C,
    rescue: impl FnOnce(&crate::rescue::Cause<'_, E>) -> Result<T, E>,
) -> Result<T, crate::Error<E>>
where
    C: crate::Classifier<std::convert::Infallible, E>,
{
    let err = match result {
        Ok(v) => return Ok(v),
        Err(crate::Error::Inner(inner)) => {
            let (outcome, inner) =
                crate::classify::error_outcome(inner, |r: &Result<std::convert::Infallible, E>| {
                    breaker.classify(r, classifier)
                });
            if outcome == crate::Outcome::Excluded {
                return Err(crate::Error::Inner(inner));
            }
            crate::Error::Inner(inner)
        }
        Err(other) => other,
    };
    match rescue(&crate::rescue::Cause::new(&err, 1)) {
        Ok(v) => Ok(v),
        Err(rescue) => Err(crate::Error::RescueFailed(crate::RescueError::new(rescue, err))),
    }
}
