//! Sessions: a random id in an HttpOnly cookie, stored in the database only as its SHA-256, with an absolute
//! expiry and a CSRF token; the [`SignedIn`] extractor that every admin page takes.
//!
//! The session cookie is `SameSite=Lax` (the OAuth callback arrives as a top-level cross-site GET and must carry
//! it), `Secure` and `__Host-`-prefixed when the public URL is https. State-changing requests are POST forms with
//! the session's CSRF token ([`super::form`]), so Lax is enough against cross-site form posts as well.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

use crate::error_page::PageError;
use crate::state::AppState;

/// The session cookie's name over plain HTTP.
pub const SESSION_COOKIE: &str = "tenure_session";
/// The session cookie's name over HTTPS (the `__Host-` prefix pins it to this host, path `/`, `Secure`).
pub const SECURE_SESSION_COOKIE: &str = "__Host-tenure_session";

/// `N` bytes from a generator freshly seeded by the operating system.
#[must_use]
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0_u8; N];
    StdRng::from_os_rng().fill_bytes(&mut bytes);
    bytes
}

/// 256 random bits, base64url without padding: session ids, CSRF tokens.
#[must_use]
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// SHA-256 of `text`, lower-case hex.
#[must_use]
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What the database keys a session by: the hash of its id.
#[must_use]
pub fn session_id_hash(session_id: &str) -> String {
    sha256_hex(&format!("tenure-admin-session-v1:{session_id}"))
}

/// What an OAuth `state` is bound to: derived from the session id, different from the stored id hash, so a
/// database reader learns nothing usable from either.
#[must_use]
pub fn oauth_session_binding(session_id: &str) -> String {
    sha256_hex(&format!("tenure-oauth-binding-v1:{session_id}"))
}

/// The value of the cookie `name` in the request's `Cookie` headers, if present.
#[must_use]
pub fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// A `Set-Cookie` value: HttpOnly, path `/`, `SameSite` as given, `Secure` when `secure`; `max_age` 0 deletes it.
#[must_use]
pub fn set_cookie(name: &str, value: &str, same_site: &str, secure: bool, max_age_seconds: i64) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age_seconds}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A signed-in admin, found from the session cookie. Pages that need sign-in take it as an argument; without a
/// live session the request is redirected to the sign-in page (GET) or refused (other methods).
#[derive(Clone)]
pub struct SignedIn {
    /// The admin's user name.
    pub username: String,
    /// The session's CSRF token, put in every form.
    pub csrf_token: String,
    /// The database key of the session.
    pub id_hash: String,
    /// What OAuth `state`s started in this session are bound to.
    pub oauth_binding: String,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("SignedIn").field("username", &self.username).finish_non_exhaustive()
    }
}

impl SignedIn {
    /// The session for the request's cookie, if it is live; `Err` only when the store fails.
    ///
    /// # Errors
    /// The store could not be read.
    pub async fn from_headers(headers: &HeaderMap, state: &AppState) -> Result<Option<Self>, PageError> {
        let Some(session_id) = cookie_value(headers, state.session_cookie_name()) else { return Ok(None) };
        if session_id.is_empty() || session_id.len() > 128 {
            return Ok(None);
        }
        let id_hash = session_id_hash(session_id);
        let session = state.store().admin_session(&id_hash, Utc::now()).await.map_err(PageError::internal)?;
        Ok(session.map(|session| Self {
            username: session.username,
            csrf_token: session.csrf_token,
            id_hash,
            oauth_binding: oauth_session_binding(session_id),
        }))
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match Self::from_headers(&parts.headers, state).await {
            Ok(Some(signed_in)) => Ok(signed_in),
            Ok(None) if parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD => {
                let next = parts.uri.path_and_query().map_or("/", |path| path.as_str());
                let target = format!("/login?next={}", percent_encode(next));
                Err(Redirect::to(&target).into_response())
            }
            Ok(None) => Err(PageError::new(
                axum::http::StatusCode::FORBIDDEN,
                "Signed out",
                "Your session has ended, so the form was not sent. Sign in again and repeat what you were doing.",
            )
            .into_response()),
            Err(error) => Err(error.into_response()),
        }
    }
}

/// `text` with everything but unreserved characters percent-encoded (for a `next` query parameter).
#[must_use]
pub fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A local path to go to after sign-in: must start with one `/` (not `//` or `/\`, which browsers treat as
/// another host); anything else becomes `/`.
#[must_use]
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(|c| c.is_control())
                && !path.starts_with("/login")
                && path.len() <= 2048 =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; tenure_session=abc; b=2"));
        headers.append(header::COOKIE, HeaderValue::from_static("c=3"));
        assert_eq!(cookie_value(&headers, "tenure_session"), Some("abc"));
        assert_eq!(cookie_value(&headers, "c"), Some("3"));
        assert_eq!(cookie_value(&headers, "tenure"), None);
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/connections/3")), "/connections/3");
        assert_eq!(safe_next(Some("//evil.example/x")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/login?next=/")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn ids_and_bindings_are_distinct_hashes() {
        let id = random_token();
        assert_eq!(id.len(), 43);
        assert_ne!(session_id_hash(&id), oauth_session_binding(&id));
        assert_eq!(session_id_hash(&id).len(), 64);
        assert_ne!(random_token(), id);
    }
}
