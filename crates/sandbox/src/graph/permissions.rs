//! Which token permissions and which Entra roles each users/groups operation needs — the sandbox's copy of
//! Graph's authorisation rules (reference §3.1.2, §6).
//!
//! Two layers, as in the real service:
//! 1. **The token's permissions** (`scp` for delegated tokens, `roles` for app-only tokens). Reads accept any
//!    read-or-write permission of the resource; writes need a write permission.
//! 2. **The acting principal's Entra roles.** A delegated call acts as the signed-in user, so writes also
//!    need that user to hold a suitable admin role (User Administrator / Global Administrator for users,
//!    Groups Administrator / Global Administrator for groups). Password resets and changes to privileged
//!    administrators have their own, stricter rules (see [`authorize_user_patch`]).
//!
//! The role checks take the tenant the caller already holds locked, never [`Caller::has_role`] (which would
//! lock the tenant a second time).
//!
//! Sources: <https://learn.microsoft.com/graph/api/user-update>,
//! <https://learn.microsoft.com/graph/api/user-delete>,
//! <https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference>.

use super::caller::Caller;
use super::error::{GraphError, GraphResult};
use crate::directory::group::Group;
use crate::directory::tenant::Tenant;
use crate::directory::user::User;

/// Delegated permission that lets an app act with the signed-in user's full directory rights.
pub const ACCESS_AS_USER: &str = "Directory.AccessAsUser.All";

/// Permissions that allow reading users (full profile).
pub const USER_READ: &[&str] =
    &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", ACCESS_AS_USER];

/// Delegated-only permission that allows reading the basic profile of every user.
pub const USER_READ_BASIC: &str = "User.ReadBasic.All";

/// Permissions that allow writing users.
pub const USER_WRITE: &[&str] = &["User.ReadWrite.All", "Directory.ReadWrite.All", ACCESS_AS_USER];

/// Permissions that allow enabling or disabling accounts.
pub const USER_ENABLE_DISABLE: &[&str] =
    &["User.EnableDisableAccount.All", "User.ReadWrite.All", "Directory.ReadWrite.All", ACCESS_AS_USER];

/// Permissions that allow writing `employeeLeaveDateTime`.
pub const LIFECYCLE_WRITE: &[&str] = &["User-LifeCycleInfo.ReadWrite.All"];

/// Permissions that allow reading `employeeLeaveDateTime`.
pub const LIFECYCLE_READ: &[&str] = &["User-LifeCycleInfo.Read.All", "User-LifeCycleInfo.ReadWrite.All"];

/// Permissions that allow reading groups.
pub const GROUP_READ: &[&str] = &[
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    ACCESS_AS_USER,
];

/// Permissions that allow creating, changing and deleting groups.
pub const GROUP_WRITE: &[&str] = &["Group.ReadWrite.All", "Directory.ReadWrite.All", ACCESS_AS_USER];

/// Permissions that allow changing group membership.
pub const MEMBER_WRITE: &[&str] =
    &["GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All", ACCESS_AS_USER];

/// Permissions that allow reading subscribed SKUs.
pub const SKU_READ: &[&str] = &[
    "Organization.Read.All",
    "Organization.ReadWrite.All",
    "LicenseAssignment.Read.All",
    "LicenseAssignment.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    ACCESS_AS_USER,
];

/// Permissions that allow assigning licences.
pub const LICENSE_WRITE: &[&str] =
    &["LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All", ACCESS_AS_USER];

/// Permissions that allow revoking a user's sessions.
pub const REVOKE_SESSIONS: &[&str] =
    &["User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All", ACCESS_AS_USER];

/// Roles that may manage users (delegated writes).
pub const USER_ADMIN_ROLES: &[&str] = &["Global Administrator", "User Administrator"];

/// Roles that may manage groups (delegated writes).
pub const GROUP_ADMIN_ROLES: &[&str] = &["Global Administrator", "Groups Administrator", "User Administrator"];

/// Roles that may assign licences (delegated).
pub const LICENSE_ADMIN_ROLES: &[&str] = &["Global Administrator", "User Administrator", "License Administrator"];

/// Roles that may reset the password of a non-administrator.
pub const PASSWORD_RESET_ROLES: &[&str] = &[
    "Global Administrator",
    "Privileged Authentication Administrator",
    "User Administrator",
    "Helpdesk Administrator",
];

