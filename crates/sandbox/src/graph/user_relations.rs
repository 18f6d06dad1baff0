//! A user's relationships and session actions: `manager` (`GET`, `PUT|DELETE …/manager/$ref`),
//! `directReports`, `memberOf`, and `revokeSignInSessions` — for `/users/{id}` and `/me`.
//!
//! Reference: §3.1.4, §3.1.6; <https://learn.microsoft.com/graph/api/user-post-manager>,
//! <https://learn.microsoft.com/graph/api/user-list-directreports>,
//! <https://learn.microsoft.com/graph/api/user-list-memberof>,
//! <https://learn.microsoft.com/graph/api/user-revokesigninsessions>.

use std::ops::Bound;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};

use super::caller::Caller;
use super::error::{GraphError, GraphResult};
use super::listing;
use super::members::{self, DirectoryObject};
use super::odata::{self, EntityKind};
use super::permissions;
use super::request_body;
use super::users::{UserView, find_user, me_key};
use crate::directory::tenant::Tenant;
use crate::dispatch::RequestContext;
use crate::state::AppState;

/// 404 for a user without a manager (Graph's wording: the `manager` reference is missing).
fn no_manager() -> GraphError {
    GraphError::not_found("manager")
}

/// `GET /users/{id}/manager`.
pub async fn get_manager(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    Path(key): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Json<Value>> {
    read_manager(&state, &caller, &context, &key, &uri, &headers)
}

/// `GET /me/manager`.
pub async fn get_my_manager(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Json<Value>> {
    let key = me_key(&caller)?;
    read_manager(&state, &caller, &context, &key, &uri, &headers)
}

fn read_manager(
    state: &AppState,
    caller: &Caller,
    context: &RequestContext,
    key: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> GraphResult<Json<Value>> {
    permissions::require_user_read(caller)?;
    let query = odata::parse_list_query(EntityKind::User, uri.query(), headers)?;
    let view = UserView::of(caller);
    let now = state.clock.now();
    let object = {
        let tenant = caller.tenant.read();
        let user = find_user(&tenant, key, now)?;
        let manager = user.manager.and_then(|id| DirectoryObject::live(&tenant, id, now)).ok_or_else(no_manager)?;
        manager.render(query.select.as_deref(), &view)
    };
    let context_url = format!("{}/$metadata#directoryObjects/$entity", listing::graph_base(context));
    Ok(Json(listing::entity(context_url, object)))
}

/// `PUT /users/{id}/manager/$ref` with `{"@odata.id": ".../users/{id}"}` → 204.
pub async fn put_manager(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> GraphResult<StatusCode> {
    permissions::require(&caller, permissions::USER_WRITE)?;
    let reference = members::parse_reference_body(&request_body::parse_object(&body)?)?;
    let now = state.clock.now();
    let mut tenant = caller.tenant.write();
    let user_id = find_user(&tenant, &key, now)?.id;
    permissions::require_delegated_role(&caller, &tenant, permissions::USER_ADMIN_ROLES)?;
    let manager = members::resolve_reference(&tenant, &reference, now)?;
    let DirectoryObject::User(manager) = manager else {
        return Err(request_body::invalid_value("manager", "User"));
    };
    let manager_id = manager.id;
    if manager_id == user_id {
        // A user cannot be their own manager. **Unconfirmed wording** (the directory's invalid-value error).
        return Err(request_body::invalid_value("manager", "User"));
    }
    tenant.update_user(user_id, |user| user.manager = Some(manager_id));
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /users/{id}/manager/$ref` → 204 (404 when there is no manager).
pub async fn delete_manager(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(key): Path<String>,
) -> GraphResult<StatusCode> {
    permissions::require(&caller, permissions::USER_WRITE)?;
    let now = state.clock.now();
    let mut tenant = caller.tenant.write();
    let user = find_user(&tenant, &key, now)?;
    let user_id = user.id;
    if user.manager.is_none() {
        return Err(no_manager());
    }
    permissions::require_delegated_role(&caller, &tenant, permissions::USER_ADMIN_ROLES)?;
    tenant.update_user(user_id, |user| user.manager = None);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/{id}/directReports`.
pub async fn list_direct_reports(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    Path(key): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Json<Value>> {
    direct_reports(&state, &caller, &context, &key, &uri, &headers)
}

/// `GET /me/directReports`.
pub async fn list_my_direct_reports(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Json<Value>> {
    let key = me_key(&caller)?;
    direct_reports(&state, &caller, &context, &key, &uri, &headers)
}

fn direct_reports(
    state: &AppState,
    caller: &Caller,
    context: &RequestContext,
    key: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> GraphResult<Json<Value>> {
    permissions::require_user_read(caller)?;
    let query = odata::parse_list_query(EntityKind::User, uri.query(), headers)?;
    let view = UserView::of(caller);
    let now = state.clock.now();
    let (values, next, count) = {
        let tenant = caller.tenant.read();
        let manager_id = find_user(&tenant, key, now)?.id;
        let page = listing::select_page(
            &query,
            |from| {
                tenant.users.range((from.map_or(Bound::Unbounded, Bound::Excluded), Bound::Unbounded)).map(|(_, u)| u)
            },
            |user| user.id,
            |user| user.manager == Some(manager_id) && !user.is_deleted() && Tenant::visible(user.visible_from, now),
            |user, name| view.get(user, name),
        )?;
        let values: Vec<Value> = page
            .items
            .iter()
            .map(|user| Value::Object(DirectoryObject::User(user).render(query.select.as_deref(), &view)))
            .collect();
        (values, page.next, page.count)
    };
    let next_link = next.map(|cursor| listing::next_link(context, uri.path(), uri.query(), cursor));
    let context_url = format!("{}/$metadata#directoryObjects", listing::graph_base(context));
    Ok(Json(listing::collection(context_url, values, count, next_link)))
}

/// `GET /users/{id}/memberOf` (direct group memberships).
pub async fn list_member_of(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    Path(key): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Json<Value>> {
    member_of(&state, &caller, &context, &key, &uri, &headers)
}

/// `GET /me/memberOf`.
pub async fn list_my_member_of(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Json<Value>> {
    let key = me_key(&caller)?;
    member_of(&state, &caller, &context, &key, &uri, &headers)
}

fn member_of(
    state: &AppState,
    caller: &Caller,
    context: &RequestContext,
    key: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> GraphResult<Json<Value>> {
    permissions::require_user_read(caller)?;
    let query = odata::parse_list_query(EntityKind::Group, uri.query(), headers)?;
    let view = UserView::of(caller);
    let now = state.clock.now();
    let (values, next, count) = {
        let tenant = caller.tenant.read();
        let user_id = find_user(&tenant, key, now)?.id;
        let page = listing::select_page(
            &query,
            |from| {
                tenant.groups.range((from.map_or(Bound::Unbounded, Bound::Excluded), Bound::Unbounded)).map(|(_, g)| g)
            },
            |group| group.id,
            |group| {
                group.members.contains(&user_id) && group.deleted.is_none() && Tenant::visible(group.visible_from, now)
            },
            |group, name| group.property(name),
        )?;
        let values: Vec<Value> = page
            .items
            .iter()
            .map(|group| Value::Object(DirectoryObject::Group(group).render(query.select.as_deref(), &view)))
            .collect();
        (values, page.next, page.count)
    };
    let next_link = next.map(|cursor| listing::next_link(context, uri.path(), uri.query(), cursor));
    let context_url = format!("{}/$metadata#directoryObjects", listing::graph_base(context));
    Ok(Json(listing::collection(context_url, values, count, next_link)))
}

/// `POST /users/{id}/revokeSignInSessions` → 200 `{"value": true}`; refresh tokens issued before now stop
/// working.
pub async fn revoke_sessions(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    Path(key): Path<String>,
) -> GraphResult<Json<Value>> {
    revoke(&state, &caller, &context, &key)
}

/// `POST /me/revokeSignInSessions`.
pub async fn revoke_my_sessions(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
) -> GraphResult<Json<Value>> {
    let key = me_key(&caller)?;
    revoke(&state, &caller, &context, &key)
}

fn revoke(state: &AppState, caller: &Caller, context: &RequestContext, key: &str) -> GraphResult<Json<Value>> {
    let now = state.clock.now();
    {
        let mut tenant = caller.tenant.write();
        let target = find_user(&tenant, key, now)?;
        let id = target.id;
        let own = caller.user_id() == Some(id);
        if own && permissions::has(caller, &["User.ReadWrite", "User.RevokeSessions.All"]) {
            // Users may always revoke their own sessions.
        } else {
            permissions::require(caller, permissions::REVOKE_SESSIONS)?;
            if !own {
                permissions::require_delegated_role(caller, &tenant, permissions::REVOKE_ROLES)?;
            }
        }
        tenant.update_user(id, |user| user.sign_in_sessions_valid_from = now);
    }
    Ok(Json(json!({
        "@odata.context": format!("{}/$metadata#Edm.Boolean", listing::graph_base(context)),
        "value": true,
    })))
}
