//! Deleted items: `GET /directory/deletedItems/microsoft.graph.user|group`, `GET|DELETE
//! /directory/deletedItems/{id}` and `POST /directory/deletedItems/{id}/restore`.
//!
//! Soft-deleted users and Microsoft 365 groups stay restorable for 30 days of sandbox time and are then
//! purged lazily (whenever deleted items or deletes are touched). A soft-deleted user does not reserve its
//! UPN or addresses; a restore whose UPN or addresses now belong to a live object fails with the
//! `ObjectConflict` envelope unless `newUserPrincipalName` / `autoReconcileProxyConflict` resolve it
//! (reference §3.1.3).
//!
//! Reference: <https://learn.microsoft.com/graph/api/directory-deleteditems-list>,
//! <https://learn.microsoft.com/graph/api/directory-deleteditems-get>,
//! <https://learn.microsoft.com/graph/api/directory-deleteditems-delete>,
//! <https://learn.microsoft.com/graph/api/directory-deleteditems-restore>.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use chrono::{DateTime, Duration, Utc};
use http::StatusCode;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::call::Call;
use super::caller::Caller;
use super::error::{GraphError, GraphResult};
use super::groups::{self, select_groups};
use super::lookup::invalid_identifier;
use super::members::DirectoryObject;
use super::odata::EntityKind;
use super::permissions;
use super::request_body;
use super::user_write;
use super::users::{UserView, select_users};
use crate::directory::group::Group;
use crate::directory::tenant::Tenant;
use crate::directory::user::User;

/// How long deleted objects stay restorable.
pub const RETENTION_DAYS: i64 = 30;

fn expired(deleted: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    deleted.is_some_and(|at| now - at >= Duration::days(RETENTION_DAYS))
}

fn any_expired(tenant: &Tenant, now: DateTime<Utc>) -> bool {
    tenant.users.values().any(|user| expired(user.deleted, now))
        || tenant.groups.values().any(|group| expired(group.deleted, now))
}

/// Purges every deleted object older than the retention period.
pub fn purge_expired(tenant: &mut Tenant, now: DateTime<Utc>) {
    if !any_expired(tenant, now) {
        return;
    }
    let users: Vec<Uuid> =
        tenant.users.values().filter(|user| expired(user.deleted, now)).map(|user| user.id).collect();
    for id in users {
        purge_user(tenant, id);
    }
    let groups: Vec<Uuid> =
        tenant.groups.values().filter(|group| expired(group.deleted, now)).map(|group| group.id).collect();
    for id in groups {
        tenant.purge_group(id);
    }
}

/// Purges a user and drops it as the manager of anyone.
fn purge_user(tenant: &mut Tenant, id: Uuid) {
    tenant.purge_user(id);
    let reports: Vec<Uuid> =
        tenant.users.values().filter(|user| user.manager == Some(id)).map(|user| user.id).collect();
    for report in reports {
        tenant.update_user(report, |user| user.manager = None);
    }
}

/// Runs the lazy purge when needed, taking the write lock only then.
fn purge_if_needed(caller: &Caller, now: DateTime<Utc>) {
    let needed = any_expired(&caller.tenant.read(), now);
    if needed {
        purge_expired(&mut caller.tenant.write(), now);
    }
}

/// A deleted object as deleted items show it: its properties and, without `$select`, `deletedDateTime`.
fn render_deleted(object: DirectoryObject<'_>, select: Option<&[String]>, view: &UserView) -> Map<String, Value> {
    let (mut rendered, deleted) = match object {
        DirectoryObject::User(user) => (view.render(user, select), user.property("deletedDateTime")),
        DirectoryObject::Group(group) => (groups::render(group, select), group.property("deletedDateTime")),
    };
    if select.is_none() {
        rendered.insert("deletedDateTime".into(), deleted.unwrap_or(Value::Null));
    }
    rendered
}

