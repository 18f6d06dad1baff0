//! `GET /oauth/callback`: where Microsoft's sign-in (Link Account) and admin-consent pages send the admin's
//! browser back. The raw query and the session's binding go to `ConnectionService::complete_callback`, which
//! checks the single-use `state` against this session; the admin lands on the connection's page with a flash
//! message, or sees plainly why linking failed.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use store::ConnectionStatus;

use crate::auth::session::SignedIn;
use crate::error_page::PageError;
use crate::pages::connections::{connection_error_page, redirect_with_flash};
use crate::state::AppState;

/// The longest callback query accepted (codes are long, but not this long).
const MAX_QUERY_BYTES: usize = 16 * 1024;

/// `GET /oauth/callback?…`.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let Some(admin) = SignedIn::from_headers(&headers, &state).await? else {
        return Err(PageError::new(
            StatusCode::UNAUTHORIZED,
            "Signed out",
            "Microsoft's sign-in came back, but your Tenure session has ended, so it cannot be matched to the \
             Link Account you started. Sign in to Tenure and click Link Account again.",
        ));
    };
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY_BYTES {
        return Err(PageError::new(StatusCode::BAD_REQUEST, "Linking failed", "The sign-in answer is too long."));
    }
    let view = match state.connections().complete_callback(&query, &admin.oauth_binding).await {
        Ok(view) => view,
        Err(error) => {
            tracing::warn!(admin = %admin.username, %error, "OAuth callback refused.");
            let page = connection_error_page(&error);
            let message = format!("{} Open Connections and try again.", page.message);
            return Err(PageError::new(page.status, "Linking failed", &message));
        }
    };
    let connection = &view.connection;
    let (message, error) = match connection.status {
        ConnectionStatus::Connected => {
            let user = connection.linked_by.as_deref().unwrap_or("an unnamed account");
            (format!("Connected: linked by {user}."), false)
        }
        ConnectionStatus::WaitingAdminApproval => (
            "Waiting for admin approval: an administrator of the tenant has been asked to grant the permissions. \
             Click Link Account again once they have."
                .to_owned(),
            false,
        ),
        ConnectionStatus::NotLinked => {
            ("Admin consent recorded. Click Link Account to finish linking.".to_owned(), false)
        }
        ConnectionStatus::NeedsRelink => {
            let reason = connection.status_reason.as_deref().unwrap_or("the sign-in did not complete");
            (format!("Not linked: {reason}"), true)
        }
    };
    Ok(redirect_with_flash(&state, &format!("/connections/{}", connection.id), &message, error).into_response())
}
