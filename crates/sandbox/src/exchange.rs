//! The Exchange Online admin API. Tokens for its resource are issued already; the API itself
//! (`/adminapi/beta/{tenant}/InvokeCommand`) arrives with the Exchange part of the sandbox.

use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use http::StatusCode;
use serde_json::json;

use crate::state::AppState;

/// Exchange routes: everything answers Exchange's not-found error for now.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(
                    json!({"error": {"code": "NotFound", "message": "The Exchange admin API is not emulated yet."}}),
                ),
            )
                .into_response()
        })
        .with_state(state)
}
