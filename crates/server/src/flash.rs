//! One-time messages shown on the next page ("Connection created", "Signed out"): a short-lived cookie set with
//! the redirect, read by the [`Flash`] extractor and cleared by [`clear_shown_flash`] once an HTML page has been
//! sent. The text is base64url in the cookie and HTML-escaped on the page.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::auth::session::{cookie_value, set_cookie};
use crate::state::AppState;

/// The flash cookie's name.
pub const FLASH_COOKIE: &str = "tenure_flash";

/// The longest flash message kept (longer ones are cut).
const MAX_FLASH_CHARS: usize = 600;

/// The message to show once, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flash {
    message: Option<String>,
    error: bool,
}

impl Flash {
    /// No message.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// The message.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Whether it reports a failure.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.error
    }

    fn decode(value: &str) -> Self {
        let (error, encoded) = match value.split_once('.') {
            Some(("e", encoded)) => (true, encoded),
            Some(("i", encoded)) => (false, encoded),
            _ => return Self::none(),
        };
        let message = URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(|text| text.chars().take(MAX_FLASH_CHARS).collect::<String>())
            .filter(|text| !text.is_empty());
        Self { message, error }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Flash {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(cookie_value(&parts.headers, FLASH_COOKIE).map(Self::decode).unwrap_or_default())
    }
}

/// The `Set-Cookie` value that shows `message` on the next page (`error` styles it as a failure).
#[must_use]
pub fn flash_cookie(state: &AppState, message: &str, error: bool) -> HeaderValue {
    let text: String = message.chars().take(MAX_FLASH_CHARS).collect();
    let value = format!("{}.{}", if error { "e" } else { "i" }, URL_SAFE_NO_PAD.encode(text.as_bytes()));
    set_cookie(FLASH_COOKIE, &value, "Lax", state.secure_cookies(), 120)
}

/// Middleware: when a request carried a flash and the answer is an HTML page that sets no new flash, the page
/// has shown it, so the cookie is deleted.
pub async fn clear_shown_flash(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let had_flash = cookie_value(request.headers(), FLASH_COOKIE).is_some();
    let mut response = next.run(request).await;
    if had_flash {
        let is_html = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/html"));
        let sets_flash = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|value| value.as_bytes().starts_with(format!("{FLASH_COOKIE}=").as_bytes()));
        if is_html && !sets_flash {
            response
                .headers_mut()
                .append(header::SET_COOKIE, set_cookie(FLASH_COOKIE, "", "Lax", state.secure_cookies(), 0));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_garbage_is_ignored() {
        let encoded = format!("e.{}", URL_SAFE_NO_PAD.encode("Linking failed: <b>denied</b>"));
        let flash = Flash::decode(&encoded);
        assert_eq!(flash.message(), Some("Linking failed: <b>denied</b>"));
        assert!(flash.is_error());
        assert_eq!(Flash::decode("x.abc"), Flash::none());
        assert_eq!(Flash::decode("i.%%%"), Flash::none());
        assert_eq!(Flash::decode("i."), Flash::none());
    }
}
