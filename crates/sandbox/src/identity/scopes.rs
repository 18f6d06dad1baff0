//! The `scope` parameter: OpenID Connect scopes, resource-qualified permissions
//! (`https://graph.microsoft.com/User.Read`, `00000003-…/User.Read`, or bare `User.Read` for Graph) and the
//! static `{resource}/.default` scope.
//!
//! Facts: reference §1.1, §1.3, §1.4. A scope list may span several resources on `/authorize`; a token is
//! issued for the resource of the first resource scope.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::error::AadError;
use crate::cloud::Cloud;
use crate::directory::app::App;
use crate::permissions::{self, Resource};

/// A parsed scope list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeRequest {
    /// `openid`, `profile`, `email`, `offline_access` (lower-case).
    pub oidc: BTreeSet<String>,
    /// Resource scopes in order of first appearance.
    pub resources: Vec<ResourceScopes>,
    /// The value as sent.
    pub raw: String,
}

/// The scopes asked of one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceScopes {
    /// The API.
    pub resource: Resource,
    /// `{resource}/.default` was asked.
    pub default: bool,
    /// Named permissions (catalogue spelling).
    pub names: BTreeSet<String>,
}

/// Why a scope list is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeProblem {
    /// No scope at all.
    Empty,
    /// A resource identifier the tenant's cloud does not know (another cloud's URI included).
    UnknownResource(String),
    /// A permission the resource does not offer as a delegated scope.
    UnknownPermission {
        /// The API.
        resource: Resource,
        /// The scope as sent.
        scope: String,
    },
    /// `.default` mixed with named scopes of the same resource, or a malformed entry.
    Incompatible,
}

impl ScopeRequest {
    /// Whether `openid` was asked.
    pub fn has_openid(&self) -> bool {
        self.oidc.contains("openid")
    }

    /// Whether `offline_access` was asked.
    pub fn has_offline_access(&self) -> bool {
        self.oidc.contains("offline_access")
    }

    /// The resource a token is issued for: the first resource scope's, or Graph for OpenID-only requests.
    pub fn token_resource(&self) -> Resource {
        self.resources.first().map_or(Resource::Graph, |scopes| scopes.resource)
    }

    /// The scopes asked of `resource` (`None` when it is not asked).
    pub fn for_resource(&self, resource: Resource) -> Option<&ResourceScopes> {
        self.resources.iter().find(|scopes| scopes.resource == resource)
    }
}

/// Parses a space-separated scope list in `cloud`.
pub fn parse(raw: &str, cloud: Cloud) -> Result<ScopeRequest, ScopeProblem> {
    let mut request = ScopeRequest { raw: raw.to_string(), ..ScopeRequest::default() };
    let mut any = false;
    for scope in raw.split(' ').filter(|scope| !scope.is_empty()) {
        any = true;
        if permissions::is_oidc_scope(scope) {
            request.oidc.insert(scope.to_ascii_lowercase());
            continue;
        }
        let (resource, name) = match scope.rsplit_once('/') {
            Some((identifier, name)) => {
                let resource = Resource::from_identifier(identifier, cloud)
                    .ok_or_else(|| ScopeProblem::UnknownResource(identifier.trim_end_matches('/').to_string()))?;
                (resource, name)
            }
            None => (Resource::Graph, scope),
        };
        let entry = match request.resources.iter().position(|entry| entry.resource == resource) {
            Some(index) => &mut request.resources[index],
            None => {
                request.resources.push(ResourceScopes { resource, default: false, names: BTreeSet::new() });
                request.resources.last_mut().ok_or(ScopeProblem::Incompatible)?
            }
        };
        if name == ".default" {
            entry.default = true;
        } else if name.is_empty() {
            return Err(ScopeProblem::Incompatible);
        } else {
            let permission = permissions::find(resource, name)
                .filter(|permission| permission.delegated)
                .ok_or_else(|| ScopeProblem::UnknownPermission { resource, scope: scope.to_string() })?;
            entry.names.insert(permission.name.to_string());
        }
        if entry.default && !entry.names.is_empty() {
            return Err(ScopeProblem::Incompatible);
        }
    }
    if any { Ok(request) } else { Err(ScopeProblem::Empty) }
}

/// Every delegated permission the request stands for, as `(resource, name)` pairs: named scopes, the app's
/// required delegated permissions for each `.default`, and the OpenID scopes (which Entra records as Graph
/// permissions). A `.default` of a resource the app's registration does not list is AADSTS650057.
pub fn delegated_permissions(request: &ScopeRequest, app: &App) -> Result<BTreeSet<(Resource, String)>, AadError> {
    let mut permissions: BTreeSet<(Resource, String)> = BTreeSet::new();
    for name in &request.oidc {
        if let Some(permission) = permissions::find(Resource::Graph, name) {
            permissions.insert((Resource::Graph, permission.name.to_string()));
        }
    }
    for entry in &request.resources {
        if entry.default {
            let required: Vec<&str> = app
                .required_permissions
                .iter()
                .filter(|required| required.resource == entry.resource && !required.application)
                .map(|required| required.name.as_str())
                .collect();
            if required.is_empty() {
                return Err(invalid_resource_for_app(app, entry.resource));
            }
            permissions.extend(required.into_iter().map(|name| (entry.resource, name.to_string())));
        }
        permissions.extend(entry.names.iter().map(|name| (entry.resource, name.clone())));
    }
    Ok(permissions)
}

