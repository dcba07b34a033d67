//! What the monitor reports: each target's health and the last check.

use std::time::Duration;

use cb_core::State;

/// What the monitor knows of a target's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(rename_all = "snake_case"))]
pub enum Health {
    /// No threshold reached yet.
    Unknown,
    /// `healthy_threshold` consecutive checks succeeded.
    Healthy,
    /// `unhealthy_threshold` consecutive checks failed.
    Unhealthy,
}

/// One target's status in a [`HealthReport`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TargetStatus {
    /// The target's name (its breaker's name).
    pub name: String,
    /// The health the thresholds decided.
    pub health: Health,
    /// `health == Healthy`.
    pub healthy: bool,
    /// The wall-clock time the last check finished, in milliseconds since the Unix epoch.
    pub last_check_unix_ms: Option<u64>,
    /// How long the last check took.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "last_latency_ms", serialize_with = "ser::millis")
    )]
    pub last_latency: Option<Duration>,
    /// Why the last check failed, if it did.
    pub last_error: Option<String>,
    /// Checks that succeeded in a row (reset by a failure).
    pub consecutive_successes: u32,
    /// Checks that failed in a row (reset by a success).
    pub consecutive_failures: u32,
    /// Checks that succeeded, in total (`health_checks_total{result="success"}`, R75).
    pub checks_succeeded: u64,
    /// Checks that failed, in total (`health_checks_total{result="failure"}`, R75).
    pub checks_failed: u64,
    /// The breaker's state when the report was made.
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::state"))]
    pub breaker_state: State,
}

/// The status of every target, in the order they were added.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HealthReport {
    /// Whether the monitor's task is running.
    pub running: bool,
    /// One entry per target.
    pub targets: Vec<TargetStatus>,
}

impl HealthReport {
    /// Whether every target is healthy.
    pub fn all_healthy(&self) -> bool {
        self.targets.iter().all(|t| t.healthy)
    }

    /// The status of the target named `name`.
    pub fn target(&self, name: &str) -> Option<&TargetStatus> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// The report as JSON.
    #[cfg(feature = "serde")]
    #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

#[cfg(feature = "serde")]
mod ser {
    use std::time::Duration;

    use serde::Serializer;

    pub(super) fn millis<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_secs_f64() * 1000.0)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn state<S: Serializer>(st: &cb_core::State, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(st.as_str())
    }
}
