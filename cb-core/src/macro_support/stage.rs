//! Which per-attempt stages a macro function runs: one decision, taken by
//! the pipeline its first call builds and by [`crate::registry::Declared::stages`]
//! before that call, so the two answers cannot drift apart.

use crate::config::Settings;

/// Whether a per-attempt stage runs for a macro function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Switched off (`retry = false`, ...): never, whatever the configuration says.
    Off,
    /// When the resolved configuration enables it (`retry.max_attempts > 1`
    /// set above the built-in defaults, `call_timeout.enabled`,
    /// `bulkhead.enabled`), wherever the values come from.
    Configured,
    /// Written on the function (`#[retry]`, `#[timeout]`, `#[bulkhead]`):
    /// always, with the resolved values.
    Written,
}

impl Stage {
    pub(crate) fn runs(self, enabled: bool) -> bool {
        match self {
            Stage::Off => false,
            Stage::Configured => enabled,
            Stage::Written => true,
        }
    }
}

/// What a function's stages and its resolved settings make run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Running {
    /// The retry runs.
    pub(crate) retry: bool,
    /// The settings enable a retry the function cannot make (its body
    /// cannot run twice): left out, and reported by the pipeline.
    pub(crate) retry_unreplayable: bool,
    /// The call timeout runs.
    pub(crate) call_timeout: bool,
    /// The bulkhead runs.
    pub(crate) bulkhead: bool,
}

impl Running {
    /// The stages, outermost first (R61 order).
    pub(crate) fn names(self) -> &'static [&'static str] {
        names(self.retry, self.call_timeout, self.bulkhead)
    }
}

/// The decision: `retry_set` says whether a layer above the built-in
/// defaults sets `retry.max_attempts` (the default of 3 is for `#[retry]`
/// and file sections; a function that never asked for retries gets them
/// only when its template, file, variables or arguments say so).
pub(crate) fn decide(
    retry: Stage,
    call_timeout: Stage,
    bulkhead: Stage,
    replayable: bool,
    settings: &Settings,
    retry_set: bool,
) -> Running {
    let wants_retry = retry.runs(retry_set && settings.retry.max_attempts > 1);
    Running {
        retry: wants_retry && replayable,
        retry_unreplayable: wants_retry && !replayable,
        call_timeout: call_timeout.runs(settings.call_timeout.enabled),
        bulkhead: bulkhead.runs(settings.bulkhead.enabled),
    }
}

/// The stages, outermost first, as [`crate::registry::Declared::policies`] lists them.
pub(crate) const fn names(retry: bool, call_timeout: bool, bulkhead: bool) -> &'static [&'static str] {
    match (retry, call_timeout, bulkhead) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_retry_needs_a_layer_above_the_defaults_and_a_replayable_body() {
        let mut settings = Settings::default();
        settings.retry.max_attempts = 3;
        let c = Stage::Configured;
        assert!(!decide(c, c, c, true, &settings, false).retry);
        assert!(decide(c, c, c, true, &settings, true).retry);
        let once = decide(c, c, c, false, &settings, true);
        assert!(!once.retry && once.retry_unreplayable);
        assert!(!decide(Stage::Off, c, c, true, &settings, true).retry);
        assert!(decide(Stage::Written, c, c, true, &settings, false).retry);
    }

    #[test]
    fn timeout_and_bulkhead_follow_their_enabled_flags_unless_written_or_off() {
        let mut settings = Settings::default();
        settings.call_timeout.enabled = true;
        settings.bulkhead.enabled = false;
        let r = decide(
            Stage::Configured,
            Stage::Configured,
            Stage::Configured,
            true,
            &settings,
            false,
        );
        assert_eq!(r.names(), ["breaker", "timeout"]);
        let r = decide(Stage::Off, Stage::Off, Stage::Written, true, &settings, false);
        assert_eq!(r.names(), ["breaker", "bulkhead"]);
    }
}
