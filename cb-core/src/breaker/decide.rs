//! The breaker's decisions, as pure functions over plain values: no clock,
//! no lock, no atomics. The rest of the breaker reads the values (under the
//! lock or from its atomics) and applies what these return, so each rule of
//! the state machine is written once and tested here without a clock.

use super::window::Totals;
use crate::clock::Nanos;
use crate::state::{Outcome, State, TransitionReason};

/// Whether a judged outcome is a failure: `Some(true)` for a failure or a
/// panic (R6), `Some(false)` for a success, `None` for the neutral outcomes,
/// excluded (R2) and cancelled (R5), which no detector counts.
#[inline]
pub(super) fn failed(outcome: Outcome) -> Option<bool> {
    match outcome {
        Outcome::Success => Some(false),
        Outcome::Failure | Outcome::Panicked => Some(true),
        Outcome::Excluded | Outcome::Cancelled => None,
    }
}

/// Whether a call that took `duration` was slow: strictly longer than the
/// threshold (R12). A call that did not finish (cancelled) or says nothing
/// about the downstream (excluded) is never slow.
#[inline]
pub(super) fn slow(outcome: Outcome, duration: Nanos, threshold: Nanos) -> bool {
    matches!(outcome, Outcome::Success | Outcome::Failure | Outcome::Panicked) && duration > threshold
}

/// Whether a streak of `streak` consecutive failures trips a closed circuit
/// whose `failure_threshold` is `threshold` (R7: the threshold-th failure trips).
#[inline]
pub(super) fn streak_trips(streak: u32, threshold: u32) -> Option<TransitionReason> {
    (streak >= threshold).then_some(TransitionReason::ConsecutiveFailures)
}

/// Whether a failure at `now` finds the closed state's counts expired: the
/// previous failure (`previous`, [`u64::MAX`] for none) was `interval` or
/// more ago, inclusive, so the streak and a count window start over.
#[inline]
pub(super) fn counts_expired(previous: Nanos, now: Nanos, interval: Nanos) -> bool {
    previous != Nanos::MAX && now.saturating_sub(previous) >= interval
}

/// Whether a window's totals trip a closed circuit: a rate is judged only
/// from `min_calls` recorded calls on (R9, R11), and trips when it reaches its
/// threshold, inclusive (R8, R10, R12). A failure rate wins over a slow-call
/// rate when both trip. `None` thresholds are detectors that are off.
///
/// Only the outcome just recorded can trip: a failure (`failed`) the failure
/// rate, a slow call (`slow`) the slow-call rate. A fast success never opens
/// the circuit, even when old successes leaving a time window raise the rate
/// it would read.
pub(super) fn rates_trip(
    totals: &Totals,
    min_calls: u32,
    failure_rate_threshold: Option<f64>,
    slow_rate_threshold: Option<f64>,
    failed: bool,
    slow: bool,
) -> Option<TransitionReason> {
    if failed
        && let (Some(t), Some(r)) = (failure_rate_threshold, totals.failure_rate(min_calls))
        && r >= t
    {
        Some(TransitionReason::FailureRate)
    } else if slow
        && let (Some(t), Some(r)) = (slow_rate_threshold, totals.slow_rate(min_calls))
        && r >= t
    {
        Some(TransitionReason::SlowCallRate)
    } else {
        None
    }
}

/// What a finished half-open probe does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ProbeVerdict {
    /// The probe successes of this half-open episode, this one included.
    pub(super) successes: u32,
    /// The transition it causes, if any; `None` waits for more probes.
    pub(super) next: Option<(State, TransitionReason)>,
}

