//! The health monitor on paused time with in-memory checks (R71–R75).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cb_core::{CircuitBreaker, State};
use cb_tiers::health::{Health, HealthMonitor, StartError};
use tokio::time::Instant;

fn breaker(name: &'static str) -> CircuitBreaker {
    CircuitBreaker::builder(name)
        .failure_threshold(100)
        .open_duration(Duration::from_secs(600))
        .build()
        .expect("valid breaker config")
}

/// A check whose result the test flips, counting calls.
#[derive(Clone, Default)]
struct Switch {
    up: Arc<AtomicBool>,
    calls: Arc<AtomicUsize>,
}

impl Switch {
    fn up() -> Self {
        let s = Self::default();
        s.up.store(true, Ordering::SeqCst);
        s
    }
    fn set(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    fn check(&self) -> impl Fn() -> std::future::Ready<Result<(), String>> + Send + Sync + 'static {
        let s = self.clone();
        move || {
            s.calls.fetch_add(1, Ordering::SeqCst);
            std::future::ready(if s.up.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err("down".to_owned())
            })
        }
    }
}

#[tokio::test(start_paused = true)]
async fn r71_unhealthy_threshold_opens_and_healthy_threshold_closes() {
    let b = breaker("primary");
    let sw = Switch::up();
    let monitor = HealthMonitor::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(500))
        .unhealthy_threshold(3)
        .healthy_threshold(2)
        .check(b.clone(), sw.check())
        .build()
        .unwrap();
    let handle = monitor.start().unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await; // the first check runs at once
    assert_eq!(
        monitor.report().targets[0].health,
        Health::Unknown,
        "one success of two"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(monitor.report().targets[0].health, Health::Healthy);

    sw.set(false);
    tokio::time::sleep(Duration::from_secs(2)).await; // checks at 2 s and 3 s fail
    assert_eq!(
        b.state(),
        State::Closed,
        "two failures are below the threshold of three"
    );
    assert_eq!(monitor.report().targets[0].consecutive_failures, 2);
    tokio::time::sleep(Duration::from_secs(1)).await; // third failure
    assert_eq!(b.state(), State::Open);
    let status = &monitor.report().targets[0];
    assert_eq!(
        (status.health, status.healthy, status.last_error.as_deref()),
        (Health::Unhealthy, false, Some("down"))
    );
    assert_eq!(status.breaker_state, State::Open);

    sw.set(true);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        b.state(),
        State::Open,
        "one success is below the healthy threshold of two"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        b.state(),
        State::Closed,
        "closed long before the 600 s open duration"
    );
    assert_eq!(sw.calls(), 7);
    handle.stop().await;
}

#[tokio::test(start_paused = true)]
async fn r71_a_timed_out_check_is_a_failure() {
    let b = breaker("slow");
    let monitor = HealthMonitor::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(100))
        .unhealthy_threshold(1)
        .check(b.clone(), || async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<(), String>(())
        })
        .build()
        .unwrap();
    let _handle = monitor.start().unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(b.state(), State::Open);
    let status = &monitor.report().targets[0];
    assert!(status.last_error.as_deref().unwrap().contains("timed out"));
    assert_eq!(status.last_latency, Some(Duration::from_millis(100)));
}

