//! Minting tokens: v1.0 access tokens for resources (the shape [`crate::tokens::AccessClaims`] writes down),
//! v2.0 id_tokens for clients, and `client_info`.
//!
//! Claims: <https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference> and
//! <https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference>.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::cloud::Cloud;
use crate::directory::app::App;
use crate::directory::tenant::Tenant;
use crate::directory::user::User;
use crate::permissions::Resource;
use crate::state::AppState;
use crate::tokens::AccessClaims;

/// `expires_in` of every access token the sandbox issues.
pub const ACCESS_TOKEN_SECONDS: i64 = 3599;

/// Template id of the member user role every member's token lists in `wids`.
const MEMBER_ROLE_TEMPLATE: &str = "b79fbf4d-3ef9-4689-8143-76b194e85509";

/// Entra built-in role template ids (<https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference>).
const ROLE_TEMPLATES: &[(&str, &str)] = &[
    ("Global Administrator", "62e90394-69f5-4237-9190-012177145e10"),
    ("Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814"),
    ("Privileged Authentication Administrator", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
    ("Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8"),
    ("Authentication Administrator", "c4e39bd9-1100-46d3-8c65-fb160da0071f"),
    ("Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de"),
    ("Exchange Recipient Administrator", "31392ffb-586c-42d1-9346-e59415a2cc4e"),
    ("Groups Administrator", "fdd7a751-b60b-444a-984c-02652fe8fa1c"),
    ("Cloud Application Administrator", "158c047a-c907-4556-b7ef-446551a6b5f7"),
    ("Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"),
    ("Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451"),
];

/// Access-token claims plus the ones only some tokens carry.
#[derive(Serialize)]
struct IssuedClaims<'a> {
    #[serde(flatten)]
    base: &'a AccessClaims,
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amr: Option<[&'static str; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    given_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    family_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    xms_cc: Option<&'a [String]>,
}

/// The opaque claims real tokens carry (`aio`, `rh`, `uti`): random, shaped like Microsoft's.
fn opaque(bytes: usize) -> String {
    let mut buffer = vec![0_u8; bytes];
    if aws_lc_rs::rand::fill(&mut buffer).is_err() {
        return URL_SAFE_NO_PAD.encode(Uuid::new_v4().as_bytes());
    }
    URL_SAFE_NO_PAD.encode(buffer)
}

/// The pairwise `sub` of a user for one application.
pub fn pairwise_subject(user: Uuid, app: Uuid) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{user}:{app}").as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref()).chars().take(43).collect()
}

/// Role template ids of `roles`, plus the member role for members.
pub fn role_template_ids(user: &User) -> Vec<String> {
    let mut ids: Vec<String> = user
        .directory_roles
        .iter()
        .filter_map(|role| ROLE_TEMPLATES.iter().find(|(name, _)| name == role).map(|(_, id)| id.to_string()))
        .collect();
    if user.user_type.eq_ignore_ascii_case("Member") {
        ids.push(MEMBER_ROLE_TEMPLATE.to_string());
    }
    ids
}

fn base_claims(tenant: &Tenant, app: &App, resource: Resource, appidacr: &str, now: DateTime<Utc>) -> AccessClaims {
    let issuer = tenant.cloud.issuer_v1(&tenant.id.to_string());
    AccessClaims {
        aud: resource.uri(tenant.cloud),
        iss: issuer.clone(),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: now.timestamp() + ACCESS_TOKEN_SECONDS + 1,
        aio: opaque(48),
        app_displayname: app.display_name.clone(),
        appid: app.app_id.to_string(),
        appidacr: appidacr.to_string(),
        idp: issuer,
        idtyp: String::new(),
        oid: String::new(),
        rh: format!("1.{}", opaque(40)),
        sub: String::new(),
        tid: tenant.id.to_string(),
        uti: opaque(16),
        ver: "1.0".into(),
        tenant_region_scope: tenant.cloud.hosts().region_scope.to_string(),
        scp: None,
        roles: None,
        upn: None,
        unique_name: None,
        name: None,
        wids: None,
    }
}

/// An app-only access token (client credentials): `roles` lists the service principal's application
/// permissions on `resource` (absent when there are none).
#[allow(clippy::too_many_arguments)]
pub fn app_access_token(
    state: &AppState,
    tenant: &Tenant,
    app: &App,
    principal: Uuid,
    resource: Resource,
    roles: Vec<String>,
    appidacr: &str,
    capabilities: Option<&[String]>,
    now: DateTime<Utc>,
) -> String {
    let mut claims = base_claims(tenant, app, resource, appidacr, now);
    claims.idtyp = "app".into();
    claims.oid = principal.to_string();
    claims.sub = principal.to_string();
    claims.roles = if roles.is_empty() { None } else { Some(roles) };
    let issued =
        IssuedClaims { base: &claims, acr: None, amr: None, given_name: None, family_name: None, xms_cc: capabilities };
    crate::tokens::sign(&state.keys, &issued)
}

