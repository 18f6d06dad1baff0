//! The identity platform: discovery, JWKS, authorize (sign-in, consent, admin-consent requests), token.

use std::sync::Arc;

use axum::Router;

use crate::state::AppState;

/// Runtime identity state: authorization codes, refresh tokens, assertion replay cache, pending sign-ins.
#[derive(Debug, Default)]
pub struct IdentityState {}

/// The identity platform's routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new().with_state(state)
}

/// The sandbox admin pages that belong to the identity platform (pending admin consent requests and their
/// approval), mounted by [`crate::admin`] under `/_sandbox`.
pub fn admin_routes(state: Arc<AppState>) -> Router {
    Router::new().with_state(state)
}
