//! Choosing a breaker's template from its name, when switched on.
//!
//! The rule: when nothing names a template for a breaker (not the code, not
//! its file instance, its `base_config` chain or `configs.default`), the
//! longest preset name that starts the breaker's name (ignoring case) and is
//! followed by `_`, `-`, `.` or the end of the name is used:
//! `claude_expert_opus` gets `claude`, `desktop_commander-files` gets
//! `desktop_commander`, `s3cret` gets nothing. It is off by default because
//! a name is not a declaration: a breaker called `slack_webhook_retry`
//! should not silently change behaviour when a preset is added.

use super::env::EnvSource;
use crate::error::{ConfigError, Violation};

/// The variable that switches inference on (`true`) or off (`false`, the
/// default when unset or empty).
pub const INFER_TEMPLATE_VAR: &str = "CB_INFER_TEMPLATE";

/// Whether [`INFER_TEMPLATE_VAR`] switches inference on.
pub(crate) fn from_env(env: &dyn EnvSource) -> Result<bool, ConfigError> {
    let Some(raw) = env.var(INFER_TEMPLATE_VAR) else {
        return Ok(false);
    };
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "false" => Ok(false),
        "true" => Ok(true),
        _ => Err(ConfigError::new(vec![Violation {
            field: INFER_TEMPLATE_VAR.into(),
            value: format!("{raw:?}"),
            allowed: "must be `true` or `false`".into(),
        }])),
    }
}
