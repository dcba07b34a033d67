//! The dual-path breaker: every row of the R67 table in both modes, R66
//! atomic routing, R68 retry_after, R70 per-path control.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use cb_core::State;
use cb_core::clock::ManualClock;
use cb_tiers::dual::{
    AggregateState, AggregateTransition, DualPathBreaker, DualPathRegistry, Path, Route, RouteKind,
    aggregate_state,
};

#[derive(Clone, Copy, Debug, PartialEq)]
enum P {
    C,
    H,
    O,
}

fn server(require_both: bool, clock: &ManualClock) -> DualPathBreaker {
    let c = clock.clone();
    DualPathBreaker::builder("srv")
        .mcp_failure_threshold(2)
        .rest_failure_threshold(3)
        .open_duration(Duration::from_secs(60))
        .half_open_max_calls(1)
        .success_threshold(1)
        .require_both_paths_healthy(require_both)
        .configure(move |b| b.clock(c.clone()))
        .build()
        .expect("valid dual-path config")
}

fn put(b: &DualPathBreaker, path: Path, p: P) {
    let breaker = b.path(path);
    match p {
        P::C => breaker.reset(),
        P::H => breaker.open_for(Some(Duration::ZERO)),
        P::O => breaker.open_for(Some(Duration::from_secs(60))),
    }
}

use AggregateState::{Closed, HalfOpen, McpOnly, Open, RestOnly};
use RouteKind::{Both, McpOnly as M, None as N, RestOnly as R};

/// (mcp, rest, permissive aggregate, strict aggregate, routing with free slots)
const TABLE: [(P, P, AggregateState, AggregateState, RouteKind); 9] = [
    (P::C, P::C, Closed, Closed, Both),
    (P::C, P::H, HalfOpen, HalfOpen, Both),
    (P::C, P::O, McpOnly, Open, M),
    (P::H, P::C, HalfOpen, HalfOpen, Both),
    (P::H, P::H, HalfOpen, HalfOpen, Both),
    (P::H, P::O, HalfOpen, Open, M),
    (P::O, P::C, RestOnly, Open, R),
    (P::O, P::H, HalfOpen, Open, R),
    (P::O, P::O, Open, Open, N),
];

#[test]
fn r67_every_row_of_the_aggregate_table_in_both_modes() {
    let clock = ManualClock::new();
    for require_both in [false, true] {
        for (mcp, rest, permissive, strict, routing) in TABLE {
            let b = server(require_both, &clock);
            put(&b, Path::Mcp, mcp);
            put(&b, Path::Rest, rest);
            let want = if require_both { strict } else { permissive };
            assert_eq!(b.state(), want, "{mcp:?}/{rest:?} require_both={require_both}");
            // Routing is the same in both modes (R67 decision).
            let route = b.route();
            assert_eq!(
                route.kind(),
                routing,
                "{mcp:?}/{rest:?} require_both={require_both}"
            );
        }
    }
}

#[test]
fn r67_routing_when_half_open_probe_slots_are_full() {
    let clock = ManualClock::new();
    // (mcp, rest, which half-open paths have their slot taken, routing)
    let rows = [
        (P::C, P::H, [false, true], M),
        (P::H, P::C, [true, false], R),
        (P::H, P::H, [true, false], R),
        (P::H, P::H, [false, true], M),
        (P::H, P::H, [true, true], N),
        (P::H, P::O, [true, false], N),
        (P::O, P::H, [false, true], N),
    ];
    for (mcp, rest, full, routing) in rows {
        let b = server(false, &clock);
        put(&b, Path::Mcp, mcp);
        put(&b, Path::Rest, rest);
        let _held_mcp = full[0].then(|| b.path(Path::Mcp).try_acquire().unwrap());
        let _held_rest = full[1].then(|| b.path(Path::Rest).try_acquire().unwrap());
        assert_eq!(b.route().kind(), routing, "{mcp:?}/{rest:?} full={full:?}");
    }
}

#[test]
fn r67_disabled_counts_as_closed_and_forced_open_as_open() {
    for (m, r, want) in [
        (State::Disabled, State::Closed, Closed),
        (State::ForcedOpen, State::Closed, RestOnly),
        (State::MetricsOnly, State::ForcedOpen, McpOnly),
        (State::ForcedOpen, State::HalfOpen, HalfOpen),
    ] {
        assert_eq!(aggregate_state(m, r, false), want, "{m:?}/{r:?}");
    }
    assert_eq!(aggregate_state(State::Disabled, State::ForcedOpen, true), Open);
}

