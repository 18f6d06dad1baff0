//! The delegated connection: an admin of the customer's tenant signs in to Tenure's multi-tenant "service
//! provider" application and consents; Tenure then acts with a refresh token, as that admin.
//!
//! The pieces, in the order a link uses them:
//! - [`Pkce::generate`], [`new_state`] and [`state_hash`]: the PKCE (S256) pair and the single-use `state`
//!   (the store keeps only its hash, bound to the admin's session);
//! - [`authorize_url`] with [`graph_scopes`] or [`exchange_scopes`] (each national cloud's hosts), or
//!   [`admin_consent_url`] for an admin who grants for the whole organisation;
//! - [`parse_callback`]: what came back to the redirect URI (a code, an error, an admin-consent answer);
//! - [`redeem_code`]: the `authorization_code` grant as a confidential client (the provider app's secret or
//!   certificate assertion), giving the first refresh token, who linked and what was granted;
//! - [`DelegatedTokenProvider`]: access tokens from the stored refresh token through a [`RefreshTokenStore`],
//!   which rotates on every use and turns `invalid_grant` into "needs re-link".
//!
//! Facts: reference §1.1 (authorize), §1.2 (admin consent), §1.3 (authorization code and refresh token).

mod callback;
mod confidential_client;
mod pkce;
mod provider;
mod redeem;

use model::NationalCloud;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Url;

pub use self::callback::{CallbackOutcome, parse_callback};
pub use self::pkce::{Pkce, new_state, state_hash};
pub use self::provider::{DelegatedTokenProvider, RefreshTokenStore, TokenStoreFuture};
pub use self::redeem::{LinkedGrant, redeem_code};
use crate::client_credentials::ClientCredential;
use crate::error::{Error, Result};

/// The multi-tenant app Tenure's operator registered (the "service provider application"), as one customer
/// tenant uses it.
#[derive(Clone)]
pub struct DelegatedAppConfig {
    /// The customer tenant's cloud; picks the login host unless [`Self::login_base_url`] overrides it.
    pub cloud: NationalCloud,
    /// Overrides `https://{cloud.login_host()}`, e.g. `https://127.0.0.1:8443/login.microsoftonline.us` for the
    /// sandbox.
    pub login_base_url: Option<String>,
    /// `organizations` while linking (any work account signs in), then the linked tenant's id (`tid`).
    pub tenant: String,
    /// The provider app's client (application) id.
    pub client_id: String,
    /// The provider app's client secret or certificate (from Tenure's deployment configuration).
    pub credential: ClientCredential,
    /// A root certificate (PEM) to trust in addition to the system's, e.g. the sandbox's CA.
    pub extra_root_certificate_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for DelegatedAppConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DelegatedAppConfig")
            .field("cloud", &self.cloud)
            .field("login_base_url", &self.login_base_url)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("credential", &self.credential)
            .field("extra_root_certificate_pem", &self.extra_root_certificate_pem.as_ref().map(Vec::len))
            .finish()
    }
}

impl DelegatedAppConfig {
    /// A configuration for linking in `cloud` (tenant `organizations`), with the default login host and the
    /// system's roots.
    #[must_use]
    pub fn new(cloud: NationalCloud, client_id: impl Into<String>, credential: ClientCredential) -> Self {
        Self {
            cloud,
            login_base_url: None,
            tenant: "organizations".to_string(),
            client_id: client_id.into(),
            credential,
            extra_root_certificate_pem: None,
        }
    }

    /// The login base URL in use: the override, or `https://{cloud.login_host()}`; no trailing slash.
    #[must_use]
    pub fn login_base(&self) -> String {
        match &self.login_base_url {
            Some(base) => base.trim_end_matches('/').to_string(),
            None => format!("https://{}", self.cloud.login_host()),
        }
    }

    /// `{login base}/{tenant}/oauth2/v2.0/authorize`.
    #[must_use]
    pub fn authorize_endpoint(&self) -> String {
        format!("{}/{}/oauth2/v2.0/authorize", self.login_base(), self.tenant)
    }

