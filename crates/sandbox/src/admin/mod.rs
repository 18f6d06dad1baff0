//! The sandbox's own admin API under `/_sandbox` (not a Microsoft surface): health, state export, knobs, the
//! clock, app credentials, a tenant list, and — merged in from [`crate::identity::admin_routes`] — the admin
//! consent request pages.
//!
//! Every answer is JSON; errors are `{"error":{"code","message"}}` with a 4xx status. The API has no
//! authentication: it is meant for rehearsals on loopback, and `tenure sandbox` warns when it listens
//! elsewhere.

mod credentials;
mod error;
mod exchange;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::Duration;
use http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;

pub use self::error::AdminError;
use crate::clock::graph_time;
use crate::knobs::Knobs;
use crate::state::AppState;

/// How far the clock may be moved ahead of real time in total (well inside chrono's range, and far beyond
/// any expiry the sandbox models).
const MAX_CLOCK_OFFSET_SECONDS: i64 = 100 * 366 * 24 * 60 * 60;

/// The admin routes, under `/_sandbox`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/_sandbox/health", get(health))
        .route("/_sandbox/state", get(export_state))
        .route("/_sandbox/knobs", get(get_knobs).put(put_knobs))
        .route("/_sandbox/clock/advance", post(advance_clock))
        .route("/_sandbox/apps/{app_id}/certificates", post(credentials::add_certificate))
        .route("/_sandbox/apps/{app_id}/secrets", post(credentials::add_secret))
        .route("/_sandbox/tenants", get(list_tenants))
        .route("/_sandbox/tenants/{tenant}/exchange/data-loss", get(exchange::data_loss))
        .route("/_sandbox/tenants/{tenant}/exchange/mailboxes", get(exchange::mailboxes))
        .route("/_sandbox/tenants/{tenant}/exchange/role-groups", get(exchange::role_groups))
        .route(
            "/_sandbox/tenants/{tenant}/exchange/role-groups/{name}",
            put(exchange::put_role_group).delete(exchange::delete_role_group),
        )
        .with_state(state.clone())
        .merge(crate::identity::admin_routes(state))
        .fallback(|| async { AdminError::new(StatusCode::NOT_FOUND, "not_found", "no such sandbox admin endpoint") })
        .method_not_allowed_fallback(|| async {
            AdminError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this method is not allowed here")
        })
        .layer(CatchPanicLayer::custom(error::panic_response))
}

/// Parses a JSON request body, answering 400 (or the body rejection's own status) in the admin error shape.
fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, AdminError> {
    let body =
        body.map_err(|rejection| AdminError::new(rejection.status(), "invalid_request", rejection.body_text()))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(AdminError::bad_request("invalid_request", "the request body is empty; expected a JSON object"));
    }
    serde_json::from_slice(&body)
        .map_err(|error| AdminError::bad_request("invalid_request", format!("the request body is not valid: {error}")))
}

async fn health() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn export_state(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(crate::persist::export(&state)).into_response()
}

async fn get_knobs(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.knobs.get()).into_response()
}

async fn put_knobs(State(state): State<Arc<AppState>>, body: Result<Bytes, BytesRejection>) -> Response {
    let knobs: Knobs = match parse_body(body) {
        Ok(knobs) => knobs,
        Err(error) => return error.into_response(),
    };
    if let Err(error) = knobs.validate() {
        return AdminError::bad_request("invalid_knobs", error.to_string()).into_response();
    }
    state.knobs.set_at(knobs, state.clock.now());
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_sandbox/clock/advance` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceClock {
    seconds: i64,
}

async fn advance_clock(State(state): State<Arc<AppState>>, body: Result<Bytes, BytesRejection>) -> Response {
    let request: AdvanceClock = match parse_body(body) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    if request.seconds < 0 {
        return AdminError::bad_request(
            "invalid_request",
            "the sandbox clock only moves forward: seconds must be 0 or more",
        )
        .into_response();
    }
    let offset = state.clock.offset().num_seconds();
    if request.seconds > MAX_CLOCK_OFFSET_SECONDS.saturating_sub(offset) {
        return AdminError::bad_request(
            "invalid_request",
            format!(
                "the sandbox clock may run at most {MAX_CLOCK_OFFSET_SECONDS} seconds (100 years) ahead of real time"
            ),
        )
        .into_response();
    }
    state.clock.advance(Duration::seconds(request.seconds));
    axum::Json(json!({"now": graph_time(state.clock.now()), "offset_seconds": state.clock.offset().num_seconds()}))
        .into_response()
}

async fn list_tenants(State(state): State<Arc<AppState>>) -> Response {
    let mut tenants: Vec<Value> = state
        .directory
        .tenants()
        .iter()
        .map(|tenant| {
            let tenant = tenant.read();
            json!({
                "id": tenant.id,
                "name": tenant.display_name,
                "cloud": tenant.cloud,
                "domains": tenant.domains.iter().map(|domain| domain.name.as_str()).collect::<Vec<_>>(),
                "users": tenant.users.values().filter(|user| !user.is_deleted()).count(),
                "groups": tenant.groups.values().filter(|group| group.deleted.is_none()).count(),
            })
        })
        .collect();
    tenants.sort_by(|left, right| {
        (left["name"].as_str(), left["id"].as_str()).cmp(&(right["name"].as_str(), right["id"].as_str()))
    });
    axum::Json(Value::Array(tenants)).into_response()
}
