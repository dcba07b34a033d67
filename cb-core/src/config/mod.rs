//! Configuration: templates × environments, files, environment variables,
//! code overrides, validation, `explain`, and live updates.
//!
//! Layers, files and live updates are added on top of the field table,
//! the settings types and the templates defined here.

mod duration;
mod env;
mod environment;
mod node;
mod schema;
mod settings;
mod template;

pub use env::{EnvSource, FnEnv, NoEnv, PREFIX, ProcessEnv, env_name};
pub use environment::{ENV_VAR, Environment, SEED_ENV_VAR};
pub use schema::{Detector, Jitter, Value};
pub use settings::{BreakerSettings, BulkheadSettings, HealthCheckSettings, RetrySettings, Settings, TimeoutSettings};
pub use template::{BUILTIN_TEMPLATES, Template};
