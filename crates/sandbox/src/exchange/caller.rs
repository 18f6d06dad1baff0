//! Who is calling the Exchange admin API: the bearer token is verified (signature, lifetime against the
//! sandbox clock, audience = this cloud's Exchange resource), its tenant must be the one in the URL (by GUID
//! or verified domain), it must carry `Exchange.Manage` (delegated) or `Exchange.ManageAsApp` (app-only), and
//! the acting principal's management roles are worked out from role groups and Entra roles.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::{ExchangeError, ExchangeResult};
use super::model::RoleGroupMember;
use super::rbac;
use crate::cloud::Cloud;
use crate::directory::TenantRef;
use crate::state::AppState;
use crate::tokens::{AccessClaims, TokenProblem, verify};

/// The delegated scope the Exchange module's tokens carry.
pub const DELEGATED_SCOPE: &str = "Exchange.Manage";
/// The application permission for app-only access.
pub const APP_ROLE: &str = "Exchange.ManageAsApp";

/// An authenticated Exchange caller.
#[derive(Clone)]
pub struct ExchangeCaller {
    /// The verified token claims.
    pub claims: AccessClaims,
    /// The tenant (from the token, matched against the URL).
    pub tenant: TenantRef,
    /// The acting principal, as role groups list it.
    pub principal: RoleGroupMember,
    /// Its management roles.
    pub roles: BTreeSet<String>,
}

impl std::fmt::Debug for ExchangeCaller {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ExchangeCaller")
            .field("appid", &self.claims.appid)
            .field("tid", &self.claims.tid)
            .field("principal", &self.principal)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

impl ExchangeCaller {
    /// The signed-in user's object id (delegated tokens).
    pub fn user_id(&self) -> Option<Uuid> {
        match self.principal {
            RoleGroupMember::User(id) => Some(id),
            RoleGroupMember::App(_) => None,
        }
    }

    /// The app (client) id of the token.
    pub fn app_id(&self) -> Option<Uuid> {
        Uuid::parse_str(&self.claims.appid).ok()
    }
}

/// Verifies the `Authorization` header and resolves the caller for a request to `tenant_in_url` in `cloud`.
pub fn authenticate(
    state: &AppState,
    authorization: Option<&str>,
    tenant_in_url: &str,
    cloud: Cloud,
    now: DateTime<Utc>,
) -> ExchangeResult<ExchangeCaller> {
    let header = authorization.unwrap_or("");
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ExchangeError::unauthenticated("The Authorization header is missing or is not a Bearer token.")
        })?;
    let audience = cloud.exchange_resource();
    let claims = match state.token_cache.get(token) {
        Some(claims) => claims,
        None => {
            let claims = verify(&state.keys, token, &audience, now.timestamp()).map_err(|problem| match problem {
                TokenProblem::Invalid => ExchangeError::unauthenticated("The access token is not valid."),
                TokenProblem::Expired | TokenProblem::NotYetValid => {
                    ExchangeError::unauthenticated("The access token has expired or is not yet valid.")
                }
                TokenProblem::WrongAudience => ExchangeError::unauthenticated(format!(
                    "The access token's audience is not {audience}: request a token for {audience}/.default."
                )),
            })?;
            state.token_cache.insert(token, claims.clone());
            claims
        }
    };
    if claims.exp <= now.timestamp() {
        return Err(ExchangeError::unauthenticated("The access token has expired or is not yet valid."));
    }
    if !claims.aud.trim_end_matches('/').eq_ignore_ascii_case(audience.trim_end_matches('/')) {
        return Err(ExchangeError::unauthenticated(format!(
            "The access token's audience is not {audience}: request a token for {audience}/.default."
        )));
    }
    let tenant = state
        .directory
        .tenant(&claims.tid)
        .ok_or_else(|| ExchangeError::unauthenticated("The access token's tenant does not exist."))?;
    let named = state.directory.tenant(tenant_in_url);
    if !named.is_some_and(|named| std::sync::Arc::ptr_eq(&named, &tenant)) {
        return Err(ExchangeError::unauthenticated(format!(
            "The tenant '{tenant_in_url}' in the request URL is not the tenant of the access token."
        )));
    }
    let (principal, entra_roles) = {
        let tenant = tenant.read();
        if claims.is_app_only() {
            if !claims.app_roles().any(|role| role.eq_ignore_ascii_case(APP_ROLE)) {
                return Err(ExchangeError::unauthenticated(format!(
                    "The access token has no '{APP_ROLE}' role: grant the application permission Office 365 Exchange Online › {APP_ROLE}."
                )));
            }
            let app_id = Uuid::parse_str(&claims.appid)
                .map_err(|_| ExchangeError::unauthenticated("The access token's appid is not a GUID."))?;
            let roles: Vec<String> = tenant
                .service_principal(app_id)
                .map(|principal| principal.directory_roles.iter().cloned().collect())
                .unwrap_or_default();
            (RoleGroupMember::App(app_id), roles)
        } else {
            if !claims.scopes().any(|scope| scope.eq_ignore_ascii_case(DELEGATED_SCOPE)) {
                return Err(ExchangeError::unauthenticated(format!(
                    "The access token has no '{DELEGATED_SCOPE}' scope."
                )));
            }
            let user_id = Uuid::parse_str(&claims.oid)
                .map_err(|_| ExchangeError::unauthenticated("The access token's oid is not a GUID."))?;
            let user =
                tenant.users.get(&user_id).filter(|user| !user.is_deleted() && user.account_enabled).ok_or_else(
                    || ExchangeError::unauthenticated("The signed-in user no longer exists or is disabled."),
                )?;
            (RoleGroupMember::User(user_id), user.directory_roles.iter().cloned().collect())
        }
    };
    let roles = rbac::effective_roles(&tenant.read().exchange, &principal, &entra_roles);
    Ok(ExchangeCaller { claims, tenant, principal, roles })
}