/// `GET /directory/deletedItems/microsoft.graph.user` and `…/microsoft.graph.group`.
async fn list_deleted(call: Call, kind: EntityKind) -> GraphResult<Json<Value>> {
    require_read(&call.caller, kind)?;
    let query = call.list_query(kind)?;
    purge_if_needed(&call.caller, call.now);
    let view = UserView::of(&call.caller);
    let select = query.select.as_deref();
    let page = {
        let tenant = call.caller.tenant.read();
        let page = match kind {
            EntityKind::User => select_users(&query, &tenant, &view, User::is_deleted)?.map(DirectoryObject::User),
            EntityKind::Group => select_groups(&query, &tenant, Group::is_deleted)?.map(DirectoryObject::Group),
        };
        page.map(|object| Value::Object(render_deleted(object, select, &view)))
    };
    let cast = match kind {
        EntityKind::User => "microsoft.graph.user",
        EntityKind::Group => "microsoft.graph.group",
    };
    Ok(call.collection(&format!("directory/deletedItems/{cast}"), None, page))
}

/// `GET /directory/deletedItems/microsoft.graph.user`.
pub async fn list_deleted_users(call: Call) -> GraphResult<Json<Value>> {
    list_deleted(call, EntityKind::User).await
}

/// `GET /directory/deletedItems/microsoft.graph.group`.
pub async fn list_deleted_groups(call: Call) -> GraphResult<Json<Value>> {
    list_deleted(call, EntityKind::Group).await
}

/// A deleted (or just restored) object by id, as `directoryObjects/$entity` with its `@odata.type`.
fn render_deleted_entity(
    tenant: &Tenant,
    id: Uuid,
    view: &UserView,
    select: Option<&[String]>,
) -> Option<Map<String, Value>> {
    let object = match tenant.users.get(&id) {
        Some(user) => DirectoryObject::User(user),
        None => DirectoryObject::Group(tenant.groups.get(&id)?),
    };
    let mut rendered = render_deleted(object, select, view);
    rendered.insert("@odata.type".into(), Value::String(object.odata_type().into()));
    Some(rendered)
}

/// The kind of a deleted object, or 404 (also for live objects).
fn deleted_kind(tenant: &Tenant, key: &str) -> GraphResult<(Uuid, EntityKind)> {
    let id = Uuid::parse_str(key).map_err(|_| invalid_identifier(key))?;
    if tenant.users.get(&id).is_some_and(User::is_deleted) {
        return Ok((id, EntityKind::User));
    }
    if tenant.groups.get(&id).is_some_and(Group::is_deleted) {
        return Ok((id, EntityKind::Group));
    }
    Err(GraphError::not_found(key))
}

fn require_read(caller: &Caller, kind: EntityKind) -> GraphResult<()> {
    match kind {
        EntityKind::User => permissions::require_user_read(caller),
        EntityKind::Group => permissions::require(caller, permissions::GROUP_READ),
    }
}

fn authorize_write(caller: &Caller, tenant: &Tenant, kind: EntityKind) -> GraphResult<()> {
    match kind {
        EntityKind::User => permissions::authorize_user_write(caller, tenant),
        EntityKind::Group => permissions::authorize_group_write(caller, tenant),
    }
}

/// `GET /directory/deletedItems/{id}`.
pub async fn get_deleted_item(call: Call, Path(key): Path<String>) -> GraphResult<Json<Value>> {
    purge_if_needed(&call.caller, call.now);
    let query = call.list_query(EntityKind::User)?;
    let view = UserView::of(&call.caller);
    let object = {
        let tenant = call.caller.tenant.read();
        let (id, kind) = deleted_kind(&tenant, &key)?;
        require_read(&call.caller, kind)?;
        render_deleted_entity(&tenant, id, &view, query.select.as_deref()).ok_or_else(|| GraphError::not_found(&key))?
    };
    Ok(call.entity("directoryObjects", None, object))
}

