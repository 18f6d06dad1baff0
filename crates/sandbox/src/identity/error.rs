//! The identity platform's error shape (reference §1.6): `error`, an `error_description` that starts with
//! `AADSTS{code}: ` and ends with the trace id, correlation id and timestamp, `error_codes`, `timestamp`,
//! `trace_id`, `correlation_id`, `error_uri` and, where Microsoft sends one, `suberror`. HTTP 400, except 401
//! for `invalid_client`.
//!
//! Every request to the login host carries a [`RequestMeta`] (trace id, correlation id, the sandbox time), so
//! the ids in an error body match the `x-ms-request-id` / `client-request-id` response headers.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::dispatch::RequestContext;
use crate::state::AppState;

/// An identity-platform error: the OAuth `error` value, the AADSTS code and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AadError {
    /// HTTP status of the JSON form (400, or 401 for `invalid_client`).
    pub status: StatusCode,
    /// OAuth `error` value, e.g. `invalid_grant`.
    pub error: &'static str,
    /// The AADSTS number.
    pub code: u32,
    /// The text after `AADSTS{code}: `.
    pub text: String,
    /// `suberror`, e.g. `consent_required` or `bad_token`.
    pub suberror: Option<&'static str>,
}

impl AadError {
    /// An error with HTTP 400 (401 when `error` is `invalid_client`).
    pub fn new(error: &'static str, code: u32, text: impl Into<String>) -> AadError {
        let status = if error == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
        AadError { status, error, code, text: text.into(), suberror: None }
    }

    /// Adds a `suberror`.
    pub fn with_suberror(mut self, suberror: &'static str) -> AadError {
        self.suberror = Some(suberror);
        self
    }

    /// AADSTS900144: a required parameter is missing.
    pub fn missing_parameter(name: &str) -> AadError {
        AadError::new(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// The full `error_description`: code, text, trace id, correlation id and timestamp.
    pub fn description(&self, meta: &RequestMeta) -> String {
        format!(
            "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            self.code,
            self.text,
            meta.trace_id,
            meta.correlation_id,
            meta.timestamp()
        )
    }

    /// `https://login.microsoftonline.com/error?code={code}` (Microsoft uses this host in every cloud's errors).
    pub fn error_uri(&self) -> String {
        format!("https://login.microsoftonline.com/error?code={}", self.code)
    }

    /// The JSON response of the token and discovery endpoints.
    pub fn to_response(&self, meta: &RequestMeta) -> Response {
        let mut body = json!({
            "error": self.error,
            "error_description": self.description(meta),
            "error_codes": [self.code],
            "timestamp": meta.timestamp(),
            "trace_id": meta.trace_id.to_string(),
            "correlation_id": meta.correlation_id.to_string(),
            "error_uri": self.error_uri(),
        });
        if let Some(suberror) = self.suberror {
            body["suberror"] = json!(suberror);
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        set_json_no_store(response.headers_mut());
        response
    }
}

/// `Content-Type: application/json; charset=utf-8` plus `Cache-Control: no-store, no-cache` and
/// `Pragma: no-cache`, as on every token-endpoint response.
pub fn set_json_no_store(headers: &mut HeaderMap) {
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
    headers.insert(http::header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Per-request ids and the sandbox time, shared by error bodies and response headers.
#[derive(Clone, Debug)]
pub struct RequestMeta {
    /// `trace_id` and `x-ms-request-id`.
    pub trace_id: Uuid,
    /// `correlation_id`: the client's `client-request-id` when it sent a GUID, otherwise fresh.
    pub correlation_id: Uuid,
    /// The sandbox time the request arrived.
    pub now: DateTime<Utc>,
    /// Where the request was addressed.
    pub context: RequestContext,
}

impl RequestMeta {
    /// `yyyy-mm-dd hh:mm:ssZ`, as in Microsoft's error bodies.
    pub fn timestamp(&self) -> String {
        self.now.format("%Y-%m-%d %H:%M:%SZ").to_string()
    }
}

impl FromRequestParts<Arc<AppState>> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<RequestMeta, Self::Rejection> {
        Ok(parts.extensions.get::<RequestMeta>().cloned().unwrap_or_else(|| new_meta(parts, state)))
    }
}

fn new_meta(parts: &Parts, state: &AppState) -> RequestMeta {
    let correlation_id = parts
        .headers
        .get("client-request-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| Uuid::parse_str(value.trim()).ok())
        .unwrap_or_else(Uuid::new_v4);
    let context = parts.extensions.get::<RequestContext>().cloned().unwrap_or_else(|| RequestContext {
        service: crate::cloud::Service::Login,
        cloud: crate::cloud::Cloud::Global,
        explicit_host: false,
        public_base: "https://login.microsoftonline.com".into(),
    });
    RequestMeta { trace_id: Uuid::new_v4(), correlation_id, now: state.clock.now(), context }
}

/// Middleware for every login-host response: creates the request's [`RequestMeta`] and adds the headers
/// Microsoft's STS sends (`x-ms-request-id`, `x-ms-ests-server`, `client-request-id` echo, HSTS, `nosniff`,
/// `P3P`).
pub async fn sts_headers(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let meta = new_meta(&parts, &state);
    let echoed = parts.headers.get("client-request-id").cloned();
    parts.extensions.insert(meta.clone());
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&meta.trace_id.to_string()) {
        headers.insert(HeaderName::from_static("x-ms-request-id"), value);
    }
    headers.insert(HeaderName::from_static("x-ms-ests-server"), HeaderValue::from_static("2.1.0 - SANDBOX ProdSlices"));
    if let Some(value) = echoed {
        headers.insert(HeaderName::from_static("client-request-id"), value);
    }
    headers.insert(
        http::header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    headers.insert(http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(HeaderName::from_static("p3p"), HeaderValue::from_static("CP=\"DSP CUR OTPi IND OTRi ONL FIN\""));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_carries_code_text_ids_and_timestamp() {
        let meta = RequestMeta {
            trace_id: Uuid::nil(),
            correlation_id: Uuid::nil(),
            now: DateTime::parse_from_rfc3339("2024-01-02T03:04:05Z").map(|at| at.with_timezone(&Utc)).unwrap(),
            context: RequestContext {
                service: crate::cloud::Service::Login,
                cloud: crate::cloud::Cloud::Global,
                explicit_host: false,
                public_base: String::new(),
            },
        };
        let error = AadError::missing_parameter("grant_type");
        assert_eq!(
            error.description(&meta),
            "AADSTS900144: The request body must contain the following parameter: 'grant_type'.\r\nTrace ID: \
             00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\n\
             Timestamp: 2024-01-02 03:04:05Z"
        );
        assert_eq!(AadError::new("invalid_client", 7000215, "x").status, StatusCode::UNAUTHORIZED);
    }
}
