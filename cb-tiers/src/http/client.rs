//! HTTP tiers: base URLs behind breakers, tried in order.

use std::sync::Arc;
use std::time::Duration;

use cb_core::error::Violations;
use cb_core::{CircuitBreaker, ConfigError, Outcome};
use reqwest::{Method, RequestBuilder, Response, Url};

use super::{HttpError, StatusPolicy, retry_after_of};
use crate::error::ChainError;
use crate::{Served, Tier, TierChain, TierRetry};

/// One HTTP tier: a base URL and its breaker, with an optional timeout and retry.
#[derive(Debug, Clone)]
pub struct HttpTier {
    base: Url,
    tier: Tier,
}

impl HttpTier {
    /// A tier at `base_url` (`http://host:port/prefix`), guarded by `breaker`.
    /// Errors when the URL is not an absolute `http`/`https` URL with a host.
    pub fn new(breaker: CircuitBreaker, base_url: &str) -> Result<Self, ConfigError> {
        let field = format!("http.tiers.{}.base_url", breaker.name());
        let mut v = Violations::new();
        match Url::parse(base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                return Ok(Self {
                    base: url,
                    tier: Tier::new(breaker),
                });
            }
            Ok(_) => v.push(field, base_url, "must be an http:// or https:// URL with a host"),
            Err(e) => v.push(field, base_url, format!("must be an absolute URL ({e})")),
        }
        Err(v.finish().err().unwrap_or_else(|| ConfigError::new(Vec::new())))
    }

    /// Fails a request of this tier that takes longer than `timeout` (the
    /// whole exchange up to the response head); it counts as a failure.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.tier = self.tier.timeout(timeout);
        self
    }

    /// Retries failed requests of this tier before moving on; the retry sees
    /// the server's `Retry-After` as [`Verdict::retry_after`](cb_core::Verdict::retry_after).
    pub fn retry(mut self, retry: impl TierRetry) -> Self {
        self.tier = self.tier.retry(retry);
        self
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The tier's breaker.
    pub fn breaker(&self) -> &CircuitBreaker {
        self.tier.breaker()
    }

    /// `base` + `/` + `path`, whatever slashes each has.
    fn url(&self, path: &str) -> Result<Url, HttpError> {
        let joined = format!(
            "{}/{}",
            self.base.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        Url::parse(&joined).map_err(|e| HttpError::Url {
            url: joined,
            reason: e.to_string(),
        })
    }
}

/// A chain of HTTP tiers sharing one reqwest client and one [`StatusPolicy`].
///
/// See the [module docs](super) for what counts as a failure. A response the
/// policy does not count as a failure (2xx, 3xx, 404...) is returned as
/// [`Served`]; a request that cannot be built ends the chain with
/// [`ChainError::Returned`].
#[derive(Debug, Clone)]
pub struct HttpTiers {
    chain: TierChain,
    bases: Arc<[HttpTier]>,
    client: reqwest::Client,
    policy: StatusPolicy,
}

impl HttpTiers {
    /// A chain of `tiers`, in order, with a default client (no TLS) and the
    /// default [`StatusPolicy`]. Errors like [`TierChain::new`].
    pub fn new(tiers: impl IntoIterator<Item = HttpTier>) -> Result<Self, ConfigError> {
        let bases: Vec<HttpTier> = tiers.into_iter().collect();
        let chain = TierChain::new(bases.iter().map(|t| t.tier.clone()))?;
        let client = reqwest::Client::builder().build().map_err(|e| {
            let mut v = Violations::new();
            v.push("http.client", "default", format!("could not be built: {e}"));
            v.finish().err().unwrap_or_else(|| ConfigError::new(Vec::new()))
        })?;
        Ok(Self {
            chain,
            bases: bases.into(),
            client,
            policy: StatusPolicy::default(),
        })
    }

    /// Uses `client` for every tier (TLS, proxies, default headers...).
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    /// Uses `policy` to decide which statuses are failures.
    pub fn with_status_policy(mut self, policy: StatusPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The underlying tier chain (its breakers, sequences...).
    pub fn chain(&self) -> &TierChain {
        &self.chain
    }

    /// The tiers, in order.
    pub fn tiers(&self) -> &[HttpTier] {
        &self.bases
    }

    /// Adds an HTTP health check of every tier (`GET {base_url}/{health_path}`,
    /// 2xx is healthy) to a monitor, driving the tiers' breakers.
    ///
    /// ```no_run
    /// # use cb_tiers::http::HttpTiers;
    /// # use cb_tiers::health::HealthMonitor;
    /// # async fn f(tiers: HttpTiers) -> Result<(), Box<dyn std::error::Error>> {
    /// let monitor = tiers.health_checks(HealthMonitor::builder(), "/healthz").build()?;
    /// let running = monitor.start()?;
    /// # Ok(()) }
    /// ```
    pub fn health_checks(
        &self,
        mut monitor: crate::health::HealthMonitorBuilder,
        health_path: &str,
    ) -> crate::health::HealthMonitorBuilder {
        for t in self.bases.iter() {
            let url = match t.url(health_path) {
                Ok(u) => u.to_string(),
                Err(e) => match e {
                    HttpError::Url { url, .. } => url,
                    other => other.to_string(),
                },
            };
            monitor = monitor.http_check(t.breaker().clone(), self.client.clone(), &url);
        }
        monitor
    }

    /// `GET path` on the first tier that serves it.
    pub async fn get(&self, path: &str) -> Result<Served<Response>, ChainError<HttpError>> {
        self.send(Method::GET, path, |r| r).await
    }

    /// `method path` on the first tier that serves it; `build` adds headers,
    /// a body... to each tier's request (it runs once per tier tried).
    ///
    /// ```no_run
    /// # async fn f(tiers: cb_tiers::http::HttpTiers) -> Result<(), Box<dyn std::error::Error>> {
    /// let served = tiers
    ///     .send(reqwest::Method::POST, "/v1/complete", |r| r.header("content-type", "application/json").body("{}"))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn send<F>(
        &self,
        method: Method,
        path: &str,
        build: F,
    ) -> Result<Served<Response>, ChainError<HttpError>>
    where
        F: Fn(RequestBuilder) -> RequestBuilder,
    {
        let (client, policy, bases) = (&self.client, &self.policy, &self.bases);
        self.chain
            .call_with(
                |i| {
                    let request = match bases.get(i).map(|t| t.url(path)) {
                        Some(Ok(url)) => Ok(build(client.request(method.clone(), url))),
                        Some(Err(e)) => Err(e),
                        None => Err(HttpError::Url {
                            url: path.to_owned(),
                            reason: format!("no tier {i}"),
                        }),
                    };
                    async move {
                        let response = request?.send().await.map_err(HttpError::from_reqwest)?;
                        let status = response.status();
                        if policy.outcome(status) == Outcome::Failure {
                            return Err(HttpError::Status {
                                status,
                                retry_after: retry_after_of(response.headers()),
                            });
                        }
                        Ok(response)
                    }
                },
                policy,
            )
            .await
    }
}
