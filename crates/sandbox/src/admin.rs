//! The sandbox's own admin API (not a Microsoft surface): state export, clock, knobs, consent approvals.

use std::sync::Arc;

use axum::Router;

use crate::state::AppState;

/// The admin routes, under `/_sandbox`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new().with_state(state)
}
