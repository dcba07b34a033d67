//! A [`Pipeline`] in front of any `tower::Service` (feature `tower`).
//!
//! [`PipelineLayer`] wraps a service so that every request goes through the
//! pipeline's stages: an axum router gets route-level protection (a breaker,
//! a concurrency limit and a rescue response per route), a tonic or hyper
//! client gets retries and timeouts.
//!
//! Requests are consumed by the service they are sent to, so
//! [`PipelineLayer::new`] makes one attempt per request (every stage but
//! retry applies: an HTTP request with a streamed body cannot be replayed).
//! For requests that implement `Clone`, [`PipelineLayer::replaying`] retries
//! with a clone per attempt.
//!
//! The service's error is [`Error<S::Error>`](crate::Error). For axum, which
//! needs infallible services, either give the pipeline a rescue that
//! always answers, or put `axum::error_handling::HandleErrorLayer` outside:
//!
//! ```text
//! let route = Pipeline::builder("search").breaker(breaker).bulkhead(pool).build()?;
//! let app = Router::new().route("/search", get(search)).route_layer(
//!     ServiceBuilder::new()
//!         .layer(HandleErrorLayer::new(|e: cb_core::Error<Infallible>| async move { to_response(e) }))
//!         .layer(PipelineLayer::new(route)),
//! );
//! ```

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;

use crate::error::Error;
use crate::pipeline::Pipeline;

/// One attempt per request: requests need not be `Clone`.
#[derive(Debug, Clone, Copy)]
pub struct Once;

/// Requests are cloned for each attempt, so retries apply.
#[derive(Debug, Clone, Copy)]
pub struct Replay;

/// Wraps services with a [`Pipeline`].
///
/// ```
/// use cb_core::tower::PipelineLayer;
/// use cb_core::{Bulkhead, Pipeline};
/// use tower_layer::Layer;
/// use tower_service::Service;
///
/// # #[derive(Clone)] struct Echo;
/// # impl Service<String> for Echo {
/// #     type Response = String; type Error = std::io::Error;
/// #     type Future = std::future::Ready<Result<String, std::io::Error>>;
/// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> { std::task::Poll::Ready(Ok(())) }
/// #     fn call(&mut self, req: String) -> Self::Future { std::future::ready(Ok(req)) }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cb_core::ConfigError> {
/// let pipeline = Pipeline::builder("echo").bulkhead(Bulkhead::builder("echo").max_concurrent(2).build()?).build()?;
/// let mut svc = PipelineLayer::new(pipeline).layer(Echo);
/// assert_eq!(svc.call("hi".to_string()).await.unwrap(), "hi");
/// # Ok(()) }
/// ```
pub struct PipelineLayer<T, E, M = Once> {
    pipeline: Pipeline<T, E>,
    _mode: PhantomData<fn() -> M>,
}

impl<T, E, M> Clone for PipelineLayer<T, E, M> {
    fn clone(&self) -> Self {
        Self {
            pipeline: self.pipeline.clone(),
            _mode: PhantomData,
        }
    }
}

impl<T, E, M> std::fmt::Debug for PipelineLayer<T, E, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineLayer")
            .field("pipeline", &self.pipeline)
            .finish()
    }
}

impl<T, E> PipelineLayer<T, E, Once> {
    /// One attempt per request through `pipeline` (retries do not apply).
    pub fn new(pipeline: Pipeline<T, E>) -> Self {
        Self {
            pipeline,
            _mode: PhantomData,
        }
    }
}

impl<T, E> PipelineLayer<T, E, Replay> {
    /// Clones the request for every attempt, so `pipeline`'s retries apply.
    pub fn replaying(pipeline: Pipeline<T, E>) -> Self {
        Self {
            pipeline,
            _mode: PhantomData,
        }
    }
}

impl<S, T, E, M> Layer<S> for PipelineLayer<T, E, M> {
    type Service = PipelineService<S, T, E, M>;

    fn layer(&self, inner: S) -> Self::Service {
        PipelineService {
            inner,
            pipeline: self.pipeline.clone(),
            _mode: PhantomData,
        }
    }
}

/// A service behind a [`Pipeline`]; made by [`PipelineLayer`].
pub struct PipelineService<S, T, E, M = Once> {
    inner: S,
    pipeline: Pipeline<T, E>,
    _mode: PhantomData<fn() -> M>,
}

impl<S: Clone, T, E, M> Clone for PipelineService<S, T, E, M> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            pipeline: self.pipeline.clone(),
            _mode: PhantomData,
        }
    }
}

impl<S: std::fmt::Debug, T, E, M> std::fmt::Debug for PipelineService<S, T, E, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineService")
            .field("inner", &self.inner)
            .field("pipeline", &self.pipeline)
            .finish()
    }
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, Error<E>>> + Send>>;

/// Waits until `svc` is ready, then sends it `req`.
async fn ready_call<S: Service<Req>, Req>(mut svc: S, req: Req) -> Result<S::Response, S::Error> {
    std::future::poll_fn(|cx| svc.poll_ready(cx)).await?;
    svc.call(req).await
}

impl<S, Req> Service<Req> for PipelineService<S, S::Response, S::Error, Once>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send + 'static,
    S::Error: Send + 'static,
    Req: Send + 'static,
{
    type Response = S::Response;
    type Error = Error<S::Error>;
    type Future = BoxFuture<S::Response, S::Error>;

    /// Always ready: the inner service's readiness is awaited inside the
    /// pipeline, after admission, so an open circuit answers at once.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let svc = self.inner.clone();
        let pipeline = self.pipeline.clone();
        Box::pin(async move { pipeline.call_once(ready_call(svc, req)).await })
    }
}

impl<S, Req> Service<Req> for PipelineService<S, S::Response, S::Error, Replay>
where
    S: Service<Req> + Clone + Send + Sync + 'static,
    S::Future: Send,
    S::Response: Send + 'static,
    S::Error: Send + 'static,
    Req: Clone + Send + Sync + 'static,
{
    type Response = S::Response;
    type Error = Error<S::Error>;
    type Future = BoxFuture<S::Response, S::Error>;

    /// Always ready, as for [`Once`].
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let svc = self.inner.clone();
        let pipeline = self.pipeline.clone();
        Box::pin(async move { pipeline.call(|| ready_call(svc.clone(), req.clone())).await })
    }
}
