//! Application registrations, their credentials, service principals and consent grants.
//!
//! An [`App`] lives in its home tenant but may be used in other tenants once consented (multi-tenant apps,
//! like Tenure's service-provider application). Consent in a tenant is recorded as a [`ServicePrincipal`]
//! (application permissions and Entra roles) plus [`DelegatedGrant`]s (delegated scopes).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::permissions::Resource;

/// An application registration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct App {
    /// Application (client) id.
    pub app_id: Uuid,
    /// Display name shown on consent pages.
    pub display_name: String,
    /// The tenant the app is registered in.
    pub home_tenant: Uuid,
    /// Whether other tenants may use the app (`AzureADMultipleOrgs`).
    pub multi_tenant: bool,
    /// Public clients hold no credential.
    pub public_client: bool,
    /// Registered redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Client secrets (only hashes are kept).
    pub secrets: Vec<ClientSecret>,
    /// Certificates whose keys may sign client assertions.
    pub certificates: Vec<AppCertificate>,
    /// The permissions the app's registration asks for (used by `/.default` and admin consent).
    pub required_permissions: Vec<RequiredPermission>,
}

/// A client secret. The value itself is never stored, only its SHA-256.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClientSecret {
    /// Key id.
    pub key_id: Uuid,
    /// First three characters, as Microsoft shows them.
    pub hint: String,
    /// Hex SHA-256 of the secret value.
    pub sha256_hex: String,
    /// When the secret stops working.
    pub expires: DateTime<Utc>,
}

/// A certificate credential.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppCertificate {
    /// Key id.
    pub key_id: Uuid,
    /// The certificate, DER, base64 (standard alphabet) as in an app manifest's `keyCredentials.key`.
    pub der_base64: String,
    /// Validity start.
    pub not_before: DateTime<Utc>,
    /// Validity end.
    pub not_after: DateTime<Utc>,
}

/// A permission listed in an app registration's required resource access.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RequiredPermission {
    /// The API the permission belongs to.
    pub resource: Resource,
    /// Permission value, e.g. `User.ReadWrite.All`.
    pub name: String,
    /// Application permission (`Role`) or delegated (`Scope`).
    pub application: bool,
}

/// An application's presence in a tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServicePrincipal {
    /// Object id of the service principal (the `oid` of app-only tokens).
    pub object_id: Uuid,
    /// The application it represents.
    pub app_id: Uuid,
    /// Granted application permissions, per resource.
    pub app_roles: BTreeSet<(Resource, String)>,
    /// Entra roles assigned to the service principal (e.g. `User Administrator`).
    pub directory_roles: BTreeSet<String>,
}

/// Consent to delegated scopes for one client and resource.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DelegatedGrant {
    /// The client application.
    pub client_id: Uuid,
    /// The API.
    pub resource: Resource,
    /// `None` = granted by an admin for all users (`AllPrincipals`); `Some(user)` = that user's own consent.
    pub principal: Option<Uuid>,
    /// Granted scopes.
    pub scopes: BTreeSet<String>,
}

/// The state of an admin consent request.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ConsentRequestStatus {
    /// Waiting for an admin.
    Pending,
    /// An admin approved it; the grant exists.
    Approved,
    /// An admin denied it.
    Denied,
}

/// A user's request that an admin consent to an app on the tenant's behalf.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsentRequest {
    /// Request id.
    pub id: Uuid,
    /// The app.
    pub client_id: Uuid,
    /// The requesting user.
    pub requested_by: Uuid,
    /// The user's justification text.
    pub justification: String,
    /// Scopes asked for, per resource.
    pub scopes: BTreeSet<(Resource, String)>,
    /// Current status.
    pub status: ConsentRequestStatus,
    /// When the request was filed.
    pub created: DateTime<Utc>,
}

/// The SHA-256 (hex) under which a client secret is stored.
pub fn secret_hash(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}
