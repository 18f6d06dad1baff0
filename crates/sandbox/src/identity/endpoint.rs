//! What a tenant endpoint of the login host (`/{tenant}/…`) is called with: [`EndpointRequest`] — the sandbox,
//! the request's ids and time, the `{tenant}` segment as sent, the headers and the parameters — and [`Form`],
//! those parameters: the form body of a `POST`, the query string otherwise.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method};

use super::error::RequestMeta;
use crate::state::AppState;

/// Request parameters in order (the first of a repeated name wins); empty values count as absent.
#[derive(Clone, Default)]
pub struct Form(Vec<(String, String)>);

impl std::fmt::Debug for Form {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be secrets; show the names only.
        formatter.debug_list().entries(self.0.iter().map(|(name, _)| name)).finish()
    }
}

impl Form {
    /// Parses an `application/x-www-form-urlencoded` body; anything else is an empty form.
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Form {
        let is_form = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Form::default();
        }
        Form(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// Parses a query string.
    pub fn from_query(query: Option<&str>) -> Form {
        Form(query.and_then(|query| serde_urlencoded::from_str(query).ok()).unwrap_or_default())
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, value)| key == name && !value.is_empty()).map(|(_, value)| value.as_str())
    }

    /// Whether `name` was sent at all (even empty).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(key, _)| key == name)
    }
}

/// A request to one of a tenant's endpoints.
#[derive(Debug)]
pub struct EndpointRequest {
    /// The sandbox.
    pub state: Arc<AppState>,
    /// Ids, time and the address the client used.
    pub meta: RequestMeta,
    /// The `{tenant}` path segment as sent.
    pub segment: String,
    /// Request headers (session cookie, HTTP Basic client authentication, `x-client-sku`).
    pub headers: HeaderMap,
    /// The parameters: the form body of a `POST`, the query string of a `GET`.
    pub form: Form,
}

impl FromRequest<Arc<AppState>> for EndpointRequest {
    type Rejection = Response;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<EndpointRequest, Response> {
        let (mut parts, body) = request.into_parts();
        let meta = match RequestMeta::from_request_parts(&mut parts, state).await {
            Ok(meta) => meta,
            Err(never) => match never {},
        };
        let Path(segment) =
            Path::<String>::from_request_parts(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let form = if parts.method == Method::POST {
            let body = Bytes::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(IntoResponse::into_response)?;
            Form::parse(&headers, &body)
        } else {
            Form::from_query(parts.uri.query())
        };
        Ok(EndpointRequest { state: state.clone(), meta, segment, headers, form })
    }
}
