//! The admin API's view of a tenant's Exchange Online data, under `/_sandbox/tenants/{tenant}/exchange`:
//! the data-loss record (every mailbox marked for deletion or purged), the mailboxes with their state and
//! permissions, and the RBAC role groups, which can also be created, replaced and removed here (the sandbox
//! has no `New-RoleGroup` cmdlet).
//!
//! `{tenant}` is the tenant's GUID or one of its verified domains. Users are shown by UPN and applications
//! as `app:{client id}`, the spelling the seed's `role_groups` use.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AdminError, parse_body};
use crate::directory::TenantRef;
use crate::directory::tenant::Tenant;
use crate::exchange::model::{LICENCE_GRACE_DAYS, LossKind, RoleGroup, RoleGroupMember};
use crate::exchange::rbac;
use crate::state::AppState;

fn find_tenant(state: &AppState, tenant: &str) -> Result<TenantRef, AdminError> {
    state.directory.tenant(tenant).ok_or_else(|| {
        AdminError::new(
            StatusCode::NOT_FOUND,
            "unknown_tenant",
            format!("no tenant has the id or verified domain {tenant:?}"),
        )
    })
}

/// A user by UPN, or by object id when the user record is gone.
fn user_label(tenant: &Tenant, id: Uuid) -> String {
    tenant.users.get(&id).map_or_else(|| id.to_string(), |user| user.user_principal_name.clone())
}

fn member_label(tenant: &Tenant, member: &RoleGroupMember) -> String {
    match member {
        RoleGroupMember::User(id) => user_label(tenant, *id),
        RoleGroupMember::App(app_id) => format!("app:{app_id}"),
    }
}

fn role_group_json(tenant: &Tenant, group: &RoleGroup) -> Value {
    json!({
        "name": group.name,
        "built_in": group.built_in,
        "roles": group.roles,
        "members": group.members.iter().map(|member| member_label(tenant, member)).collect::<Vec<_>>(),
    })
}

/// `GET …/exchange/data-loss` → `{"tenant","marked_for_deletion":N,"purged":N,"entries":[MailboxLoss…]}`,
/// oldest first. An entry stays when a marked mailbox is later restored (re-licensed or converted to shared):
/// the mailboxes listing shows whether a mark is still pending.
pub(super) async fn data_loss(State(state): State<Arc<AppState>>, Path(tenant): Path<String>) -> Response {
    let tenant = match find_tenant(&state, &tenant) {
        Ok(tenant) => tenant,
        Err(error) => return error.into_response(),
    };
    let tenant = tenant.read();
    let losses = &tenant.exchange.data_loss;
    let count = |kind: LossKind| losses.iter().filter(|loss| loss.kind == kind).count();
    axum::Json(json!({
        "tenant": tenant.id,
        "marked_for_deletion": count(LossKind::MarkedForDeletion),
        "purged": count(LossKind::Purged),
        "entries": losses,
    }))
    .into_response()
}

/// `GET …/exchange/mailboxes` → every mailbox the tenant holds (pending, ready, marked or past its grace), by
/// UPN.
pub(super) async fn mailboxes(State(state): State<Arc<AppState>>, Path(tenant): Path<String>) -> Response {
    let tenant = match find_tenant(&state, &tenant) {
        Ok(tenant) => tenant,
        Err(error) => return error.into_response(),
    };
    let now = state.clock.now();
    let tenant = tenant.read();
    let mut listed: Vec<(String, Value)> = tenant
        .exchange
        .mailboxes
        .values()
        .map(|mailbox| {
            let upn = user_label(&tenant, mailbox.user);
            let labels = |ids: &BTreeSet<Uuid>| ids.iter().map(|id| user_label(&tenant, *id)).collect::<Vec<_>>();
            let value = json!({
                "user": mailbox.user,
                "user_principal_name": upn,
                "kind": mailbox.kind,
                "recipient_type_details": mailbox.kind.recipient_type_details(),
                "ready": mailbox.is_ready(now),
                "ready_at": mailbox.ready_at,
                "marked_for_deletion": mailbox.marked_for_deletion,
                "deletion_due": mailbox.marked_for_deletion.map(|at| at + Duration::days(LICENCE_GRACE_DAYS)),
                "deleted": mailbox.is_gone(now),
                "hidden": mailbox.hidden_from_address_lists,
                "full_access": mailbox.full_access.iter().map(|grant| json!({
                    "user": user_label(&tenant, grant.user),
                    "auto_mapping": grant.auto_mapping,
                    "inheritance_type": grant.inheritance_type,
                })).collect::<Vec<_>>(),
                "send_as": labels(&mailbox.send_as),
                "send_on_behalf": labels(&mailbox.grant_send_on_behalf_to),
            });
            (upn.to_ascii_lowercase(), value)
        })
        .collect();
    listed.sort_by(|left, right| left.0.cmp(&right.0));
    axum::Json(Value::Array(listed.into_iter().map(|(_, value)| value).collect())).into_response()
}

/// `GET …/exchange/role-groups` → the role groups, built-in ones first, then by name.
pub(super) async fn role_groups(State(state): State<Arc<AppState>>, Path(tenant): Path<String>) -> Response {
    let tenant = match find_tenant(&state, &tenant) {
        Ok(tenant) => tenant,
        Err(error) => return error.into_response(),
    };
    let tenant = tenant.read();
    let mut groups: Vec<&RoleGroup> = tenant.exchange.role_groups.iter().collect();
    groups.sort_by_key(|group| (!group.built_in, group.name.to_ascii_lowercase()));
    axum::Json(Value::Array(groups.into_iter().map(|group| role_group_json(&tenant, group)).collect())).into_response()
}

