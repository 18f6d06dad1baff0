//! The Exchange Online admin API (the REST service behind the ExchangeOnlineManagement module):
//! `POST /adminapi/beta/{tenant}/InvokeCommand` runs one cmdlet, and `GET /adminapi/v1.0/{tenant}/EXOModuleFile`
//! lists the cmdlets the caller's roles grant. Its data — mailboxes, group settings, role groups, the
//! data-loss record — is part of each tenant ([`model::ExchangeData`]), so Exchange and Graph see one
//! directory.
//!
//! Map: [`caller`] verifies tokens and works out roles ([`rbac`]); [`params`] binds cmdlet parameters;
//! [`cmdlets`] holds the cmdlets; [`recipients`] resolves identities and renders objects; [`output`] shapes
//! answers; [`error`] shapes errors; [`throttle`] applies limits; [`lifecycle`] provisions, marks and purges
//! mailboxes as licences and users change.

pub mod caller;
pub mod cmdlets;
pub mod error;
pub mod invoke;
pub mod lifecycle;
pub mod model;
pub mod output;
pub mod params;
pub mod rbac;
pub mod recipients;
pub mod throttle;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, header};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;

use self::error::ExchangeError;
use crate::dispatch::RequestContext;
use crate::state::AppState;

/// The Exchange routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/adminapi/beta/{tenant}/InvokeCommand", post(invoke::invoke_command))
        .route("/adminapi/v1.0/{tenant}/EXOModuleFile", get(module_file))
        .fallback(|| async { ExchangeError::no_route() })
        .method_not_allowed_fallback(|| async {
            ExchangeError::plain(
                http::StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "The HTTP method is not allowed for this resource.",
            )
        })
        .layer(CatchPanicLayer::custom(|_| {
            ExchangeError::plain(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An internal server error occurred. The operation failed.",
            )
            .into_response()
        }))
        .with_state(state)
}

/// `GET /adminapi/v1.0/{tenant}/EXOModuleFile?Version=…` → `{"value":{"exportedCmdlets":"Get-Mailbox,…"}}`: the
/// cmdlets the caller's roles grant (what the module's session would expose).
async fn module_file(
    State(state): State<Arc<AppState>>,
    Extension(context): Extension<RequestContext>,
    latency: Option<Extension<crate::knobs::DeferredLatency>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(Extension(latency)) = latency {
        latency.spend().await;
    }
    let now = state.clock.now();
    let authorization = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    let caller = match caller::authenticate(&state, authorization, &tenant, context.cloud, now) {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let exported: Vec<&str> =
        cmdlets::all().map(|cmdlet| cmdlet.name).filter(|name| rbac::may_run(&caller.roles, name)).collect();
    axum::Json(json!({
        "@odata.context": format!("{}/adminapi/v1.0/{tenant}/$metadata#Exchange.ModuleFile", context.public_base),
        "value": {"exportedCmdlets": exported.join(",")},
    }))
    .into_response()
}
