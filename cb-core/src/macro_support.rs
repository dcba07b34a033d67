//! What `cb-macros` expansions call at run time (re-exported through
//! `__private`). Not public API.

use crate::breaker::CircuitBreaker;
use crate::config::{ConfigLayers, Environment, LiveConfig, NoEnv, Overrides, StaticTemplate};
use crate::registry::Registry;

/// The breaker `name` of the global registry, created on first use through
/// every configuration layer ([`LiveConfig::global`]) with `declared` (the
/// macro's arguments) as the code layer.
///
/// Never panics and never fails the call: if the layers cannot resolve it
/// (a bad environment variable or file), the error is logged (`tracing`,
/// level error), kept for [`crate::registry::config_errors`], and the breaker
/// is built from `declared` over the built-in layers only (the production
/// environment, no file, no variables), which the macro checked when the
/// crate compiled. Later updates, reloads or `install_global` re-resolve it.
pub fn resolve_breaker(
    name: &'static str,
    declared: Overrides,
    template: Option<&StaticTemplate>,
) -> CircuitBreaker {
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
            tracing::error!(
                breaker = name,
                error = %error,
                "invalid circuit-breaker configuration; using the declared configuration over the built-in defaults"
            );
            crate::registry::record_config_error(name, error);
            safe_breaker(registry, name, declared, template)
        }
    }
}

fn safe_breaker(
    registry: &Registry,
    name: &'static str,
    declared: Overrides,
    template: Option<&StaticTemplate>,
) -> CircuitBreaker {
    let mut layers = ConfigLayers::new(Environment::default()).with_env_source(NoEnv);
    if let Some(t) = template {
        let _ = layers.add_template(t.to_template());
    }
    let config = layers.resolve(name, &declared).unwrap_or_default();
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

/// Which per-attempt stages a function opted into (`#[retry]`, `#[bulkhead]`,
/// `#[timeout]`); their values come from the resolved configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageSpec {
    /// `#[retry(...)]`.
    pub retry: bool,
    /// `#[retry(retry_rejections = true)]`.
    pub retry_rejections: bool,
    /// `#[bulkhead(...)]`.
    pub bulkhead: bool,
    /// `#[timeout(...)]` / `call_timeout = ...`.
    pub call_timeout: bool,
}

impl StageSpec {
    /// The stages, outermost first, as [`crate::registry::Declared::policies`] lists them.
    pub const fn names(self) -> &'static [&'static str] {
        match (self.retry, self.call_timeout, self.bulkhead) {
            (true, true, true) => &["retry", "breaker", "timeout", "bulkhead"],
            (true, true, false) => &["retry", "breaker", "timeout"],
            (true, false, true) => &["retry", "breaker", "bulkhead"],
            (true, false, false) => &["retry", "breaker"],
            (false, true, true) => &["breaker", "timeout", "bulkhead"],
            (false, true, false) => &["breaker", "timeout"],
            (false, false, true) => &["breaker", "bulkhead"],
            (false, false, false) => &["breaker"],
        }
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
) -> crate::Pipeline<T, E>
where
    C: crate::Classifier<T, E> + Send + Sync + 'static,
{
    let name = breaker.name_handle().clone();
    let settings = LiveConfig::global()
        .layers()
        .resolve_settings(&name, &Overrides::new())
        .or_else(|_| {
            let mut layers = ConfigLayers::new(Environment::default()).with_env_source(NoEnv);
            if let Some(t) = template {
                let _ = layers.add_template(t.to_template());
            }
            layers.resolve_settings(&name, &declared)
        })
        .unwrap_or_default();
    let mut b = crate::Pipeline::builder(name.clone())
        .breaker(breaker)
        .classifier(classifier);
    if stages.retry {
        let r = &settings.retry;
        match r.policy_retrying_rejections(stages.retry_rejections) {
            Ok(p) => b = b.retry(p),
            Err(error) => stage_error(&name, error, "invalid retry settings; retries are off"),
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
    if stages.call_timeout {
        b = b.timeout(settings.call_timeout.duration);
    }
    if stages.bulkhead {
        match settings.bulkhead.shared_by_owner(&name) {
            Ok(bh) => b = b.bulkhead(bh),
            Err(error) => stage_error(&name, error, "invalid bulkhead settings; the bulkhead is off"),
        }
    }
    if let Some(f) = rescue {
        b = b.rescue(crate::Rescue::from_fn(f));
    }
    match b.build() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(breaker = %name, error = %e, "invalid pipeline; calls go through the breaker only");
            let breaker = LiveConfig::global()
                .breaker(Registry::global(), name.clone(), Overrides::new())
                .unwrap_or_else(|_| {
                    safe_breaker(Registry::global(), "cb-invalid-pipeline", Overrides::new(), None)
                });
            crate::Pipeline::builder(name)
                .breaker(breaker)
                .build()
                .unwrap_or_else(|_| unreachable_pipeline())
        }
    }
}

/// A stage the settings cannot build: reported like a breaker's bad
/// configuration (a log line and [`crate::registry::config_errors`]), and
/// the function runs without that stage rather than failing its calls.
#[cold]
fn stage_error(name: &str, error: crate::ConfigError, what: &'static str) {
    tracing::error!(breaker = %name, error = %error, "{what}");
    crate::registry::record_config_error(name, error);
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
/// rejections, failures and timeouts, not for errors the classifier
/// excludes, at most once; if it fails too, both causes are kept (R59).
pub fn run_rescue<T, E, C>(
    result: Result<T, crate::Error<E>>,
    classifier: &C,
    rescue: impl FnOnce(&crate::rescue::Cause<'_, E>) -> Result<T, E>,
) -> Result<T, crate::Error<E>>
where
    C: crate::Classifier<std::convert::Infallible, E>,
{
    let err = match result {
        Ok(v) => return Ok(v),
        Err(crate::Error::Inner(inner)) => {
            let (outcome, inner) = crate::classify::error_outcome(classifier, inner);
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
