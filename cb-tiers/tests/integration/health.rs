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

/// Layers in production with `template` added, and the breaker `name`
/// created in `registry` under `template`.
fn configured(
    registry: &cb_core::Registry,
    template: cb_core::config::Template,
    name: &'static str,
) -> (cb_core::config::LiveConfig, CircuitBreaker) {
    use cb_core::config::{ConfigLayers, Environment, LiveConfig, Overrides};
    let live =
        LiveConfig::new(ConfigLayers::new(Environment::Production).with_env_source(cb_core::config::NoEnv));
    let template_name = template.name().to_owned();
    live.add_template(template).expect("a valid template");
    let b = live
        .breaker(registry, name, Overrides::new().template(template_name))
        .expect("a valid breaker configuration");
    (live, b)
}

#[tokio::test(start_paused = true)]
async fn r71_a_templates_health_check_section_gives_its_breaker_its_own_interval() {
    use cb_core::config::Template;
    let registry = cb_core::Registry::new();
    // `database` switches health checks on, every 15 s with a 3 s deadline.
    let (live, orders) = configured(
        &registry,
        Template::new("orders_db")
            .base("database")
            .set("health_check.check", "db_ping"),
        "orders",
    );
    // A breaker without a `health_check` section is no target.
    registry.breaker("plain").unwrap();
    let by_hand = breaker("by_hand");
    let (db, manual) = (Switch::up(), Switch::up());
    let monitor = HealthMonitor::builder()
        .interval(Duration::from_secs(2))
        .timeout(Duration::from_secs(1))
        .check(by_hand, manual.check())
        .check_fn("db_ping", db.check())
        .targets_from_config(&live, &registry)
        .build()
        .unwrap();
    let names: Vec<String> = monitor.report().targets.into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["by_hand", "orders"]);
    let own = monitor.target_config("orders").unwrap();
    assert_eq!(
        (own.interval, own.timeout, own.unhealthy_threshold),
        (Duration::from_secs(15), Duration::from_secs(3), 3)
    );
    assert_eq!(
        monitor.target_config("by_hand").unwrap().interval,
        Duration::from_secs(2)
    );

    let handle = monitor.start().unwrap();
    tokio::time::sleep(Duration::from_secs(31)).await;
    assert_eq!(db.calls(), 3, "at 0, 15 and 30 s");
    assert_eq!(manual.calls(), 16, "every 2 s from 0 to 30 s");
    handle.stop().await;
    assert_eq!(orders.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn r71_a_named_check_function_from_configuration_trips_its_breaker() {
    use cb_core::config::Template;
    let registry = cb_core::Registry::new();
    let (live, orders) = configured(
        &registry,
        Template::new("orders_db")
            .base("database")
            .set("health_check.check", "db_ping")
            .set("health_check.unhealthy_threshold", 2u32),
        "orders",
    );
    let db = Switch::up();
    db.set(false);
    let monitor = HealthMonitor::builder()
        .targets_from_config(&live, &registry)
        .check_fn("db_ping", db.check()) // registered after: resolved at `build`
        .build()
        .unwrap();
    let handle = monitor.start().unwrap();
    tokio::time::sleep(Duration::from_secs(14)).await;
    assert_eq!(orders.state(), State::Closed, "one failure of two");
    tokio::time::sleep(Duration::from_secs(2)).await; // the check at 15 s
    assert_eq!(orders.state(), State::Open);
    assert_eq!(
        monitor.report().target("orders").unwrap().last_error.as_deref(),
        Some("down")
    );
    handle.stop().await;
}

#[test]
fn configured_health_checks_without_a_usable_check_are_errors_naming_the_fields() {
    use cb_core::config::Template;
    let registry = cb_core::Registry::new();
    let (live, _) = configured(&registry, Template::new("bare").base("database"), "bare_db");
    let t = Template::new("typo")
        .base("database")
        .set("health_check.check", "db_pnig");
    live.add_template(t).unwrap();
    live.breaker(
        &registry,
        "typo_db",
        cb_core::config::Overrides::new().template("typo"),
    )
    .unwrap();
    let both = Template::new("both")
        .base("database")
        .set("health_check.check", "db_ping")
        .set("health_check.url", "http://127.0.0.1:9/healthz");
    live.add_template(both).unwrap();
    live.breaker(
        &registry,
        "both_db",
        cb_core::config::Overrides::new().template("both"),
    )
    .unwrap();
    let err = HealthMonitor::builder()
        .check_fn("db_ping", || async { Ok::<(), String>(()) })
        .check_fn("cache_ping", || async { Ok::<(), String>(()) })
        .targets_from_config(&live, &registry)
        .build()
        .unwrap_err()
        .to_string();
    for expected in [
        "health.targets.bare_db.health_check.enabled = true: a health check needs `health_check.url` \
         (a URL to GET) or `health_check.check` (a function registered with `check_fn`)",
        "health.targets.both_db.health_check.check = \"db_ping\": set one of `health_check.url` and \
         `health_check.check`, not both",
        "health.targets.typo_db.health_check.check = \"db_pnig\": names no registered check function; \
         registered: `db_ping`, `cache_ping`",
    ] {
        assert!(err.contains(expected), "{expected}\nnot in\n{err}");
    }
}

#[cfg(not(feature = "http"))]
#[test]
fn a_configured_url_check_without_the_http_feature_is_an_error_naming_the_feature() {
    use cb_core::config::Template;
    let registry = cb_core::Registry::new();
    let t = Template::new("web")
        .base("database")
        .set("health_check.url", "http://127.0.0.1:9/healthz");
    let (live, _) = configured(&registry, t, "web_db");
    let err = HealthMonitor::builder()
        .targets_from_config(&live, &registry)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "health.targets.web_db.health_check.url = \"http://127.0.0.1:9/healthz\": an HTTP health \
             check needs cb-tiers' `http` feature"
        ),
        "{err}"
    );
}

