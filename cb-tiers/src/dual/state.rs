//! The aggregate state of a server's two paths: a pure function of the path
//! states, exactly the R67 table.

use std::fmt;

use cb_core::State;

/// The aggregate state of a server's two paths (R67).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateState {
    /// Both paths closed.
    Closed,
    /// Both paths open (or, with `require_both_paths_healthy`, either path).
    Open,
    /// Recovery under way on a path, or a mix the other states do not name.
    HalfOpen,
    /// The MCP path is closed and the REST path open.
    McpOnly,
    /// The REST path is closed and the MCP path open.
    RestOnly,
}

impl AggregateState {
    /// `CLOSED`, `OPEN`, `HALF_OPEN`, `MCP_ONLY` or `REST_ONLY`, as the prior art names them.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateState::Closed => "CLOSED",
            AggregateState::Open => "OPEN",
            AggregateState::HalfOpen => "HALF_OPEN",
            AggregateState::McpOnly => "MCP_ONLY",
            AggregateState::RestOnly => "REST_ONLY",
        }
    }

    pub(super) fn code(self) -> u8 {
        match self {
            AggregateState::Closed => 0,
            AggregateState::Open => 1,
            AggregateState::HalfOpen => 2,
            AggregateState::McpOnly => 3,
            AggregateState::RestOnly => 4,
        }
    }

    pub(super) fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => AggregateState::Closed,
            1 => AggregateState::Open,
            2 => AggregateState::HalfOpen,
            3 => AggregateState::McpOnly,
            4 => AggregateState::RestOnly,
            _ => return None,
        })
    }
}

impl fmt::Display for AggregateState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A path state as the R67 table reads it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    C,
    H,
    O,
}

pub(super) fn class(s: State) -> Class {
    match s {
        State::HalfOpen => Class::H,
        State::Open | State::ForcedOpen => Class::O,
        // Closed, Disabled and MetricsOnly admit freely: C in the R67 table.
        _ => Class::C,
    }
}

/// The aggregate of two path states: a pure function, exactly the R67 table.
///
/// ```
/// use cb_core::State;
/// use cb_tiers::dual::{aggregate_state, AggregateState};
/// assert_eq!(aggregate_state(State::Closed, State::Open, false), AggregateState::McpOnly);
/// assert_eq!(aggregate_state(State::Closed, State::Open, true), AggregateState::Open);
/// ```
pub fn aggregate_state(mcp: State, rest: State, require_both_paths_healthy: bool) -> AggregateState {
    use Class::{C, O};
    match (class(mcp), class(rest)) {
        (C, C) => AggregateState::Closed,
        (O, O) => AggregateState::Open,
        (_, O) | (O, _) if require_both_paths_healthy => AggregateState::Open,
        (C, O) => AggregateState::McpOnly,
        (O, C) => AggregateState::RestOnly,
        _ => AggregateState::HalfOpen,
    }
}
