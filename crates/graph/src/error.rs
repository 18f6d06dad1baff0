//! The crate's one error type and the single place that decides what is worth retrying.
//!
//! Graph answers errors in its OData envelope (`{"error":{"code","message","innerError":{"request-id"}}}`);
//! [`Error::Api`] keeps the operation, status, code, message, `request-id` and any `Retry-After`.
//! [`transient_status`] and [`Error::is_transient`] are the classification every retry loop uses: 429, 500,
//! 502, 503, 504, timeouts and connection failures are transient; every other status (400, 401, 403, 404, …)
//! is not.

use std::fmt;
use std::time::Duration;

use crate::GraphResponse;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of network failure a [`Error::Transport`] was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No answer within the configured timeout.
    Timeout,
    /// The connection could not be opened (DNS, TCP, TLS).
    Connect,
    /// The connection broke while sending or reading.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "timed out",
            TransportKind::Connect => "could not connect",
            TransportKind::Other => "connection failed",
        })
    }
}

/// Everything that can go wrong talking to Graph. Messages never contain tokens or passwords.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Graph answered with an error status.
    #[error("{operation}: graph answered {status} {code}: {message}{}", request_id_suffix(.request_id))]
    Api {
        /// What the client was doing (`users delta`, `$batch`, `PATCH /users/{id}`).
        operation: String,
        /// The HTTP status.
        status: u16,
        /// Graph's `error.code` (empty when the body was not an error envelope).
        code: String,
        /// Graph's `error.message`.
        message: String,
        /// Graph's `request-id`.
        request_id: Option<String>,
        /// The `Retry-After` Graph asked for, if any.
        retry_after: Option<Duration>,
    },
    /// The request did not get an answer.
    #[error("{operation}: {kind} talking to graph: {detail}")]
    Transport {
        /// What the client was doing.
        operation: String,
        /// Timeout, connect failure or broken connection.
        kind: TransportKind,
        /// The underlying error, as text.
        detail: String,
    },
    /// No access token could be had.
    #[error("{operation}: no access token for graph: {source}")]
    Token {
        /// What the client was doing.
        operation: String,
        /// The provider's error (it says whether retrying may help).
        #[source]
        source: model::TokenError,
    },
    /// Graph answered 2xx with a body the client cannot use.
    #[error("{operation}: unexpected answer from graph: {message}{}", request_id_suffix(.request_id))]
    InvalidResponse {
        /// What the client was doing.
        operation: String,
        /// What was wrong with it.
        message: String,
        /// Graph's `request-id`.
        request_id: Option<String>,
    },
    /// The client was configured or called wrongly.
    #[error("{operation}: {message}")]
    Usage {
        /// What the client was doing.
        operation: String,
        /// What is wrong.
        message: String,
    },
}

fn request_id_suffix(request_id: &Option<String>) -> String {
    request_id.as_ref().map(|id| format!(" (request-id {id})")).unwrap_or_default()
}

/// Whether an HTTP status is worth retrying: throttling (429) and server-side failures (500, 502, 503, 504).
#[must_use]
pub(crate) fn transient_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

impl Error {
    /// Whether trying again later may help: 429/500/502/503/504, timeouts and connection failures, and
    /// token failures the provider marks transient. 400, 401, 403, 404 and the rest are not.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Api { status, .. } => transient_status(*status),
            Error::Transport { .. } => true,
            Error::Token { source, .. } => source.transient,
            Error::InvalidResponse { .. } | Error::Usage { .. } => false,
        }
    }

    /// The `Retry-After` Graph sent with this error, if any.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status, for [`Error::Api`].
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Graph's error code, for [`Error::Api`].
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Graph's `request-id`, when there was an answer.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. } | Error::InvalidResponse { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// Whether Graph says a delta sync state is gone and a full resync is needed (410, `syncStateNotFound`,
    /// `resyncRequired`, `syncStateInvalid`).
    #[must_use]
    pub fn is_resync_required(&self) -> bool {
        match self {
            Error::Api { status, code, .. } => {
                *status == 410
                    || ["syncStateNotFound", "resyncRequired", "syncStateInvalid"]
                        .iter()
                        .any(|known| code.eq_ignore_ascii_case(known))
            }
            _ => false,
        }
    }

    /// The [`Error::Api`] for an error answer.
    pub(crate) fn from_response(operation: &str, response: &GraphResponse, retry_after: Option<Duration>) -> Error {
        Error::Api {
            operation: operation.to_string(),
            status: response.status,
            code: response.error_code().unwrap_or_default().to_string(),
            message: response
                .error_message()
                .map(str::to_string)
                .or_else(|| response.body.as_str().map(|text| text.chars().take(200).collect()))
                .unwrap_or_default(),
            request_id: response.request_id.clone(),
            retry_after,
        }
    }

    /// The [`Error::Transport`] for a `reqwest` failure.
    pub(crate) fn transport(operation: &str, error: &reqwest::Error) -> Error {
        let kind = if error.is_timeout() {
            TransportKind::Timeout
        } else if error.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        };
        // Without the URL: delta links carry sync tokens that do not belong in logs.
        let detail = error.without_url_ref().to_string();
        Error::Transport { operation: operation.to_string(), kind, detail }
    }
}

/// `reqwest::Error::without_url` takes ownership; this keeps the message without the URL.
trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(&format!(" for url ({url})"), "").replace(url.as_str(), "[url]");
        }
        let mut source = std::error::Error::source(self);
        while let Some(inner) = source {
            text.push_str(": ");
            text.push_str(&inner.to_string());
            source = inner.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> Error {
        api_with(status, "code", None)
    }

    fn api_with(status: u16, code: &str, retry_after: Option<Duration>) -> Error {
        Error::Api {
            operation: "test".into(),
            status,
            code: code.into(),
            message: "message".into(),
            request_id: Some("rid".into()),
            retry_after,
        }
    }

    #[test]
    fn throttling_and_server_failures_are_transient() {
        for status in [429, 500, 502, 503, 504] {
            assert!(api(status).is_transient(), "{status}");
        }
        for kind in [TransportKind::Timeout, TransportKind::Connect, TransportKind::Other] {
            let error = Error::Transport { operation: "test".into(), kind, detail: "x".into() };
            assert!(error.is_transient(), "{kind}");
        }
    }

    #[test]
    fn client_errors_are_not_transient() {
        for status in [400, 401, 403, 404, 409, 410, 412] {
            assert!(!api(status).is_transient(), "{status}");
        }
        let usage = Error::Usage { operation: "test".into(), message: "x".into() };
        assert!(!usage.is_transient());
    }

    #[test]
    fn token_errors_follow_the_provider() {
        let error = |transient| Error::Token {
            operation: "test".into(),
            source: model::TokenError { message: "no".into(), transient, needs_relink: false },
        };
        assert!(error(true).is_transient());
        assert!(!error(false).is_transient());
    }

    #[test]
    fn messages_name_operation_status_code_and_request_id() {
        let text = api(404).to_string();
        assert_eq!(text, "test: graph answered 404 code: message (request-id rid)");
        let with_retry = api_with(429, "code", Some(Duration::from_secs(3)));
        assert_eq!(with_retry.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(api(500).retry_after(), None);
    }

    #[test]
    fn gone_and_sync_codes_need_a_resync() {
        assert!(api(410).is_resync_required());
        let expired = api_with(400, "syncStateNotFound", None);
        assert!(expired.is_resync_required());
        assert!(!api(400).is_resync_required());
    }
}
