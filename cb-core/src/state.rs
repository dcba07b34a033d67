//! The breaker's vocabulary: its states, why they change, and how a call
//! ends. A module of its own, below the breaker, so that events and counters
//! can speak of states and outcomes without depending on the breaker that
//! produces them.

use std::fmt;

/// The state of a circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls flow; outcomes are judged by the detectors.
    Closed,
    /// Calls are rejected until the open duration has passed (R16).
    Open,
    /// A limited number of probes decide whether to close or reopen (R21, R22).
    HalfOpen,
    /// An operator forced the circuit open; it never reopens by itself (R32).
    ForcedOpen,
    /// Every call is admitted and nothing is judged (R33).
    Disabled,
    /// Every call is admitted and judged, but the circuit never trips.
    MetricsOnly,
}

impl State {
    pub(crate) const ALL: [State; 6] = [
        State::Closed,
        State::Open,
        State::HalfOpen,
        State::ForcedOpen,
        State::Disabled,
        State::MetricsOnly,
    ];

    /// The state as a label: `closed`, `open`, `half_open`, `forced_open`,
    /// `disabled`, `metrics_only`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
            State::ForcedOpen => "forced_open",
            State::Disabled => "disabled",
            State::MetricsOnly => "metrics_only",
        }
    }

    /// Whether calls are admitted without limit in this state.
    pub fn admits_freely(self) -> bool {
        matches!(self, State::Closed | State::Disabled | State::MetricsOnly)
    }

    pub(crate) const fn code(self) -> u64 {
        match self {
            State::Closed => 0,
            State::Open => 1,
            State::HalfOpen => 2,
            State::ForcedOpen => 3,
            State::Disabled => 4,
            State::MetricsOnly => 5,
        }
    }

    pub(crate) const fn from_code(code: u64) -> State {
        // A table, not a match: one load on the hot path instead of a branch tree.
        const BY_CODE: [State; 8] = [
            State::Closed,
            State::Open,
            State::HalfOpen,
            State::ForcedOpen,
            State::Disabled,
            State::MetricsOnly,
            State::MetricsOnly,
            State::MetricsOnly,
        ];
        BY_CODE[(code & 7) as usize]
    }

    pub(crate) fn index(self) -> usize {
        self.code() as usize
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a transition happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransitionReason {
    /// `failure_threshold` consecutive failures (R7).
    ConsecutiveFailures,
    /// The window's failure rate reached its threshold (R8, R10).
    FailureRate,
    /// The window's slow-call rate reached its threshold (R12).
    SlowCallRate,
    /// The open duration elapsed (R17).
    OpenDurationElapsed,
    /// `success_threshold` probes succeeded (R22).
    ProbesSucceeded,
    /// A probe failed (R22).
    ProbeFailed,
    /// A probe was slower than the slow-call threshold (R24).
    ProbeSlow,
    /// A probe stayed unresolved past the half-open deadline (R25).
    StuckProbe,
    /// An operator forced the state (R32, R33, R35).
    Forced,
    /// [`CircuitBreaker::reset`](crate::CircuitBreaker::reset) (R34).
    Reset,
    /// A health check decided (R71).
    Health,
    /// State adopted from another instance.
    Remote,
}

impl TransitionReason {
    /// The reason as a label, e.g. `consecutive_failures`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionReason::ConsecutiveFailures => "consecutive_failures",
            TransitionReason::FailureRate => "failure_rate",
            TransitionReason::SlowCallRate => "slow_call_rate",
            TransitionReason::OpenDurationElapsed => "open_duration_elapsed",
            TransitionReason::ProbesSucceeded => "probes_succeeded",
            TransitionReason::ProbeFailed => "probe_failed",
            TransitionReason::ProbeSlow => "probe_slow",
            TransitionReason::StuckProbe => "stuck_probe",
            TransitionReason::Forced => "forced",
            TransitionReason::Reset => "reset",
            TransitionReason::Health => "health",
            TransitionReason::Remote => "remote",
        }
    }
}

impl fmt::Display for TransitionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an admitted call ended (R1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call succeeded.
    Success,
    /// The call failed; it counts against the downstream's health.
    Failure,
    /// The call's result says nothing about the downstream's health (R2):
    /// it counts toward no rate, streak or minimum.
    Excluded,
    /// The caller gave up before the call finished (R5): nothing is judged.
    Cancelled,
    /// The call panicked (R6): judged as a failure.
    Panicked,
}

impl Outcome {
    /// The outcome as a metric label: `success`, `failure`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Excluded => "excluded",
            Outcome::Cancelled => "cancelled",
            Outcome::Panicked => "panicked",
        }
    }
}
