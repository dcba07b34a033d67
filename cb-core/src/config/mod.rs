//! Configuration: templates × environments, files, environment variables,
//! code overrides, validation, `explain`, and live updates.
//!
//! A breaker's configuration is resolved **per field** through six layers,
//! lowest first (see [`ConfigLayers`]):
//!
//! 1. built-in defaults ([`Settings::default`]);
//! 2. the environment's generic profile ([`Environment`], chosen by
//!    `CB_ENVIRONMENT`, else the legacy `ENVIRONMENT` variable, else
//!    **production**), for what the templates leave unset;
//! 3. templates ([`Template`]: `default`, then `ai_provider`, `database`,
//!    `mcp_server`, `external_api` or your own, with their bases), each with
//!    its own values for the environment;
//! 4. the file ([`ConfigFile`], YAML or TOML: `configs.default`, shared
//!    named configs via `base_config`, then the instance);
//! 5. environment variables: `CIRCUIT_BREAKER_<FIELD>` for every breaker,
//!    then `CIRCUIT_BREAKER_<NAME>_<FIELD>` for one;
//! 6. code ([`Overrides`]: macro arguments, then run-time updates).
//!
//! [`ConfigLayers::explain`] shows each field's value and the layer that set it.
//! [`LiveConfig`] is the [`Registry`](crate::Registry)'s source and applies
//! run-time updates and file reloads without losing breaker state.
//!
//! ```
//! use cb_core::config::{ConfigLayers, Environment, Overrides};
//! use std::collections::HashMap;
//! use std::time::Duration;
//!
//! let vars = HashMap::from([("CIRCUIT_BREAKER_CLAUDE_OPEN_DURATION".to_string(), "45s".to_string())]);
//! let layers = ConfigLayers::new(Environment::Production).with_env_source(vars);
//! let cfg = layers.resolve("claude", &Overrides::new().template("ai_provider"))?;
//! assert_eq!(cfg.failure_threshold, Some(3));              // production
//! assert_eq!(cfg.failure_rate_threshold, Some(0.4));       // production
//! assert_eq!(cfg.open_duration, Duration::from_secs(45));  // the variable
//! assert_eq!(cfg.slow_call_rate_threshold, Some(0.8));     // ai_provider
//! # Ok::<(), cb_core::ConfigError>(())
//! ```
//!
//! # Units and names
//!
//! Every field has one name, the same in code (builder methods,
//! [`BreakerConfig`](crate::BreakerConfig) and [`Settings`] members), files,
//! variables (`CIRCUIT_BREAKER_<NAME>`) and macro arguments.
//!
//! - **Rates are fractions** in (0, 1] everywhere, in code as in files:
//!   `failure_rate_threshold: 0.4` and `.failure_rate_threshold(0.4)` both
//!   mean 40 %. `1.5` (or `40`) is rejected with the allowed range.
//! - **`open_duration`** is how long the circuit stays open. Files and
//!   variables also accept its older names: `recovery_timeout`, `timeout`
//!   (the Python services' `timeout: 60.0 # Seconds before attempting
//!   reset`) and pybreaker's `reset_timeout`; likewise
//!   `recovery_timeout_multiplier` and `max_recovery_timeout` for
//!   `open_duration_multiplier` and `max_open_duration`. The per-call
//!   deadline is the `call_timeout` section.
//! - **Durations** are numbers of seconds (`30`, `0.5`) or strings
//!   (`"500ms"`, `"30s"`, `"2m"`, `"1h30m"`).
//! - Files and variables accept the Python services', pybreaker's and
//!   gobreaker's names as aliases: `fail_max`, `half_open_calls`,
//!   gobreaker's `max_requests` (`half_open_max_calls`) and a top-level
//!   `interval` (`closed_count_interval`), `bulkhead_config`,
//!   `health_check_config`, `health_check_interval`, `health_check_timeout`,
//!   `health_check_url`, `metadata.template` (used when `template` is
//!   absent). Macro arguments take only the canonical names.
//!
//! # Files
//!
//! `${VAR}` and `${VAR:-default}` are replaced in string values before they
//! are checked (`$$` is a literal `$`); an unset variable without default is
//! an error naming the variable and the field. Unknown keys are errors with
//! the nearest valid key suggested. Under `metadata:`, `tags` (a list of
//! strings), `environment` (a known environment), `description`, `version`
//! and `template` are read and checked ([`Metadata`]: configurations are
//! found by tag and environment with [`ConfigLayers::tagged`] and
//! [`ConfigLayers::for_environment`]); other keys there are free-form.
//! Writing a `bulkhead`, `call_timeout` or `health_check` section turns it
//! on unless it says `enabled: false`. The Python services' example file loads as written:
//!
//! ```
//! # #[cfg(feature = "yaml")] {
//! use cb_core::config::{ConfigFile, ConfigLayers, Environment, NoEnv, Overrides};
//! let yaml = r#"
//! name: claude_production
//! circuit_type: adaptive
//! failure_threshold: 2
//! timeout: 30.0
//! failure_rate_threshold: 0.3
//! minimum_calls: 10
//! service_category: ai
//! priority: 1
//!
//! bulkhead_config:
//!   max_concurrent_calls: 20
//!   isolation_pool_name: ai_claude_prod
//!   queue_timeout: 10.0
//!
//! health_check_config:
//!   health_check_interval: 30.0
//!   health_check_timeout: 5.0
//!
//! metadata:
//!   version: "1.0.0"
//!   environment: production
//!   template: ai_provider
//!   description: "Production Claude configuration"
//!   tags: ["ai", "production", "critical"]
//! "#;
//! let file = ConfigFile::from_yaml(yaml, &NoEnv)?;
//! let layers = ConfigLayers::new(Environment::Production).with_env_source(NoEnv).with_file(file)?;
//! let s = layers.resolve_settings("claude_production", &Overrides::new())?;
//! assert_eq!(s.breaker.failure_threshold, 2);
//! assert_eq!(s.breaker.open_duration, std::time::Duration::from_secs(30));
//! assert!(s.bulkhead.enabled && s.health_check.enabled);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! `yaml` (YAML through [`serde_norway`](https://crates.io/crates/serde_norway))
//! and `toml` are off by default so the core builds without serde; the rest
//! of this module needs neither. `serde_yaml` is deprecated (its author
//! archived it in March 2024) and `serde_yml`, its best-known fork, is
//! archived with RustSec advisories (RUSTSEC-2025-0067/-0068);
//! `serde_norway` is a maintained fork of `serde_yaml` with the same API,
//! the one most projects migrated to (espanso, corn, upstream-ontologist,
//! figment2), and parses into a `Value` that we walk ourselves, so it never
//! sees our types.
//!
//! The full field reference is [`mod@reference`].

