//! The sign-in session cookie (`ESTSAUTH`), one per login host: set after a password sign-in, it lets
//! `prompt=none` and later authorize requests skip the sign-in page. A session ends after a day, or as soon as
//! the user is disabled or deleted, changes password, or has their sessions revoked.

use axum::response::Response;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue};

use super::state::{SESSION_LIFETIME, Session};
use crate::cloud::Cloud;
use crate::state::AppState;

/// The cookie's name (Microsoft's session cookie is called the same).
pub const COOKIE: &str = "ESTSAUTH";

/// The cookie path: the host prefix of the public base (`/login.microsoftonline.us/`) or `/`.
fn cookie_path(public_base: &str) -> String {
    let after_scheme = public_base.find("://").map_or(0, |index| index + 3);
    let path = public_base[after_scheme..].find('/').map_or("", |index| &public_base[after_scheme + index..]);
    format!("{}/", path.trim_end_matches('/'))
}

/// Starts a session for a user who just signed in and sets its cookie on `response`.
pub fn start(
    state: &AppState,
    response: &mut Response,
    public_base: &str,
    host_cloud: Cloud,
    user_id: uuid::Uuid,
    tenant_id: uuid::Uuid,
    now: DateTime<Utc>,
) {
    let value = state.identity.start_session(Session {
        user_id,
        tenant_id,
        login_host: host_cloud.hosts().login[0],
        signed_in: now,
        expires: now + SESSION_LIFETIME,
    });
    let secure = if public_base.starts_with("https://") { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}={value}; Path={}; HttpOnly; SameSite=Lax{secure}", cookie_path(public_base));
    if let Ok(header) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(http::header::SET_COOKIE, header);
    }
}

/// The caller's live session at this login host, if any, for a user who may still sign in.
pub fn current(state: &AppState, headers: &HeaderMap, host_cloud: Cloud, now: DateTime<Utc>) -> Option<Session> {
    let login_host = host_cloud.hosts().login[0];
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .filter_map(|(_, value)| state.identity.session(value, now))
        .filter(|session| session.login_host == login_host)
        .find(|session| still_valid(state, session))
}

fn still_valid(state: &AppState, session: &Session) -> bool {
    let Some(tenant) = state.directory.tenant(&session.tenant_id.to_string()) else { return false };
    let tenant = tenant.read();
    tenant.users.get(&session.user_id).is_some_and(|user| {
        !user.is_deleted()
            && user.account_enabled
            && user.sign_in_sessions_valid_from <= session.signed_in
            && user.last_password_change <= session.signed_in
    })
}
