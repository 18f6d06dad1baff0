//! `/users` and `/me`: list (with paging and `$count`), create, read, update and (soft-)delete users.
//! Relationships (manager, direct reports, `memberOf`) and `revokeSignInSessions` live in
//! [`super::user_relations`]; licences in [`super::licenses`].
//!
//! Every handler holds the tenant lock only while it reads or writes the objects, takes a read lock for
//! reads, and addresses single objects through the tenant's indexes (O(log n)). Objects still inside their
//! replication delay answer 404 and are left out of lists.
//!
//! Reference: `shared/reference/microsoft-protocols.md` §3.1, §3.3, §3.6;
//! <https://learn.microsoft.com/graph/api/user-list>, <https://learn.microsoft.com/graph/api/user-post-users>,
//! <https://learn.microsoft.com/graph/api/user-update>, <https://learn.microsoft.com/graph/api/user-delete>.

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
use super::listing;
use super::odata::{self, EntityKind};
use super::permissions;
use super::request_body;
use super::user_write::{self, Mode};
use crate::directory::tenant::{Conflict, Tenant};
use crate::directory::user::User;
use crate::dispatch::RequestContext;
use crate::state::AppState;

/// Properties a caller holding only `User.ReadBasic.All` may see; the others read as null.
/// (<https://learn.microsoft.com/graph/permissions-reference#userreadbasicall>)
const BASIC_PROPERTIES: &[&str] = &["id", "displayName", "givenName", "surname", "mail", "userPrincipalName"];

/// How one caller sees users: which properties its permissions reveal.
#[derive(Clone, Copy, Debug)]
pub struct UserView {
    basic_only: bool,
    lifecycle: bool,
}

impl UserView {
    /// The view of `caller`.
    pub fn of(caller: &Caller) -> UserView {
        UserView {
            basic_only: permissions::basic_profile_only(caller),
            lifecycle: permissions::can_read_lifecycle(caller),
        }
    }

    /// A property of `user` as this caller sees it.
    pub fn get(&self, user: &User, name: &str) -> Option<Value> {
        if self.basic_only && !BASIC_PROPERTIES.contains(&name) && user.property(name).is_some() {
            return Some(Value::Null);
        }
        if name == "employeeLeaveDateTime" && !self.lifecycle {
            return Some(Value::Null);
        }
        user.property(name)
    }

    /// The JSON object of `user` with `select` (or the default property set).
    pub fn render(&self, user: &User, select: Option<&[String]>) -> Map<String, Value> {
        odata::project(EntityKind::User, select, &|name| self.get(user, name))
    }
}

/// A live user addressed by id or UPN, visible at `now`; otherwise 404.
pub fn find_user<'t>(tenant: &'t Tenant, key: &str, now: DateTime<Utc>) -> GraphResult<&'t User> {
    tenant
        .live_user(key)
        .filter(|user| Tenant::visible(user.visible_from, now))
        .ok_or_else(|| GraphError::not_found(key))
}

/// The signed-in user's id for `/me`; app-only tokens get Graph's 400.
pub fn me_key(caller: &Caller) -> GraphResult<String> {
    caller.user_id().map(|id| id.to_string()).ok_or_else(|| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        )
    })
}

/// The uniqueness error for a [`Conflict`].
pub fn conflict_error(conflict: &Conflict) -> GraphError {
    GraphError::conflict(conflict.property)
}

/// `visible_from` for an object created now (`None` when the replication-delay knob is off).
pub fn visible_from(state: &AppState, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let delay = state.knobs.replication_delay();
    (delay > chrono::Duration::zero()).then(|| now + delay)
}

