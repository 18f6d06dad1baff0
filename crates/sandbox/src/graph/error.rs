//! Graph's error envelope: `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`
//! with optional `details`. Handlers return [`GraphError`]; the envelope middleware ([`super::envelope`])
//! renders it with the request's ids, so every error — including axum's own rejections — has Graph's shape.
//!
//! Reference: <https://learn.microsoft.com/graph/errors>; directory codes from
//! `shared/reference/microsoft-protocols.md` §3.6.

use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::{Value, json};

/// A Graph error, rendered by the envelope middleware.
#[derive(Clone, Debug)]
pub struct GraphError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.code`.
    pub code: String,
    /// `error.message`.
    pub message: String,
    /// `error.details`, when any.
    pub details: Vec<Value>,
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`, `Location`, …).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Result type of Graph handlers.
pub type GraphResult<T> = Result<T, GraphError>;

impl GraphError {
    /// An error with the given status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> GraphError {
        GraphError { status, code: code.to_string(), message: message.into(), details: Vec::new(), headers: Vec::new() }
    }

    /// 400 `Request_BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    /// 400 `Request_UnsupportedQuery`.
    pub fn unsupported_query(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message)
    }

    /// 404 `Request_ResourceNotFound` for an object id or key.
    pub fn not_found(key: &str) -> GraphError {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// 403 `Authorization_RequestDenied`.
    pub fn forbidden() -> GraphError {
        GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    /// 400 `Request_BadRequest` with an `ObjectConflict` detail for a uniqueness violation.
    pub fn conflict(property: &str) -> GraphError {
        let message = format!("Another object with the same value for property {property} already exists.");
        let mut error = GraphError::bad_request(message.clone());
        error.details = vec![json!({"code": "ObjectConflict", "message": message, "target": property})];
        error
    }

    /// 401 `InvalidAuthenticationToken`.
    pub fn unauthenticated(message: impl Into<String>) -> GraphError {
        let mut error = GraphError::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message);
        error.headers.push((
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            ),
        ));
        error
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> GraphError {
        self.headers.push((name, value));
        self
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        for (name, value) in &self.headers {
            response.headers_mut().append(name.clone(), value.clone());
        }
        response.extensions_mut().insert(self);
        response
    }
}
