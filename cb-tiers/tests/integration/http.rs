//! HTTP tiers against wiremock on real time (never paused: real sockets).
#![cfg(feature = "http")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use cb_core::Verdict;
use cb_core::{CircuitBreaker, Outcome, State};
use cb_tiers::health::HealthMonitor;
use cb_tiers::http::{HttpError, HttpTier, HttpTiers, StatusPolicy};
use cb_tiers::{AttemptKind, TierRetry};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn breaker(name: &'static str, threshold: u32, open: Duration) -> CircuitBreaker {
    CircuitBreaker::builder(name)
        .failure_threshold(threshold)
        .open_duration(open)
        .half_open_max_calls(1)
        .success_threshold(1)
        .build()
        .expect("valid breaker config")
}

async fn received(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn r63_a_503_storm_opens_the_primary_and_traffic_moves_to_the_secondary_until_it_recovers() {
    let (primary, secondary) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("GET"))
        .and(path("/v1/items"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .expect(3)
        .mount(&primary)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/items"))
        .respond_with(ResponseTemplate::new(200).set_body_string("secondary"))
        .expect(6)
        .mount(&secondary)
        .await;
    let tiers = HttpTiers::new([
        HttpTier::new(breaker("primary", 3, Duration::from_millis(300)), &primary.uri()).unwrap(),
        HttpTier::new(
            breaker("secondary", 3, Duration::from_millis(300)),
            &format!("{}/", secondary.uri()),
        )
        .unwrap(),
    ])
    .unwrap();

    let opened_at = {
        for _ in 0..3 {
            let served = tiers.get("/v1/items").await.unwrap();
            assert_eq!(served.name, "secondary");
            assert_eq!(served.value.text().await.unwrap(), "secondary");
        }
        Instant::now()
    };
    assert_eq!(tiers.chain().tiers()[0].breaker().state(), State::Open);
    for _ in 0..3 {
        assert_eq!(tiers.get("v1/items").await.unwrap().name, "secondary");
    }
    assert_eq!(received(&primary).await, 3, "no request reaches the open primary");
    primary.verify().await;

    // The primary is healthy again; once its open time has passed it gets the probe.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("primary"))
        .expect(2)
        .mount(&primary)
        .await;
    tokio::time::sleep(
        Duration::from_millis(300).saturating_sub(opened_at.elapsed()) + Duration::from_millis(50),
    )
    .await;
    let served = tiers.get("/v1/items").await.unwrap();
    assert_eq!(served.name, "primary");
    assert_eq!(tiers.chain().tiers()[0].breaker().state(), State::Closed);
    assert_eq!(tiers.get("/v1/items").await.unwrap().name, "primary");
}

#[derive(Debug, Default)]
struct RecordHints(Arc<Mutex<Vec<Option<Duration>>>>);
impl TierRetry for RecordHints {
    fn next_delay(&self, _attempt: u32, failure: &Verdict, _elapsed: Duration) -> Option<Duration> {
        self.0.lock().expect("not poisoned").push(failure.retry_after);
        None
    }
}

#[tokio::test]
async fn a_429_with_retry_after_sets_the_open_duration_and_the_retry_hint() {
    let (primary, secondary) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "2"))
        .expect(1)
        .mount(&primary)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&secondary)
        .await;
    let hints = RecordHints::default();
    let seen = hints.0.clone();
    let tiers = HttpTiers::new([
        HttpTier::new(breaker("primary", 1, Duration::from_secs(60)), &primary.uri())
            .unwrap()
            .retry(hints),
        HttpTier::new(breaker("secondary", 1, Duration::from_secs(60)), &secondary.uri()).unwrap(),
    ])
    .unwrap();
    assert_eq!(tiers.get("/").await.unwrap().name, "secondary");
    let wait = tiers.chain().tiers()[0].breaker().retry_after().unwrap();
    assert!(
        wait <= Duration::from_secs(2) + Duration::from_millis(20),
        "{wait:?}"
    );
    assert!(
        wait > Duration::from_millis(1500),
        "Retry-After, not the 60 s default: {wait:?}"
    );
    assert_eq!(*seen.lock().unwrap(), [Some(Duration::from_secs(2))]);
    assert_eq!(tiers.get("/").await.unwrap().name, "secondary");
}