/// `PUT …/exchange/role-groups/{name}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleGroupBody {
    /// Management roles; required for a custom group, and if given for a built-in one, its own roles.
    roles: Option<Vec<String>>,
    /// Members: UPNs, or `app:{client id}`.
    #[serde(default)]
    members: Vec<String>,
}

fn parse_roles(roles: &[String]) -> Result<BTreeSet<String>, AdminError> {
    roles
        .iter()
        .map(|role| {
            rbac::ROLES
                .iter()
                .find(|known| known.eq_ignore_ascii_case(role.trim()))
                .map(|known| known.to_string())
                .ok_or_else(|| {
                    AdminError::bad_request(
                        "unknown_role",
                        format!("unknown management role {role:?} (known: {})", rbac::ROLES.join(", ")),
                    )
                })
        })
        .collect()
}

fn parse_member(tenant: &Tenant, member: &str) -> Result<RoleGroupMember, AdminError> {
    let unknown = |why: &str| AdminError::bad_request("unknown_member", format!("member {member:?} {why}"));
    match member.strip_prefix("app:") {
        Some(app_id) => {
            let app_id = Uuid::parse_str(app_id.trim()).map_err(|_| unknown("is not app:{client id GUID}"))?;
            // Exchange adds an application to a role group through its service principal in the tenant.
            tenant
                .service_principal(app_id)
                .map(|_| RoleGroupMember::App(app_id))
                .ok_or_else(|| unknown("has no service principal in the tenant"))
        }
        None => tenant
            .upn_holder(member.trim())
            .map(RoleGroupMember::User)
            .ok_or_else(|| unknown("is not the UPN of a user of the tenant")),
    }
}

fn check_name(name: &str) -> Result<(), AdminError> {
    if name.trim().is_empty() || name.trim() != name || name.chars().any(char::is_control) {
        return Err(AdminError::bad_request(
            "invalid_request",
            format!("{name:?} is not a role group name: it must be non-empty, without surrounding spaces"),
        ));
    }
    Ok(())
}

/// `PUT …/exchange/role-groups/{name}` → `201` with the new custom group, or `200` with the replaced one. A
/// built-in group keeps its roles (`400` if the body names others) and takes the given members.
pub(super) async fn put_role_group(
    State(state): State<Arc<AppState>>,
    Path((tenant, name)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match write_role_group(&state, &tenant, &name, body) {
        Ok((status, value)) => (status, axum::Json(value)).into_response(),
        Err(error) => error.into_response(),
    }
}

fn write_role_group(
    state: &AppState,
    tenant: &str,
    name: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Value), AdminError> {
    let tenant = find_tenant(state, tenant)?;
    check_name(name)?;
    let body: RoleGroupBody = parse_body(body)?;
    let roles = body.roles.as_deref().map(parse_roles).transpose()?;
    let mut tenant = tenant.write();
    let members =
        body.members.iter().map(|member| parse_member(&tenant, member)).collect::<Result<BTreeSet<_>, _>>()?;
    let existing = tenant.exchange.role_groups.iter().position(|group| group.name.eq_ignore_ascii_case(name));
    let status = match existing {
        Some(index) => {
            let group = &mut tenant.exchange.role_groups[index];
            match roles {
                Some(roles) if group.built_in && roles != group.roles => {
                    return Err(AdminError::bad_request(
                        "built_in_role_group",
                        format!("the roles of the built-in role group {:?} cannot be changed", group.name),
                    ));
                }
                Some(roles) => group.roles = roles,
                None if group.built_in => {}
                None => return Err(missing_roles()),
            }
            group.members = members;
            StatusCode::OK
        }
        None => {
            let roles = roles.ok_or_else(missing_roles)?;
            tenant.exchange.role_groups.push(RoleGroup { name: name.to_string(), built_in: false, roles, members });
            StatusCode::CREATED
        }
    };
    tenant.exchange.touch();
    let group = tenant
        .exchange
        .role_groups
        .iter()
        .find(|group| group.name.eq_ignore_ascii_case(name))
        .map(|group| role_group_json(&tenant, group))
        .unwrap_or(Value::Null);
    Ok((status, group))
}

fn missing_roles() -> AdminError {
    AdminError::bad_request("invalid_request", "a custom role group needs \"roles\" (a list of management roles)")
}

/// `DELETE …/exchange/role-groups/{name}` → `204`; `400` for a built-in group, `404` for an unknown one.
pub(super) async fn delete_role_group(
    State(state): State<Arc<AppState>>,
    Path((tenant, name)): Path<(String, String)>,
) -> Response {
    let tenant = match find_tenant(&state, &tenant) {
        Ok(tenant) => tenant,
        Err(error) => return error.into_response(),
    };
    let mut tenant = tenant.write();
    let groups = &mut tenant.exchange.role_groups;
    match groups.iter().position(|group| group.name.eq_ignore_ascii_case(&name)) {
        None => {
            AdminError::new(StatusCode::NOT_FOUND, "unknown_role_group", format!("no role group is named {name:?}"))
                .into_response()
        }
        Some(index) if groups[index].built_in => AdminError::bad_request(
            "built_in_role_group",
            format!("{:?} is a built-in role group and cannot be removed", groups[index].name),
        )
        .into_response(),
        Some(index) => {
            groups.remove(index);
            tenant.exchange.touch();
            StatusCode::NO_CONTENT.into_response()
        }
    }
}
