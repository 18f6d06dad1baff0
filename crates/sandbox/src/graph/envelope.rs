//! The middleware every Graph request passes through: it assigns `request-id`, echoes `client-request-id`,
//! adds Graph's response headers, and renders errors in Graph's envelope — the handlers' [`GraphError`]s as
//! well as axum's rejections (bad JSON, unknown routes, wrong methods) and panics, so no request ever gets a
//! bodiless or non-Graph error.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;
use uuid::Uuid;

use super::error::GraphError;
use crate::clock::graph_time;

/// Graph's JSON content type.
pub const GRAPH_JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// The ids of the request being served, available to handlers as an extension.
#[derive(Clone, Debug)]
pub struct RequestIds {
    /// Graph's `request-id`.
    pub request_id: String,
    /// The client's `client-request-id`, or one we made up.
    pub client_request_id: String,
}

/// The middleware function (use with `axum::middleware::from_fn`).
pub async fn graph_envelope(mut request: Request, next: Next) -> Response {
    let client_request_id = request
        .headers()
        .get("client-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty() && value.len() <= 128)
        .map_or_else(|| Uuid::new_v4().to_string(), str::to_string);
    let ids = RequestIds { request_id: Uuid::new_v4().to_string(), client_request_id };
    request.extensions_mut().insert(ids.clone());
    let path = request.uri().path().to_string();

    let mut response = next.run(request).await;
    let status = response.status();

    if let Some(error) = response.extensions_mut().remove::<GraphError>() {
        response = render(&error, &ids, response);
    } else if (status.is_client_error() || status.is_server_error()) && !is_json(&response) {
        let error = rejection_to_graph_error(status, &path);
        response = render(&error, &ids, response);
    }

    let json = is_json(&response);
    let headers = response.headers_mut();
    headers.insert("request-id", HeaderValue::from_str(&ids.request_id).expect("a uuid is a valid header value"));
    if let Ok(value) = HeaderValue::from_str(&ids.client_request_id) {
        headers.insert("client-request-id", value);
    }
    headers.insert(
        "x-ms-ags-diagnostic",
        HeaderValue::from_static(r#"{"ServerInfo":{"DataCenter":"Sandbox","Slice":"E","Ring":"5","ScaleUnit":"000","RoleInstance":"SANDBOX"}}"#),
    );
    if json {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(GRAPH_JSON));
        headers.insert("OData-Version", HeaderValue::from_static("4.0"));
    }
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    response
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
}

/// The segment Graph names in its unknown-route error: the first one after the version.
fn unknown_segment(path: &str) -> &str {
    let mut segments = path.split('/').filter(|segment| !segment.is_empty());
    let first = segments.next().unwrap_or("");
    if first == "v1.0" { segments.next().unwrap_or(first) } else { first }
}

/// Maps a status that axum produced on its own (no handler error) to Graph's error.
fn rejection_to_graph_error(status: StatusCode, path: &str) -> GraphError {
    match status {
        StatusCode::NOT_FOUND => GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Resource not found for the segment '{}'.", unknown_segment(path)),
        ),
        StatusCode::METHOD_NOT_ALLOWED => GraphError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
            )
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            GraphError::new(StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge", "The request is too large.")
        }
        status if status.is_server_error() => {
            GraphError::new(status, "generalException", "An unexpected error occurred.")
        }
        status => GraphError::new(status, "BadRequest", status.canonical_reason().unwrap_or("Bad request").to_string()),
    }
}

fn render(error: &GraphError, ids: &RequestIds, response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    let mut body = json!({
        "code": error.code,
        "message": error.message,
        "innerError": {
            "date": graph_time(chrono::Utc::now()),
            "request-id": ids.request_id,
            "client-request-id": ids.client_request_id,
        },
    });
    if !error.details.is_empty() {
        body["details"] = json!(error.details);
    }
    let bytes = serde_json::to_vec(&json!({ "error": body })).expect("a JSON value serialises");
    parts.status = error.status;
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(GRAPH_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

/// The response for a handler panic: a Graph 500, never a bodiless one.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("A Graph handler panicked; answering 500.");
    GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "An unexpected error occurred.")
        .into_response()
}
