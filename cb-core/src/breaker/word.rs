//! The packed `state | generation` word read on every call.

use crate::state::State;

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
    /// Whether the state is `state`: a mask and a compare, no table load,
    /// for the paths that ask about one state (the open rejection).
    #[inline(always)]
    pub(crate) fn is(self, state: State) -> bool {
        self.0 & Self::STATE_MASK == state.code()
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
            assert!(State::ALL.iter().all(|&t| w.is(t) == (t == s)));
            assert_eq!(w.admits_freely(), s.admits_freely());
            assert_eq!(w.judges(), matches!(s, State::Closed | State::MetricsOnly));
            assert_eq!(w.generation(), 12345);
            assert_eq!(w.next(State::Open).generation(), 12346);
        }
    }
}