/// `DELETE /directory/deletedItems/{id}` → 204: the object is gone for good.
pub async fn purge_deleted_item(call: Call, Path(key): Path<String>) -> GraphResult<StatusCode> {
    let mut tenant = call.caller.tenant.write();
    purge_expired(&mut tenant, call.now);
    let (id, kind) = deleted_kind(&tenant, &key)?;
    authorize_write(&call.caller, &tenant, kind)?;
    match kind {
        EntityKind::User => purge_user(&mut tenant, id),
        EntityKind::Group => {
            tenant.purge_group(id);
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The optional parameters of `restore`.
#[derive(Clone, Debug, Default)]
struct RestoreOptions {
    new_user_principal_name: Option<String>,
    auto_reconcile_proxy_conflict: bool,
}

fn parse_restore_options(body: &[u8]) -> GraphResult<RestoreOptions> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(RestoreOptions::default());
    }
    let object = request_body::parse_object(body)?;
    let mut options = RestoreOptions::default();
    for (key, value) in &object {
        match key.as_str() {
            "newUserPrincipalName" => options.new_user_principal_name = request_body::as_optional_string(value)?,
            "autoReconcileProxyConflict" => {
                options.auto_reconcile_proxy_conflict = request_body::as_optional_bool(value)?.unwrap_or(false);
            }
            key if request_body::is_type_annotation(key) => {}
            other => {
                return Err(GraphError::bad_request(format!(
                    "The parameter '{other}' in the request payload is not a valid parameter for the operation \
                     'restore'."
                )));
            }
        }
    }
    Ok(options)
}

/// `POST /directory/deletedItems/{id}/restore` → 200 with the restored object.
pub async fn restore_deleted_item(call: Call, Path(key): Path<String>, body: Bytes) -> GraphResult<Json<Value>> {
    let options = parse_restore_options(&body)?;
    let view = UserView::of(&call.caller);
    let object = {
        let mut tenant = call.caller.tenant.write();
        purge_expired(&mut tenant, call.now);
        let (id, kind) = deleted_kind(&tenant, &key)?;
        authorize_write(&call.caller, &tenant, kind)?;
        match kind {
            EntityKind::User => {
                restore_user(&mut tenant, id, &options)?;
                let delay = call.state.knobs.mailbox_provisioning_delay();
                crate::exchange::lifecycle::after_user_restored(&mut tenant, id, call.now, delay);
            }
            EntityKind::Group => restore_group(&mut tenant, id, &options)?,
        }
        render_deleted_entity(&tenant, id, &view, None).ok_or_else(|| GraphError::not_found(&key))?
    };
    Ok(call.entity("directoryObjects", None, object))
}

fn restore_user(tenant: &mut Tenant, id: Uuid, options: &RestoreOptions) -> GraphResult<()> {
    let Some(user) = tenant.users.get(&id) else { return Err(GraphError::not_found(&id.to_string())) };
    let upn = match &options.new_user_principal_name {
        Some(new_upn) => {
            user_write::check_user_principal_name(new_upn, tenant)?;
            new_upn.clone()
        }
        None => user.user_principal_name.clone(),
    };
    if tenant.upn_holder(&upn).is_some_and(|holder| holder != id) {
        return Err(GraphError::conflict("userPrincipalName"));
    }
    let taken = addresses_to_give_up(tenant, id, user.smtp_addresses(), options)?;
    tenant.update_user(id, |user| {
        user.deleted = None;
        user.user_principal_name = upn;
        drop_addresses(&mut user.proxy_addresses, &mut user.mail, &taken);
    });
    Ok(())
}

fn restore_group(tenant: &mut Tenant, id: Uuid, options: &RestoreOptions) -> GraphResult<()> {
    let Some(group) = tenant.groups.get(&id) else { return Err(GraphError::not_found(&id.to_string())) };
    let taken = addresses_to_give_up(tenant, id, group.smtp_addresses(), options)?;
    tenant.update_group(id, |group| {
        group.deleted = None;
        drop_addresses(&mut group.proxy_addresses, &mut group.mail, &taken);
    });
    Ok(())
}

/// The `addresses` of the restored object `id` that a live object now holds: a conflict, unless
/// `autoReconcileProxyConflict` lets the restore give them up.
fn addresses_to_give_up(
    tenant: &Tenant,
    id: Uuid,
    addresses: Vec<String>,
    options: &RestoreOptions,
) -> GraphResult<Vec<String>> {
    let taken: Vec<String> = addresses
        .into_iter()
        .filter(|address| tenant.address_holder(address).is_some_and(|holder| holder != id))
        .collect();
    if !taken.is_empty() && !options.auto_reconcile_proxy_conflict {
        return Err(GraphError::conflict("proxyAddresses"));
    }
    Ok(taken)
}

/// `autoReconcileProxyConflict`: removes the addresses a live object now holds.
fn drop_addresses(proxy_addresses: &mut Vec<String>, mail: &mut Option<String>, taken: &[String]) {
    let is_taken = |address: &str| taken.iter().any(|held| held.eq_ignore_ascii_case(address));
    proxy_addresses.retain(|proxy| {
        !proxy.split_once(':').is_some_and(|(kind, address)| kind.eq_ignore_ascii_case("smtp") && is_taken(address))
    });
    if mail.as_deref().is_some_and(is_taken) {
        *mail = None;
    }
}
