//! Access tokens in the shape Microsoft Graph receives (v1.0 tokens: `iss` `https://sts.windows.net/{tid}/`,
//! `aud` the resource URI, `appid`, `idtyp`, `scp` for delegated and `roles` for app-only), issued by the
//! identity platform and checked by the resource servers. Both sides live in the sandbox, so this module is the
//! one place their shape is written down.
//!
//! Claim reference: <https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference>.

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::keys::SigningKeys;

/// The claims of a sandbox access token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    /// Resource URI, e.g. `https://graph.microsoft.com`.
    pub aud: String,
    /// `https://sts.windows.net/{tid}/` (per cloud).
    pub iss: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Not before (seconds).
    pub nbf: i64,
    /// Expiry (seconds).
    pub exp: i64,
    /// Opaque Microsoft-internal claim, present on real tokens.
    pub aio: String,
    /// The client's display name.
    pub app_displayname: String,
    /// The client id.
    pub appid: String,
    /// `0` public client, `1` secret, `2` certificate.
    pub appidacr: String,
    /// Identity provider.
    pub idp: String,
    /// `app` or `user`.
    pub idtyp: String,
    /// Object id of the user or service principal.
    pub oid: String,
    /// Opaque Microsoft-internal claim.
    pub rh: String,
    /// Subject.
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    /// Unique token id.
    pub uti: String,
    /// Always `1.0`.
    pub ver: String,
    /// `WW`, `USGov`, …
    pub tenant_region_scope: String,
    /// Delegated scopes, space-separated (user tokens only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Application roles (app-only tokens, when any are granted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The signed-in user's UPN (user tokens only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// Same as `upn` on real tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
    /// The signed-in user's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Role template ids of the user's Entra roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wids: Option<Vec<String>>,
}

impl AccessClaims {
    /// Whether this is an app-only token.
    pub fn is_app_only(&self) -> bool {
        self.idtyp == "app"
    }

    /// The delegated scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scp.as_deref().unwrap_or("").split(' ').filter(|scope| !scope.is_empty())
    }

    /// The application roles.
    pub fn app_roles(&self) -> impl Iterator<Item = &str> {
        self.roles.iter().flatten().map(String::as_str)
    }

    /// Whether the token carries any of `permissions` (as `scp` for user tokens, `roles` for app tokens).
    pub fn has_any(&self, permissions: &[&str]) -> bool {
        if self.is_app_only() {
            self.app_roles().any(|role| permissions.iter().any(|wanted| wanted.eq_ignore_ascii_case(role)))
        } else {
            self.scopes().any(|scope| permissions.iter().any(|wanted| wanted.eq_ignore_ascii_case(scope)))
        }
    }
}

/// Signs `claims` as an RS256 JWT with the sandbox key (`kid` and `x5t` headers, like v1.0 tokens).
pub fn sign<T: Serialize>(keys: &SigningKeys, claims: &T) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(keys.kid.clone());
    header.x5t = Some(keys.kid.clone());
    jsonwebtoken::encode(&header, claims, keys.encoding_key())
        .expect("signing with an RSA key the sandbox generated itself cannot fail")
}

/// Why a presented access token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not a JWT, bad signature, wrong algorithm.
    Invalid,
    /// `exp` is in the past.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `aud` is not this resource.
    WrongAudience,
}

/// Verifies signature, audience, and lifetime (against the sandbox clock `now`, seconds) of a token.
pub fn verify(keys: &SigningKeys, token: &str, audience: &str, now: i64) -> Result<AccessClaims, TokenProblem> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<AccessClaims>(token, keys.decoding_key(), &validation)
        .map_err(|_| TokenProblem::Invalid)?;
    let claims = data.claims;
    if claims.exp <= now {
        return Err(TokenProblem::Expired);
    }
    // Five minutes of clock skew, as Entra allows.
    if claims.nbf > now + 300 {
        return Err(TokenProblem::NotYetValid);
    }
    if !claims.aud.trim_end_matches('/').eq_ignore_ascii_case(audience.trim_end_matches('/')) {
        return Err(TokenProblem::WrongAudience);
    }
    Ok(claims)
}
