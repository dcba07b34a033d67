//! Targets from configuration: every breaker whose resolved settings switch
//! `health_check` on becomes a target with its own timing and thresholds,
//! checked by its `health_check.url` or by the function its
//! `health_check.check` names, so a template's or file's `health_check`
//! section acts instead of being read and forgotten.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;

use cb_core::config::{HealthCheckSettings, LiveConfig, Overrides};
use cb_core::error::Violations;
use cb_core::{CircuitBreaker, Registry};

use super::{CheckFn, HealthConfig, HealthMonitorBuilder, Target, check_fn};

/// What [`HealthMonitorBuilder::targets_from_config`] found and
/// [`HealthMonitorBuilder::check_fn`] registered, turned into targets by
/// `build` (so functions may be registered after the configuration is read).
#[derive(Default)]
pub(super) struct Configured {
    functions: Vec<(String, CheckFn)>,
    targets: Vec<(CircuitBreaker, HealthCheckSettings)>,
    #[cfg(feature = "http")]
    client: Option<reqwest::Client>,
}

impl fmt::Debug for Configured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let functions: Vec<&str> = self.functions.iter().map(|(n, _)| n.as_str()).collect();
        let targets: Vec<&str> = self.targets.iter().map(|(b, _)| b.name()).collect();
        f.debug_struct("Configured")
            .field("functions", &functions)
            .field("targets", &targets)
            .finish()
    }
}

impl HealthMonitorBuilder {
    /// Registers the check function `name`, for the breakers whose
    /// configuration says `health_check.check: <name>` (see
    /// [`targets_from_config`](Self::targets_from_config)). `Ok` is healthy;
    /// an `Err` is reported with its `Display`. A name registered twice is
    /// an error at `build`.
    pub fn check_fn<F, Fut, E>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display,
    {
        let name = name.into();
        if self.configured.functions.iter().any(|(n, _)| *n == name) {
            self.violations.push(
                format!("health.check_fn.{name}"),
                format_args!("{name:?}"),
                "is registered twice; register each check function once",
            );
        } else {
            self.configured.functions.push((name, check_fn(check)));
        }
        self
    }

    /// The client the checks of configured `health_check.url`s use (default:
    /// `reqwest::Client::new()`).
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.configured.client = Some(client);
        self
    }

    /// Adds a target for every breaker whose resolved configuration (through
    /// `live`'s layers: template, environment, file, variables, code) has
    /// `health_check.enabled`, with that section's own interval, timeout and
    /// thresholds; the builder's own [`config`](Self::config) stays the
    /// timing of the targets added by hand.
    ///
    /// The breakers considered are those in `registry`, every instance
    /// `live`'s file names, and, when `registry` is
    /// [`Registry::global`] (where the macros put theirs), every function
    /// declared with `#[circuit_breaker]`. One not created yet is created
    /// now, as its first use would create it.
    ///
    /// Each target is checked by an HTTP `GET` of `health_check.url` (cb-tiers'
    /// `http` feature) or by the function registered with
    /// [`check_fn`](Self::check_fn) under the name `health_check.check`.
    /// `build` reports, together: a configuration that does not resolve, a
    /// section with neither or both of `url` and `check`, a `check` naming
    /// no registered function (listing those registered), and a `url`
    /// without the `http` feature.
    ///
    /// ```
    /// use cb_core::config::{ConfigLayers, Environment, LiveConfig, Overrides, Template};
    /// use cb_core::{Registry, State};
    /// use cb_tiers::health::HealthMonitor;
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let registry = Registry::new();
    /// let live = LiveConfig::new(ConfigLayers::new(Environment::Production));
    /// // `database` checks every 15 s with a 3 s deadline; say how.
    /// live.add_template(Template::new("orders_db").base("database").set("health_check.check", "db_ping"))?;
    /// let orders = live.breaker(&registry, "orders", Overrides::new().template("orders_db"))?;
    ///
    /// let monitor = HealthMonitor::builder()
    ///     .check_fn("db_ping", || async { Err::<(), _>("connection refused") })
    ///     .targets_from_config(&live, &registry)
    ///     .build()?;
    /// assert_eq!(monitor.target_config("orders").unwrap().interval, Duration::from_secs(15));
    ///
    /// let _running = monitor.start()?;
    /// tokio::time::sleep(Duration::from_secs(31)).await; // checks at 0, 15 and 30 s
    /// assert_eq!(orders.state(), State::Open); // 3 failures in a row
    /// # Ok(()) }
    /// ```
    pub fn targets_from_config(mut self, live: &LiveConfig, registry: &Registry) -> Self {
        let mut names: BTreeSet<String> = registry.names().into_iter().collect();
        names.extend(live.layers().file().instance_names().map(str::to_owned));
        let global = std::ptr::eq(registry, Registry::global());
        let declared = if global {
            cb_core::registry::declared()
        } else {
            Vec::new()
        };
        names.extend(declared.iter().map(|d| d.name.to_owned()));
        for name in names {
            let settings = match live.explain(&name) {
                Ok(why) => why.settings.health_check,
                Err(e) => {
                    for violation in e.into_violations() {
                        self.violations.push(
                            format!("{name}.{}", violation.field),
                            violation.value,
                            violation.allowed,
                        );
                    }
                    continue;
                }
            };
            if !settings.enabled {
                continue;
            }
            let breaker = match registry.get(&name) {
                Some(b) => Ok(b),
                None => match declared.iter().find(|d| d.name == name) {
                    Some(d) => Ok(d.breaker()),
                    None => live.breaker(registry, name.clone(), Overrides::new()),
                },
            };
            match breaker {
                Ok(b) => self.configured.targets.push((b, settings)),
                Err(e) => self.violations.extend(e),
            }
        }
        self
    }
}