#[tokio::test(start_paused = true)]
async fn r72_at_most_one_check_in_flight_and_missed_ticks_do_not_burst() {
    /// Counts a check out of flight however it ends, cut by the timeout included.
    struct InFlight(Arc<AtomicUsize>);
    impl Drop for InFlight {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let b = breaker("t");
    let starts: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let origin = Instant::now();
    let (s, f, m) = (starts.clone(), in_flight.clone(), max_in_flight.clone());
    let monitor = HealthMonitor::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(900))
        .check(b, move || {
            let (s, f, m) = (s.clone(), f.clone(), m.clone());
            async move {
                let first = {
                    let mut s = s.lock().unwrap();
                    s.push(origin.elapsed());
                    s.len() == 1
                };
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                let _in_flight = InFlight(f);
                // The first check hangs: the timeout cuts it at 900 ms.
                if first {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                Ok::<(), String>(())
            }
        })
        .build()
        .unwrap();
    let handle = monitor.start().unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // The monitor's task misses five ticks at once, as a stalled runtime would.
    tokio::time::advance(Duration::from_millis(5500)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    handle.stop().await;
    let starts = starts.lock().unwrap().clone();
    assert_eq!(max_in_flight.load(Ordering::SeqCst), 1);
    let ms: Vec<u128> = starts.iter().map(|d| d.as_millis()).collect();
    // The hanging check does not delay the next tick; after the stall: one
    // check at once, then one per interval again.
    assert_eq!(ms, [0, 1000, 2000, 7600, 8600]);
}

#[tokio::test(start_paused = true)]
async fn r73_the_monitor_never_overrides_forced_open_or_disabled() {
    let forced = breaker("forced");
    let disabled = breaker("disabled");
    forced.force_open();
    disabled.disable();
    let monitor = HealthMonitor::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(500))
        .unhealthy_threshold(1)
        .check(forced.clone(), || async { Ok::<(), String>(()) })
        .check(disabled.clone(), || async { Err::<(), _>("down") })
        .build()
        .unwrap();
    let _handle = monitor.start().unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(forced.state(), State::ForcedOpen);
    assert_eq!(disabled.state(), State::Disabled);
    let report = monitor.report();
    assert_eq!(report.target("forced").unwrap().health, Health::Healthy);
    assert_eq!(report.target("disabled").unwrap().health, Health::Unhealthy);
}

#[tokio::test(start_paused = true)]
async fn r73_checks_take_no_half_open_permit_and_r75_stay_out_of_call_counters() {
    let b = CircuitBreaker::builder("probe")
        .failure_threshold(1)
        .half_open_max_calls(1)
        .success_threshold(1)
        .open_duration(Duration::from_secs(600))
        .build()
        .unwrap();
    b.open_for(Some(Duration::ZERO));
    let sw = Switch::default(); // failing
    let monitor = HealthMonitor::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(500))
        .unhealthy_threshold(5)
        .check(b.clone(), sw.check())
        .build()
        .unwrap();
    let _handle = monitor.start().unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sw.calls(), 3);
    assert_eq!(b.state(), State::HalfOpen);
    let permit = b.try_acquire().expect("the user's probe slot is still free");
    permit.success();
    assert_eq!(b.state(), State::Closed);
    let m = b.metrics();
    assert_eq!(m.calls.calls_total(), 1, "only the user's probe is a call");
    let status = &monitor.report().targets[0];
    assert_eq!((status.checks_failed, status.checks_succeeded), (3, 0));
    assert_eq!(
        status.consecutive_failures, 3,
        "user traffic does not reset the monitor's streak"
    );
}

#[tokio::test(start_paused = true)]
async fn r74_stop_ends_every_check_and_leaves_no_task() {
    let dropped = Arc::new(AtomicUsize::new(0));
    struct OnDrop(Arc<AtomicUsize>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let sw = Switch::up();
    let d = dropped.clone();
    let monitor = HealthMonitor::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(900))
        .check(breaker("quick"), sw.check())
        .check(breaker("hanging"), move || {
            let guard = OnDrop(d.clone());
            async move {
                let _guard = guard;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok::<(), String>(())
            }
        })
        .build()
        .unwrap();
    let metrics = tokio::runtime::Handle::current().metrics();
    let handle = monitor.start().unwrap();
    assert!(monitor.is_running());
    assert_eq!(monitor.start().unwrap_err(), StartError::AlreadyRunning);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sw.calls(), 3);
    assert_eq!(metrics.num_alive_tasks(), 1);

    handle.stop().await;
    // Checks at 0 s and 1 s were cut by the timeout; the one started at 2 s
    // was in flight: every started check's future was dropped.
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        3,
        "the check in flight was dropped"
    );
    assert_eq!(metrics.num_alive_tasks(), 0, "no task survives stop");
    assert!(!monitor.report().running);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(sw.calls(), 3, "no check after stop");

    // A monitor can be started again; dropping the handle stops it too.
    let handle = monitor.start().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sw.calls(), 4);
    drop(handle);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(sw.calls(), 4, "no check after the handle is dropped");
    assert_eq!(metrics.num_alive_tasks(), 0);
    assert!(!monitor.is_running());
}

