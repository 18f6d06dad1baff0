//! Redeeming the authorization code of a link: the `authorization_code` grant with the PKCE verifier, sent by
//! the provider app as a confidential client. The answer gives the first refresh token, an access token (whose
//! `scp` says what was granted) and the id_token (who linked, and in which tenant).

use model::{AccessToken, NationalCloud, Secret, TokenError};
use serde_json::Value;

use super::DelegatedAppConfig;
use super::confidential_client::ConfidentialClient;
use crate::claims::{GrantedPermissions, granted_permissions, payload};
use crate::error::{Error, Result};
use crate::token_endpoint::{EndpointFailure, FormValue};

/// What a successful link gives.
#[derive(Debug, Clone)]
pub struct LinkedGrant {
    /// The first refresh token of the link; store it sealed.
    pub refresh_token: Secret,
    /// An access token for the linked resource (usable at once, e.g. for the connection test).
    pub access_token: AccessToken,
    /// What the access token carries: the granted scopes, tenant, audience and user.
    pub granted: GrantedPermissions,
    /// Who linked: the id_token's `preferred_username` (else `upn`), else the access token's user.
    pub user: Option<String>,
    /// The linked tenant's id (`tid`); use it as [`DelegatedAppConfig::tenant`] from now on.
    pub tenant_id: String,
}

/// Redeems `code` (from [`super::parse_callback`]) with the PKCE `verifier` of the same link. `redirect_uri` and
/// `scopes` must be those of the `/authorize` request.
///
/// # Errors
///
/// Configuration problems as [`super::DelegatedTokenProvider::new`] finds them; [`Error::TokenRequest`] when the
/// identity platform refuses (e.g. AADSTS54005 for a code redeemed twice, AADSTS501481 for a wrong verifier,
/// AADSTS700005 for a code of another tenant, AADSTS70008 for an expired code); [`Error::UnreadableToken`] when
/// the answer lacks a refresh token (no `offline_access`) or the tenant; [`Error::UnexpectedAudience`] when the
/// access token is for another resource than the one asked for (another national cloud's).
pub async fn redeem_code(
    config: &DelegatedAppConfig,
    code: &Secret,
    redirect_uri: &str,
    verifier: &Secret,
    scopes: &[String],
) -> Result<LinkedGrant> {
    let client = ConfidentialClient::new(config)?;
    let scope = scopes.join(" ");
    let response = client
        .request(|| {
            vec![
                ("grant_type", FormValue::Plain("authorization_code".into())),
                ("code", FormValue::Secret(code.clone())),
                ("redirect_uri", FormValue::Plain(redirect_uri.to_string())),
                ("code_verifier", FormValue::Secret(verifier.clone())),
                ("scope", FormValue::Plain(scope.clone())),
            ]
        })
        .await
        .map_err(token_request_error)?;
    let refresh_token = response.refresh_token.ok_or_else(|| Error::UnreadableToken {
        what: "token answer",
        reason: "it has no refresh_token; the scopes must include offline_access".into(),
    })?;
    let granted = granted_permissions(&response.access_token.token)?;
    if let Some(audience) = &granted.audience {
        check_audience(config.cloud, scopes, audience)?;
    }
    // Reading the id_token without verifying its signature: it came straight from the token endpoint over TLS in
    // answer to our own authenticated request (see `crate::claims`).
    let id_claims = match &response.id_token {
        Some(id_token) => Some(payload(id_token, "id_token")?),
        None => None,
    };
    let id_claim = |name: &str| {
        id_claims
            .as_ref()
            .and_then(|claims| claims.get(name))
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
            .map(str::to_string)
    };
    let user = id_claim("preferred_username").or_else(|| id_claim("upn")).or_else(|| granted.user.clone());
    let tenant_id = id_claim("tid").or_else(|| granted.tenant_id.clone()).ok_or_else(|| Error::UnreadableToken {
        what: "id_token",
        reason: "neither the id_token nor the access token names the tenant (tid)".into(),
    })?;
    tracing::info!(
        client_id = client.client_id(),
        tenant = client.tenant(),
        linked_tenant = %tenant_id,
        user = user.as_deref().unwrap_or("unknown"),
        "authorization code redeemed"
    );
    Ok(LinkedGrant { refresh_token, access_token: response.access_token, granted, user, tenant_id })
}

/// The resource of the first resource-qualified scope (`https://graph.microsoft.com/User.Read` →
/// `https://graph.microsoft.com`).
fn expected_resource(scopes: &[String]) -> Option<String> {
    scopes
        .iter()
        .find_map(|scope| scope.strip_prefix("https://").and_then(|rest| rest.split_once('/')).map(|(host, _)| host))
        .map(|host| format!("https://{host}"))
}

/// Refuses an access token whose `aud` (a resource URI, as v1.0 tokens carry) is not the resource asked for, or
/// not a resource of `cloud`: a token of another national cloud must not be used as this one's.
fn check_audience(cloud: NationalCloud, scopes: &[String], audience: &str) -> Result<()> {
    let audience_url = audience.trim_end_matches('/');
    if !audience_url.starts_with("https://") {
        return Ok(()); // a v2.0 token names the resource by its app id
    }
    let clouds_resources = [format!("https://{}", cloud.graph_host()), format!("https://{}", cloud.exchange_host())];
    let expected = expected_resource(scopes).unwrap_or_else(|| clouds_resources[0].clone());
    let of_cloud = clouds_resources.iter().any(|resource| resource.eq_ignore_ascii_case(audience_url));
    if !of_cloud || !audience_url.eq_ignore_ascii_case(&expected) {
        let expected = if of_cloud { expected } else { format!("{expected} (a resource of the {cloud} cloud)") };
        return Err(Error::UnexpectedAudience { audience: audience.to_string(), expected });
    }
    Ok(())
}

/// A failed redemption as [`Error::TokenRequest`].
pub(crate) fn token_request_error(failure: EndpointFailure) -> Error {
    let EndpointFailure { error, error_code, aadsts, .. } = failure;
    let source = TokenError { needs_relink: false, ..error };
    Error::TokenRequest { source, error_code, aadsts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expected_resource_is_the_first_qualified_scope() {
        let scopes: Vec<String> =
            ["openid", "https://dod-graph.microsoft.us/User.ReadWrite.All", "offline_access"].map(String::from).into();
        assert_eq!(expected_resource(&scopes).as_deref(), Some("https://dod-graph.microsoft.us"));
        assert_eq!(expected_resource(&["openid".to_string()]), None);
    }

    #[test]
    fn a_token_of_another_resource_or_cloud_is_refused() {
        let us: Vec<String> = super::super::graph_scopes(NationalCloud::UsGovHigh);
        assert!(check_audience(NationalCloud::UsGovHigh, &us, "https://graph.microsoft.us").is_ok());
        assert!(check_audience(NationalCloud::UsGovHigh, &us, "00000003-0000-0000-c000-000000000000").is_ok());
        let global: Vec<String> = super::super::graph_scopes(NationalCloud::Global);
        let error =
            check_audience(NationalCloud::UsGovHigh, &global, "https://graph.microsoft.com").expect_err("cloud");
        assert!(error.to_string().contains("us-gov-high"), "{error}");
        assert!(check_audience(NationalCloud::UsGovHigh, &us, "https://outlook.office365.us").is_err());
    }
}
