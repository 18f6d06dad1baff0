//! `/groups`: list (with paging and `$count`), create, read, update and delete groups.
//!
//! Mail-enabled security groups and distribution lists are visible but read-only: every write answers 400
//! `Request_BadRequest` "Cannot Update a mail-enabled security groups and or distribution list." (Microsoft's
//! wording as reproduced by many public scripts, e.g. KelvinTegelaar/CIPP-API). Security groups are deleted
//! for good; Microsoft 365 groups go to deleted items (reference §3.1.3, §3.2).
//!
//! Reference: <https://learn.microsoft.com/graph/api/group-list>,
//! <https://learn.microsoft.com/graph/api/group-post-groups>, <https://learn.microsoft.com/graph/api/group-update>,
//! <https://learn.microsoft.com/graph/api/group-delete>.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use http::StatusCode;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::call::Call;
use super::error::{GraphError, GraphResult};
use super::expand::ReadOptions;
use super::group_write::{self, Mode};
use super::listing::{self, Page};
use super::lookup::find_group;
use super::members;
use super::odata::{self, EntityKind, ListQuery};
use super::permissions;
use super::request_body;
use super::users::UserView;
use crate::directory::group::Group;
use crate::directory::tenant::Tenant;

/// Kept here for the modules that name group keys in their errors (delta's `$filter` on ids).
pub use super::lookup::invalid_identifier;

/// Refuses writes to groups that belong to Exchange (mail-enabled security groups, distribution lists).
pub fn ensure_writable(group: &Group) -> GraphResult<()> {
    if group.is_exchange_managed() {
        Err(GraphError::bad_request("Cannot Update a mail-enabled security groups and or distribution list."))
    } else {
        Ok(())
    }
}

/// Refuses manual membership changes on Exchange-managed and dynamic-membership groups.
///
/// Dynamic groups: the sandbox answers 403 `Authorization_RequestDenied` — **unconfirmed** (the membership
/// is computed by the rule, so the directory refuses the write; the exact answer is not documented).
pub fn ensure_membership_writable(group: &Group) -> GraphResult<()> {
    ensure_writable(group)?;
    if group.is_dynamic() { Err(GraphError::forbidden()) } else { Ok(()) }
}

/// The JSON object of a group.
pub fn render(group: &Group, select: Option<&[String]>) -> Map<String, Value> {
    odata::project(EntityKind::Group, select, &|name| group.property(name))
}

/// A page of the tenant's groups that `include` admits, filtered, searched and sorted.
pub fn select_groups<'t>(
    query: &ListQuery,
    tenant: &'t Tenant,
    include: impl Fn(&Group) -> bool,
) -> GraphResult<Page<&'t Group>> {
    listing::select_page(
        query,
        |from| tenant.groups_after(from),
        |group| group.id,
        |group| include(group),
        |group, name| group.property(name),
    )
}

/// The options of a read of groups, once the caller is known to hold a group-read permission.
fn read_groups(call: &Call) -> GraphResult<ReadOptions> {
    permissions::require(&call.caller, permissions::GROUP_READ)?;
    ReadOptions::of(call, EntityKind::Group, UserView::of(&call.caller))
}

/// `GET /groups`.
pub async fn list_groups(call: Call) -> GraphResult<Json<Value>> {
    let read = read_groups(&call)?;
    let page = {
        let tenant = call.caller.tenant.read();
        select_groups(&read.query, &tenant, |group| group.is_live(call.now))?
            .map(|group| Value::Object(read.group(&tenant, group)))
    };
    Ok(call.collection("groups", read.select(), page))
}

/// `GET /groups/$count` (advanced query).
pub async fn count_groups(call: Call) -> GraphResult<Response> {
    permissions::require(&call.caller, permissions::GROUP_READ)?;
    let query = call.count_query(EntityKind::Group)?;
    let tenant = call.caller.tenant.read();
    let live = tenant.groups.values().filter(|group| group.is_live(call.now));
    listing::count_response(&query, live, |group, name| group.property(name))
}

/// `GET /groups/{id}`.
pub async fn get_group(call: Call, Path(key): Path<String>) -> GraphResult<Json<Value>> {
    let read = read_groups(&call)?;
    let object = {
        let tenant = call.caller.tenant.read();
        read.group(&tenant, find_group(&tenant, &key, call.now)?)
    };
    Ok(call.entity("groups", read.select(), object))
}

