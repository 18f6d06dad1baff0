//! A user's relationships and session actions: `manager` (`GET`, `PUT|DELETE …/manager/$ref`),
//! `directReports`, `memberOf`, and `revokeSignInSessions` — for `/users/{id}` and `/me`.
//!
//! Reference: §3.1.4, §3.1.6; <https://learn.microsoft.com/graph/api/user-post-manager>,
//! <https://learn.microsoft.com/graph/api/user-list-directreports>,
//! <https://learn.microsoft.com/graph/api/user-list-memberof>,
//! <https://learn.microsoft.com/graph/api/user-revokesigninsessions>.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use http::StatusCode;
use serde_json::{Value, json};

use super::call::Call;
use super::error::{GraphError, GraphResult};
use super::groups::select_groups;
use super::listing;
use super::lookup::{UserTarget, find_user};
use super::members::{self, DirectoryObject};
use super::odata::{EntityKind, ListQuery};
use super::permissions;
use super::request_body;
use super::users::{UserView, select_users};
use crate::directory::tenant::Tenant;
use crate::directory::user::User;

/// 404 for a user without a manager (Graph's wording: the `manager` reference is missing).
fn no_manager() -> GraphError {
    GraphError::not_found("manager")
}

/// Reads one of the relationships of the user `target` names: `read` gets the tenant, the user, the query
/// options for the related `kind` and the caller's view of users.
fn read_relationship<R>(
    call: &Call,
    target: &UserTarget,
    kind: EntityKind,
    read: impl FnOnce(&Tenant, &User, &ListQuery, &UserView) -> GraphResult<R>,
) -> GraphResult<R> {
    let key = target.key(&call.caller)?;
    permissions::require_user_read(&call.caller)?;
    let query = call.list_query(kind)?;
    let view = UserView::of(&call.caller);
    let tenant = call.caller.tenant.read();
    let user = find_user(&tenant, &key, call.now)?;
    read(&tenant, user, &query, &view)
}

/// `GET /users/{id}/manager` and `GET /me/manager`.
pub async fn get_manager(call: Call, target: UserTarget) -> GraphResult<Json<Value>> {
    let object = read_relationship(&call, &target, EntityKind::User, |tenant, user, query, view| {
        let manager = user.manager.and_then(|id| DirectoryObject::live(tenant, id, call.now)).ok_or_else(no_manager)?;
        Ok(manager.render(query.select.as_deref(), view))
    })?;
    Ok(call.entity("directoryObjects", None, object))
}

/// `PUT /users/{id}/manager/$ref` with `{"@odata.id": ".../users/{id}"}` → 204.
pub async fn put_manager(call: Call, Path(key): Path<String>, body: Bytes) -> GraphResult<StatusCode> {
    permissions::require(&call.caller, permissions::USER_WRITE)?;
    let reference = members::parse_reference_body(&request_body::parse_object(&body)?)?;
    let mut tenant = call.caller.tenant.write();
    let user_id = find_user(&tenant, &key, call.now)?.id;
    permissions::require_delegated_role(&call.caller, &tenant, permissions::USER_ADMIN_ROLES)?;
    let manager = members::resolve_reference(&tenant, &reference, call.now)?;
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
pub async fn delete_manager(call: Call, Path(key): Path<String>) -> GraphResult<StatusCode> {
    permissions::require(&call.caller, permissions::USER_WRITE)?;
    let mut tenant = call.caller.tenant.write();
    let user = find_user(&tenant, &key, call.now)?;
    let user_id = user.id;
    if user.manager.is_none() {
        return Err(no_manager());
    }
    permissions::require_delegated_role(&call.caller, &tenant, permissions::USER_ADMIN_ROLES)?;
    tenant.update_user(user_id, |user| user.manager = None);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/{id}/directReports` and `GET /me/directReports`.
pub async fn list_direct_reports(call: Call, target: UserTarget) -> GraphResult<Json<Value>> {
    let page = read_relationship(&call, &target, EntityKind::User, |tenant, manager, query, view| {
        let reports =
            select_users(query, tenant, view, |user| user.manager == Some(manager.id) && user.is_live(call.now))?;
        Ok(reports.map(|user| Value::Object(DirectoryObject::User(user).render(query.select.as_deref(), view))))
    })?;
    Ok(call.collection("directoryObjects", None, page))
}

/// `GET /users/{id}/memberOf` and `GET /me/memberOf` (direct group memberships).
pub async fn list_member_of(call: Call, target: UserTarget) -> GraphResult<Json<Value>> {
    let page = read_relationship(&call, &target, EntityKind::Group, |tenant, member, query, view| {
        let groups =
            select_groups(query, tenant, |group| group.members.contains(&member.id) && group.is_live(call.now))?;
        Ok(groups.map(|group| Value::Object(DirectoryObject::Group(group).render(query.select.as_deref(), view))))
    })?;
    Ok(call.collection("directoryObjects", None, page))
}

/// `POST /users/{id}/revokeSignInSessions` and `POST /me/revokeSignInSessions` → 200 `{"value": true}`;
/// refresh tokens issued before now stop working.
pub async fn revoke_sessions(call: Call, target: UserTarget) -> GraphResult<Json<Value>> {
    let key = target.key(&call.caller)?;
    {
        let mut tenant = call.caller.tenant.write();
        let target = find_user(&tenant, &key, call.now)?;
        let id = target.id;
        let own = call.caller.user_id() == Some(id);
        if own && permissions::has(&call.caller, &["User.ReadWrite", "User.RevokeSessions.All"]) {
            // Users may always revoke their own sessions.
        } else {
            permissions::require(&call.caller, permissions::REVOKE_SESSIONS)?;
            if !own {
                permissions::require_delegated_role(&call.caller, &tenant, permissions::REVOKE_ROLES)?;
            }
        }
        tenant.update_user(id, |user| user.sign_in_sessions_valid_from = call.now);
    }
    Ok(Json(json!({
        "@odata.context": listing::context_url(&call.context, "Edm.Boolean", None),
        "value": true,
    })))
}