/// `GET /users`.
pub async fn list_users(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Json<Value>> {
    permissions::require_user_read(&caller)?;
    let query = odata::parse_list_query(EntityKind::User, uri.query(), &headers)?;
    let expansions = expand::parse_expand(EntityKind::User, query.expand.as_deref())?;
    let view = UserView::of(&caller);
    let now = state.clock.now();
    let select = query.select.as_deref();
    let (values, next, count) = {
        let tenant = caller.tenant.read();
        let page = listing::select_page(
            &query,
            |from| {
                tenant.users.range((from.map_or(Bound::Unbounded, Bound::Excluded), Bound::Unbounded)).map(|(_, u)| u)
            },
            |user| user.id,
            |user| !user.is_deleted() && Tenant::visible(user.visible_from, now),
            |user, name| view.get(user, name),
        )?;
        let values: Vec<Value> = page
            .items
            .iter()
            .map(|user| {
                let mut object = view.render(user, select);
                expand::expand_user(&mut object, &expansions, &tenant, user, &view, now);
                Value::Object(object)
            })
            .collect();
        (values, page.next, page.count)
    };
    let next_link = next.map(|cursor| listing::next_link(&context, uri.path(), uri.query(), cursor));
    Ok(Json(listing::collection(listing::collection_context(&context, "users", select), values, count, next_link)))
}

/// The answer to `/$count` without `ConsistencyLevel: eventual`.
pub fn count_not_supported() -> GraphError {
    GraphError::bad_request(odata::error_messages::COUNT_NOT_SUPPORTED)
}

/// A `/$count` answer: the number as `text/plain`.
pub fn count_response(count: usize) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))], count.to_string()).into_response()
}