#[tokio::test]
async fn retry_after_as_an_http_date_and_all_tiers_failed_reports_it() {
    let (primary, secondary) = (MockServer::start().await, MockServer::start().await);
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", at.as_str()))
        .mount(&primary)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&secondary)
        .await;
    let tiers = HttpTiers::new([
        HttpTier::new(breaker("primary", 5, Duration::from_secs(60)), &primary.uri()).unwrap(),
        HttpTier::new(breaker("secondary", 5, Duration::from_secs(60)), &secondary.uri()).unwrap(),
    ])
    .unwrap();
    let err = tiers.get("/").await.unwrap_err();
    let all = err.all_failed().unwrap();
    let p = &all.attempts[0];
    let hint = p.retry_after.unwrap();
    assert!(
        hint > Duration::from_secs(28) && hint <= Duration::from_secs(30),
        "{hint:?}"
    );
    assert_eq!(
        p.kind.error().and_then(HttpError::status).map(|s| s.as_u16()),
        Some(503)
    );
    assert_eq!(
        all.attempts[1]
            .kind
            .error()
            .and_then(HttpError::status)
            .map(|s| s.as_u16()),
        Some(500)
    );
    let text = err.to_string();
    assert!(
        text.contains("`primary`: failed: the server answered 503"),
        "{text}"
    );
    assert!(
        text.contains("`secondary`: failed: the server answered 500"),
        "{text}"
    );
}

#[tokio::test]
async fn r55_a_slow_response_hits_the_tier_timeout_and_counts_as_a_failure() {
    let (primary, secondary) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(800)))
        .mount(&primary)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&secondary)
        .await;
    let tiers = HttpTiers::new([
        HttpTier::new(breaker("primary", 2, Duration::from_secs(60)), &primary.uri())
            .unwrap()
            .timeout(Duration::from_millis(100)),
        HttpTier::new(breaker("secondary", 2, Duration::from_secs(60)), &secondary.uri()).unwrap(),
    ])
    .unwrap();
    let start = Instant::now();
    assert_eq!(tiers.get("/").await.unwrap().name, "secondary");
    assert!(
        start.elapsed() < Duration::from_millis(600),
        "{:?}",
        start.elapsed()
    );
    let primary_breaker = tiers.chain().tiers()[0].breaker();
    assert_eq!(primary_breaker.metrics().calls.failures, 1);
    tiers.get("/").await.unwrap();
    assert_eq!(
        primary_breaker.state(),
        State::Open,
        "two timeouts trip a threshold-2 breaker"
    );

    let only_primary = tiers.chain().sequence(["primary"]).unwrap();
    primary_breaker.reset();
    let err = tiers
        .chain()
        .call_in(&only_primary, |_| async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok::<_, ()>(())
        })
        .await
        .unwrap_err();
    assert!(matches!(
        err.all_failed().unwrap().attempts[0].kind,
        AttemptKind::Timeout(_)
    ));
}

#[tokio::test]
async fn connection_refused_on_a_closed_port_is_a_failure_and_the_next_tier_serves() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let secondary = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&secondary)
        .await;
    let tiers = HttpTiers::new([
        HttpTier::new(
            breaker("gone", 1, Duration::from_secs(60)),
            &format!("http://127.0.0.1:{closed}"),
        )
        .unwrap()
        .timeout(Duration::from_secs(2)),
        HttpTier::new(breaker("secondary", 1, Duration::from_secs(60)), &secondary.uri()).unwrap(),
    ])
    .unwrap();
    assert_eq!(tiers.get("/").await.unwrap().name, "secondary");
    assert_eq!(tiers.chain().tiers()[0].breaker().state(), State::Open);

    let err = tiers
        .chain()
        .call_in(&tiers.chain().sequence(["gone"]).unwrap(), |_| async {
            Ok::<_, ()>(())
        })
        .await;
    assert!(err.unwrap_err().all_failed().unwrap().all_skipped());
}

#[tokio::test]
async fn connection_errors_are_reported_as_connect_failures() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let tiers = HttpTiers::new([HttpTier::new(
        breaker("gone", 5, Duration::from_secs(60)),
        &format!("http://127.0.0.1:{closed}/api"),
    )
    .unwrap()])
    .unwrap();
    let err = tiers.get("/x").await.unwrap_err();
    let kind = &err.all_failed().unwrap().attempts[0].kind;
    assert!(matches!(kind.error(), Some(HttpError::Connect(_))), "{kind:?}");
}

