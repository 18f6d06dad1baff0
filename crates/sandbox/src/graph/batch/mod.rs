//! JSON batching: `POST /v1.0/$batch` (reference §3.5).
//!
//! The body is validated as a whole first ([`parse_batch`]); then every request is sent through the Graph
//! router itself, as `/v1.0{url}` with the batch's `Authorization` header and the request's own headers and
//! body, so each one gets exactly the authentication, permission checks, envelope, throttling (a per-item
//! 429) and injected faults of a direct call. Independent requests run concurrently (polled in request
//! order, so the seeded fault knobs stay deterministic); a sequential batch runs its chain one by one, and a
//! request whose predecessor failed (status 400 or above) is not run and answers 424.
//!
//! The answer is `200 {"responses":[{"id","status","headers","body"}]}`, in request order; JSON bodies are
//! embedded as JSON, `text/*` bodies as strings and anything else as base64 strings.

pub mod parse;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::{HeaderMap, Request, StatusCode, header};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value, json};
use tower::ServiceExt;
use uuid::Uuid;

pub use self::parse::{BatchItem, BatchOrder, MAX_REQUESTS, parse_batch, parse_batch_with_order};
use super::caller::Caller;
use super::error::{GraphError, GraphResult};
use super::throttle::InBatch;
use crate::clock::graph_time;
use crate::dispatch::RequestContext;
use crate::state::AppState;

/// The largest response body read back from one request of a batch.
const MAX_ITEM_BODY: usize = 16 * 1024 * 1024;

