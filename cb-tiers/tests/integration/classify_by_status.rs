//! A tier breaker's configured `classify` lists sort HTTP answers by status
//! and class, over the status policy, against wiremock on real time.
#![cfg(feature = "http")]

use std::time::Duration;

use cb_core::classify::ByName;
use cb_core::{BreakerConfig, CircuitBreaker, State};
use cb_tiers::ChainError;
use cb_tiers::http::{HttpTier, HttpTiers};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn breaker(name: &'static str, failure: &[&str], excluded: &[&str]) -> CircuitBreaker {
    let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
    CircuitBreaker::builder(name)
        .config(BreakerConfig {
            failure_threshold: Some(1),
            open_duration: Duration::from_secs(60),
            classify: ByName {
                failure: names(failure),
                excluded: names(excluded),
            },
            ..BreakerConfig::default()
        })
        .build()
        .expect("valid breaker config")
}

async fn answering(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_status_listed_as_excluded_is_returned_without_counting_against_the_tier() {
    let (primary, secondary) = (answering(503).await, answering(200).await);
    let tiers = HttpTiers::new([
        HttpTier::new(breaker("primary", &["5xx"], &["503"]), &primary.uri()).unwrap(),
        HttpTier::new(breaker("secondary", &[], &[]), &secondary.uri()).unwrap(),
    ])
    .unwrap();
    for _ in 0..3 {
        // Excluded: the caller gets the tier's error, and the chain stops there.
        match tiers.get("/x").await {
            Err(ChainError::Returned { tier: 0, error, .. }) => {
                assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
            }
            other => panic!("expected the primary's 503 back, got {other:?}"),
        }
    }
    let m = tiers.chain().tiers()[0].breaker().metrics();
    assert_eq!(
        (m.calls.excluded, m.calls.failures, m.state),
        (3, 0, State::Closed)
    );
}

#[tokio::test]
async fn a_class_listed_as_failure_opens_the_tier_the_policy_would_have_kept() {
    let (primary, secondary) = (answering(404).await, answering(200).await);
    let tiers = HttpTiers::new([
        HttpTier::new(breaker("primary", &["4xx"], &[]), &primary.uri()).unwrap(),
        HttpTier::new(breaker("secondary", &[], &[]), &secondary.uri()).unwrap(),
    ])
    .unwrap();
    let served = tiers.get("/missing").await.unwrap();
    assert_eq!(served.name, "secondary", "a 404 listed as a failure moves on");
    assert_eq!(tiers.chain().tiers()[0].breaker().state(), State::Open);
}
