//! HTTP tiers on reqwest (feature `http`).
//!
//! [`HttpTiers`] is a [`TierChain`](crate::TierChain) of base URLs, each behind
//! its own breaker. By default 5xx, 429, timeouts and connection errors are
//! failures of the tier, other 4xx answers are excluded (neutral: they say
//! nothing about the server's health and are returned to the caller), and
//! everything else succeeds; [`StatusPolicy`] changes that. A `Retry-After`
//! header (seconds or HTTP-date) is parsed; when the failure opened the
//! tier's breaker, it becomes the open duration, and it is passed to the
//! tier's retry as the delay hint.
//!
//! Only plain `http://` is built in; enable a TLS feature of reqwest in your
//! own manifest (and pass your client with [`HttpTiers::with_client`]) for `https://`.
//!
//! ```no_run
//! use cb_core::CircuitBreaker;
//! use cb_tiers::http::{HttpTier, HttpTiers};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tiers = HttpTiers::new([
//!     HttpTier::new(CircuitBreaker::builder("primary").build()?, "http://10.0.0.1:8080/api")?
//!         .timeout(Duration::from_secs(2)),
//!     HttpTier::new(CircuitBreaker::builder("backup").build()?, "http://10.0.0.2:8080/api")?,
//! ])?;
//! let served = tiers.get("/v1/items/42").await?;
//! println!("{} answered {}", served.name, served.value.status());
//! # Ok(()) }
//! ```

mod client;
mod error;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cb_core::classify::ErrorKind;
use cb_core::{Classifier, Outcome, Verdict};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Response, StatusCode};

pub use client::{HttpTier, HttpTiers};
pub use error::HttpError;

/// Decides how a response status counts for the tier's breaker: the
/// [`Classifier`] of HTTP tiers.
///
/// ```
/// use cb_core::Outcome;
/// use cb_tiers::http::StatusPolicy;
/// use reqwest::StatusCode;
///
/// let default = StatusPolicy::default();
/// assert_eq!(default.outcome(StatusCode::SERVICE_UNAVAILABLE), Outcome::Failure);
/// assert_eq!(default.outcome(StatusCode::TOO_MANY_REQUESTS), Outcome::Failure);
/// assert_eq!(default.outcome(StatusCode::NOT_FOUND), Outcome::Excluded);
///
/// // Also treat 408 Request Timeout as a failure of the server.
/// let strict = StatusPolicy::new(|s| match s.as_u16() {
///     408 => Outcome::Failure,
///     _ => StatusPolicy::default().outcome(s),
/// });
/// assert_eq!(strict.outcome(StatusCode::REQUEST_TIMEOUT), Outcome::Failure);
/// ```
///
/// As a [`Classifier`] of a tier's whole result, it passes on the server's
/// `Retry-After` with a failure:
///
/// ```
/// use cb_core::{Classifier, Verdict};
/// use cb_tiers::http::{HttpError, StatusPolicy};
/// use reqwest::{Response, StatusCode};
/// use std::time::Duration;
///
/// let busy: Result<Response, HttpError> = Err(HttpError::Status {
///     status: StatusCode::TOO_MANY_REQUESTS,
///     retry_after: Some(Duration::from_secs(2)),
/// });
/// assert_eq!(
///     StatusPolicy::default().verdict(&busy),
///     Verdict::failure().with_retry_after(Some(Duration::from_secs(2))),
/// );
/// ```
#[derive(Clone)]
pub struct StatusPolicy {
    classify: Arc<dyn Fn(StatusCode) -> Outcome + Send + Sync>,
}

impl StatusPolicy {
    /// A policy from a function: return `Failure`, `Excluded` or `Success`.
    pub fn new(f: impl Fn(StatusCode) -> Outcome + Send + Sync + 'static) -> Self {
        Self {
            classify: Arc::new(f),
        }
    }

    /// How `status` counts.
    pub fn outcome(&self, status: StatusCode) -> Outcome {
        (self.classify)(status)
    }
}

/// A response counts as its status does; an error counts against the tier
/// when [`HttpError::is_tier_failure`] says so, and is excluded otherwise (a
/// request the caller built wrongly says nothing about the server).
impl Classifier<Response, HttpError> for StatusPolicy {
    fn classify(&self, result: &Result<Response, HttpError>) -> Outcome {
        match result {
            Ok(response) => self.outcome(response.status()),
            Err(e) if e.is_tier_failure() => Outcome::Failure,
            Err(_) => Outcome::Excluded,
        }
    }

    /// The status of a response or of an [`HttpError::Status`] (`404`
    /// and `4xx` match a 404 in a breaker's `classify` lists), else the
    /// error's variant ([`HttpError::kind`]).
    fn kind(&self, result: &Result<Response, HttpError>) -> ErrorKind {
        match result {
            Ok(response) => ErrorKind::Status(response.status().as_u16()),
            Err(e) => e.kind(),
        }
    }

    fn verdict(&self, result: &Result<Response, HttpError>) -> Verdict {
        let verdict = Verdict::new(self.classify(result));
        match result {
            Ok(response) if verdict.outcome == Outcome::Failure => {
                verdict.with_retry_after(retry_after_of(response.headers()))
            }
            Err(e) if verdict.outcome == Outcome::Failure => verdict.with_retry_after(e.retry_after()),
            _ => verdict,
        }
    }
}

impl Default for StatusPolicy {
    /// 5xx and 429 fail, other 4xx are excluded, the rest succeed.
    fn default() -> Self {
        Self::new(|s| {
            if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS {
                Outcome::Failure
            } else if s.is_client_error() {
                Outcome::Excluded
            } else {
                Outcome::Success
            }
        })
    }
}

impl fmt::Debug for StatusPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusPolicy").finish_non_exhaustive()
    }
}

/// Parses a `Retry-After` value: delay-seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, RFC 9110 §10.2.3), relative to `now`.
/// A date in the past gives zero; anything unparsable gives `None`.
///
/// ```
/// use cb_tiers::http::parse_retry_after;
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 2015-10-21 07:27:50 GMT
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(10)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long digit strings saturate rather than fail.
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The `Retry-After` of a response's headers, relative to the current time.
pub fn retry_after_of(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// A one-line description of a reqwest error with its causes (for health reports).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