mod body;
mod duration;
mod env;
mod environment;
mod explain;
mod file;
#[cfg(feature = "macros")]
pub(crate) mod fits;
mod infer;
mod layers;
mod live;
mod metadata;
mod node;
mod overrides;
mod policies;
mod query;
pub mod reference;
mod schema;
mod settings;
mod source;
mod suggest;
mod template;
mod value;

pub use env::{
    EnvSource, FnEnv, LEGACY_VARIABLES, LEGACY_VARIABLES_VAR, NoEnv, PREFIX, ProcessEnv, env_name,
};
pub use environment::{ENV_VAR, Environment, LEGACY_ENV_VAR};
pub use explain::{Explained, Explanation};
pub use file::{ConfigFile, Format, LoadError};
pub use infer::INFER_TEMPLATE_VAR;
pub use layers::ConfigLayers;
pub use live::{ConfigChange, LiveConfig, install_global};
pub use metadata::Metadata;
pub use overrides::Overrides;
pub use settings::{
    BreakerSettings, BulkheadSettings, HealthCheckSettings, RetrySettings, Settings, TimeoutSettings,
};
pub use source::{Layer, Source};
pub use template::{BUILTIN_TEMPLATES, StaticTemplate, StaticValue, Template};

pub use value::{Detector, Jitter, Value};
