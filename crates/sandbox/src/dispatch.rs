//! Decides which service a request is for — identity platform, Graph, Exchange, or the sandbox's own admin
//! API — and in which national cloud, from the `Host` header or a host-name path prefix, then hands it to
//! that service's router with a [`RequestContext`].
//!
//! Addressing rules, in order:
//! 1. A first path segment that is a known Microsoft host (`/graph.microsoft.us/v1.0/users`) selects that
//!    host; the prefix is stripped and kept in the public base URL.
//! 2. Otherwise a `Host` header naming a known Microsoft host selects it.
//! 3. Otherwise (loopback addressing) the path decides: `/_sandbox` → admin, `/v1.0` or `/beta` → Global
//!    Graph, `/adminapi` → Global Exchange, anything else → the Global login host.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, Uri};
use tower::ServiceExt;

use crate::cloud::{Cloud, Service, classify_host};
use crate::server::ConnectionInfo;
use crate::state::AppState;

/// Where a request was addressed, available to every handler as an extension.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The service.
    pub service: Service,
    /// The cloud of the host (for login hosts shared by two clouds, the first of them).
    pub cloud: Cloud,
    /// Whether the host was named explicitly (by prefix or `Host`) rather than implied by loopback addressing.
    pub explicit_host: bool,
    /// The base URL the client used for this service, e.g. `https://127.0.0.1:8443/graph.microsoft.us`; links
    /// in responses (`@odata.nextLink`, endpoints in discovery documents) are built on it.
    pub public_base: String,
}

/// The routers of each service, built once.
#[derive(Clone)]
pub struct Routers {
    /// Identity platform.
    pub login: Router,
    /// Microsoft Graph.
    pub graph: Router,
    /// Exchange Online admin API.
    pub exchange: Router,
    /// Sandbox admin API and pages.
    pub admin: Router,
}

/// The top-level handler: classify, strip the prefix, dispatch.
pub async fn dispatch(state: Arc<AppState>, mut request: Request) -> Response {
    let scheme = request.extensions().get::<ConnectionInfo>().map_or("http", |info| info.scheme);
    let authority = request
        .headers()
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|authority| authority.to_string()))
        .unwrap_or_else(|| "localhost".to_string());
    let host_name = authority.rsplit_once(':').map_or(authority.as_str(), |(host, _)| host).trim_matches(['[', ']']);
    let path = request.uri().path().to_string();

    let first_segment = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let (service, cloud, prefix, explicit_host) = if let Some((service, cloud)) = classify_host(first_segment) {
        (service, cloud, format!("/{first_segment}"), true)
    } else if let Some((service, cloud)) = classify_host(host_name) {
        (service, cloud, String::new(), true)
    } else {
        let service = if path == "/_sandbox" || path.starts_with("/_sandbox/") {
            Service::SandboxAdmin
        } else if path.starts_with("/v1.0/") || path == "/v1.0" || path.starts_with("/beta/") || path == "/$batch" {
            Service::Graph
        } else if path.starts_with("/adminapi/") {
            Service::Exchange
        } else {
            Service::Login
        };
        (service, Cloud::Global, String::new(), false)
    };

    if !prefix.is_empty() {
        let rest = &path[prefix.len()..];
        let rest = if rest.is_empty() { "/" } else { rest };
        let new_path_and_query = match request.uri().query() {
            Some(query) => format!("{rest}?{query}"),
            None => rest.to_string(),
        };
        match new_path_and_query.parse::<Uri>() {
            Ok(uri) => *request.uri_mut() = uri,
            Err(_) => return (StatusCode::BAD_REQUEST, "Bad request path").into_response(),
        }
    }

    let context =
        RequestContext { service, cloud, explicit_host, public_base: format!("{scheme}://{authority}{prefix}") };
    request.extensions_mut().insert(context.clone());

    if let Some(response) = crate::knobs::before_request(&state, &context, &mut request).await {
        return response;
    }

    let routers = state.routers();
    let router = match service {
        Service::Login => routers.login,
        Service::Graph => routers.graph,
        Service::Exchange => routers.exchange,
        Service::SandboxAdmin => routers.admin,
    };
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    // The path only: query strings can carry authorization codes and PKCE values.
    tracing::debug!(service = ?service, cloud = ?cloud, %method, %path, status = response.status().as_u16(), "Request served.");
    response
}