/// `GET /users/$count` (advanced query: needs `ConsistencyLevel: eventual`).
pub async fn count_users(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Response> {
    permissions::require_user_read(&caller)?;
    let query = odata::parse_list_query(EntityKind::User, uri.query(), &headers)?;
    if !query.advanced {
        return Err(count_not_supported());
    }
    let view = UserView::of(&caller);
    let now = state.clock.now();
    let tenant = caller.tenant.read();
    let count = tenant
        .users
        .values()
        .filter(|user| !user.is_deleted() && Tenant::visible(user.visible_from, now))
        .filter(|user| query.filter.as_ref().is_none_or(|expr| odata::matches(expr, &|name| view.get(user, name))))
        .filter(|user| {
            query.search_query.as_ref().is_none_or(|search| odata::search_matches(search, &|name| view.get(user, name)))
        })
        .count();
    Ok(count_response(count))
}

/// `GET /users/{id | userPrincipalName}`.
pub async fn get_user(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    Path(key): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Json<Value>> {
    read_user(&state, &caller, &context, &key, &uri, &headers)
}

/// `GET /me`.
pub async fn get_me(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    uri: Uri,
    headers: HeaderMap,
) -> GraphResult<Json<Value>> {
    let key = me_key(&caller)?;
    // Every signed-in user may read their own profile (`User.Read`).
    if !permissions::has(&caller, &["User.Read", "User.ReadWrite", "User.ReadBasic.All"]) {
        permissions::require_user_read(&caller)?;
    }
    let query = odata::parse_list_query(EntityKind::User, uri.query(), &headers)?;
    let expansions = expand::parse_expand(EntityKind::User, query.expand.as_deref())?;
    let view = UserView { basic_only: false, lifecycle: permissions::can_read_lifecycle(&caller) };
    let now = state.clock.now();
    let select = query.select.as_deref();
    let object = {
        let tenant = caller.tenant.read();
        let user = find_user(&tenant, &key, now)?;
        let mut object = view.render(user, select);
        expand::expand_user(&mut object, &expansions, &tenant, user, &view, now);
        object
    };
    Ok(Json(listing::entity(listing::entity_context(&context, "users", select), object)))
}

fn read_user(
    state: &AppState,
    caller: &Caller,
    context: &RequestContext,
    key: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> GraphResult<Json<Value>> {
    permissions::require_user_read(caller)?;
    let query = odata::parse_list_query(EntityKind::User, uri.query(), headers)?;
    let expansions = expand::parse_expand(EntityKind::User, query.expand.as_deref())?;
    let view = UserView::of(caller);
    let select = query.select.as_deref();
    let now = state.clock.now();
    let object = {
        let tenant = caller.tenant.read();
        let user = find_user(&tenant, key, now)?;
        let mut object = view.render(user, select);
        expand::expand_user(&mut object, &expansions, &tenant, user, &view, now);
        object
    };
    Ok(Json(listing::entity(listing::entity_context(context, "users", select), object)))
}

/// `POST /users` → 201 with the user, `Location` and `@odata.context`.
pub async fn create_user(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Extension(context): Extension<RequestContext>,
    body: Bytes,
) -> GraphResult<Response> {
    permissions::require(&caller, permissions::USER_WRITE)?;
    let input = user_write::type_check(request_body::parse_object(&body)?)?;
    let view = UserView::of(&caller);
    let now = state.clock.now();
    let id = Uuid::new_v4();
    let object = {
        let mut tenant = caller.tenant.write();
        permissions::require_delegated_role(&caller, &tenant, permissions::USER_ADMIN_ROLES)?;
        user_write::validate(&input, Mode::Create, &tenant, None)?;
        let mut user = user_write::new_user(id, &input, now);
        tenant
            .check_unique(Some(&user.user_principal_name), &user.smtp_addresses(), None)
            .map_err(|conflict| conflict_error(&conflict))?;
        user.visible_from = visible_from(&state, now);
        let object = view.render(&user, None);
        tenant.insert_user(user);
        object
    };
    let base = listing::graph_base(&context);
    let body = listing::entity(format!("{base}/$metadata#users/$entity"), object);
    let location = HeaderValue::from_str(&format!("{base}/users/{id}")).map_err(|_| {
        GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "An unexpected error occurred.")
    })?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response())
}

/// `PATCH /users/{id | userPrincipalName}` → 204.
pub async fn patch_user(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> GraphResult<StatusCode> {
    update_user(&state, &caller, &key, &body)
}

/// `PATCH /me` → 204.
pub async fn patch_me(State(state): State<Arc<AppState>>, caller: Caller, body: Bytes) -> GraphResult<StatusCode> {
    let key = me_key(&caller)?;
    update_user(&state, &caller, &key, &body)
}

fn update_user(state: &AppState, caller: &Caller, key: &str, body: &[u8]) -> GraphResult<StatusCode> {
    let any_write = [permissions::USER_WRITE, permissions::USER_ENABLE_DISABLE, permissions::LIFECYCLE_WRITE].concat();
    permissions::require(caller, &any_write)?;
    let input = user_write::type_check(request_body::parse_object(body)?)?;
    let now = state.clock.now();
    let mut tenant = caller.tenant.write();
    let target = find_user(&tenant, key, now)?;
    let id = target.id;
    permissions::authorize_user_patch(caller, &tenant, target, &input.names())?;
    user_write::validate(&input, Mode::Update, &tenant, Some(target))?;
    let new_upn = input.text("userPrincipalName").filter(|upn| !upn.eq_ignore_ascii_case(&target.user_principal_name));
    let addresses = if input.get("mail").is_some() { user_write::addresses_after(target, &input) } else { Vec::new() };
    tenant.check_unique(new_upn, &addresses, Some(id)).map_err(|conflict| conflict_error(&conflict))?;
    if !input.names().is_empty() {
        tenant.update_user(id, |user| user_write::apply(user, &input, now));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /users/{id | userPrincipalName}` → 204; the user moves to deleted items for 30 days.
pub async fn delete_user(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(key): Path<String>,
) -> GraphResult<StatusCode> {
    permissions::require(&caller, permissions::USER_WRITE)?;
    let now = state.clock.now();
    let mut tenant = caller.tenant.write();
    let target = find_user(&tenant, &key, now)?;
    let id = target.id;
    permissions::authorize_user_delete(&caller, &tenant, target)?;
    tenant.update_user(id, |user| user.deleted = Some(now));
    super::deleted_items::purge_expired(&mut tenant, now);
    Ok(StatusCode::NO_CONTENT)
}
