//! The `{tenant}` segment of a login-host URL: a tenant GUID, one of its verified domains, or the
//! multi-tenant authorities `common` and `organizations`.
//!
//! A tenant is addressable at a login host only if its cloud shares that host (GCC High and DoD share
//! `login.microsoftonline.us`); elsewhere it does not exist (AADSTS90002), as tokens of one cloud mean nothing
//! in another.

use uuid::Uuid;

use super::error::AadError;
use crate::cloud::Cloud;
use crate::directory::TenantRef;
use crate::state::AppState;

/// What a `{tenant}` path segment names.
#[derive(Clone)]
pub enum Authority {
    /// One tenant.
    Tenant {
        /// The tenant.
        tenant: TenantRef,
        /// Its id.
        id: Uuid,
        /// Its cloud (the exact one, e.g. DoD at the shared US Government host).
        cloud: Cloud,
    },
    /// `common`: any work account (personal accounts are not emulated).
    Common,
    /// `organizations`: any work account.
    Organizations,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Authority::Tenant { id, cloud, .. } => write!(formatter, "Tenant({id}, {cloud:?})"),
            Authority::Common => formatter.write_str("Common"),
            Authority::Organizations => formatter.write_str("Organizations"),
        }
    }
}

impl Authority {
    /// The tenant id, when the authority is one tenant.
    pub fn tenant_id(&self) -> Option<Uuid> {
        match self {
            Authority::Tenant { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// How errors name the directory: the tenant's display name, or the `{tenant}` segment as sent for `common`
    /// and `organizations`.
    pub fn directory_name(&self, segment: &str) -> String {
        match self {
            Authority::Tenant { tenant, .. } => tenant.read().display_name.clone(),
            _ => segment.to_string(),
        }
    }

    /// The cloud whose resources the request names: the tenant's own, or the login host's (`host_cloud`) for
    /// `common` and `organizations`.
    pub fn cloud_or(&self, host_cloud: Cloud) -> Cloud {
        match self {
            Authority::Tenant { cloud, .. } => *cloud,
            _ => host_cloud,
        }
    }

    /// Whether the authority is `common` or `organizations`.
    pub fn is_multi_tenant(&self) -> bool {
        !matches!(self, Authority::Tenant { .. })
    }
}

/// Resolves a `{tenant}` segment at a login host of `host_cloud`.
pub fn resolve(state: &AppState, host_cloud: Cloud, segment: &str) -> Result<Authority, AadError> {
    if segment.eq_ignore_ascii_case("common") {
        return Ok(Authority::Common);
    }
    if segment.eq_ignore_ascii_case("organizations") {
        return Ok(Authority::Organizations);
    }
    let is_guid = Uuid::parse_str(segment).is_ok();
    if !is_guid && !looks_like_domain(segment) {
        return Err(AadError::new(
            "invalid_request",
            900023,
            format!(
                "Specified tenant identifier '{segment}' is neither a valid DNS name, nor a valid external domain."
            ),
        ));
    }
    let found = state.directory.tenant(segment).and_then(|tenant| {
        let (id, cloud) = {
            let guard = tenant.read();
            (guard.id, guard.cloud)
        };
        cloud.shares_login_with(host_cloud).then_some(Authority::Tenant { tenant, id, cloud })
    });
    found.ok_or_else(|| tenant_not_found(segment))
}

/// AADSTS90002 with the error value the token endpoint uses (`invalid_request`); discovery documents use
/// `invalid_tenant` (see [`tenant_not_found_for_discovery`]).
pub fn tenant_not_found(segment: &str) -> AadError {
    AadError::new(
        "invalid_request",
        90002,
        format!(
            "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into \
             the correct cloud. Check with your subscription administrator, this may happen if there are no active \
             subscriptions for the tenant."
        ),
    )
}

/// AADSTS90002 as the discovery endpoints answer it (`"error":"invalid_tenant"`).
pub fn tenant_not_found_for_discovery(error: AadError) -> AadError {
    if error.code == 90002 { AadError { error: "invalid_tenant", ..error } } else { error }
}

fn looks_like_domain(segment: &str) -> bool {
    segment.contains('.')
        && !segment.starts_with('.')
        && !segment.ends_with('.')
        && segment.chars().all(|character| character.is_ascii_alphanumeric() || matches!(character, '.' | '-'))
}
