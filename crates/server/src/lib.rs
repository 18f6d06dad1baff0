//! `tenure serve`: Tenure's web UI and the OAuth callback, server-rendered HTML on axum.
//!
//! Admins sign in with local accounts (argon2 hashes in the store, `tenure admin add-user`); a session is a
//! random id in an HttpOnly cookie, stored only as its hash, with an expiry and a CSRF token that every POST form
//! must carry ([`auth`]). Pages are rendered with maud and styled by one embedded stylesheet; there is no
//! JavaScript. Every response gets security headers ([`security`]); malformed requests and handler panics get an
//! error page ([`error_page`]), never a bare status or a dropped connection.

pub mod auth;
pub mod error_page;
pub mod flash;
pub mod pages;
pub mod security;
pub mod state;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;

pub use auth::password::{MIN_PASSWORD_LENGTH, PasswordProblem, hash_password, verify_password};
pub use state::{AppState, ServerSettings};

/// The largest request body accepted (forms are small).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every route of the web UI.
pub fn router(state: AppState) -> Router {
    let https = state.settings().is_https();
    let routes = Router::new()
        .route("/", get(pages::dashboard::dashboard))
        .route("/login", get(pages::login::login_page).post(pages::login::login))
        .route("/logout", post(pages::login::logout))
        .route("/connections", get(pages::connections::list))
        .route("/connections/new/{kind}", get(pages::connection_forms::new_form).post(pages::connection_forms::create))
        .route("/connections/{id}", get(pages::connections::detail))
        .route("/connections/{id}/link", post(pages::connections::link))
        .route("/connections/{id}/admin-consent", post(pages::connections::admin_consent))
        .route("/connections/{id}/test", post(pages::connections::test))
        .route("/connections/{id}/remove", get(pages::connections::confirm_remove).post(pages::connections::remove))
        .route("/connections/{id}/certificates/renew", post(pages::connections::renew_certificate))
        .route("/connections/{id}/certificates/{sha1}", get(pages::connections::download_certificate))
        .route("/connections/{id}/certificates/{sha1}/activate", post(pages::connections::activate_certificate))
        .route("/oauth/callback", get(pages::oauth_callback::callback))
        .route(pages::layout::STYLESHEET_PATH, get(pages::layout::stylesheet))
        .fallback(error_page::not_found)
        .method_not_allowed_fallback(error_page::method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), flash::clear_shown_flash))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    security::with_security_headers(routes, https).layer(CatchPanicLayer::custom(error_page::panic_page))
}

/// Serves [`router`] on `listener` until `shutdown` completes, then finishes the requests in flight.
///
/// # Errors
/// The listener failed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, public_url = %state.settings().public_url, "Web UI listening.");
    }
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