#[test]
fn r66_concurrent_routing_never_reserves_more_probes_than_allowed() {
    let clock = ManualClock::new();
    for round in 0..20 {
        let b = server(false, &clock);
        put(&b, Path::Mcp, P::H);
        put(&b, Path::Rest, if round % 2 == 0 { P::H } else { P::C });
        let threads = 8;
        let start = Barrier::new(threads);
        let decided = Barrier::new(threads);
        let (mcp_permits, rest_permits) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    start.wait();
                    let route = b.route();
                    match &route {
                        Route::Both { .. } => {
                            mcp_permits.fetch_add(1, Ordering::SeqCst);
                            rest_permits.fetch_add(1, Ordering::SeqCst);
                        }
                        Route::McpOnly(_) => {
                            mcp_permits.fetch_add(1, Ordering::SeqCst);
                        }
                        Route::RestOnly(_) => {
                            rest_permits.fetch_add(1, Ordering::SeqCst);
                        }
                        Route::None { .. } => {}
                    }
                    // Everyone holds their permits until every thread has decided.
                    decided.wait();
                    drop(route);
                });
            }
        });
        assert_eq!(
            mcp_permits.load(Ordering::SeqCst),
            1,
            "one MCP probe slot, round {round}"
        );
        let rest = rest_permits.load(Ordering::SeqCst);
        if round % 2 == 0 {
            assert_eq!(rest, 1, "one REST probe slot, round {round}");
        } else {
            assert_eq!(rest, threads, "a closed REST path admits everyone");
        }
    }
}

#[test]
fn r68_aggregate_retry_after_is_the_earliest_path_reopening() {
    let clock = ManualClock::new();
    let b = server(false, &clock);
    assert_eq!(b.retry_after(), None);
    b.path(Path::Mcp).open_for(Some(Duration::from_secs(40)));
    b.path(Path::Rest).open_for(Some(Duration::from_secs(10)));
    assert_eq!(b.retry_after(), Some(Duration::from_secs(10)));
    match b.route() {
        Route::None { retry_after } => assert_eq!(retry_after, Some(Duration::from_secs(10))),
        other => panic!("{other:?}"),
    }
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        b.route().kind(),
        R,
        "the REST path admits its probe at its time (R69a)"
    );
    b.path(Path::Rest).force_open();
    assert_eq!(
        b.retry_after(),
        Some(Duration::from_secs(30)),
        "forced open never reopens by itself"
    );
}

#[test]
fn evaluate_from_health_results_with_per_path_thresholds_and_recovery() {
    let clock = ManualClock::new();
    let b = server(false, &clock);
    assert_eq!(b.evaluate(Some(false), Some(false)), Closed);
    assert_eq!(b.evaluate(Some(false), Some(false)), RestOnly, "MCP threshold 2");
    assert_eq!(b.evaluate(Some(false), Some(false)), Open, "REST threshold 3");
    assert_eq!(b.available_paths().kind(), N);

    clock.advance(Duration::from_secs(60));
    assert_eq!(
        b.state(),
        HalfOpen,
        "open paths half-open without any new result (R69a)"
    );
    assert_eq!(
        b.evaluate(Some(true), None),
        HalfOpen,
        "an MCP probe success closes MCP; REST is still half-open"
    );
    assert_eq!(b.path(Path::Mcp).state(), State::Closed);
    assert_eq!(
        b.evaluate(None, Some(false)),
        McpOnly,
        "a failed REST probe reopens at once (R69c)"
    );
    assert_eq!(b.path(Path::Rest).retry_after(), Some(Duration::from_secs(60)));
    clock.advance(Duration::from_secs(60));
    assert_eq!(b.evaluate(Some(true), Some(true)), Closed);
}

#[test]
fn require_both_paths_healthy_reports_open_until_both_recover() {
    let clock = ManualClock::new();
    let b = server(true, &clock);
    b.evaluate(Some(false), None);
    assert_eq!(b.evaluate(Some(false), None), Open);
    assert_eq!(b.route().kind(), R, "routing still uses the healthy REST path");
    clock.advance(Duration::from_secs(60));
    assert_eq!(b.state(), HalfOpen);
    assert_eq!(b.evaluate(Some(true), Some(true)), Closed);
}

