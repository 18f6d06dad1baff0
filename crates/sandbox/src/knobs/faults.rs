//! Injected failures: matching the explicit fault plan, drawing random faults, and the responses a fault
//! turns into — Graph's error envelope for Graph, an OData-style error for Exchange, an OAuth error for the
//! login host, and a response whose body fails so that hyper aborts the connection.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderValue, StatusCode, header};
use hyper::body::{Bytes, Frame};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::settings::{FaultRule, Knobs};
use crate::graph::error::GraphError;

/// What an affected request gets instead of its normal answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An error status; `retry_after` (seconds) is sent with 503.
    Status {
        /// The status.
        status: StatusCode,
        /// `Retry-After` seconds.
        retry_after: u64,
    },
    /// Graph's 429 `TooManyRequests` with `Retry-After` seconds.
    Throttle {
        /// `Retry-After` seconds.
        retry_after: u64,
    },
    /// The connection is dropped mid-response.
    Drop,
}

/// Which faults a check may produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaultScope {
    /// Every kind of fault (a direct request).
    All,
    /// Everything but drops (a request inside a `$batch`: there is no connection of its own to drop).
    NoDrops,
}

/// The mutable part of fault injection, kept behind one lock so that draws happen in request order.
#[derive(Debug)]
pub(crate) struct FaultState {
    /// The random source (seeded from the `seed` knob).
    pub(crate) rng: ChaCha8Rng,
    /// How many requests each fault rule has matched.
    pub(crate) counters: Vec<u64>,
    /// When the knobs took effect on the sandbox clock (set by the first affected request if unknown).
    pub(crate) epoch: Option<DateTime<Utc>>,
}

impl FaultState {
    /// Evaluates the fault plan, then the random faults, for one request.
    pub(crate) fn decide(
        &mut self,
        knobs: &Knobs,
        scope: FaultScope,
        method: &http::Method,
        path: &str,
        now: DateTime<Utc>,
    ) -> Option<Fault> {
        let epoch = *self.epoch.get_or_insert(now);
        let elapsed_ms = u64::try_from((now - epoch).num_milliseconds()).unwrap_or(0);
        self.counters.resize(knobs.fault_plan.len(), 0);
        let mut planned = None;
        for (index, rule) in knobs.fault_plan.iter().enumerate() {
            if rule.drop && scope == FaultScope::NoDrops {
                continue;
            }
            if !rule_matches(rule, method, path, elapsed_ms) {
                continue;
            }
            self.counters[index] += 1;
            let fires = rule.nth.is_none_or(|nth| nth == self.counters[index]);
            if fires && planned.is_none() {
                planned = Some(rule_fault(rule, knobs));
            }
        }
        if planned.is_some() {
            return planned;
        }
        if scope == FaultScope::All && knobs.drop_rate > 0.0 && self.rng.random::<f64>() < knobs.drop_rate {
            return Some(Fault::Drop);
        }
        if knobs.error_rate > 0.0 && self.rng.random::<f64>() < knobs.error_rate {
            let statuses = &knobs.error_statuses;
            let status = match statuses.len() {
                0 => 503,
                1 => statuses[0],
                len => statuses[self.rng.random_range(0..len)],
            };
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return Some(Fault::Status { status, retry_after: knobs.retry_after_seconds.max(1) });
        }
        None
    }
}

fn rule_matches(rule: &FaultRule, method: &http::Method, path: &str, elapsed_ms: u64) -> bool {
    if let Some(wanted) = &rule.method
        && !wanted.eq_ignore_ascii_case(method.as_str())
    {
        return false;
    }
    let prefix = rule.path_prefix.as_str();
    if path.len() < prefix.len() || !path.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes()) {
        return false;
    }
    rule.from_ms.is_none_or(|from| elapsed_ms >= from) && rule.to_ms.is_none_or(|to| elapsed_ms < to)
}

fn rule_fault(rule: &FaultRule, knobs: &Knobs) -> Fault {
    let retry_after = rule.retry_after_seconds.unwrap_or(knobs.retry_after_seconds).max(1);
    if rule.drop {
        Fault::Drop
    } else if rule.throttle {
        Fault::Throttle { retry_after }
    } else {
        let status = rule.status.and_then(|status| StatusCode::from_u16(status).ok());
        Fault::Status { status: status.unwrap_or(StatusCode::SERVICE_UNAVAILABLE), retry_after }
    }
}

/// Graph's error for an injected status or throttle (rendered by the envelope middleware). The codes follow
/// <https://learn.microsoft.com/graph/errors>; the 429 body is the one Graph sends
/// (<https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/1975>).
pub fn graph_error(fault: Fault) -> Option<GraphError> {
    let retry_after = |seconds: u64| {
        (header::RETRY_AFTER, HeaderValue::from_str(&seconds.to_string()).unwrap_or(HeaderValue::from_static("1")))
    };
    match fault {
        Fault::Drop => None,
        Fault::Throttle { retry_after: seconds } => {
            let error = GraphError::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Too many requests.");
            let (name, value) = retry_after(seconds);
            Some(error.with_header(name, value))
        }
        Fault::Status { status, retry_after: seconds } => {
            let (code, message) = graph_code(status);
            let mut error = GraphError::new(status, code, message);
            if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
                let (name, value) = retry_after(seconds);
                error = error.with_header(name, value);
            }
            Some(error)
        }
    }
}

