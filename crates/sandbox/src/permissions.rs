//! The catalogue of permissions the sandbox knows: resources (Graph, Exchange Online), delegated scopes and
//! application roles, and which of them need an administrator's consent.
//!
//! Admin-consent requirements follow Microsoft's permissions reference
//! (<https://learn.microsoft.com/graph/permissions-reference>): every `*.All` directory permission needs admin
//! consent; `User.Read` and the OpenID scopes do not.

use serde::{Deserialize, Serialize};

use crate::cloud::Cloud;

/// An API that tokens are issued for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Resource {
    /// Microsoft Graph, app id `00000003-0000-0000-c000-000000000000`.
    Graph,
    /// Office 365 Exchange Online, app id `00000002-0000-0ff1-ce00-000000000000`.
    Exchange,
}

impl Resource {
    /// The resource's application id.
    pub fn app_id(self) -> &'static str {
        match self {
            Resource::Graph => "00000003-0000-0000-c000-000000000000",
            Resource::Exchange => "00000002-0000-0ff1-ce00-000000000000",
        }
    }

    /// The resource URI in `cloud` (the `aud` of its v1.0 tokens).
    pub fn uri(self, cloud: Cloud) -> String {
        match self {
            Resource::Graph => cloud.graph_resource(),
            Resource::Exchange => cloud.exchange_resource(),
        }
    }

    /// Finds the resource a scope prefix names in `cloud` (`https://graph.microsoft.com`, the app id, or the
    /// Exchange host).
    pub fn from_identifier(identifier: &str, cloud: Cloud) -> Option<Resource> {
        let identifier = identifier.trim_end_matches('/');
        [Resource::Graph, Resource::Exchange].into_iter().find(|resource| {
            identifier.eq_ignore_ascii_case(&resource.uri(cloud)) || identifier.eq_ignore_ascii_case(resource.app_id())
        })
    }

    /// Display name of the API on consent pages.
    pub fn display_name(self) -> &'static str {
        match self {
            Resource::Graph => "Microsoft Graph",
            Resource::Exchange => "Office 365 Exchange Online",
        }
    }
}

/// One permission of the catalogue.
#[derive(Debug)]
pub struct Permission {
    /// The API.
    pub resource: Resource,
    /// Value, e.g. `User.ReadWrite.All`.
    pub name: &'static str,
    /// Offered as a delegated scope.
    pub delegated: bool,
    /// Offered as an application role.
    pub application: bool,
    /// Delegated use needs an administrator's consent.
    pub admin_consent_required: bool,
    /// One line shown on the consent page.
    pub description: &'static str,
}

const fn perm(
    resource: Resource,
    name: &'static str,
    delegated: bool,
    application: bool,
    admin_consent_required: bool,
    description: &'static str,
) -> Permission {
    Permission { resource, name, delegated, application, admin_consent_required, description }
}

/// Every permission the sandbox understands.
pub const CATALOGUE: &[Permission] = &[
    perm(Resource::Graph, "User.Read", true, false, false, "Sign you in and read your profile"),
    perm(Resource::Graph, "User.ReadBasic.All", true, false, false, "Read all users' basic profiles"),
    perm(Resource::Graph, "User.Read.All", true, true, true, "Read all users' full profiles"),
    perm(Resource::Graph, "User.ReadWrite.All", true, true, true, "Read and write all users' full profiles"),
    perm(Resource::Graph, "User.EnableDisableAccount.All", true, true, true, "Enable and disable user accounts"),
    perm(Resource::Graph, "User-LifeCycleInfo.Read.All", true, true, true, "Read all users' lifecycle information"),
    perm(
        Resource::Graph,
        "User-LifeCycleInfo.ReadWrite.All",
        true,
        true,
        true,
        "Read and write all users' lifecycle information",
    ),
    perm(Resource::Graph, "Group.Read.All", true, true, true, "Read all groups"),
    perm(Resource::Graph, "Group.ReadWrite.All", true, true, true, "Read and write all groups"),
    perm(Resource::Graph, "GroupMember.Read.All", true, true, true, "Read group memberships"),
    perm(Resource::Graph, "GroupMember.ReadWrite.All", true, true, true, "Read and write group memberships"),
    perm(Resource::Graph, "Directory.Read.All", true, true, true, "Read directory data"),
    perm(Resource::Graph, "Directory.ReadWrite.All", true, true, true, "Read and write directory data"),
    perm(
        Resource::Graph,
        "Directory.AccessAsUser.All",
        true,
        false,
        true,
        "Access the directory as the signed-in user",
    ),
    perm(Resource::Graph, "Organization.Read.All", true, true, true, "Read organization information"),
    perm(Resource::Graph, "openid", true, false, false, "Sign users in"),
    perm(Resource::Graph, "profile", true, false, false, "View users' basic profile"),
    perm(Resource::Graph, "email", true, false, false, "View users' email address"),
    perm(Resource::Graph, "offline_access", true, false, false, "Maintain access to data you have given it access to"),
    perm(
        Resource::Exchange,
        "Exchange.Manage",
        true,
        false,
        true,
        "Manage Exchange configuration as the signed-in user",
    ),
    perm(Resource::Exchange, "Exchange.ManageAsApp", false, true, true, "Manage Exchange As Application"),
];

/// The OpenID Connect scopes, which are not resource permissions of their own.
pub const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Looks a permission up by resource and (case-insensitive) name.
pub fn find(resource: Resource, name: &str) -> Option<&'static Permission> {
    CATALOGUE.iter().find(|permission| permission.resource == resource && permission.name.eq_ignore_ascii_case(name))
}

/// Whether `name` is one of the OpenID Connect scopes.
pub fn is_oidc_scope(name: &str) -> bool {
    OIDC_SCOPES.iter().any(|scope| scope.eq_ignore_ascii_case(name))
}
