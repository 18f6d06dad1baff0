//! Consent: what a client may already do in a tenant (delegated grants for all principals or one user,
//! application roles of its service principal), who may grant more, and the admin consent requests users
//! file when they may not.
//!
//! Who may grant tenant-wide consent:
//! <https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent> — Global Administrator,
//! Privileged Role Administrator, Cloud Application Administrator or Application Administrator; application
//! permissions of Microsoft Graph need Global Administrator or Privileged Role Administrator.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::directory::app::{ConsentRequest, ConsentRequestStatus, DelegatedGrant, ServicePrincipal};
use crate::directory::tenant::Tenant;
use crate::directory::user::User;
use crate::permissions::{self, Resource};

/// A set of permissions, `(resource, permission name)`.
pub type PermissionSet = BTreeSet<(Resource, String)>;

/// Roles that may grant delegated permissions for the whole tenant.
pub const TENANT_CONSENT_ROLES: [&str; 4] = [
    "Global Administrator",
    "Privileged Role Administrator",
    "Cloud Application Administrator",
    "Application Administrator",
];

/// Roles that may grant application permissions (app roles) of Microsoft Graph.
pub const APP_ROLE_CONSENT_ROLES: [&str; 2] = ["Global Administrator", "Privileged Role Administrator"];

/// Whether `user` may consent on behalf of the organisation.
pub fn may_grant_tenant_wide(user: &User) -> bool {
    user.directory_roles.iter().any(|role| TENANT_CONSENT_ROLES.contains(&role.as_str()))
}

/// Whether `user` may grant the application permissions in `roles`.
pub fn may_grant_app_roles(user: &User, roles: &PermissionSet) -> bool {
    if !may_grant_tenant_wide(user) {
        return false;
    }
    let needs_privileged = roles.iter().any(|(resource, _)| *resource == Resource::Graph);
    !needs_privileged || user.directory_roles.iter().any(|role| APP_ROLE_CONSENT_ROLES.contains(&role.as_str()))
}

/// Whether every permission in `wanted` may be consented to by an ordinary user.
pub fn user_consentable(wanted: &PermissionSet) -> bool {
    wanted.iter().all(|(resource, name)| {
        permissions::find(*resource, name).is_some_and(|permission| !permission.admin_consent_required)
    })
}

/// Delegated scopes `client` holds on `resource` for `user` (tenant-wide grants plus the user's own).
pub fn granted_scopes(tenant: &Tenant, client: Uuid, resource: Resource, user: Uuid) -> BTreeSet<String> {
    tenant
        .grants
        .iter()
        .filter(|grant| grant.client_id == client && grant.resource == resource)
        .filter(|grant| grant.principal.is_none_or(|principal| principal == user))
        .flat_map(|grant| grant.scopes.iter().cloned())
        .collect()
}

/// The part of `wanted` that `client` does not yet hold for `user`.
pub fn missing(tenant: &Tenant, client: Uuid, user: Uuid, wanted: &PermissionSet) -> PermissionSet {
    wanted
        .iter()
        .filter(|(resource, name)| {
            !granted_scopes(tenant, client, *resource, user).iter().any(|held| held.eq_ignore_ascii_case(name))
        })
        .cloned()
        .collect()
}

/// Makes sure the app has a service principal in the tenant and returns its object id.
pub fn ensure_service_principal(tenant: &mut Tenant, app_id: Uuid) -> Uuid {
    if let Some(principal) = tenant.service_principal(app_id) {
        return principal.object_id;
    }
    let object_id = Uuid::new_v4();
    tenant.service_principals.push(ServicePrincipal {
        object_id,
        app_id,
        app_roles: BTreeSet::new(),
        directory_roles: BTreeSet::new(),
    });
    object_id
}

/// Records delegated consent: for everyone (`principal` `None`) or for one user. Creates the service
/// principal when the app is new to the tenant.
pub fn record_delegated(tenant: &mut Tenant, client: Uuid, principal: Option<Uuid>, granted: &PermissionSet) {
    ensure_service_principal(tenant, client);
    for (resource, name) in granted {
        let existing = tenant
            .grants
            .iter_mut()
            .find(|grant| grant.client_id == client && grant.resource == *resource && grant.principal == principal);
        match existing {
            Some(grant) => {
                grant.scopes.insert(name.clone());
            }
            None => tenant.grants.push(DelegatedGrant {
                client_id: client,
                resource: *resource,
                principal,
                scopes: BTreeSet::from([name.clone()]),
            }),
        }
    }
}

/// Grants application permissions to the app's service principal (creating it when needed).
pub fn record_app_roles(tenant: &mut Tenant, client: Uuid, roles: &PermissionSet) {
    ensure_service_principal(tenant, client);
    if let Some(principal) = tenant.service_principals.iter_mut().find(|principal| principal.app_id == client) {
        principal.app_roles.extend(roles.iter().cloned());
    }
}

/// Files (or extends) a pending admin consent request and returns its id.
pub fn file_request(
    tenant: &mut Tenant,
    client: Uuid,
    user: Uuid,
    justification: &str,
    wanted: &PermissionSet,
    now: DateTime<Utc>,
) -> Uuid {
    if let Some(request) = tenant.consent_requests.iter_mut().find(|request| {
        request.client_id == client && request.requested_by == user && request.status == ConsentRequestStatus::Pending
    }) {
        request.scopes.extend(wanted.iter().cloned());
        if !justification.trim().is_empty() {
            request.justification = justification.trim().to_string();
        }
        return request.id;
    }
    let id = Uuid::new_v4();
    tenant.consent_requests.push(ConsentRequest {
        id,
        client_id: client,
        requested_by: user,
        justification: justification.trim().to_string(),
        scopes: wanted.clone(),
        status: ConsentRequestStatus::Pending,
        created: now,
    });
    id
}

/// Why a consent request could not be decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionProblem {
    /// No request with that id in this tenant.
    NotFound,
    /// It was approved or denied already.
    AlreadyDecided,
}

/// Approves a pending request: its scopes become a tenant-wide grant.
pub fn approve(tenant: &mut Tenant, request_id: Uuid) -> Result<(), DecisionProblem> {
    let request =
        tenant.consent_requests.iter_mut().find(|request| request.id == request_id).ok_or(DecisionProblem::NotFound)?;
    if request.status != ConsentRequestStatus::Pending {
        return Err(DecisionProblem::AlreadyDecided);
    }
    request.status = ConsentRequestStatus::Approved;
    let (client, scopes) = (request.client_id, request.scopes.clone());
    record_delegated(tenant, client, None, &scopes);
    Ok(())
}

/// Denies a pending request.
pub fn deny(tenant: &mut Tenant, request_id: Uuid) -> Result<(), DecisionProblem> {
    let request =
        tenant.consent_requests.iter_mut().find(|request| request.id == request_id).ok_or(DecisionProblem::NotFound)?;
    if request.status != ConsentRequestStatus::Pending {
        return Err(DecisionProblem::AlreadyDecided);
    }
    request.status = ConsentRequestStatus::Denied;
    Ok(())
}
