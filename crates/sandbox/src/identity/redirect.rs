//! Sending an authorize result back to the client: `302` to the redirect URI with the parameters in the
//! query (default for `code`) or the fragment (default for hybrid responses), or an auto-submitting
//! `form_post` page. Errors carry `error`, `error_description` (with trace and correlation ids), `error_uri`
//! and `state`.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};

use super::error::{AadError, RequestMeta};
use super::pages;

/// How the result travels back (`response_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    /// `?code=…`.
    Query,
    /// `#code=…`.
    Fragment,
    /// An HTML form posted to the redirect URI.
    FormPost,
}

impl ResponseMode {
    /// Parses a `response_mode` value.
    pub fn parse(value: &str) -> Option<ResponseMode> {
        match value {
            "query" => Some(ResponseMode::Query),
            "fragment" => Some(ResponseMode::Fragment),
            "form_post" => Some(ResponseMode::FormPost),
            _ => None,
        }
    }
}

/// Delivers `params` to `redirect_uri`.
pub fn deliver(redirect_uri: &str, mode: ResponseMode, params: &[(String, String)]) -> Response {
    if mode == ResponseMode::FormPost {
        return pages::form_post(redirect_uri, params);
    }
    let encoded = serde_urlencoded::to_string(params).unwrap_or_default();
    let location = match mode {
        ResponseMode::Fragment => format!("{}#{encoded}", redirect_uri.split('#').next().unwrap_or(redirect_uri)),
        _ => {
            let separator = if redirect_uri.contains('?') { '&' } else { '?' };
            format!("{redirect_uri}{separator}{encoded}")
        }
    };
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(http::header::LOCATION, value);
    }
    response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
    response
}

/// The parameters of an error redirect.
pub fn error_params(error: &AadError, meta: &RequestMeta, state: Option<&str>) -> Vec<(String, String)> {
    let mut params = vec![
        ("error".to_string(), error.error.to_string()),
        ("error_description".to_string(), error.description(meta)),
        ("error_uri".to_string(), error.error_uri()),
    ];
    if let Some(suberror) = error.suberror {
        params.push(("error_subcode".to_string(), suberror.to_string()));
    }
    if let Some(state) = state {
        params.push(("state".to_string(), state.to_string()));
    }
    params
}
