//! The tower layer in front of a real axum server, through real HTTP on
//! 127.0.0.1 and real time (paused time never meets real sockets).
#![allow(clippy::unwrap_used)] // helpers shared by the tests unwrap like the tests do

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cb_core::fallback::Cause;
use cb_core::tower::PipelineLayer;
use cb_core::{Bulkhead, CircuitBreaker, Error, Fallback, Outcome, Pipeline};
use tower::ServiceBuilder;

/// A refusal becomes 503 with `Retry-After` (whole seconds, rounded up);
/// a failure (timeout) becomes 504.
fn answer(cause: &Cause<'_, Infallible>) -> Result<Response, Infallible> {
    if !cause.is_refused() {
        return Ok(StatusCode::GATEWAY_TIMEOUT.into_response());
    }
    let mut resp = StatusCode::SERVICE_UNAVAILABLE.into_response();
    if let Some(d) = cause.retry_after() {
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    Ok(resp)
}

fn route_pipeline(breaker: CircuitBreaker, bulkhead: Bulkhead) -> Pipeline<Response, Infallible> {
    Pipeline::builder(breaker.name().to_string())
        .breaker(breaker)
        .classifier(|r: &Result<Response, Infallible>| match r {
            Ok(resp) if resp.status().is_server_error() => Outcome::Failure,
            _ => Outcome::Success,
        })
        .timeout(Duration::from_secs(5))
        .bulkhead(bulkhead)
        .fallback(Fallback::from_fn(answer))
        .build()
        .unwrap()
}

async fn unreachable_error(e: Error<Infallible>) -> StatusCode {
    // The fallback answers every refusal and failure; nothing reaches here.
    panic!("unhandled: {e}")
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn tower_layer_opens_a_route_circuit_and_answers_503_with_retry_after() {
    let breaker = CircuitBreaker::builder("flaky")
        .failure_threshold(2)
        .open_duration(Duration::from_secs(30))
        .build()
        .unwrap();
    let flaky = route_pipeline(
        breaker.clone(),
        Bulkhead::builder("flaky").max_concurrent(10).build().unwrap(),
    );
    let app = Router::new()
        .route("/flaky", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route_layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(unreachable_error))
                .layer(PipelineLayer::new(flaky)),
        )
        .route("/healthy", get(|| async { "ok" }));
    let base = serve(app).await;
    let client = reqwest::Client::new();

    for _ in 0..2 {
        let r = client.get(format!("{base}/flaky")).send().await.unwrap();
        assert_eq!(r.status(), 500, "the downstream's own answer passes through");
    }
    assert_eq!(breaker.state(), cb_core::State::Open);
    let r = client.get(format!("{base}/flaky")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let retry_after: u64 = r.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((29..=30).contains(&retry_after), "{retry_after}");
    // Other routes are not behind this circuit.
    let r = client.get(format!("{base}/healthy")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(breaker.metrics().calls.rejected(), 1);
}

#[tokio::test]
async fn tower_layer_limits_a_route_s_concurrency() {
    let bulkhead = Bulkhead::builder("slow").max_concurrent(1).build().unwrap();
    let slow = route_pipeline(CircuitBreaker::builder("slow").build().unwrap(), bulkhead.clone());
    let app = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "done"
            }),
        )
        .route_layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(unreachable_error))
                .layer(PipelineLayer::new(slow)),
        );
    let base = serve(app).await;
    let client = reqwest::Client::new();
    let first = tokio::spawn({
        let (client, url) = (client.clone(), format!("{base}/slow"));
        async move { client.get(url).send().await.unwrap().status() }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = client.get(format!("{base}/slow")).send().await.unwrap();
    assert_eq!(second.status(), 503, "the route's only slot is taken");
    assert!(second.headers().get(header::RETRY_AFTER).is_none());
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(bulkhead.available(), 1, "the slot came back");
}