#[test]
fn r70_per_path_reset_and_force_are_independent_and_aggregate_events_fire_on_change_only() {
    let clock = ManualClock::new();
    let b = server(false, &clock);
    let seen: Arc<Mutex<Vec<AggregateTransition>>> = Arc::default();
    let s = seen.clone();
    b.subscribe(move |t: &AggregateTransition| s.lock().unwrap().push(t.clone()));

    b.force_open_path(Path::Mcp);
    assert_eq!(b.path(Path::Mcp).state(), State::ForcedOpen);
    assert_eq!(b.path(Path::Rest).state(), State::Closed);
    assert_eq!(b.state(), RestOnly);
    b.state();
    b.force_open_path(Path::Rest);
    b.reset_path(Path::Mcp);
    assert_eq!(b.state(), McpOnly);
    assert_eq!(b.path(Path::Rest).state(), State::ForcedOpen);
    b.reset();
    let got: Vec<_> = seen.lock().unwrap().iter().map(|t| (t.from, t.to)).collect();
    assert_eq!(
        got,
        [
            (Closed, RestOnly),
            (RestOnly, Open),
            (Open, McpOnly),
            (McpOnly, Closed)
        ]
    );

    b.subscribe(|_: &AggregateTransition| panic!("a broken listener"));
    b.force_open_path(Path::Mcp);
    assert_eq!(
        b.state(),
        RestOnly,
        "a panicking listener does not break the breaker"
    );
}

#[test]
fn metrics_and_many_servers() {
    let clock = ManualClock::new();
    let c = clock.clone();
    let registry = DualPathRegistry::new(
        DualPathBreaker::builder("template")
            .mcp_failure_threshold(1)
            .rest_failure_threshold(1)
            .configure(move |b| b.clock(c.clone())),
    );
    for i in 0..50 {
        let srv = registry.get_or_create(format!("server-{i:02}")).unwrap();
        if i % 5 == 0 {
            srv.evaluate(Some(false), Some(true));
        }
    }
    assert_eq!(registry.servers().len(), 50);
    let all = registry.metrics_all();
    assert_eq!(all.len(), 50);
    assert_eq!(all.iter().filter(|m| m.state == RestOnly).count(), 10);
    let m = &all[0];
    assert_eq!((m.server.as_str(), m.available), ("server-00", R));
    assert_eq!(m.mcp.calls.failures, 1);
    assert_eq!(m.rest.calls.successes, 1);
    assert_eq!(m.mcp.name, "server-00.mcp");
    assert!(
        registry
            .get_or_create("server-00")
            .unwrap()
            .path(Path::Mcp)
            .ptr_eq(registry.get("server-00").unwrap().path(Path::Mcp))
    );
    registry.reset_all();
    assert!(registry.metrics_all().iter().all(|m| m.state == Closed));
}

#[test]
fn invalid_path_configs_are_reported_together() {
    let err = DualPathBreaker::builder("x")
        .mcp_failure_threshold(0)
        .rest_failure_threshold(0)
        .build()
        .unwrap_err();
    assert_eq!(err.violations().len(), 2);
    assert!(err.to_string().contains("mcp.failure_threshold"));
    assert!(err.to_string().contains("rest.failure_threshold"));
}

#[test]
fn r70_a_listener_given_to_the_builder_hears_the_first_change() {
    // One subscription style: the builder's `.listener` and `subscribe`
    // take the same `Listener<AggregateTransition>`, closures included.
    let seen: Arc<Mutex<Vec<AggregateTransition>>> = Arc::default();
    let s = seen.clone();
    let b = DualPathBreaker::builder("srv.listened")
        .listener(move |t: &AggregateTransition| s.lock().unwrap().push(t.clone()))
        .build()
        .expect("valid dual-path config");
    b.force_open_path(Path::Mcp);
    assert_eq!(b.state(), RestOnly);
    let got: Vec<_> = seen.lock().unwrap().iter().map(|t| (t.from, t.to)).collect();
    assert_eq!(got, [(Closed, RestOnly)]);
}