    /// `{login base}/{tenant}/oauth2/v2.0/token`.
    #[must_use]
    pub fn token_endpoint(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.login_base(), self.tenant)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let invalid = |setting: &'static str, value: &str, reason: &str| Error::InvalidSetting {
            setting,
            value: value.to_string(),
            reason: reason.to_string(),
        };
        let tenant = self.tenant.as_str();
        if tenant.is_empty()
            || !tenant.chars().all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '.'))
        {
            return Err(invalid(
                "tenant",
                tenant,
                "expected \"organizations\", the tenant id (a GUID) or one of its domain names",
            ));
        }
        if uuid::Uuid::parse_str(&self.client_id).is_err() {
            return Err(invalid("client_id", &self.client_id, "expected the provider app's client id (a GUID)"));
        }
        if let Some(base) = &self.login_base_url {
            match Url::parse(base.trim_end_matches('/')) {
                Ok(url)
                    if url.scheme() == "https"
                        && url.host_str().is_some()
                        && url.query().is_none()
                        && url.fragment().is_none() => {}
                Ok(_) => {
                    return Err(invalid("login_base_url", base, "expected an https URL without query or fragment"));
                }
                Err(error) => return Err(invalid("login_base_url", base, &error.to_string())),
            }
        }
        Ok(())
    }
}

/// The OpenID Connect scopes every link asks for: a refresh token, an id_token and the user's name.
const OIDC_SCOPES: [&str; 3] = ["offline_access", "openid", "profile"];

/// The delegated Microsoft Graph scopes of an Entra ID link in `cloud`: `User.ReadWrite.All`,
/// `Group.ReadWrite.All` and `Directory.AccessAsUser.All` on that cloud's Graph, plus `offline_access openid
/// profile`.
#[must_use]
pub fn graph_scopes(cloud: NationalCloud) -> Vec<String> {
    let graph = format!("https://{}", cloud.graph_host());
    ["User.ReadWrite.All", "Group.ReadWrite.All", "Directory.AccessAsUser.All"]
        .iter()
        .map(|permission| format!("{graph}/{permission}"))
        .chain(OIDC_SCOPES.iter().map(|scope| (*scope).to_string()))
        .collect()
}

/// The scopes of an Exchange Online link in `cloud`: `https://{exchange host}/.default offline_access openid
/// profile` (the service account gets what the provider app's registration requires of Exchange).
#[must_use]
pub fn exchange_scopes(cloud: NationalCloud) -> Vec<String> {
    std::iter::once(exchange_resource_scope(cloud))
        .chain(OIDC_SCOPES.iter().map(|scope| (*scope).to_string()))
        .collect()
}

/// `https://{graph host}/.default`: the scope a [`DelegatedTokenProvider`] for Graph asks access tokens for.
#[must_use]
pub fn graph_resource_scope(cloud: NationalCloud) -> String {
    format!("https://{}/.default", cloud.graph_host())
}

/// `https://{exchange host}/.default`: the scope a [`DelegatedTokenProvider`] for Exchange Online asks for.
#[must_use]
pub fn exchange_resource_scope(cloud: NationalCloud) -> String {
    format!("https://{}/.default", cloud.exchange_host())
}