#[tokio::test]
async fn other_4xx_are_not_failures_unless_the_policy_says_so() {
    let (primary, secondary) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&primary)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&secondary)
        .await;
    let tiers = HttpTiers::new([
        HttpTier::new(breaker("primary", 1, Duration::from_secs(60)), &primary.uri()).unwrap(),
        HttpTier::new(breaker("secondary", 1, Duration::from_secs(60)), &secondary.uri()).unwrap(),
    ])
    .unwrap();
    let served = tiers.get("/missing").await.unwrap();
    assert_eq!(
        (served.name.as_str(), served.value.status().as_u16()),
        ("primary", 404)
    );
    let m = tiers.chain().tiers()[0].breaker().metrics();
    assert_eq!(
        (m.calls.excluded, m.calls.failures, m.state),
        (1, 0, State::Closed)
    );

    let strict = tiers.clone().with_status_policy(StatusPolicy::new(|s| {
        if s.as_u16() == 404 {
            Outcome::Failure
        } else {
            StatusPolicy::default().outcome(s)
        }
    }));
    let served = strict.get("/missing").await.unwrap();
    assert_eq!(served.name, "secondary");
}

#[tokio::test]
async fn invalid_base_urls_are_config_errors() {
    let err = HttpTier::new(breaker("x", 1, Duration::from_secs(1)), "not a url").unwrap_err();
    assert!(
        err.to_string().contains("http.tiers.x.base_url = not a url"),
        "{err}"
    );
    assert!(HttpTier::new(breaker("x", 1, Duration::from_secs(1)), "ftp://127.0.0.1/").is_err());
}

#[tokio::test]
async fn r71_an_http_health_check_opens_and_closes_the_breaker() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/healthz"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/healthz"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let b = breaker("api", 100, Duration::from_secs(60));
    let monitor = HealthMonitor::builder()
        .interval(Duration::from_millis(300))
        .timeout(Duration::from_millis(250))
        .unhealthy_threshold(2)
        .http_check(
            b.clone(),
            reqwest::Client::new(),
            &format!("{}/healthz", server.uri()),
        )
        .build()
        .unwrap();
    let mut states = Vec::new();
    let handle = monitor.start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let s = b.state();
        if states.last() != Some(&s) {
            states.push(s);
        }
        if states.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    handle.stop().await;
    assert_eq!(states, [State::Closed, State::Open, State::Closed]);
    let t = &monitor.report().targets[0];
    assert_eq!(t.checks_failed, 2);
    assert!(t.checks_succeeded >= 1);
}

#[tokio::test]
async fn http_tiers_add_a_health_check_per_tier() {
    let (primary, secondary) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("GET"))
        .and(path("/api/healthz"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&primary)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/healthz"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&secondary)
        .await;
    let tiers = HttpTiers::new([
        HttpTier::new(
            breaker("primary", 100, Duration::from_secs(60)),
            &format!("{}/api/", primary.uri()),
        )
        .unwrap(),
        HttpTier::new(
            breaker("secondary", 100, Duration::from_secs(60)),
            &format!("{}/api", secondary.uri()),
        )
        .unwrap(),
    ])
    .unwrap();
    let monitor = tiers
        .health_checks(
            HealthMonitor::builder()
                .interval(Duration::from_secs(1))
                .timeout(Duration::from_millis(900))
                .unhealthy_threshold(1),
            "/healthz",
        )
        .build()
        .unwrap();
    let handle = monitor.start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    // Both targets are checked concurrently: wait for the primary's trip and
    // for the secondary's first completed check, whichever comes last.
    let settled = || {
        tiers.chain().tiers()[0].breaker().state() == State::Open
            && monitor
                .report()
                .target("secondary")
                .is_some_and(|t| t.checks_succeeded >= 1)
    };
    while !settled() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    handle.stop().await;
    assert_eq!(tiers.chain().tiers()[0].breaker().state(), State::Open);
    assert_eq!(tiers.chain().tiers()[1].breaker().state(), State::Closed);
    let report = monitor.report();
    assert!(report.target("secondary").unwrap().checks_succeeded >= 1);
    assert!(
        report
            .target("primary")
            .unwrap()
            .last_error
            .as_deref()
            .unwrap()
            .contains("500")
    );
}
