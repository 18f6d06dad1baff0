//! Who is calling Graph: the bearer token is verified (signature, lifetime against the sandbox clock,
//! audience = this cloud's Graph resource) and resolved to its tenant. Handlers then check permissions with
//! [`Caller::require`], which answers 403 `Authorization_RequestDenied` exactly as Graph does.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use http::request::Parts;

use super::error::GraphError;
use crate::directory::TenantRef;
use crate::dispatch::RequestContext;
use crate::state::AppState;
use crate::tokens::{AccessClaims, TokenProblem, verify};

/// An authenticated Graph caller.
#[derive(Clone)]
pub struct Caller {
    /// The verified token claims.
    pub claims: AccessClaims,
    /// The caller's tenant.
    pub tenant: TenantRef,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Caller")
            .field("appid", &self.claims.appid)
            .field("tid", &self.claims.tid)
            .field("idtyp", &self.claims.idtyp)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// Fails with 403 unless the token carries one of `any_of`.
    pub fn require(&self, any_of: &[&str]) -> Result<(), GraphError> {
        if self.claims.has_any(any_of) { Ok(()) } else { Err(GraphError::forbidden()) }
    }

    /// Whether the token is app-only.
    pub fn is_app_only(&self) -> bool {
        self.claims.is_app_only()
    }

    /// The signed-in user's object id, for delegated tokens.
    pub fn user_id(&self) -> Option<uuid::Uuid> {
        if self.is_app_only() { None } else { uuid::Uuid::parse_str(&self.claims.oid).ok() }
    }

    /// Entra roles of the acting principal: the signed-in user's roles for delegated tokens, the service
    /// principal's for app-only tokens.
    pub fn directory_roles(&self) -> Vec<String> {
        let tenant = self.tenant.read();
        if self.is_app_only() {
            let app_id = uuid::Uuid::parse_str(&self.claims.appid).ok();
            app_id
                .and_then(|app_id| tenant.service_principal(app_id))
                .map(|principal| principal.directory_roles.iter().cloned().collect())
                .unwrap_or_default()
        } else {
            self.user_id()
                .and_then(|id| tenant.users.get(&id))
                .map(|user| user.directory_roles.iter().cloned().collect())
                .unwrap_or_default()
        }
    }

    /// Whether the acting principal holds any of `roles`.
    pub fn has_role(&self, roles: &[&str]) -> bool {
        self.directory_roles().iter().any(|held| roles.iter().any(|role| role == held))
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = GraphError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Caller, GraphError> {
        let context = parts.extensions.get::<RequestContext>().cloned();
        let cloud = context.map(|context| context.cloud).unwrap_or_default();
        let header = parts.headers.get(http::header::AUTHORIZATION).and_then(|value| value.to_str().ok()).unwrap_or("");
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))?;
        if let Some(claims) = state.token_cache.get(token) {
            return resolve(state, claims, &cloud.graph_resource());
        }
        let now = state.clock.now().timestamp();
        let claims = verify(&state.keys, token, &cloud.graph_resource(), now).map_err(|problem| match problem {
            TokenProblem::Invalid => GraphError::unauthenticated("Access token validation failure."),
            TokenProblem::Expired | TokenProblem::NotYetValid => {
                GraphError::unauthenticated("Lifetime validation failed, the token is expired.")
            }
            TokenProblem::WrongAudience => {
                GraphError::unauthenticated("Access token validation failure. Invalid audience.")
            }
        })?;
        state.token_cache.insert(token, claims.clone());
        resolve(state, claims, &cloud.graph_resource())
    }
}

fn resolve(state: &AppState, claims: AccessClaims, audience: &str) -> Result<Caller, GraphError> {
    // Cached claims were verified once; lifetime and audience are re-checked on every use.
    if claims.exp <= state.clock.now().timestamp() {
        return Err(GraphError::unauthenticated("Lifetime validation failed, the token is expired."));
    }
    if !claims.aud.trim_end_matches('/').eq_ignore_ascii_case(audience.trim_end_matches('/')) {
        return Err(GraphError::unauthenticated("Access token validation failure. Invalid audience."));
    }
    let tenant = state
        .directory
        .tenant(&claims.tid)
        .ok_or_else(|| GraphError::unauthenticated("Access token validation failure. Invalid tenant."))?;
    Ok(Caller { claims, tenant })
}
