//! Breaker states and the packed `state | generation` word read on every call.

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

/// `generation << 3 | state`: one atomic load tells a call both (R29).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    const STATE_BITS: u32 = 3;
    const STATE_MASK: u64 = (1 << Self::STATE_BITS) - 1;

    pub(crate) fn new(state: State, generation: u64) -> Self {
        Word((generation << Self::STATE_BITS) | state.code())
    }
    #[inline]
    pub(crate) fn state(self) -> State {
        State::from_code(self.0 & Self::STATE_MASK)
    }
    /// Whether calls are admitted without limit (closed, disabled, metrics-only).
    #[inline]
    pub(crate) fn admits_freely(self) -> bool {
        const FREE: u64 = 1 << 0 | 1 << 4 | 1 << 5;
        FREE >> (self.0 & Self::STATE_MASK) & 1 != 0
    }
    /// Whether outcomes are judged (closed, metrics-only).
    #[inline]
    pub(crate) fn judges(self) -> bool {
        const JUDGED: u64 = 1 << 0 | 1 << 5;
        JUDGED >> (self.0 & Self::STATE_MASK) & 1 != 0
    }
    #[inline]
    pub(crate) fn generation(self) -> u64 {
        self.0 >> Self::STATE_BITS
    }
    /// The next generation in `state` (R31: every change bumps it).
    pub(crate) fn next(self, state: State) -> Self {
        Word::new(
            state,
            self.generation().wrapping_add(1) & (u64::MAX >> Self::STATE_BITS),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_round_trips_every_state() {
        for s in State::ALL {
            let w = Word::new(s, 12345);
            assert_eq!(w.state(), s);
            assert_eq!(w.admits_freely(), s.admits_freely());
            assert_eq!(w.judges(), matches!(s, State::Closed | State::MetricsOnly));
            assert_eq!(w.generation(), 12345);
            assert_eq!(w.next(State::Open).generation(), 12346);
        }
    }
}