/// The verdict on a probe that ended in `outcome` (`slow` when slow-call
/// detection timed it over the threshold), after `successes` earlier probe
/// successes in this half-open episode: the first failure reopens (R22), so
/// does a slow probe (R24); `success_threshold` successes close (R22);
/// neutral outcomes count nothing (R23).
pub(super) fn probe_verdict(
    outcome: Outcome,
    slow: bool,
    successes: u32,
    success_threshold: u32,
) -> ProbeVerdict {
    let (successes, next) = match outcome {
        Outcome::Success if slow => (successes, Some((State::Open, TransitionReason::ProbeSlow))),
        Outcome::Success => {
            let successes = successes + 1;
            let close = successes >= success_threshold;
            (
                successes,
                close.then_some((State::Closed, TransitionReason::ProbesSucceeded)),
            )
        }
        Outcome::Failure | Outcome::Panicked => {
            (successes, Some((State::Open, TransitionReason::ProbeFailed)))
        }
        Outcome::Excluded | Outcome::Cancelled => (successes, None),
    };
    ProbeVerdict { successes, next }
}

/// The transition `state` makes by itself once `now` reaches `lapses_at`,
/// the moment it lapses: an open circuit half-opens when its open period is
/// over, inclusive (R17), and a half-open one whose oldest probe passed its
/// deadline reopens (R25). Other states never lapse. Evaluated lazily, on
/// admissions and state reads, not by a timer (R18).
#[inline]
pub(super) fn lapse(state: State, now: Nanos, lapses_at: Nanos) -> Option<(State, TransitionReason)> {
    if now < lapses_at {
        return None;
    }
    match state {
        State::Open => Some((State::HalfOpen, TransitionReason::OpenDurationElapsed)),
        State::HalfOpen => Some((State::Open, TransitionReason::StuckProbe)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;

    fn totals(calls: u32, failures: u32, slow: u32) -> Totals {
        Totals {
            calls,
            failures,
            slow,
        }
    }

    #[test]
    fn r2_r5_r6_excluded_and_cancelled_are_neutral_and_a_panic_is_a_failure() {
        assert_eq!(failed(Outcome::Success), Some(false));
        assert_eq!(failed(Outcome::Failure), Some(true));
        assert_eq!(failed(Outcome::Panicked), Some(true));
        assert_eq!(failed(Outcome::Excluded), None);
        assert_eq!(failed(Outcome::Cancelled), None);
    }

    #[test]
    fn r12_a_call_is_slow_only_strictly_over_the_threshold() {
        assert!(!slow(Outcome::Success, 100 * MS, 100 * MS));
        assert!(slow(Outcome::Success, 100 * MS + 1, 100 * MS));
        // A slow failure or panic is slow too (it counts in both rates).
        assert!(slow(Outcome::Failure, 200 * MS, 100 * MS));
        assert!(slow(Outcome::Panicked, 200 * MS, 100 * MS));
        // Neutral outcomes never are.
        assert!(!slow(Outcome::Excluded, 200 * MS, 100 * MS));
        assert!(!slow(Outcome::Cancelled, 200 * MS, 100 * MS));
    }

    #[test]
    fn r7_the_threshold_th_consecutive_failure_trips() {
        assert_eq!(streak_trips(2, 3), None);
        assert_eq!(streak_trips(3, 3), Some(TransitionReason::ConsecutiveFailures));
        assert_eq!(streak_trips(4, 3), Some(TransitionReason::ConsecutiveFailures));
        assert_eq!(streak_trips(1, 1), Some(TransitionReason::ConsecutiveFailures));
    }

    #[test]
    fn closed_counts_expire_after_the_interval_of_silence_inclusive() {
        let hour = 3_600_000 * MS;
        assert!(!counts_expired(Nanos::MAX, 5 * hour, hour), "no previous failure");
        assert!(!counts_expired(0, hour - 1, hour));
        assert!(counts_expired(0, hour, hour));
        assert!(
            !counts_expired(hour, 0, hour),
            "a clock that reads earlier never expires"
        );
    }

    #[test]
    fn r8_a_failure_rate_trips_at_its_threshold_inclusive() {
        // 3 failures in 5: 0.6.
        let t = totals(5, 3, 0);
        assert_eq!(
            rates_trip(&t, 5, Some(0.6), None, true, true),
            Some(TransitionReason::FailureRate)
        );
        assert_eq!(rates_trip(&t, 5, Some(0.601), None, true, true), None);
        // A detector that is off never trips.
        assert_eq!(rates_trip(&t, 5, None, None, true, true), None);
    }

    #[test]
    fn r11_no_rate_is_judged_below_minimum_calls() {
        let t = totals(4, 4, 4);
        assert_eq!(rates_trip(&t, 5, Some(0.5), Some(0.5), true, true), None);
        assert_eq!(
            rates_trip(&totals(0, 0, 0), 0, Some(0.0), Some(0.0), true, true),
            None
        );
    }

    #[test]
    fn r12_a_slow_call_rate_trips_even_when_every_call_succeeded() {
        let t = totals(5, 0, 3);
        assert_eq!(
            rates_trip(&t, 5, Some(0.5), Some(0.6), true, true),
            Some(TransitionReason::SlowCallRate)
        );
        assert_eq!(rates_trip(&t, 5, Some(0.5), Some(0.61), true, true), None);
        // Both over their thresholds: the failure rate is the reason.
        let both = totals(5, 5, 5);
        assert_eq!(
            rates_trip(&both, 5, Some(0.5), Some(0.5), true, true),
            Some(TransitionReason::FailureRate)
        );
    }

    #[test]
    fn r8_r10_r12_a_fast_success_never_trips_a_rate() {
        // 3 failures in 5 read 0.6, but the call just recorded succeeded
        // fast: only a failure trips the failure rate, only a slow call the
        // slow-call rate.
        let t = totals(5, 3, 3);
        assert_eq!(rates_trip(&t, 5, Some(0.5), Some(0.5), false, false), None);
        assert_eq!(
            rates_trip(&t, 5, Some(0.5), Some(0.5), false, true),
            Some(TransitionReason::SlowCallRate)
        );
        assert_eq!(
            rates_trip(&t, 5, Some(0.5), None, true, false),
            Some(TransitionReason::FailureRate)
        );
    }

    #[test]
    fn r22_success_threshold_probe_successes_close() {
        let first = probe_verdict(Outcome::Success, false, 0, 2);
        assert_eq!(
            first,
            ProbeVerdict {
                successes: 1,
                next: None
            }
        );
        let second = probe_verdict(Outcome::Success, false, first.successes, 2);
        assert_eq!(
            second.next,
            Some((State::Closed, TransitionReason::ProbesSucceeded))
        );
    }

    #[test]
    fn r22_the_first_failed_probe_reopens() {
        for outcome in [Outcome::Failure, Outcome::Panicked] {
            let v = probe_verdict(outcome, false, 1, 2);
            assert_eq!(v.next, Some((State::Open, TransitionReason::ProbeFailed)));
        }
    }

    #[test]
    fn r23_neutral_probes_count_nothing() {
        for outcome in [Outcome::Excluded, Outcome::Cancelled] {
            assert_eq!(
                probe_verdict(outcome, false, 1, 2),
                ProbeVerdict {
                    successes: 1,
                    next: None
                }
            );
        }
    }

    #[test]
    fn r24_a_slow_probe_reopens_and_is_not_a_success() {
        let v = probe_verdict(Outcome::Success, true, 1, 2);
        assert_eq!(
            v,
            ProbeVerdict {
                successes: 1,
                next: Some((State::Open, TransitionReason::ProbeSlow))
            }
        );
    }

    #[test]
    fn r17_an_open_circuit_half_opens_when_its_open_period_is_over_inclusive() {
        assert_eq!(lapse(State::Open, 30 * MS - 1, 30 * MS), None);
        assert_eq!(
            lapse(State::Open, 30 * MS, 30 * MS),
            Some((State::HalfOpen, TransitionReason::OpenDurationElapsed))
        );
    }

    #[test]
    fn r25_a_half_open_circuit_with_a_stuck_probe_reopens() {
        assert_eq!(lapse(State::HalfOpen, 10 * MS - 1, 10 * MS), None);
        assert_eq!(
            lapse(State::HalfOpen, 10 * MS, 10 * MS),
            Some((State::Open, TransitionReason::StuckProbe))
        );
    }

    #[test]
    fn r32_r33_other_states_never_lapse() {
        for state in [
            State::Closed,
            State::ForcedOpen,
            State::Disabled,
            State::MetricsOnly,
        ] {
            assert_eq!(lapse(state, Nanos::MAX, 0), None);
        }
    }
}
