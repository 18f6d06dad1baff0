//! The admin API's error answer: `{"error":{"code":"…","message":"…"}}` with a 4xx status (500 only when a
//! handler panicked, which the panic layer turns into the same shape).

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

/// An admin API error.
#[derive(Clone, Debug)]
pub struct AdminError {
    /// HTTP status.
    pub status: StatusCode,
    /// Short machine-readable code (`not_found`, `invalid_request`, `unknown_app`, …).
    pub code: &'static str,
    /// A lower-case sentence for people.
    pub message: String,
}

impl AdminError {
    /// An error with the given status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AdminError {
        AdminError { status, code, message: message.into() }
    }

    /// A 400 error.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({"error": {"code": self.code, "message": self.message}}))).into_response()
    }
}

/// What a panicking admin handler answers.
pub(super) fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "the sandbox admin API failed unexpectedly")
        .into_response()
}
