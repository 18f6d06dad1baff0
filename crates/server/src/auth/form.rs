//! [`CsrfForm`]: the extractor of every POST form an admin sends — signed in, the session's CSRF token in the
//! `_csrf` field (compared in constant time), an urlencoded body that parses into the form's type. Anything else
//! is a clear error page: 403 for a missing or wrong token, 400 for a body that does not parse, 415 for another
//! content type.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::session::SignedIn;
use crate::error_page::PageError;
use crate::state::AppState;

/// The name of the hidden CSRF field in every form.
pub const CSRF_FIELD: &str = "_csrf";

/// A POST form from a signed-in admin whose CSRF token matched.
#[derive(Debug)]
pub struct CsrfForm<T> {
    /// Who sent it.
    pub admin: SignedIn,
    /// The parsed fields.
    pub form: T,
}

/// Whether `sent` is `expected` (constant time for equal lengths; both are random tokens of fixed length).
#[must_use]
pub fn tokens_match(sent: Option<&str>, expected: &str) -> bool {
    match sent {
        Some(sent) if !expected.is_empty() => bool::from(sent.as_bytes().ct_eq(expected.as_bytes())),
        _ => false,
    }
}

/// The 403 page for a form without the right CSRF token.
#[must_use]
pub fn csrf_refused() -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        "Form refused",
        "This form was refused because its security token is missing or out of date (it may come from another \
         site, or from a page opened before you signed in again). Reload the page and send the form again.",
    )
}

/// Reads an urlencoded form body: the `_csrf` field and the rest parsed as `T`.
///
/// # Errors
/// A 415 page for another content type, a 400 page for a body that is not a valid form.
pub fn parse_form<T: DeserializeOwned>(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(Option<String>, T), PageError> {
    let urlencoded = content_type.is_some_and(|value| {
        value
            .split(';')
            .next()
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    });
    if !urlencoded {
        return Err(PageError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported form",
            "Forms must be sent as application/x-www-form-urlencoded.",
        ));
    }
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|error| bad_form(&error))?;
    let token = fields.into_iter().find(|(name, _)| name == CSRF_FIELD).map(|(_, value)| value);
    let form = serde_urlencoded::from_bytes(body).map_err(|error| bad_form(&error))?;
    Ok((token, form))
}

fn bad_form(error: &serde_urlencoded::de::Error) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, "Bad form", &format!("The form could not be read: {error}."))
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let admin = SignedIn::from_request_parts(&mut parts, state).await?;
        let content_type =
            parts.headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).map(str::to_owned);
        let request = Request::from_parts(parts, body);
        let body = Bytes::from_request(request, state).await.map_err(|rejection| {
            PageError::new(rejection.status(), "Bad form", "The form could not be read (too large or cut short).")
                .into_response()
        })?;
        let (token, form) = parse_form::<T>(content_type.as_deref(), &body).map_err(IntoResponse::into_response)?;
        if !tokens_match(token.as_deref(), &admin.csrf_token) {
            tracing::warn!(admin = %admin.username, "Refused a form without the session's CSRF token.");
            return Err(csrf_refused().into_response());
        }
        Ok(Self { admin, form })
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Named {
        name: String,
    }

    #[test]
    fn token_and_fields_are_read() {
        let (token, form) =
            parse_form::<Named>(Some("application/x-www-form-urlencoded"), b"_csrf=abc&name=Contoso+Ltd").unwrap();
        assert_eq!(token.as_deref(), Some("abc"));
        assert_eq!(form, Named { name: "Contoso Ltd".into() });
        let error = parse_form::<Named>(Some("application/x-www-form-urlencoded"), b"_csrf=abc").unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        let error = parse_form::<Named>(Some("application/json"), b"{}").unwrap_err();
        assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn tokens_are_compared_exactly() {
        assert!(tokens_match(Some("abc"), "abc"));
        assert!(!tokens_match(Some("abd"), "abc"));
        assert!(!tokens_match(Some("ab"), "abc"));
        assert!(!tokens_match(None, "abc"));
        assert!(!tokens_match(Some(""), ""));
    }
}