#[test]
fn starting_outside_a_runtime_is_an_error_and_bad_config_is_reported() {
    let monitor = HealthMonitor::builder()
        .check(breaker("a"), || async { Ok::<(), String>(()) })
        .build()
        .unwrap();
    assert_eq!(monitor.start().unwrap_err(), StartError::NoRuntime);

    let err = HealthMonitor::builder()
        .interval(Duration::ZERO)
        .unhealthy_threshold(0)
        .check(breaker("a"), || async { Ok::<(), String>(()) })
        .check(breaker("a"), || async { Ok::<(), String>(()) })
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.violations().len(), 3, "{text}");
    assert!(HealthMonitor::builder().build().is_err(), "no targets");
}

#[test]
fn the_monitor_refuses_a_check_timeout_at_or_above_its_interval() {
    for timeout in [Duration::from_secs(1), Duration::from_secs(5)] {
        let err = HealthMonitor::builder()
            .interval(Duration::from_secs(1))
            .timeout(timeout)
            .check(breaker("a"), || async { Ok::<(), String>(()) })
            .build()
            .unwrap_err();
        assert_eq!(err.violations().len(), 1, "{err}");
        let text = err.to_string();
        assert!(text.contains("health.timeout"), "{text}");
        assert!(text.contains("must be < health.interval (1s)"), "{text}");
    }
    let below = HealthMonitor::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(999))
        .check(breaker("a"), || async { Ok::<(), String>(()) })
        .build();
    assert!(below.is_ok());
}

#[cfg(feature = "serde")]
#[tokio::test(start_paused = true)]
async fn the_status_report_serialises_to_json() {
    let b = breaker("primary");
    let monitor = HealthMonitor::builder()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_millis(500))
        .unhealthy_threshold(1)
        .check(b.clone(), || async { Err::<(), _>("refused") })
        .build()
        .unwrap();
    let _handle = monitor.start().unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let json: serde_json::Value = serde_json::from_str(&monitor.report().to_json().unwrap()).unwrap();
    let t = &json["targets"][0];
    assert_eq!(json["running"], true);
    assert_eq!(t["name"], "primary");
    assert_eq!(t["health"], "unhealthy");
    assert_eq!(t["healthy"], false);
    assert_eq!(t["breaker_state"], "open");
    assert_eq!(t["consecutive_failures"], 1);
    assert_eq!(t["checks_failed"], 1);
    assert_eq!(t["last_error"], "refused");
    assert_eq!(t["last_latency_ms"], 0.0);
    assert!(t["last_check_unix_ms"].as_u64().unwrap() > 1_600_000_000_000);
}

#[test]
fn the_monitor_defaults_are_the_file_formats_health_check_defaults() {
    use cb_core::config::HealthCheckSettings;
    use cb_tiers::health::HealthConfig;

    let from_file = HealthCheckSettings::default();
    assert_eq!(HealthConfig::from(&from_file), HealthConfig::default());

    let custom = HealthCheckSettings {
        interval: Duration::from_secs(7),
        timeout: Duration::from_secs(2),
        healthy_threshold: 2,
        unhealthy_threshold: 5,
        ..HealthCheckSettings::default()
    };
    let config = HealthConfig::from(&custom);
    assert_eq!(
        (
            config.interval,
            config.timeout,
            config.healthy_threshold,
            config.unhealthy_threshold
        ),
        (Duration::from_secs(7), Duration::from_secs(2), 2, 5)
    );
}
