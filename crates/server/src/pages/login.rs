//! Sign-in and sign-out. The sign-in form is protected against login CSRF by a double-submit token (a
//! `SameSite=Strict` cookie echoed in a hidden field); a refused sign-in never says whether the user name or the
//! password was wrong, and costs the same time either way (an unknown name is checked against a dummy hash).
//! Five failures within fifteen minutes lock the user name for the rest of that time (see
//! [`crate::auth::sign_in_throttle`]).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use std::time::Instant;

use chrono::Utc;
use maud::{Markup, html};
use model::Secret;
use serde::Deserialize;

use crate::auth::form::{CSRF_FIELD, CsrfForm, csrf_refused, parse_form, tokens_match};
use crate::auth::password::{MAX_PASSWORD_LENGTH, verify_password};
use crate::auth::session::{SignedIn, cookie_value, random_token, safe_next, session_id_hash, set_cookie};
use crate::error_page::PageError;
use crate::flash::{Flash, flash_cookie};
use crate::pages::layout;
use crate::state::AppState;

/// The login-CSRF cookie's name.
pub const LOGIN_CSRF_COOKIE: &str = "tenure_login_csrf";

/// What a refused sign-in says, whichever of the two was wrong.
pub const SIGN_IN_REFUSED: &str = "The user name or password is incorrect.";

/// `GET /login?next=…`
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// `GET /login`: the sign-in page (or straight on, when already signed in).
pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
    flash: Flash,
) -> Result<Response, PageError> {
    let next = safe_next(query.next.as_deref());
    if SignedIn::from_headers(&headers, &state).await?.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    render_login(&state, &headers, &flash, &next, "", None, StatusCode::OK).await
}

/// `POST /login`.
pub async fn login(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, PageError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let (token, form) = parse_form::<LoginForm>(content_type, &body)?;
    if !tokens_match(token.as_deref(), cookie_value(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default()) {
        return Err(csrf_refused());
    }
    let next = safe_next(form.next.as_deref());
    let username = form.username.trim().to_owned();
    let password = Secret::new(form.password);
    if let Some(wait) = state.sign_in_throttle().locked_for(&username, Instant::now()) {
        tracing::warn!(username = %username.chars().take(64).collect::<String>(), "Admin sign-in refused: locked after repeated failures.");
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let message = format!(
            "Too many failed sign-ins for this user name. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        );
        let mut page = render_login(
            &state,
            &headers,
            &Flash::none(),
            &next,
            &username,
            Some(&message),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await?;
        if let Ok(value) = header::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            page.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(page);
    }
    let account = if username.is_empty() || username.len() > 256 {
        None
    } else {
        state.store().admin_account(&username).await.map_err(PageError::internal)?
    };
    let stored_hash = account.as_ref().map(|account| account.password_hash.clone());
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, stored_hash.as_deref()))
        .await
        .map_err(PageError::internal)?;
    let Some(account) = account.filter(|_| verified) else {
        state.sign_in_throttle().record_failure(&username, Instant::now());
        tracing::warn!(username = %username.chars().take(64).collect::<String>(), "Admin sign-in refused.");
        return render_login(
            &state,
            &headers,
            &Flash::none(),
            &next,
            &username,
            Some(SIGN_IN_REFUSED),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    };

    state.sign_in_throttle().clear(&username);
    let now = Utc::now();
    let session_id = random_token();
    let session = store::NewAdminSession {
        id_hash: session_id_hash(&session_id),
        account_id: account.id,
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + state.settings().session_lifetime,
    };
    state.store().create_admin_session(&session).await.map_err(PageError::internal)?;
    if let Err(error) = state.store().purge_expired_admin_sessions(now).await {
        tracing::warn!(%error, "Could not purge expired admin sessions.");
    }
    tracing::info!(username = %account.username, "Admin signed in.");
    let secure = state.secure_cookies();
    let lifetime = state.settings().session_lifetime.num_seconds();
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, set_cookie(state.session_cookie_name(), &session_id, "Lax", secure, lifetime)),
            (header::SET_COOKIE, set_cookie(LOGIN_CSRF_COOKIE, "", "Strict", secure, 0)),
        ]),
        Redirect::to(&next),
    )
        .into_response())
}

/// Fields of a form that sends nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct NoFields {}

/// `POST /logout`.
pub async fn logout(State(state): State<AppState>, form: CsrfForm<NoFields>) -> Result<Response, PageError> {
    state.store().delete_admin_session(&form.admin.id_hash).await.map_err(PageError::internal)?;
    tracing::info!(username = %form.admin.username, "Admin signed out.");
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, set_cookie(state.session_cookie_name(), "", "Lax", state.secure_cookies(), 0)),
            (header::SET_COOKIE, flash_cookie(&state, "You have signed out.", false)),
        ]),
        Redirect::to("/login"),
    )
        .into_response())
}

async fn render_login(
    state: &AppState,
    headers: &HeaderMap,
    flash: &Flash,
    next: &str,
    username: &str,
    problem: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let token = match cookie_value(headers, LOGIN_CSRF_COOKIE) {
        Some(token)
            if token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            token.to_owned()
        }
        _ => random_token(),
    };
    let no_accounts = state.store().list_admin_accounts().await.map_err(PageError::internal)?.is_empty();
    let page = layout::public_page("Sign in", flash, login_form(&token, next, username, problem, no_accounts));
    let cookie = set_cookie(LOGIN_CSRF_COOKIE, &token, "Strict", state.secure_cookies(), 3600);
    Ok((status, AppendHeaders([(header::SET_COOKIE, cookie)]), page).into_response())
}

fn login_form(token: &str, next: &str, username: &str, problem: Option<&str>, no_accounts: bool) -> Markup {
    html! {
        h1 { "Sign in to Tenure" }
        div.card {
            @if let Some(problem) = problem {
                p.alert role="alert" id="login-error" { (problem) }
            }
            @if no_accounts {
                p.alert role="note" {
                    "No admin account exists yet. Create one on the server with "
                    code { "tenure admin add-user NAME" } "."
                }
            }
            form method="post" action="/login" {
                input type="hidden" name=(CSRF_FIELD) value=(token);
                input type="hidden" name="next" value=(next);
                label for="username" { "User name" }
                input type="text" id="username" name="username" value=(username) autocomplete="username" required
                    autofocus maxlength="256";
                label for="password" { "Password" }
                input type="password" id="password" name="password" autocomplete="current-password" required
                    maxlength=(MAX_PASSWORD_LENGTH);
                div.actions { button.primary type="submit" id="sign-in" { "Sign in" } }
            }
        }
    }
}
