//! The identity platform (the login hosts of every cloud): discovery and JWKS, `/authorize` with its sign-in,
//! consent and admin-consent-request pages, `/adminconsent`, and the token endpoint (client credentials with
//! secrets or certificates, authorization code with PKCE, refresh tokens).
//!
//! Map: [`authority`] reads the `{tenant}` segment; [`discovery`] serves the documents; [`authorize`],
//! [`adminconsent`] and [`flow`] drive sign-ins through [`pages`]; [`token`], [`user_grants`],
//! [`client_auth`] and [`assertion`] answer the token endpoint; [`mint`] builds tokens; [`consent`] and
//! [`scopes`] decide what a client may have; [`state`] remembers codes, refresh tokens and sessions; every
//! error has the shape of [`error`]; [`endpoint`] is what the tenant endpoints are called with.

pub mod admin_pages;
pub mod adminconsent;
pub mod assertion;
pub mod authority;
pub mod authorize;
pub mod client_auth;
pub mod consent;
pub mod discovery;
pub mod endpoint;
pub mod error;
pub mod flow;
pub mod mint;
pub mod pages;
pub mod redirect;
pub mod scopes;
pub mod session;
pub mod state;
pub mod token;
pub mod user_grants;

use std::sync::Arc;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;

pub use self::state::IdentityState;
use crate::state::AppState;

async fn not_found() -> Response {
    pages::html(
        StatusCode::NOT_FOUND,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head>\
         <body><main><h1>The page you requested was not found.</h1></main></body></html>\n"
            .to_string(),
    )
    .into_response()
}

/// The identity platform's routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery::openid_configuration_v2))
        .route("/{tenant}/.well-known/openid-configuration", get(discovery::openid_configuration_v1))
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys_v2))
        .route("/{tenant}/discovery/keys", get(discovery::keys_v1))
        .route("/{tenant}/discovery/instance", get(discovery::instance_discovery))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize::authorize_get).post(authorize::authorize_post))
        .route("/{tenant}/oauth2/v2.0/token", get(token::token_get).post(token::token_post))
        .route(
            "/{tenant}/v2.0/adminconsent",
            get(adminconsent::adminconsent_v2_get).post(adminconsent::adminconsent_post),
        )
        .route("/{tenant}/adminconsent", get(adminconsent::adminconsent_v1_get).post(adminconsent::adminconsent_post))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), error::sts_headers))
        .with_state(state)
}

/// The sandbox admin pages that belong to the identity platform (pending admin consent requests and their
/// approval), mounted by [`crate::admin`] under `/_sandbox`.
pub fn admin_routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/_sandbox/consent-requests", get(admin_pages::list))
        .route("/_sandbox/consent-requests/{id}/approve", post(admin_pages::approve))
        .route("/_sandbox/consent-requests/{id}/deny", post(admin_pages::deny))
        .with_state(state)
}
