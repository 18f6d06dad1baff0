//! The sandbox admin's view of admin consent requests (not a Microsoft surface): `GET
//! /_sandbox/consent-requests` lists them (HTML with Approve/Deny buttons, or JSON for `Accept:
//! application/json`); `POST …/{id}/approve` grants the requested scopes tenant-wide, `POST …/{id}/deny`
//! refuses. Form posts from the page are redirected back to it; other callers get 204.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::consent::{self, DecisionProblem};
use super::pages;
use crate::clock::graph_time;
use crate::directory::app::ConsentRequestStatus;
use crate::state::AppState;

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("application/json"))
}

fn status_name(status: ConsentRequestStatus) -> &'static str {
    match status {
        ConsentRequestStatus::Pending => "pending",
        ConsentRequestStatus::Approved => "approved",
        ConsentRequestStatus::Denied => "denied",
    }
}

/// Every consent request of every tenant, newest first.
fn all_requests(state: &AppState) -> Vec<Value> {
    let mut rows = Vec::new();
    for tenant in state.directory.tenants() {
        let tenant = tenant.read();
        for request in &tenant.consent_requests {
            let app_name = state.directory.app(request.client_id).map(|app| app.display_name).unwrap_or_default();
            let requested_by = tenant.users.get(&request.requested_by).map(|user| user.user_principal_name.clone());
            let scopes: Vec<String> = request
                .scopes
                .iter()
                .map(|(resource, name)| format!("{}/{name}", resource.uri(tenant.cloud)))
                .collect();
            rows.push(json!({
                "id": request.id,
                "tenant_id": tenant.id,
                "tenant": tenant.display_name,
                "client_id": request.client_id,
                "app": app_name,
                "requested_by": request.requested_by,
                "requested_by_upn": requested_by,
                "justification": request.justification,
                "scopes": scopes,
                "status": status_name(request.status),
                "created": graph_time(request.created),
            }));
        }
    }
    rows.sort_by(|left, right| right["created"].as_str().cmp(&left["created"].as_str()));
    rows
}

/// `GET /_sandbox/consent-requests`.
pub async fn list(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let rows = all_requests(&state);
    if wants_json(&headers) {
        return Json(rows).into_response();
    }
    let field = |row: &Value, name: &str| row[name].as_str().unwrap_or("").to_string();
    let mut pending = String::new();
    let mut decided = String::new();
    for row in &rows {
        let scopes: Vec<&str> =
            row["scopes"].as_array().map_or_else(Vec::new, |scopes| scopes.iter().filter_map(Value::as_str).collect());
        let cells = format!(
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            text(&field(row, "tenant")),
            text(&field(row, "app")),
            text(&field(row, "requested_by_upn")),
            text(&field(row, "justification")),
            text(&scopes.join(" ")),
            text(&field(row, "created")),
        );
        if row["status"] == "pending" {
            let id = field(row, "id");
            pending.push_str(&format!(
                "<tr>{cells}<td><form method=\"post\" action=\"/_sandbox/consent-requests/{id}/approve\">\
                 <button type=\"submit\">Approve</button></form>\
                 <form method=\"post\" action=\"/_sandbox/consent-requests/{id}/deny\">\
                 <button type=\"submit\">Deny</button></form></td></tr>",
                id = attr(&id)
            ));
        } else {
            decided.push_str(&format!("<tr>{cells}<td>{}</td></tr>", text(&field(row, "status"))));
        }
    }
    let head = "<tr><th scope=\"col\">Tenant</th><th scope=\"col\">App</th><th scope=\"col\">Requested by</th>\
                <th scope=\"col\">Justification</th><th scope=\"col\">Permissions</th><th scope=\"col\">Filed</th>";
    let pending_table = if pending.is_empty() {
        "<p>No pending requests.</p>".to_string()
    } else {
        format!("<table>{head}<th scope=\"col\">Decision</th></tr>{pending}</table>")
    };
    let decided_table = if decided.is_empty() {
        String::new()
    } else {
        format!("<h2>Decided</h2><table>{head}<th scope=\"col\">Status</th></tr>{decided}</table>")
    };
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Admin consent requests</title>\
         </head><body><main><h1>Admin consent requests</h1>{pending_table}{decided_table}</main></body></html>\n"
    );
    pages::html(StatusCode::OK, body)
}

fn decide(state: &AppState, headers: &HeaderMap, id: &str, approve: bool) -> Response {
    let problem = |status: StatusCode, code: &str, message: &str| {
        (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
    };
    let Ok(id) = Uuid::parse_str(id) else {
        return problem(StatusCode::NOT_FOUND, "not_found", "no consent request with that id");
    };
    let mut outcome = Err(DecisionProblem::NotFound);
    for tenant in state.directory.tenants() {
        let mut guard = tenant.write();
        if guard.consent_requests.iter().any(|request| request.id == id) {
            outcome = if approve { consent::approve(&mut guard, id) } else { consent::deny(&mut guard, id) };
            break;
        }
    }
    match outcome {
        Err(DecisionProblem::NotFound) => {
            problem(StatusCode::NOT_FOUND, "not_found", "no consent request with that id")
        }
        Err(DecisionProblem::AlreadyDecided) => {
            problem(StatusCode::CONFLICT, "conflict", "the consent request was already approved or denied")
        }
        Ok(()) => {
            let from_page = headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
            if from_page && !wants_json(headers) {
                let mut response = StatusCode::SEE_OTHER.into_response();
                response
                    .headers_mut()
                    .insert(http::header::LOCATION, HeaderValue::from_static("/_sandbox/consent-requests"));
                response
            } else {
                StatusCode::NO_CONTENT.into_response()
            }
        }
    }
}

/// `POST /_sandbox/consent-requests/{id}/approve`.
pub async fn approve(State(state): State<Arc<AppState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    decide(&state, &headers, &id, true)
}

/// `POST /_sandbox/consent-requests/{id}/deny`.
pub async fn deny(State(state): State<Arc<AppState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    decide(&state, &headers, &id, false)
}