/// The `/authorize` URL that starts a link: authorization code with PKCE (S256), answered in the query.
/// `scopes` come from [`graph_scopes`] or [`exchange_scopes`]; `state` from [`new_state`]; `challenge` is
/// [`Pkce::challenge`]. `login_hint` pre-fills the sign-in page (e.g. when re-linking).
#[must_use]
pub fn authorize_url(
    config: &DelegatedAppConfig,
    redirect_uri: &str,
    scopes: &[String],
    state: &str,
    challenge: &str,
    login_hint: Option<&str>,
) -> String {
    let scope = scopes.join(" ");
    let mut pairs = vec![
        ("client_id", config.client_id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", redirect_uri),
        ("response_mode", "query"),
        ("scope", scope.as_str()),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(hint) = login_hint {
        pairs.push(("login_hint", hint));
    }
    with_query(&config.authorize_endpoint(), &pairs)
}

/// The `/{tenant}/v2.0/adminconsent` URL for an admin who grants the provider app's permissions for the whole
/// organisation (`tenant`: the tenant id, a domain or `organizations`; `common` is refused by the platform).
/// `scope` is e.g. `https://graph.microsoft.com/.default offline_access openid profile`: every permission the
/// registration requires, plus the OpenID scopes so users who link later see no consent page at all.
#[must_use]
pub fn admin_consent_url(
    config: &DelegatedAppConfig,
    tenant: &str,
    redirect_uri: &str,
    scope: &str,
    state: &str,
) -> String {
    let endpoint = format!("{}/{tenant}/v2.0/adminconsent", config.login_base());
    let pairs =
        [("client_id", config.client_id.as_str()), ("scope", scope), ("redirect_uri", redirect_uri), ("state", state)];
    with_query(&endpoint, &pairs)
}

/// Characters a query value keeps as they are (RFC 3986 unreserved); everything else is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `endpoint?name=value&…` with every name and value percent-encoded.
fn with_query(endpoint: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .map(|(name, value)| {
            format!("{}={}", utf8_percent_encode(name, QUERY_VALUE), utf8_percent_encode(value, QUERY_VALUE))
        })
        .collect();
    format!("{endpoint}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use model::Secret;

    use super::*;

    fn config(cloud: NationalCloud) -> DelegatedAppConfig {
        DelegatedAppConfig::new(
            cloud,
            "a1b2c3d4-0000-4000-8000-0000000000aa",
            ClientCredential::Secret(Secret::new("s3cret-value")),
        )
    }

    #[test]
    fn graph_scopes_name_each_clouds_graph() {
        assert_eq!(
            graph_scopes(NationalCloud::Global),
            [
                "https://graph.microsoft.com/User.ReadWrite.All",
                "https://graph.microsoft.com/Group.ReadWrite.All",
                "https://graph.microsoft.com/Directory.AccessAsUser.All",
                "offline_access",
                "openid",
                "profile"
            ]
        );
        assert!(graph_scopes(NationalCloud::UsGovDod)[0].starts_with("https://dod-graph.microsoft.us/"));
        assert!(graph_scopes(NationalCloud::China)[2].starts_with("https://microsoftgraph.chinacloudapi.cn/"));
        assert_eq!(
            exchange_scopes(NationalCloud::UsGovHigh),
            ["https://outlook.office365.us/.default", "offline_access", "openid", "profile"]
        );
    }

    #[test]
    fn the_authorize_url_carries_pkce_state_and_the_clouds_login_host() {
        let url = authorize_url(
            &config(NationalCloud::China),
            "https://tenure.example/callback?x=1",
            &graph_scopes(NationalCloud::China),
            "st&te",
            "challenge",
            Some("admin@tailspin.cn"),
        );
        let parsed = Url::parse(&url).expect("a URL");
        assert_eq!(parsed.host_str(), Some("login.partner.microsoftonline.cn"));
        assert_eq!(parsed.path(), "/organizations/oauth2/v2.0/authorize");
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        let get = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
        assert_eq!(get("redirect_uri"), Some("https://tenure.example/callback?x=1"));
        assert_eq!(get("state"), Some("st&te"));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("login_hint"), Some("admin@tailspin.cn"));
        assert!(get("scope").is_some_and(|scope| scope.ends_with("offline_access openid profile")));
    }

    #[test]
    fn the_admin_consent_url_uses_the_v2_endpoint() {
        let config = DelegatedAppConfig {
            login_base_url: Some("https://127.0.0.1:1/login.microsoftonline.us/".into()),
            ..config(NationalCloud::UsGovHigh)
        };
        let url = admin_consent_url(&config, "contoso.com", "https://t/cb", "https://graph.microsoft.us/.default", "s");
        assert!(
            url.starts_with("https://127.0.0.1:1/login.microsoftonline.us/contoso.com/v2.0/adminconsent?"),
            "{url}"
        );
        assert!(url.contains("scope=https%3A%2F%2Fgraph.microsoft.us%2F.default"), "{url}");
    }

    #[test]
    fn a_bad_setting_is_refused() {
        assert!(config(NationalCloud::Global).validate().is_ok());
        let bad_client = DelegatedAppConfig { client_id: "nope".into(), ..config(NationalCloud::Global) };
        assert!(matches!(bad_client.validate(), Err(Error::InvalidSetting { setting: "client_id", .. })));
        let bad_tenant = DelegatedAppConfig { tenant: "a/b".into(), ..config(NationalCloud::Global) };
        assert!(matches!(bad_tenant.validate(), Err(Error::InvalidSetting { setting: "tenant", .. })));
        let plain_http =
            DelegatedAppConfig { login_base_url: Some("http://127.0.0.1".into()), ..config(NationalCloud::Global) };
        assert!(matches!(plain_http.validate(), Err(Error::InvalidSetting { setting: "login_base_url", .. })));
    }

    #[test]
    fn debug_hides_the_secret() {
        let text = format!("{:?}", config(NationalCloud::Global));
        assert!(!text.contains("s3cret-value"), "{text}");
    }
}