#[cfg(feature = "http")]
#[tokio::test]
async fn r71_a_configured_url_is_checked_over_http_and_trips_its_breaker() {
    // Real time: wiremock needs real sockets. Nothing here asserts timing.
    use cb_core::config::Template;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/healthz"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let registry = cb_core::Registry::new();
    let t = Template::new("web")
        .base("external_api")
        .set("health_check.url", format!("{}/healthz", server.uri()))
        .set("health_check.interval", Duration::from_millis(50))
        .set("health_check.timeout", Duration::from_millis(40))
        .set("health_check.unhealthy_threshold", 2u32);
    let (live, web) = configured(&registry, t, "web");
    let monitor = HealthMonitor::builder()
        .targets_from_config(&live, &registry)
        .build()
        .unwrap();
    let handle = monitor.start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while web.state() != State::Open && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    handle.stop().await;
    assert_eq!(web.state(), State::Open);
    let status = monitor.report();
    let status = status.target("web").unwrap();
    assert_eq!(
        status.last_error.as_deref(),
        Some("health endpoint answered 503 Service Unavailable")
    );
    assert!(status.checks_failed >= 2);
}

#[tokio::test(start_paused = true)]
async fn r71_a_file_instance_with_a_health_check_section_is_a_target_even_before_first_use() {
    use cb_core::config::{ConfigFile, ConfigLayers, Environment, LiveConfig, NoEnv};
    let yaml =
        "instances:\n  inventory:\n    health_check: { check: inventory_ping, interval: 10s, timeout: 2s }\n";
    let layers = ConfigLayers::new(Environment::Production)
        .with_env_source(NoEnv)
        .with_file(ConfigFile::from_yaml(yaml, &NoEnv).unwrap())
        .unwrap();
    let live = LiveConfig::new(layers);
    let registry = cb_core::Registry::new();
    let ping = Switch::up();
    let monitor = HealthMonitor::builder()
        .check_fn("inventory_ping", ping.check())
        .targets_from_config(&live, &registry)
        .build()
        .unwrap();
    assert_eq!(registry.names(), ["inventory"], "created as its first use would");
    assert_eq!(
        monitor.target_config("inventory").unwrap().interval,
        Duration::from_secs(10)
    );
    let handle = monitor.start().unwrap();
    tokio::time::sleep(Duration::from_secs(21)).await;
    assert_eq!(ping.calls(), 3, "at 0, 10 and 20 s");
    handle.stop().await;
}
