//! Route-level protection for an axum app: each protected route gets its own
//! breaker, concurrency limit and rescue response (the Python services' FastAPI
//! middleware, as a tower layer).
//!
//! Run with `cargo run -p cb-examples --example axum_routes`. It serves on
//! 127.0.0.1, sends itself requests, and shows the `/flaky` route answering
//! `503` with `Retry-After` once its circuit is open, while `/search` keeps
//! working. Pass `--serve` to keep the server running.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cb_core::rescue::Cause;
use cb_core::tower::PipelineLayer;
use cb_core::{Bulkhead, CircuitBreaker, ConfigError, Error, Outcome, Pipeline, Rescue};
use tower::ServiceBuilder;

/// Refused: 503 with `Retry-After` in whole seconds, rounded up. Failed
/// (e.g. timed out): 504.
fn rescue_response(cause: &Cause<'_, Infallible>) -> Result<Response, Infallible> {
    if !cause.is_refused() {
        return Ok((StatusCode::GATEWAY_TIMEOUT, "the route timed out\n").into_response());
    }
    let mut resp = (StatusCode::SERVICE_UNAVAILABLE, format!("{}\n", cause.error())).into_response();
    if let Some(d) = cause.retry_after() {
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    Ok(resp)
}

/// A route's protection: breaker (5xx answers are failures), timeout,
/// concurrency limit, rescue response.
fn protect(route: &'static str, max_concurrent: u32) -> Result<Pipeline<Response, Infallible>, ConfigError> {
    Pipeline::builder(route)
        .breaker(
            CircuitBreaker::builder(route)
                .failure_threshold(3)
                .open_duration(Duration::from_secs(30))
                .build()?,
        )
        .classifier(|r: &Result<Response, Infallible>| match r {
            Ok(resp) if resp.status().is_server_error() => Outcome::Failure,
            _ => Outcome::Success,
        })
        .timeout(Duration::from_secs(2))
        .bulkhead(Bulkhead::builder(route).max_concurrent(max_concurrent).build()?)
        .rescue(Rescue::from_fn(rescue_response))
        .build()
}

async fn never(e: Error<Infallible>) -> StatusCode {
    // The rescue answers every refusal and failure.
    eprintln!("unhandled: {e}");
    StatusCode::INTERNAL_SERVER_ERROR
}

fn app() -> Result<Router, ConfigError> {
    let layer = |p| {
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(never))
            .layer(PipelineLayer::new(p))
    };
    Ok(Router::new()
        .route(
            "/flaky",
            get(|| async { (StatusCode::BAD_GATEWAY, "upstream exploded\n") }),
        )
        .route_layer(layer(protect("/flaky", 16)?))
        .merge(
            Router::new()
                .route("/search", get(|| async { "results\n" }))
                .route_layer(layer(protect("/search", 64)?)),
        ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app()?).await.map_err(Box::from) });
    println!("serving on {base}");

    let client = reqwest::Client::new();
    for path in ["/flaky", "/flaky", "/flaky", "/flaky", "/search"] {
        let r = client.get(format!("{base}{path}")).send().await?;
        let retry_after = r
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap_or("?").to_string());
        println!(
            "GET {path:<8} -> {} retry-after: {:<4} {}",
            r.status(),
            retry_after.unwrap_or_else(|| "-".into()),
            r.text().await?.trim_end()
        );
    }
    if std::env::args().any(|a| a == "--serve") {
        let _: Result<(), Box<dyn std::error::Error + Send + Sync>> = server.await?;
    }
    Ok(())
}