impl Configured {
    /// The configured targets with their checks; what is missing or wrong
    /// goes to `v`.
    pub(super) fn into_targets(mut self, v: &mut Violations) -> Vec<Target> {
        let mut out = Vec::new();
        for (breaker, s) in std::mem::take(&mut self.targets) {
            let at = |field: &str| format!("health.targets.{}.health_check.{field}", breaker.name());
            let check = match (&s.url, &s.check) {
                (None, None) => {
                    v.push(
                        at("enabled"),
                        "true",
                        "a health check needs `health_check.url` (a URL to GET) or \
                         `health_check.check` (a function registered with `check_fn`)",
                    );
                    continue;
                }
                (Some(_), Some(_)) => {
                    v.push(
                        at("check"),
                        format_args!("{:?}", s.check.as_deref().unwrap_or_default()),
                        "set one of `health_check.url` and `health_check.check`, not both",
                    );
                    continue;
                }
                (None, Some(name)) => match self.functions.iter().find(|(n, _)| n == name) {
                    Some((_, f)) => f.clone(),
                    None => {
                        let known: Vec<String> =
                            self.functions.iter().map(|(n, _)| format!("`{n}`")).collect();
                        let allowed = if known.is_empty() {
                            "names no check function: none is registered (`HealthMonitorBuilder::check_fn`)"
                                .to_owned()
                        } else {
                            format!(
                                "names no registered check function; registered: {}",
                                known.join(", ")
                            )
                        };
                        v.push(at("check"), format_args!("{name:?}"), allowed);
                        continue;
                    }
                },
                (Some(url), None) => match self.url_check(url) {
                    Ok(f) => f,
                    Err(allowed) => {
                        v.push(at("url"), format_args!("{url:?}"), allowed);
                        continue;
                    }
                },
            };
            out.push(Target {
                breaker,
                check,
                config: Some(HealthConfig::from(&s)),
            });
        }
        out
    }

    #[cfg(feature = "http")]
    fn url_check(&self, url: &str) -> Result<CheckFn, String> {
        let client = self.client.clone().unwrap_or_default();
        super::http_check_fn(client, url)
    }

    #[cfg(not(feature = "http"))]
    fn url_check(&self, _url: &str) -> Result<CheckFn, String> {
        Err(
            "an HTTP health check needs cb-tiers' `http` feature; enable it, or use \
             `health_check.check` with a function registered by `check_fn`"
                .to_owned(),
        )
    }
}
