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

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use http::StatusCode;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::call::Call;
use super::caller::Caller;
use super::error::{GraphError, GraphResult};
use super::expand::ReadOptions;
use super::listing::{self, Page};
use super::lookup::{UserTarget, find_user};
use super::odata::{self, EntityKind, ListQuery};
use super::permissions;
use super::request_body;
use super::user_write::{self, Mode};
use crate::directory::tenant::Tenant;
use crate::directory::user::User;

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

    /// The view of signed-in users reading their own profile (`/me`): every property, but lifecycle ones only
    /// with their permission.
    pub fn own(caller: &Caller) -> UserView {
        UserView { basic_only: false, lifecycle: permissions::can_read_lifecycle(caller) }
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

/// A page of the tenant's users that `include` admits, filtered, searched and sorted on what `view` shows.
pub fn select_users<'t>(
    query: &ListQuery,
    tenant: &'t Tenant,
    view: &UserView,
    include: impl Fn(&User) -> bool,
) -> GraphResult<Page<&'t User>> {
    listing::select_page(
        query,
        |from| tenant.users_after(from),
        |user| user.id,
        |user| include(user),
        |user, name| view.get(user, name),
    )
}

/// `GET /users`.
pub async fn list_users(call: Call) -> GraphResult<Json<Value>> {
    permissions::require_user_read(&call.caller)?;
    let read = ReadOptions::of(&call, EntityKind::User, UserView::of(&call.caller))?;
    let page = {
        let tenant = call.caller.tenant.read();
        select_users(&read.query, &tenant, &read.view, |user| user.is_live(call.now))?
            .map(|user| Value::Object(read.user(&tenant, user)))
    };
    Ok(call.collection("users", read.select(), page))
}

/// `GET /users/$count` (advanced query: needs `ConsistencyLevel: eventual`).
pub async fn count_users(call: Call) -> GraphResult<Response> {
    permissions::require_user_read(&call.caller)?;
    let query = call.count_query(EntityKind::User)?;
    let view = UserView::of(&call.caller);
    let tenant = call.caller.tenant.read();
    let live = tenant.users.values().filter(|user| user.is_live(call.now));
    listing::count_response(&query, live, |user, name| view.get(user, name))
}

/// `GET /users/{id | userPrincipalName}` and `GET /me`.
pub async fn get_user(call: Call, target: UserTarget) -> GraphResult<Json<Value>> {
    let key = target.key(&call.caller)?;
    let view = if target == UserTarget::Me {
        // Every signed-in user may read their own profile (`User.Read`).
        if !permissions::has(&call.caller, &["User.Read", "User.ReadWrite", "User.ReadBasic.All"]) {
            permissions::require_user_read(&call.caller)?;
        }
        UserView::own(&call.caller)
    } else {
        permissions::require_user_read(&call.caller)?;
        UserView::of(&call.caller)
    };
    let read = ReadOptions::of(&call, EntityKind::User, view)?;
    let object = {
        let tenant = call.caller.tenant.read();
        read.user(&tenant, find_user(&tenant, &key, call.now)?)
    };
    Ok(call.entity("users", read.select(), object))
}

/// `POST /users` → 201 with the user, `Location` and `@odata.context`.
pub async fn create_user(call: Call, body: Bytes) -> GraphResult<Response> {
    permissions::require(&call.caller, permissions::USER_WRITE)?;
    let input = user_write::type_check(request_body::parse_object(&body)?)?;
    let view = UserView::of(&call.caller);
    let id = Uuid::new_v4();
    let object = {
        let mut tenant = call.caller.tenant.write();
        permissions::require_delegated_role(&call.caller, &tenant, permissions::USER_ADMIN_ROLES)?;
        user_write::validate(&input, Mode::Create, &tenant, None)?;
        let mut user = user_write::new_user(id, &input, call.now);
        tenant
            .check_unique(Some(&user.user_principal_name), &user.smtp_addresses(), None)
            .map_err(|conflict| GraphError::conflict(conflict.property))?;
        user.visible_from = call.visible_from();
        let object = view.render(&user, None);
        tenant.insert_user(user);
        object
    };
    call.created("users", id, object)
}

/// `PATCH /users/{id | userPrincipalName}` and `PATCH /me` → 204.
pub async fn patch_user(call: Call, target: UserTarget, body: Bytes) -> GraphResult<StatusCode> {
    let key = target.key(&call.caller)?;
    let any_write = [permissions::USER_WRITE, permissions::USER_ENABLE_DISABLE, permissions::LIFECYCLE_WRITE].concat();
    permissions::require(&call.caller, &any_write)?;
    let input = user_write::type_check(request_body::parse_object(&body)?)?;
    let mut tenant = call.caller.tenant.write();
    let target = find_user(&tenant, &key, call.now)?;
    let id = target.id;
    permissions::authorize_user_patch(&call.caller, &tenant, target, &input.names())?;
    user_write::validate(&input, Mode::Update, &tenant, Some(target))?;
    let new_upn = input.text("userPrincipalName").filter(|upn| !upn.eq_ignore_ascii_case(&target.user_principal_name));
    let addresses = if input.get("mail").is_some() { user_write::addresses_after(target, &input) } else { Vec::new() };
    tenant.check_unique(new_upn, &addresses, Some(id)).map_err(|conflict| GraphError::conflict(conflict.property))?;
    if !input.names().is_empty() {
        tenant.update_user(id, |user| user_write::apply(user, &input, call.now));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /users/{id | userPrincipalName}` → 204; the user moves to deleted items for 30 days.
pub async fn delete_user(call: Call, Path(key): Path<String>) -> GraphResult<StatusCode> {
    permissions::require(&call.caller, permissions::USER_WRITE)?;
    let mut tenant = call.caller.tenant.write();
    let target = find_user(&tenant, &key, call.now)?;
    let id = target.id;
    permissions::authorize_user_delete(&call.caller, &tenant, target)?;
    tenant.update_user(id, |user| user.deleted = Some(call.now));
    crate::exchange::lifecycle::after_user_deleted(&mut tenant, id, call.now);
    super::deleted_items::purge_expired(&mut tenant, call.now);
    Ok(StatusCode::NO_CONTENT)
}
