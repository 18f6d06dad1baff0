//! One HTTP answer of the admin API as the client keeps it: status, body (JSON, or text when it is not JSON —
//! the concurrency 429 is plain text), and the headers the retry and throttle logic read: `request-id`,
//! `Retry-After`, `X-ExceptionType`, `Rate-Limit-Remaining` and `Rate-Limit-Reset` (reference §4.2).

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

/// The start of the plain-text 429 for too many concurrent requests per tenant.
pub(crate) const CONCURRENCY_REFUSAL: &str = "You have reached the maximum number of concurrent requests";

/// One answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The body: JSON, `Null` when empty, a string when not JSON.
    pub(crate) body: Value,
    /// Exchange's `request-id`.
    pub(crate) request_id: Option<String>,
    /// `Retry-After`, in seconds.
    pub(crate) retry_after: Option<Duration>,
    /// `X-ExceptionType`.
    pub(crate) exception_type: Option<String>,
    /// How long until the request quota resets, when `Rate-Limit-Remaining` says it is spent.
    pub(crate) quota_spent_for: Option<Duration>,
}

impl Answer {
    /// Reads an answer from its status, headers and body bytes.
    pub(crate) fn read(status: u16, headers: &HeaderMap, bytes: &[u8]) -> Answer {
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into()))
        };
        let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_string);
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let quota_spent_for = match text("rate-limit-remaining").and_then(|value| value.trim().parse::<u64>().ok()) {
            Some(0) => {
                let server_now = text("date").and_then(|date| DateTime::parse_from_rfc2822(date.trim()).ok());
                let server_now = server_now.map(|date| date.with_timezone(&Utc));
                Some(text("rate-limit-reset").and_then(|reset| until(&reset, server_now)).unwrap_or(Duration::ZERO))
            }
            _ => None,
        };
        Answer {
            status,
            body,
            request_id: text("request-id"),
            retry_after,
            exception_type: text("x-exceptiontype"),
            quota_spent_for,
        }
    }

    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether this is the plain-text 429 for too many concurrent requests per tenant.
    pub(crate) fn is_concurrency_refusal(&self) -> bool {
        self.status == 429 && self.body.as_str().is_some_and(|text| text.contains(CONCURRENCY_REFUSAL))
    }
}

/// How long until `reset` (an RFC 3339 instant, `Rate-Limit-Reset`); zero when it has passed. Measured from the
/// answer's `Date` when there is one — the service's clock, so a skew between its clock and ours (seconds, on a
/// server whose time drifts) neither shortens the pause into more 429s nor stretches it — else from our clock.
fn until(reset: &str, server_now: Option<DateTime<Utc>>) -> Option<Duration> {
    let reset = DateTime::parse_from_rfc3339(reset.trim()).ok()?.with_timezone(&Utc);
    let now: DateTime<Utc> = server_now.unwrap_or_else(|| SystemTime::now().into());
    Some((reset - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn headers_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert("request-id", HeaderValue::from_static("rid"));
        headers.insert("retry-after", HeaderValue::from_static(" 7 "));
        headers.insert("x-exceptiontype", HeaderValue::from_static("Some.Exception"));
        headers.insert("rate-limit-remaining", HeaderValue::from_static("0"));
        headers.insert("rate-limit-reset", HeaderValue::from_static("2000-01-01T00:00:00.000Z"));
        let answer = Answer::read(200, &headers, b"{\"value\":[]}");
        assert_eq!(answer.request_id.as_deref(), Some("rid"));
        assert_eq!(answer.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(answer.exception_type.as_deref(), Some("Some.Exception"));
        assert_eq!(answer.quota_spent_for, Some(Duration::ZERO), "a reset in the past means no wait");
        assert!(answer.body["value"].is_array());
    }

    #[test]
    fn a_spent_quota_waits_until_the_reset_on_the_services_clock() {
        // The service's clock is a day ahead of ours: the wait is the 30 s between its Date and the reset.
        let mut headers = HeaderMap::new();
        headers.insert("rate-limit-remaining", HeaderValue::from_static("0"));
        let server_now = Utc::now() + chrono::Duration::days(1);
        let date = server_now.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let reset = (server_now + chrono::Duration::seconds(30)).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        headers.insert("date", HeaderValue::from_str(&date).expect("date"));
        headers.insert("rate-limit-reset", HeaderValue::from_str(&reset).expect("reset"));
        let wait = Answer::read(200, &headers, b"").quota_spent_for.expect("spent");
        assert!(wait > Duration::from_secs(29) && wait <= Duration::from_secs(31), "{wait:?}");
    }

    #[test]
    fn a_quota_with_requests_left_is_not_spent() {
        let mut headers = HeaderMap::new();
        headers.insert("rate-limit-remaining", HeaderValue::from_static("29997"));
        assert_eq!(Answer::read(200, &headers, b"").quota_spent_for, None);
    }

    #[test]
    fn the_plain_text_concurrency_refusal_is_recognised() {
        let text = b"You have reached the maximum number of concurrent requests per tenant. Please wait and try again";
        let answer = Answer::read(429, &HeaderMap::new(), text);
        assert!(answer.is_concurrency_refusal());
        assert!(!Answer::read(429, &HeaderMap::new(), b"{\"error\":{}}").is_concurrency_refusal());
    }
}