fn graph_code(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        429 => ("TooManyRequests", "Too many requests."),
        500 => ("generalException", "An unexpected error occurred."),
        501 => ("notSupported", "The requested feature isn't implemented."),
        502 => ("badGateway", "The server received an invalid response from an upstream server."),
        503 => ("serviceNotAvailable", "The service is not available. Try the request again after a delay."),
        504 => ("gatewayTimeout", "The server did not receive a timely response from an upstream server."),
        507 => ("quotaLimitReached", "The maximum data limit has been reached."),
        400..=499 => ("invalidRequest", "The request is malformed or incorrect."),
        _ => ("generalException", "An unexpected error occurred."),
    }
}

/// The answer for a fault on a non-Graph service (`exchange` true: Exchange's OData-style error; otherwise
/// the identity platform's OAuth error).
pub fn plain_response(fault: Fault, exchange: bool) -> Response {
    match fault {
        Fault::Drop => dropped_response(Response::new(Body::empty())),
        Fault::Throttle { retry_after } | Fault::Status { retry_after, .. } => {
            let status = match fault {
                Fault::Status { status, .. } => status,
                _ => StatusCode::TOO_MANY_REQUESTS,
            };
            let body = if exchange {
                json!({"error": {"code": status.canonical_reason().unwrap_or("Error").replace(' ', ""),
                                 "message": "The service is temporarily unavailable. Please retry."}})
            } else {
                json!({"error": "temporarily_unavailable",
                       "error_description": "AADSTS90033: A transient error has occurred. Please try again.",
                       "error_codes": [90033]})
            };
            let mut response = (status, axum::Json(body)).into_response();
            if matches!(status, StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS)
                && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

/// Keeps the status and headers of `response` but replaces its body with one that fails on first read,
/// so the server aborts the connection instead of completing the response. Any Graph error marker is
/// removed so that no middleware re-renders the body.
pub fn dropped_response(response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.extensions.remove::<GraphError>();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::new(DroppedBody))
}

/// A body whose first frame is an I/O error: hyper gives up on the connection.
struct DroppedBody;

impl hyper::body::Body for DroppedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection dropped by the sandbox's drop knob",
        ))))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn state() -> FaultState {
        FaultState { rng: ChaCha8Rng::seed_from_u64(1), counters: Vec::new(), epoch: None }
    }

    #[test]
    fn the_nth_matching_request_gets_the_planned_status() {
        let knobs = Knobs {
            fault_plan: vec![FaultRule {
                method: Some("post".into()),
                path_prefix: "/v1.0/users".into(),
                nth: Some(3),
                status: Some(503),
                ..FaultRule::default()
            }],
            ..Knobs::default()
        };
        let mut faults = state();
        let now = Utc::now();
        let mut seen = Vec::new();
        for method in [http::Method::POST, http::Method::GET, http::Method::POST, http::Method::POST] {
            seen.push(faults.decide(&knobs, FaultScope::All, &method, "/v1.0/users", now));
        }
        assert_eq!(seen[..3], [None, None, None]);
        assert!(matches!(seen[3], Some(Fault::Status { status, .. }) if status == StatusCode::SERVICE_UNAVAILABLE));
    }

    #[test]
    fn windows_are_measured_from_the_first_request() {
        let knobs = Knobs {
            fault_plan: vec![FaultRule {
                from_ms: Some(1_000),
                to_ms: Some(3_000),
                throttle: true,
                ..FaultRule::default()
            }],
            ..Knobs::default()
        };
        let mut faults = state();
        let start = Utc::now();
        let at = |ms| start + chrono::Duration::milliseconds(ms);
        assert_eq!(faults.decide(&knobs, FaultScope::All, &http::Method::GET, "/v1.0/users", at(0)), None);
        assert!(faults.decide(&knobs, FaultScope::All, &http::Method::GET, "/x", at(1_500)).is_some());
        assert_eq!(faults.decide(&knobs, FaultScope::All, &http::Method::GET, "/x", at(3_000)), None);
    }

    #[test]
    fn drops_are_never_chosen_inside_a_batch() {
        let knobs = Knobs { drop_rate: 1.0, ..Knobs::default() };
        let mut faults = state();
        let now = Utc::now();
        assert_eq!(faults.decide(&knobs, FaultScope::NoDrops, &http::Method::GET, "/v1.0/users", now), None);
        assert_eq!(faults.decide(&knobs, FaultScope::All, &http::Method::GET, "/v1.0/users", now), Some(Fault::Drop));
    }
}
