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
use std::ops::Bound;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::caller::Caller;
use super::error::{GraphError, GraphResult};
use super::expand;
use super::group_write::{self, Mode};
use super::listing;
use super::members;
use super::odata::{self, EntityKind};
use super::permissions;
use super::request_body;
use super::users::{UserView, conflict_error, count_not_supported, count_response, visible_from};
use crate::directory::group::Group;
use crate::directory::tenant::Tenant;
use crate::dispatch::RequestContext;
use crate::state::AppState;

/// `Invalid object identifier '{key}'.` — a group (or directory object) key that is not a GUID.
pub fn invalid_identifier(key: &str) -> GraphError {
    GraphError::bad_request(format!("Invalid object identifier '{key}'."))
}

/// A live group by id, visible at `now`: a non-GUID key is a 400, a missing group a 404.
pub fn find_group<'t>(tenant: &'t Tenant, key: &str, now: DateTime<Utc>) -> GraphResult<&'t Group> {
    let id = Uuid::parse_str(key).map_err(|_| invalid_identifier(key))?;
    tenant
        .groups
        .get(&id)
        .filter(|group| group.deleted.is_none() && Tenant::visible(group.visible_from, now))
        .ok_or_else(|| GraphError::not_found(key))
}

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

/// `GET /groups`.
pub async fn list_groups(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Json<Value>> {
    permissions::require(&caller, permissions::GROUP_READ)?;
    let query = odata::parse_list_query(EntityKind::Group, uri.query(), &headers)?;
    let expansions = expand::parse_expand(EntityKind::Group, query.expand.as_deref())?;
    let view = UserView::of(&caller);
    let now = state.clock.now();
    let select = query.select.as_deref();
    let (values, next, count) = {
        let tenant = caller.tenant.read();
        let page = listing::select_page(
            &query,
            |from| {
                tenant.groups.range((from.map_or(Bound::Unbounded, Bound::Excluded), Bound::Unbounded)).map(|(_, g)| g)
            },
            |group| group.id,
            |group| group.deleted.is_none() && Tenant::visible(group.visible_from, now),
            |group, name| group.property(name),
        )?;
        let values: Vec<Value> = page
            .items
            .iter()
            .map(|group| {
                let mut object = render(group, select);
                expand::expand_group(&mut object, &expansions, &tenant, group, &view, now);
                Value::Object(object)
            })
            .collect();
        (values, page.next, page.count)
    };
    let next_link = next.map(|cursor| listing::next_link(&context, uri.path(), uri.query(), cursor));
    Ok(Json(listing::collection(listing::collection_context(&context, "groups", select), values, count, next_link)))
}

/// The JSON object of a group.
pub fn render(group: &Group, select: Option<&[String]>) -> Map<String, Value> {
    odata::project(EntityKind::Group, select, &|name| group.property(name))
}

/// `GET /groups/$count` (advanced query).
pub async fn count_groups(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Response> {
    permissions::require(&caller, permissions::GROUP_READ)?;
    let query = odata::parse_list_query(EntityKind::Group, uri.query(), &headers)?;
    if !query.advanced {
        return Err(count_not_supported());
    }
    let now = state.clock.now();
    let tenant = caller.tenant.read();
    let count = tenant
        .groups
        .values()
        .filter(|group| group.deleted.is_none() && Tenant::visible(group.visible_from, now))
        .filter(|group| query.filter.as_ref().is_none_or(|expr| odata::matches(expr, &|name| group.property(name))))
        .filter(|group| {
            query.search_query.as_ref().is_none_or(|search| odata::search_matches(search, &|name| group.property(name)))
        })
        .count();
    Ok(count_response(count))
}

/// `GET /groups/{id}`.
pub async fn get_group(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    Path(key): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Json<Value>> {
    permissions::require(&caller, permissions::GROUP_READ)?;
    let query = odata::parse_list_query(EntityKind::Group, uri.query(), &headers)?;
    let expansions = expand::parse_expand(EntityKind::Group, query.expand.as_deref())?;
    let view = UserView::of(&caller);
    let select = query.select.as_deref();
    let now = state.clock.now();
    let object = {
        let tenant = caller.tenant.read();
        let group = find_group(&tenant, &key, now)?;
        let mut object = render(group, select);
        expand::expand_group(&mut object, &expansions, &tenant, group, &view, now);
        object
    };
    Ok(Json(listing::entity(listing::entity_context(&context, "groups", select), object)))
}

/// The domain new Microsoft 365 groups take their address in: the tenant's default domain.
fn default_domain(tenant: &Tenant) -> String {
    tenant
        .domains
        .iter()
        .find(|domain| domain.is_default)
        .map_or_else(|| tenant.initial_domain().to_string(), |domain| domain.name.clone())
}

/// `POST /groups` → 201 with the group.
pub async fn create_group(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    body: Bytes,
) -> GraphResult<Response> {
    permissions::require(&caller, permissions::GROUP_WRITE)?;
    let mut body = request_body::parse_object(&body)?;
    let binds = members::take_binds(&mut body)?;
    let input = group_write::type_check(body, Mode::Create)?;
    group_write::validate_create(&input)?;
    let now = state.clock.now();
    let id = Uuid::new_v4();
    let object = {
        let mut tenant = caller.tenant.write();
        permissions::require_delegated_role(&caller, &tenant, permissions::GROUP_ADMIN_ROLES)?;
        let empty = BTreeSet::new();
        let member_ids = members::resolve_binds(&tenant, id, &binds.members, &empty, "members", now)?;
        let mut owner_ids = members::resolve_binds(&tenant, id, &binds.owners, &empty, "owners", now)?;
        let mut group = Group {
            id,
            created: now,
            deleted: None,
            display_name: String::new(),
            description: None,
            mail_nickname: String::new(),
            mail: None,
            mail_enabled: false,
            security_enabled: false,
            group_types: Vec::new(),
            visibility: None,
            membership_rule: None,
            is_assignable_to_role: false,
            proxy_addresses: Vec::new(),
            members: member_ids.into_iter().collect(),
            owners: BTreeSet::new(),
            seq: 0,
            visible_from: visible_from(&state, now),
        };
        group_write::apply(&mut group, &input);
        if group.is_unified() {
            let mail = format!("{}@{}", group.mail_nickname, default_domain(&tenant));
            group.proxy_addresses = vec![format!("SMTP:{mail}")];
            group.mail = Some(mail);
            if group.visibility.is_none() {
                group.visibility = Some("Public".into());
            }
            // A delegated creator of a Microsoft 365 group becomes its owner.
            if owner_ids.is_empty()
                && let Some(creator) = caller.user_id()
            {
                owner_ids.push(creator);
            }
        }
        group.owners = owner_ids.into_iter().collect();
        tenant.check_unique(None, &group.smtp_addresses(), None).map_err(|conflict| conflict_error(&conflict))?;
        let object = render(&group, None);
        tenant.insert_group(group);
        object
    };
    let base = listing::graph_base(&context);
    let body = listing::entity(format!("{base}/$metadata#groups/$entity"), object);
    let location = HeaderValue::from_str(&format!("{base}/groups/{id}")).map_err(|_| {
        GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "An unexpected error occurred.")
    })?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response())
}

/// `PATCH /groups/{id}` → 204; `members@odata.bind` adds up to 20 members at once, all or nothing.
pub async fn patch_group(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> GraphResult<StatusCode> {
    permissions::require(&caller, &[permissions::GROUP_WRITE, permissions::MEMBER_WRITE].concat())?;
    let mut body = request_body::parse_object(&body)?;
    let binds = members::take_binds(&mut body)?;
    let input = group_write::type_check(body, Mode::Update)?;
    let now = state.clock.now();
    let mut tenant = caller.tenant.write();
    let group = find_group(&tenant, &key, now)?;
    let group_id = group.id;
    if !input.properties.is_empty() || !binds.owners.is_empty() {
        permissions::authorize_group_write(&caller, &tenant)?;
    }
    if !binds.members.is_empty() {
        permissions::authorize_member_write(&caller, &tenant, group)?;
    }
    ensure_writable(group)?;
    if !binds.members.is_empty() {
        ensure_membership_writable(group)?;
    }
    group_write::validate_update(&input, group)?;
    let new_members = members::resolve_binds(&tenant, group_id, &binds.members, &group.members, "members", now)?;
    let new_owners = members::resolve_binds(&tenant, group_id, &binds.owners, &group.owners, "owners", now)?;
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
pub async fn delete_group(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(key): Path<String>,
) -> GraphResult<StatusCode> {
    permissions::require(&caller, permissions::GROUP_WRITE)?;
    let now = state.clock.now();
    let mut tenant = caller.tenant.write();
    let group = find_group(&tenant, &key, now)?;
    let group_id = group.id;
    let unified = group.is_unified();
    permissions::authorize_group_write(&caller, &tenant)?;
    ensure_writable(group)?;
    if unified {
        tenant.update_group(group_id, |group| group.deleted = Some(now));
    } else {
        tenant.purge_group(group_id);
    }
    super::deleted_items::purge_expired(&mut tenant, now);
    Ok(StatusCode::NO_CONTENT)
}
