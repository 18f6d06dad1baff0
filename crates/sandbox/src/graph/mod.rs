//! Microsoft Graph v1.0: users, groups, licences, deleted items, delta and `$batch`, with Graph's OData query
//! options, permission checks from the token, and Graph's error envelope.

pub mod batch;
pub mod caller;
pub mod envelope;
pub mod error;
pub mod odata;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn;
use tower_http::catch_panic::CatchPanicLayer;

use crate::state::AppState;

/// The Graph routes (paths start with `/v1.0`).
pub fn router(state: Arc<AppState>) -> Router {
    let v1 = Router::new();
    Router::new()
        .nest("/v1.0", v1)
        .layer(CatchPanicLayer::custom(envelope::panic_response))
        .layer(from_fn(envelope::graph_envelope))
        .with_state(state)
}
