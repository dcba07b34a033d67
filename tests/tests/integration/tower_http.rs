//! The tower layer in front of a real axum server, through real HTTP on
//! 127.0.0.1 and real time (paused time never meets real sockets).
//!
//! Only cb-core's layer is under test, yet the file lives here, not in
//! `cb-core/tests`: the axum server and reqwest client it needs would
//! otherwise become cb-core's dev-dependencies, built for every cb-core test.
#![allow(clippy::unwrap_used)] // helpers shared by the tests unwrap like the tests do

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cb_core::rescue::Cause;
use cb_core::tower::PipelineLayer;
use cb_core::{Bulkhead, CircuitBreaker, Error, Outcome, Pipeline, Rescue};
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
        .rescue(Rescue::from_fn(answer))
        .build()
        .unwrap()
}

async fn unreachable_error(e: Error<Infallible>) -> StatusCode {
    // The rescue answers every refusal and failure; nothing reaches here.
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

/// The replaying layer on the client side: a `Clone` request is re-sent for
/// every attempt, so the pipeline's retries apply through real HTTP.
#[tokio::test]
async fn replaying_layer_retries_client_requests_through_real_http() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use tower::{Layer, Service, ServiceExt};

    let hits = Arc::new(AtomicU32::new(0));
    let counter = hits.clone();
    let app = Router::new().route(
        "/flaky",
        get(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let base = serve(app).await;
    let base2 = base.clone();
    let client = reqwest::Client::new();
    let http = tower::service_fn(move |path: String| {
        let (client, url) = (client.clone(), format!("{base}{path}"));
        async move {
            let resp = client.get(url).send().await.map_err(|e| e.to_string())?;
            if resp.status().is_server_error() {
                Err(resp.status().to_string())
            } else {
                Ok(resp.status().as_u16())
            }
        }
    });
    let retry = cb_core::RetryPolicy::builder()
        .max_attempts(3)
        .backoff(
            cb_core::Backoff::constant(Duration::from_millis(5))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let pipeline = Pipeline::<u16, String>::builder("client")
        .retry(retry)
        .build()
        .unwrap();
    let mut svc = PipelineLayer::replaying(pipeline).layer(http);
    let status = svc
        .ready()
        .await
        .unwrap()
        .call("/flaky".to_string())
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "two 503s retried, the third attempt served"
    );

    // One attempt per request with `new`: the 503 reaches the caller.
    hits.store(0, Ordering::SeqCst);
    let client = reqwest::Client::new();
    let once = tower::service_fn(move |path: String| {
        let (client, url) = (client.clone(), format!("{base2}{path}"));
        async move {
            let resp = client.get(url).send().await.map_err(|e| e.to_string())?;
            if resp.status().is_server_error() {
                Err(resp.status().to_string())
            } else {
                Ok(resp.status().as_u16())
            }
        }
    });
    let pipeline = Pipeline::<u16, String>::builder("client-once").build().unwrap();
    let err = PipelineLayer::new(pipeline)
        .layer(once)
        .oneshot("/flaky".to_string())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Inner(ref s) if s.starts_with("503")),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}
