//! What a token says about itself: the permissions an access token carries (`scp` for delegated tokens, `roles`
//! for app-only ones), its tenant (`tid`), audience (`aud`) and user (`upn`, `preferred_username`).
//!
//! The claims are **read, not verified**: the tokens this crate reads came straight from the identity platform's
//! token endpoint over TLS, in answer to our own authenticated request, so their origin is already established;
//! verifying the signature would add nothing (and the APIs that receive them verify it anyway). Never use these
//! functions on a token received from anyone else. Facts: reference §1.5.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use model::Secret;
use serde::Serialize;
use serde_json::{Map, Value};
use zeroize::Zeroize;

use crate::error::{Error, Result};

/// The permissions and identity an access token carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GrantedPermissions {
    /// Delegated scopes (`scp`, space-separated in the token), e.g. `User.ReadWrite.All`.
    pub scopes: Vec<String>,
    /// Application permissions (`roles`), e.g. `Directory.ReadWrite.All`.
    pub roles: Vec<String>,
    /// The tenant (`tid`).
    pub tenant_id: Option<String>,
    /// The resource the token is for (`aud`), e.g. `https://graph.microsoft.com`.
    pub audience: Option<String>,
    /// The signed-in user (`upn`, else `preferred_username`, else `unique_name`); none for app-only tokens.
    pub user: Option<String>,
}

impl GrantedPermissions {
    /// Whether `permission` is among the scopes or roles (case-insensitive, as the platform compares them).
    #[must_use]
    pub fn has(&self, permission: &str) -> bool {
        self.scopes.iter().chain(&self.roles).any(|held| held.eq_ignore_ascii_case(permission))
    }

    /// Scopes and roles together, in token order (what a connection shows as "granted").
    #[must_use]
    pub fn all(&self) -> Vec<String> {
        self.scopes.iter().chain(&self.roles).cloned().collect()
    }
}

/// Reads the permissions of an access token (see the module documentation: not verified).
///
/// # Errors
///
/// [`Error::UnreadableToken`] when the token is not a JWT with a JSON payload.
pub fn granted_permissions(access_token: &Secret) -> Result<GrantedPermissions> {
    let claims = payload(access_token, "access token")?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).filter(|value| !value.is_empty());
    let scopes = text("scp").map(|scp| scp.split(' ').filter(|scope| !scope.is_empty()).map(str::to_string).collect());
    let roles = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|roles| roles.iter().filter_map(Value::as_str).map(str::to_string).collect());
    Ok(GrantedPermissions {
        scopes: scopes.unwrap_or_default(),
        roles: roles.unwrap_or_default(),
        tenant_id: text("tid").map(str::to_string),
        audience: text("aud").map(str::to_string),
        user: text("upn").or_else(|| text("preferred_username")).or_else(|| text("unique_name")).map(str::to_string),
    })
}

/// The payload of a JWT as a JSON object, not verified (see the module documentation). `what` names the token
/// in errors.
pub(crate) fn payload(token: &Secret, what: &'static str) -> Result<Map<String, Value>> {
    let unreadable = |reason: &str| Error::UnreadableToken { what, reason: reason.to_string() };
    let mut parts = token.expose().split('.');
    let (Some(_header), Some(body), Some(_signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(unreadable("it is not a JWT (three dot-separated parts)"));
    };
    let mut decoded =
        URL_SAFE_NO_PAD.decode(body.trim_end_matches('=')).map_err(|_| unreadable("its payload is not base64url"))?;
    let parsed = serde_json::from_slice::<Value>(&decoded);
    decoded.zeroize();
    match parsed {
        Ok(Value::Object(claims)) => Ok(claims),
        _ => Err(unreadable("its payload is not a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn token(claims: &Value) -> Secret {
        Secret::new(format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(claims.to_string())))
    }

    #[test]
    fn a_delegated_token_lists_its_scopes_and_user() {
        let granted = granted_permissions(&token(&json!({
            "aud": "https://graph.microsoft.us", "tid": "t1", "upn": "admin@fabrikam.gov",
            "scp": "Directory.AccessAsUser.All Group.ReadWrite.All User.ReadWrite.All openid profile"
        })))
        .expect("readable");
        assert_eq!(granted.scopes.len(), 5);
        assert!(granted.has("directory.accessasuser.all"));
        assert!(granted.roles.is_empty());
        assert_eq!(granted.audience.as_deref(), Some("https://graph.microsoft.us"));
        assert_eq!(granted.tenant_id.as_deref(), Some("t1"));
        assert_eq!(granted.user.as_deref(), Some("admin@fabrikam.gov"));
    }

    #[test]
    fn an_app_token_lists_its_roles() {
        let granted = granted_permissions(&token(&json!({"roles": ["User.ReadWrite.All", "Directory.ReadWrite.All"]})))
            .expect("readable");
        assert_eq!(granted.all(), ["User.ReadWrite.All", "Directory.ReadWrite.All"]);
        assert!(granted.scopes.is_empty());
        assert_eq!(granted.user, None);
    }

    #[test]
    fn garbage_is_an_error_without_the_token_text() {
        let error = granted_permissions(&Secret::new("not-a-jwt-secretvalue")).expect_err("not a JWT");
        assert!(!error.to_string().contains("secretvalue"), "{error}");
        assert!(matches!(granted_permissions(&Secret::new("a.!!!.c")), Err(Error::UnreadableToken { .. })));
        let array = Secret::new(format!("a.{}.c", URL_SAFE_NO_PAD.encode("[1]")));
        assert!(matches!(granted_permissions(&array), Err(Error::UnreadableToken { .. })));
    }
}