/// Roles that may reset the password of an administrator.
pub const ADMIN_PASSWORD_RESET_ROLES: &[&str] = &["Global Administrator", "Privileged Authentication Administrator"];

/// Roles an app's service principal needs (at least) for app-only password resets.
pub const APP_PASSWORD_RESET_ROLES: &[&str] =
    &["Global Administrator", "Privileged Authentication Administrator", "User Administrator"];

/// Roles that may revoke sessions (delegated).
pub const REVOKE_ROLES: &[&str] = &[
    "Global Administrator",
    "User Administrator",
    "Privileged Authentication Administrator",
    "Helpdesk Administrator",
];

/// Properties application permissions cannot write (they live in SharePoint, not the directory).
pub const DELEGATED_ONLY_PROPERTIES: &[&str] =
    &["aboutMe", "birthday", "interests", "mySite", "pastProjects", "responsibilities", "schools", "skills"];

/// Fails with 403 unless the token carries one of `any_of`.
pub fn require(caller: &Caller, any_of: &[&str]) -> GraphResult<()> {
    caller.require(any_of)
}

/// Whether the token carries one of `any_of`.
pub fn has(caller: &Caller, any_of: &[&str]) -> bool {
    caller.claims.has_any(any_of)
}

/// Reading users: any user read permission, or (delegated) `User.ReadBasic.All`.
pub fn require_user_read(caller: &Caller) -> GraphResult<()> {
    if has(caller, USER_READ) || (!caller.is_app_only() && has(caller, &[USER_READ_BASIC])) {
        Ok(())
    } else {
        Err(GraphError::forbidden())
    }
}

/// Whether the caller may only see users' basic profiles (`User.ReadBasic.All` and nothing more).
pub fn basic_profile_only(caller: &Caller) -> bool {
    !has(caller, USER_READ)
}

/// Whether the caller may read `employeeLeaveDateTime`.
pub fn can_read_lifecycle(caller: &Caller) -> bool {
    has(caller, LIFECYCLE_READ)
}