/// Characters a client may leave unencoded in a batch `url` that `http::Uri` refuses.
const URL_UNSAFE: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`').add(b'{').add(b'}').add(b'|').add(b'\\').add(b'^');

/// Request headers that describe the batch's own connection and are never copied to its requests.
const SKIPPED_REQUEST_HEADERS: &[&str] =
    &["authorization", "host", "content-length", "transfer-encoding", "connection"];

/// Response headers that describe the connection or the batch rather than one of its requests.
const SKIPPED_RESPONSE_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "strict-transport-security",
    "x-ms-ags-diagnostic",
    "request-id",
    "client-request-id",
    "date",
];

/// `POST /v1.0/$batch`.
pub async fn post_batch(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
    context: Option<Extension<RequestContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> GraphResult<Response> {
    let json_content = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim().to_ascii_lowercase().starts_with("application/json"));
    if !json_content {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        ));
    }
    let (items, order) = parse_batch_with_order(&body)?;
    let context = context.map(|Extension(context)| context);
    let authorization = headers.get(header::AUTHORIZATION).cloned();
    let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; items.len()];
    match order {
        BatchOrder::Parallel => {
            let runs = items.iter().map(|item| run_item(&state, item, authorization.clone(), context.clone()));
            let results = join_in_order(runs.collect()).await;
            for (slot, outcome) in outcomes.iter_mut().zip(results) {
                *slot = Some(outcome);
            }
        }
        BatchOrder::Sequential(chain) => {
            let mut failed = false;
            for index in chain {
                let outcome = if failed {
                    failed_dependency()
                } else {
                    run_item(&state, &items[index], authorization.clone(), context.clone()).await
                };
                failed = outcome.status >= 400;
                outcomes[index] = Some(outcome);
            }
        }
    }
    let responses: Vec<Value> = items
        .iter()
        .zip(outcomes)
        .map(|(item, outcome)| {
            let outcome = outcome.unwrap_or_else(failed_dependency);
            let mut entry = Map::new();
            entry.insert("id".into(), Value::String(item.id.clone()));
            entry.insert("status".into(), json!(outcome.status));
            entry.insert("headers".into(), Value::Object(outcome.headers));
            if let Some(body) = outcome.body {
                entry.insert("body".into(), body);
            }
            Value::Object(entry)
        })
        .collect();
    Ok(Json(json!({ "responses": responses })).into_response())
}

/// What one request of the batch answered.
#[derive(Clone, Debug)]
struct ItemOutcome {
    status: u16,
    headers: Map<String, Value>,
    body: Option<Value>,
}

/// The 424 of a request whose dependency failed; it never ran.
fn failed_dependency() -> ItemOutcome {
    let id = Uuid::new_v4().to_string();
    let mut headers = Map::new();
    headers.insert("Content-Type".into(), Value::String("application/json".into()));
    let body = json!({"error": {
        "code": "FailedDependency",
        "message": "The request was not executed because a request it depends on failed.",
        "innerError": {"date": graph_time(chrono::Utc::now()), "request-id": id, "client-request-id": id},
    }});
    ItemOutcome { status: 424, headers, body: Some(body) }
}

/// The outcome for a request that could not even be formed (an unusable URL).
fn unusable_request(message: &str) -> ItemOutcome {
    let id = Uuid::new_v4().to_string();
    let mut headers = Map::new();
    headers.insert("Content-Type".into(), Value::String("application/json".into()));
    let body = json!({"error": {
        "code": "BadRequest",
        "message": message,
        "innerError": {"date": graph_time(chrono::Utc::now()), "request-id": id, "client-request-id": id},
    }});
    ItemOutcome { status: 400, headers, body: Some(body) }
}

/// Sends one request of the batch through the Graph router.
async fn run_item(
    state: &AppState,
    item: &BatchItem,
    authorization: Option<http::HeaderValue>,
    context: Option<RequestContext>,
) -> ItemOutcome {
    let uri = format!("/v1.0{}", utf8_percent_encode(&item.url, URL_UNSAFE));
    let mut builder = Request::builder().method(item.method.clone()).uri(uri);
    for (name, value) in &item.headers {
        if !SKIPPED_REQUEST_HEADERS.contains(&name.as_str()) {
            builder = builder.header(name, value);
        }
    }
    if let Some(authorization) = authorization {
        builder = builder.header(header::AUTHORIZATION, authorization);
    }
    let body = item.body.clone().map_or_else(Body::empty, Body::from);
    let Ok(mut request) = builder.body(body) else {
        return unusable_request("Invalid request URL.");
    };
    if let Some(context) = context {
        request.extensions_mut().insert(context);
    }
    request.extensions_mut().insert(InBatch);
    let response = match state.routers().graph.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    outcome_of(response).await
}

/// Turns a response into a batch entry: selected headers with Graph's casing, the body per its media type.
async fn outcome_of(response: Response) -> ItemOutcome {
    let (parts, body) = response.into_parts();
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        if SKIPPED_RESPONSE_HEADERS.contains(&name.as_str()) {
            continue;
        }
        if let Ok(text) = value.to_str() {
            headers.insert(header_display_name(name.as_str()), Value::String(text.to_string()));
        }
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let body = match axum::body::to_bytes(body, MAX_ITEM_BODY).await {
        Ok(bytes) if bytes.is_empty() => None,
        Ok(bytes) if content_type.starts_with("application/json") => Some(
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        ),
        Ok(bytes) if content_type.starts_with("text/") => {
            Some(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        }
        Ok(bytes) => Some(Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes))),
        Err(_) => return unusable_request("The response of this request could not be read."),
    };
    ItemOutcome { status: parts.status.as_u16(), headers, body }
}

/// Graph writes the common headers of batch entries in their usual casing.
fn header_display_name(name: &str) -> String {
    match name {
        "content-type" => "Content-Type",
        "location" => "Location",
        "retry-after" => "Retry-After",
        "odata-version" => "OData-Version",
        "cache-control" => "Cache-Control",
        "etag" => "ETag",
        "www-authenticate" => "WWW-Authenticate",
        "preference-applied" => "Preference-Applied",
        other => other,
    }
    .to_string()
}

/// Runs futures concurrently on the current task, polling them in order each time (so the order in which
/// they first reach the knobs' random source is the order of the batch), and returns their outputs in order.
async fn join_in_order<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Option<Pin<Box<F>>>> = futures.into_iter().map(|future| Some(Box::pin(future))).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (slot, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(context) {
                    Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
