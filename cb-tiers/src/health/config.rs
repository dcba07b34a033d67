//! The monitor's timing and thresholds, and how they follow the file format.

use std::time::Duration;

use cb_core::ConfigError;
use cb_core::config::HealthCheckSettings;
use cb_core::error::Violations;

/// The monitor's timing and thresholds.
///
/// These are the `health_check` section of a configuration file
/// ([`HealthCheckSettings`]) without its `enabled` switch and what to check
/// (`url`, `check`), with the same defaults; `From<&HealthCheckSettings>`
/// converts one into the other.
///
/// ```
/// use cb_core::config::HealthCheckSettings;
/// use cb_tiers::health::HealthConfig;
/// use std::time::Duration;
///
/// let mut from_file = HealthCheckSettings::default();
/// from_file.interval = Duration::from_secs(10);
/// let config = HealthConfig::from(&from_file);
/// assert_eq!(config.interval, Duration::from_secs(10));
/// assert_eq!(config.timeout, HealthConfig::default().timeout);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthConfig {
    /// Time between the starts of two checks of one target (default 30 s).
    pub interval: Duration,
    /// A check that takes longer fails (default 5 s); must be below `interval`,
    /// so a hanging check is cut before the next tick.
    pub timeout: Duration,
    /// Consecutive successes that close an open or half-open breaker (default 1, R71).
    pub healthy_threshold: u32,
    /// Consecutive failures that open the breaker (default 3, R71).
    pub unhealthy_threshold: u32,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            healthy_threshold: 1,
            unhealthy_threshold: 3,
        }
    }
}

impl From<&HealthCheckSettings> for HealthConfig {
    fn from(s: &HealthCheckSettings) -> Self {
        Self {
            interval: s.interval,
            timeout: s.timeout,
            healthy_threshold: s.healthy_threshold,
            unhealthy_threshold: s.unhealthy_threshold,
        }
    }
}

impl HealthConfig {
    /// Checks every field, reporting all problems together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut v = Violations::new();
        v.positive("health.interval", self.interval);
        v.positive("health.timeout", self.timeout);
        v.at_least_one("health.healthy_threshold", self.healthy_threshold.into());
        v.at_least_one("health.unhealthy_threshold", self.unhealthy_threshold.into());
        // The file format's rule (`health_check.timeout < health_check.interval`),
        // named as the builder names its fields: a check cut before the next
        // tick keeps one check per interval (R72). Skipped when either side is
        // already reported as zero, so one mistake gives one violation.
        if !self.interval.is_zero() && !self.timeout.is_zero() && self.timeout >= self.interval {
            v.push(
                "health.timeout",
                format_args!("{:?}", self.timeout),
                format!("must be < health.interval ({:?})", self.interval),
            );
        }
        v.finish()
    }
}