/// What a delegated access token is minted from.
#[derive(Debug)]
pub struct UserToken<'a> {
    /// The user's tenant.
    pub tenant: &'a Tenant,
    /// The signed-in user.
    pub user: &'a User,
    /// The client.
    pub app: &'a App,
    /// The API.
    pub resource: Resource,
    /// `scp`.
    pub scopes: &'a BTreeSet<String>,
    /// `0` public client, `1` secret, `2` certificate.
    pub appidacr: &'a str,
    /// CAE client capabilities (`xms_cc`).
    pub capabilities: Option<&'a [String]>,
    /// Now.
    pub now: DateTime<Utc>,
}

/// A delegated access token: `scp`, `idtyp` `user`, the user's `oid`, `upn`, `name` and role ids (`wids`).
pub fn user_access_token(state: &AppState, input: &UserToken<'_>) -> String {
    let mut claims = base_claims(input.tenant, input.app, input.resource, input.appidacr, input.now);
    claims.idtyp = "user".into();
    claims.oid = input.user.id.to_string();
    claims.sub = pairwise_subject(input.user.id, input.app.app_id);
    let scopes: Vec<&str> =
        input.scopes.iter().map(String::as_str).filter(|scope| !scope.eq_ignore_ascii_case("offline_access")).collect();
    claims.scp = Some(scopes.join(" "));
    claims.upn = Some(input.user.user_principal_name.clone());
    claims.unique_name = Some(input.user.user_principal_name.clone());
    claims.name = Some(input.user.display_name.clone());
    claims.wids = Some(role_template_ids(input.user));
    let issued = IssuedClaims {
        base: &claims,
        acr: Some("1"),
        amr: Some(["pwd"]),
        given_name: input.user.given_name.as_deref(),
        family_name: input.user.surname.as_deref(),
        xms_cc: input.capabilities,
    };
    crate::tokens::sign(&state.keys, &issued)
}

/// The v2.0 issuer of a tenant: `https://{preferred login host}/{tid}/v2.0`.
pub fn issuer_v2(cloud: Cloud, tid: &str) -> String {
    format!("https://{}/{tid}/v2.0", cloud.hosts().login[0])
}

/// What an id_token is minted from.
#[derive(Debug)]
pub struct IdToken<'a> {
    /// The user's tenant.
    pub tenant: &'a Tenant,
    /// The user.
    pub user: &'a User,
    /// The client (`aud`).
    pub app: &'a App,
    /// `nonce`, verbatim.
    pub nonce: Option<&'a str>,
    /// `c_hash` for hybrid responses.
    pub code: Option<&'a str>,
    /// Whether the `email` scope was granted.
    pub email: bool,
    /// When the user signed in.
    pub signed_in: DateTime<Utc>,
    /// Now.
    pub now: DateTime<Utc>,
}

/// A v2.0 id_token.
pub fn id_token(state: &AppState, input: &IdToken<'_>) -> String {
    let tid = input.tenant.id.to_string();
    let mut claims = json!({
        "aud": input.app.app_id.to_string(),
        "iss": issuer_v2(input.tenant.cloud, &tid),
        "iat": input.now.timestamp(),
        "nbf": input.now.timestamp(),
        "exp": input.now.timestamp() + 3600,
        "auth_time": input.signed_in.timestamp(),
        "aio": opaque(48),
        "name": input.user.display_name,
        "oid": input.user.id.to_string(),
        "preferred_username": input.user.user_principal_name,
        "rh": format!("1.{}", opaque(40)),
        "sub": pairwise_subject(input.user.id, input.app.app_id),
        "tid": tid,
        "uti": opaque(16),
        "ver": "2.0",
    });
    if let Some(nonce) = input.nonce {
        claims["nonce"] = json!(nonce);
    }
    if let Some(code) = input.code {
        claims["c_hash"] = json!(half_hash(code));
    }
    if input.email
        && let Some(mail) = &input.user.mail
    {
        claims["email"] = json!(mail);
    }
    crate::tokens::sign(&state.keys, &claims)
}

/// base64url of the left half of SHA-256 (`c_hash`, `at_hash`).
pub fn half_hash(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

/// `client_info`: base64url JSON `{"uid": oid, "utid": tid}`.
pub fn client_info(user: Uuid, tenant: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(json!({"uid": user.to_string(), "utid": tenant.to_string()}).to_string())
}