/// AADSTS650057: the request names a resource the app's registration does not list.
pub fn invalid_resource_for_app(app: &App, resource: Resource) -> AadError {
    let listed: BTreeSet<&str> = app.required_permissions.iter().map(|required| required.resource.app_id()).collect();
    AadError::new(
        "invalid_client",
        650057,
        format!(
            "Invalid resource. The client has requested access to a resource which is not listed in the requested \
             permissions in the client's application registration. Client app ID: {}({}). Resource value from \
             request: {}. Resource app ID: {}. List of valid resources from app registration: {}.",
            app.app_id,
            app.display_name,
            resource.app_id(),
            resource.app_id(),
            listed.into_iter().collect::<Vec<_>>().join(", ")
        ),
    )
}

/// The error a scope problem becomes on `/authorize` (redirected to the client).
pub fn authorize_error(problem: &ScopeProblem, app: &App, tenant_name: &str, raw: &str) -> AadError {
    match problem {
        ScopeProblem::Empty => AadError::missing_parameter("scope"),
        ScopeProblem::UnknownResource(identifier) => resource_not_found(identifier, tenant_name),
        ScopeProblem::UnknownPermission { resource, scope } => AadError::new(
            "invalid_client",
            650053,
            format!(
                "The application '{}' asked for scope '{}' that doesn't exist on the resource '{}'. Contact the app \
                 vendor.",
                app.display_name,
                scope.rsplit('/').next().unwrap_or(scope),
                resource.app_id()
            ),
        ),
        ScopeProblem::Incompatible => incompatible(raw),
    }
}

/// The error a scope problem becomes on the token endpoint.
pub fn token_error(problem: &ScopeProblem, tenant_name: &str, raw: &str) -> AadError {
    match problem {
        ScopeProblem::Empty => AadError::missing_parameter("scope"),
        ScopeProblem::UnknownResource(identifier) => resource_not_found(identifier, tenant_name),
        ScopeProblem::UnknownPermission { scope, .. } => AadError::new(
            "invalid_scope",
            70011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input \
                 parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        ),
        ScopeProblem::Incompatible => incompatible(raw),
    }
}

/// AADSTS500011: the resource is not known in this tenant (or belongs to another cloud).
pub fn resource_not_found(identifier: &str, tenant_name: &str) -> AadError {
    AadError::new(
        "invalid_resource",
        500011,
        format!(
            "The resource principal named {identifier} was not found in the tenant named {tenant_name}. This can \
             happen if the application has not been installed by the administrator of the tenant or consented to by \
             any user in the tenant. You might have sent your authentication request to the wrong tenant."
        ),
    )
}

/// AADSTS70011: `.default` combined with other scopes of the same resource.
pub fn incompatible(raw: &str) -> AadError {
    AadError::new(
        "invalid_scope",
        70011,
        format!(
            "The provided value for the input parameter 'scope' isn't valid. One or more scopes in '{raw}' are not \
             compatible with each other."
        ),
    )
}

/// Scopes as the `scope` field of a token response writes them: bare names for Microsoft Graph (the default
/// resource), `{resource URI}/{name}` for other APIs.
pub fn render(resource: Resource, cloud: Cloud, names: &BTreeSet<String>) -> Vec<String> {
    names
        .iter()
        .map(|name| match resource {
            Resource::Graph => name.clone(),
            other => format!("{}/{name}", other.uri(cloud)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_across_resources_and_forms() {
        let request = parse(
            "openid offline_access User.Read https://graph.microsoft.com/Group.Read.All \
             https://outlook.office365.com/Exchange.Manage",
            Cloud::Global,
        )
        .unwrap();
        assert!(request.has_openid() && request.has_offline_access());
        assert_eq!(request.token_resource(), Resource::Graph);
        assert_eq!(request.resources.len(), 2);
        assert!(request.resources[0].names.contains("Group.Read.All"));
        assert_eq!(
            parse("https://graph.microsoft.us/.default", Cloud::Global),
            Err(ScopeProblem::UnknownResource("https://graph.microsoft.us".into()))
        );
        assert_eq!(
            parse("https://graph.microsoft.com/.default User.Read", Cloud::Global),
            Err(ScopeProblem::Incompatible)
        );
        assert!(matches!(parse("Nope.Read", Cloud::Global), Err(ScopeProblem::UnknownPermission { .. })));
        assert_eq!(parse("  ", Cloud::Global), Err(ScopeProblem::Empty));
    }
}