/// The Entra roles of the acting principal, read from the tenant the caller already holds.
pub fn roles_in<'t>(caller: &Caller, tenant: &'t Tenant) -> Vec<&'t str> {
    if caller.is_app_only() {
        uuid::Uuid::parse_str(&caller.claims.appid)
            .ok()
            .and_then(|app_id| tenant.service_principal(app_id))
            .map(|principal| principal.directory_roles.iter().map(String::as_str).collect())
            .unwrap_or_default()
    } else {
        caller
            .user_id()
            .and_then(|id| tenant.users.get(&id))
            .filter(|user| !user.is_deleted())
            .map(|user| user.directory_roles.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// Whether the acting principal holds one of `roles`.
pub fn holds_role(caller: &Caller, tenant: &Tenant, roles: &[&str]) -> bool {
    roles_in(caller, tenant).iter().any(|held| roles.contains(held))
}

/// For delegated calls: fails with 403 unless the signed-in user holds one of `roles`. App-only calls pass
/// (their permissions were checked on the token).
pub fn require_delegated_role(caller: &Caller, tenant: &Tenant, roles: &[&str]) -> GraphResult<()> {
    if caller.is_app_only() || holds_role(caller, tenant, roles) { Ok(()) } else { Err(GraphError::forbidden()) }
}

/// Creating a user, changing a manager, restoring or purging a user: a user write permission, and for
/// delegated calls a user-management role.
pub fn authorize_user_write(caller: &Caller, tenant: &Tenant) -> GraphResult<()> {
    require(caller, USER_WRITE)?;
    require_delegated_role(caller, tenant, USER_ADMIN_ROLES)
}

/// Deleting a user. App-only callers cannot delete privileged administrators; delegated callers need a
/// user-management role, and for administrator targets `Directory.AccessAsUser.All` and Global Administrator.
pub fn authorize_user_delete(caller: &Caller, tenant: &Tenant, target: &User) -> GraphResult<()> {
    require(caller, USER_WRITE)?;
    if target.is_privileged_admin() {
        if caller.is_app_only() {
            return Err(GraphError::forbidden());
        }
        if !has(caller, &[ACCESS_AS_USER]) || !holds_role(caller, tenant, &["Global Administrator"]) {
            return Err(GraphError::forbidden());
        }
        return Ok(());
    }
    require_delegated_role(
        caller,
        tenant,
        &["Global Administrator", "User Administrator", "Privileged Authentication Administrator"],
    )
}

/// A `PATCH /users/{id}`: every property in `properties` must be allowed for this caller and target.
///
/// * `passwordProfile` (a password reset): delegated needs `Directory.AccessAsUser.All` and a password-reset
///   role (Global Administrator or Privileged Authentication Administrator for administrator targets);
///   app-only needs `User.ReadWrite.All`/`Directory.ReadWrite.All` and the service principal holding at
///   least User Administrator, and cannot reset administrators.
/// * `accountEnabled`: `User.EnableDisableAccount.All` suffices; for administrator targets (as for
///   `mobilePhone` and `otherMails`) only a delegated Global Administrator acting through
///   `Directory.AccessAsUser.All` may change it.
/// * `employeeLeaveDateTime`: `User-LifeCycleInfo.ReadWrite.All`; delegated writes only by a Global
///   Administrator.
/// * anything else: `User.ReadWrite.All`/`Directory.ReadWrite.All` (delegated: with a user-management role);
///   application permissions cannot write the SharePoint-backed profile properties.
pub fn authorize_user_patch(caller: &Caller, tenant: &Tenant, target: &User, properties: &[&str]) -> GraphResult<()> {
    let app_only = caller.is_app_only();
    let admin_target = target.is_privileged_admin();
    for &property in properties {
        match property {
            "passwordProfile" => authorize_password_reset(caller, tenant, admin_target)?,
            "accountEnabled" | "mobilePhone" | "otherMails" if admin_target => {
                if app_only || !has(caller, &[ACCESS_AS_USER]) || !holds_role(caller, tenant, &["Global Administrator"])
                {
                    return Err(GraphError::forbidden());
                }
            }
            "accountEnabled" => {
                require(caller, USER_ENABLE_DISABLE)?;
                require_delegated_role(
                    caller,
                    tenant,
                    &["Global Administrator", "User Administrator", "Privileged Authentication Administrator"],
                )?;
            }
            "employeeLeaveDateTime" => {
                require(caller, LIFECYCLE_WRITE)?;
                require_delegated_role(caller, tenant, &["Global Administrator"])?;
            }
            other => {
                if app_only && DELEGATED_ONLY_PROPERTIES.contains(&other) {
                    return Err(GraphError::forbidden());
                }
                require(caller, USER_WRITE)?;
                // A User Administrator manages users and limited admins, not privileged administrators.
                let roles = if admin_target { &["Global Administrator"][..] } else { USER_ADMIN_ROLES };
                require_delegated_role(caller, tenant, roles)?;
            }
        }
    }
    Ok(())
}

fn authorize_password_reset(caller: &Caller, tenant: &Tenant, admin_target: bool) -> GraphResult<()> {
    if caller.is_app_only() {
        let permitted = has(caller, &["User.ReadWrite.All", "Directory.ReadWrite.All"])
            && holds_role(caller, tenant, APP_PASSWORD_RESET_ROLES)
            && !admin_target;
        return if permitted { Ok(()) } else { Err(GraphError::forbidden()) };
    }
    let roles = if admin_target { ADMIN_PASSWORD_RESET_ROLES } else { PASSWORD_RESET_ROLES };
    if has(caller, &[ACCESS_AS_USER]) && holds_role(caller, tenant, roles) {
        Ok(())
    } else {
        Err(GraphError::forbidden())
    }
}

/// Group create/update/delete: a group write permission, and for delegated calls a group-management role.
pub fn authorize_group_write(caller: &Caller, tenant: &Tenant) -> GraphResult<()> {
    require(caller, GROUP_WRITE)?;
    require_delegated_role(caller, tenant, GROUP_ADMIN_ROLES)
}

/// Membership changes: a member write permission, and for delegated calls a group-management role or
/// ownership of the group.
pub fn authorize_member_write(caller: &Caller, tenant: &Tenant, group: &Group) -> GraphResult<()> {
    require(caller, MEMBER_WRITE)?;
    if caller.is_app_only() || holds_role(caller, tenant, GROUP_ADMIN_ROLES) {
        return Ok(());
    }
    match caller.user_id() {
        Some(user) if group.owners.contains(&user) => Ok(()),
        _ => Err(GraphError::forbidden()),
    }
}
