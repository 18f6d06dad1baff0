//! [`PageError`]: a request that cannot be served, answered with a plain HTML page that says what happened —
//! never a panic, a bare status or an internal detail an admin cannot act on. Also the 404, 405 and panic pages.

use std::any::Any;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::pages::layout;

/// An error answered with an HTML page.
#[derive(Debug, Clone)]
pub struct PageError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The page's heading.
    pub title: String,
    /// What happened and what to do, for an admin.
    pub message: String,
}

impl PageError {
    /// An error page.
    #[must_use]
    pub fn new(status: StatusCode, title: &str, message: &str) -> Self {
        Self { status, title: title.to_owned(), message: message.to_owned() }
    }

    /// A 500 for a failure inside Tenure (logged with its detail; the page says only that it failed).
    #[must_use]
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "A web request failed.");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            &format!("Tenure could not complete the request: {error}"),
        )
    }

    /// A 404.
    #[must_use]
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", "There is no page at this address.")
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} ({}): {}", self.title, self.status.as_u16(), self.message)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = layout::error_page(self.status, &self.title, &self.message);
        (self.status, page).into_response()
    }
}

/// The fallback for unknown paths.
pub async fn not_found() -> PageError {
    PageError::not_found()
}

/// The fallback for a known path asked with the wrong method.
pub async fn method_not_allowed() -> PageError {
    PageError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed", "This page does not accept that request.")
}

/// What `CatchPanic` answers when a handler panics (the panic's message is logged, not shown).
pub fn panic_page(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "A web request handler panicked.");
    PageError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Tenure hit an internal error while answering this request. It has been logged; try again.",
    )
    .into_response()
}
