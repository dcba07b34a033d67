//! Errors of HTTP tier calls.

use std::time::Duration;

use cb_core::classify::ErrorKind;
use reqwest::StatusCode;

/// Why an HTTP tier did not give a usable response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The server answered with a status the [`StatusPolicy`](super::StatusPolicy)
    /// counts as a failure (by default 5xx and 429).
    #[error("the server answered {status}{}", RetryAfter(*.retry_after))]
    Status {
        /// The status.
        status: StatusCode,
        /// The parsed `Retry-After` header, if any.
        retry_after: Option<Duration>,
    },
    /// No connection could be made (refused, unreachable, DNS).
    #[error("could not connect: {0}")]
    Connect(#[source] reqwest::Error),
    /// reqwest's own timeout elapsed (the tier's timeout is reported by the
    /// chain as [`AttemptKind::Timeout`](crate::AttemptKind::Timeout)).
    #[error("the request timed out: {0}")]
    Timeout(#[source] reqwest::Error),
    /// The request could not be built (a caller error, not a tier failure).
    #[error("invalid request: {0}")]
    Request(#[source] reqwest::Error),
    /// The transfer failed after connecting (reset, malformed response...).
    #[error("the transfer failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// The tier's base URL and the request path do not make a valid URL.
    #[error("invalid URL `{url}`: {reason}")]
    Url {
        /// The URL as joined.
        url: String,
        /// Why it is invalid.
        reason: String,
    },
}

struct RetryAfter(Option<Duration>);
impl std::fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(d) => write!(f, " (retry after {d:?})"),
            None => Ok(()),
        }
    }
}

impl HttpError {
    /// Sorts a reqwest error into connect, timeout, request or transport.
    pub fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_builder() {
            HttpError::Request(e)
        } else if e.is_timeout() {
            HttpError::Timeout(e)
        } else if e.is_connect() {
            HttpError::Connect(e)
        } else {
            HttpError::Transport(e)
        }
    }

    /// The failing status, if the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// What a breaker's `classify` lists call this error: its status when
    /// the server answered (`503` and `5xx` match a 503), else the
    /// variant's name (`Connect`, `Timeout`, `Request`, `Transport`, `Url`).
    /// reqwest's own timeout is the variant `Timeout`, not the entry
    /// `timeout`, which names a call-timeout stage's expiry.
    pub fn kind(&self) -> ErrorKind {
        match self {
            HttpError::Status { status, .. } => ErrorKind::Status(status.as_u16()),
            HttpError::Connect(_) => ErrorKind::Variant("Connect"),
            HttpError::Timeout(_) => ErrorKind::Variant("Timeout"),
            HttpError::Request(_) => ErrorKind::Variant("Request"),
            HttpError::Transport(_) => ErrorKind::Variant("Transport"),
            HttpError::Url { .. } => ErrorKind::Variant("Url"),
        }
    }

    /// Whether this error counts against the tier's health: everything but
    /// a request the caller built wrongly.
    pub fn is_tier_failure(&self) -> bool {
        !matches!(self, HttpError::Request(_) | HttpError::Url { .. })
    }
}