/// `POST /groups` → 201 with the group.
pub async fn create_group(call: Call, body: Bytes) -> GraphResult<Response> {
    permissions::require(&call.caller, permissions::GROUP_WRITE)?;
    let mut body = request_body::parse_object(&body)?;
    let binds = members::take_binds(&mut body)?;
    let input = group_write::type_check(body, Mode::Create)?;
    group_write::validate_create(&input)?;
    let id = Uuid::new_v4();
    let object = {
        let mut tenant = call.caller.tenant.write();
        permissions::require_delegated_role(&call.caller, &tenant, permissions::GROUP_ADMIN_ROLES)?;
        let empty = BTreeSet::new();
        let member_ids = members::resolve_binds(&tenant, id, &binds.members, &empty, "members", call.now)?;
        let mut owner_ids = members::resolve_binds(&tenant, id, &binds.owners, &empty, "owners", call.now)?;
        let mut group = Group::new_security(id, "", "", call.now);
        group.security_enabled = false;
        group.members = member_ids.into_iter().collect();
        group.visible_from = call.visible_from();
        group_write::apply(&mut group, &input);
        if group.is_unified() {
            let mail = format!("{}@{}", group.mail_nickname, tenant.default_domain());
            group.proxy_addresses = vec![format!("SMTP:{mail}")];
            group.mail = Some(mail);
            if group.visibility.is_none() {
                group.visibility = Some("Public".into());
            }
            // A delegated creator of a Microsoft 365 group becomes its owner.
            if owner_ids.is_empty()
                && let Some(creator) = call.caller.user_id()
            {
                owner_ids.push(creator);
            }
        }
        group.owners = owner_ids.into_iter().collect();
        tenant
            .check_unique(None, &group.smtp_addresses(), None)
            .map_err(|conflict| GraphError::conflict(conflict.property))?;
        let object = render(&group, None);
        tenant.insert_group(group);
        object
    };
    call.created("groups", id, object)
}

/// `PATCH /groups/{id}` → 204; `members@odata.bind` adds up to 20 members at once, all or nothing.
pub async fn patch_group(call: Call, Path(key): Path<String>, body: Bytes) -> GraphResult<StatusCode> {
    permissions::require(&call.caller, &[permissions::GROUP_WRITE, permissions::MEMBER_WRITE].concat())?;
    let mut body = request_body::parse_object(&body)?;
    let binds = members::take_binds(&mut body)?;
    let input = group_write::type_check(body, Mode::Update)?;
    let mut tenant = call.caller.tenant.write();
    let group = find_group(&tenant, &key, call.now)?;
    let group_id = group.id;
    if !input.properties.is_empty() || !binds.owners.is_empty() {
        permissions::authorize_group_write(&call.caller, &tenant)?;
    }
    if !binds.members.is_empty() {
        permissions::authorize_member_write(&call.caller, &tenant, group)?;
    }
    ensure_writable(group)?;
    if !binds.members.is_empty() {
        ensure_membership_writable(group)?;
    }
    group_write::validate_update(&input, group)?;
    let new_members = members::resolve_binds(&tenant, group_id, &binds.members, &group.members, "members", call.now)?;
    let new_owners = members::resolve_binds(&tenant, group_id, &binds.owners, &group.owners, "owners", call.now)?;
    if input.properties.is_empty() && binds.is_empty() {
        return Ok(StatusCode::NO_CONTENT);
    }
    tenant.update_group(group_id, |group| {
        group_write::apply(group, &input);
        group.members.extend(new_members);
        group.owners.extend(new_owners);
    });
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /groups/{id}` → 204: security groups are purged, Microsoft 365 groups go to deleted items.
pub async fn delete_group(call: Call, Path(key): Path<String>) -> GraphResult<StatusCode> {
    permissions::require(&call.caller, permissions::GROUP_WRITE)?;
    let mut tenant = call.caller.tenant.write();
    let group = find_group(&tenant, &key, call.now)?;
    let group_id = group.id;
    let unified = group.is_unified();
    permissions::authorize_group_write(&call.caller, &tenant)?;
    ensure_writable(group)?;
    if unified {
        tenant.update_group(group_id, |group| group.deleted = Some(call.now));
    } else {
        tenant.purge_group(group_id);
    }
    super::deleted_items::purge_expired(&mut tenant, call.now);
    Ok(StatusCode::NO_CONTENT)
}
