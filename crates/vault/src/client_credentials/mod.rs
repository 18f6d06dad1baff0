//! The client-credentials grant for a customer-owned app registration: an app-only token for one resource
//! (Microsoft Graph, Exchange Online) in one tenant of one national cloud, authenticated with a client secret or
//! a certificate.
//!
//! [`ClientCredentialsProvider`] implements [`model::AccessTokenProvider`]: tokens are cached in a
//! [`TokenCache`] until five minutes before they expire, and concurrent callers share one refresh. Configuration
//! problems (a malformed id, an unreadable or expired certificate, a key that does not match) are found by
//! [`ClientCredentialsProvider::new`], before any request.

pub(crate) mod certificate;

use chrono::Utc;
use model::{AccessToken, AccessTokenProvider, NationalCloud, Secret, TokenError, TokenFuture};

use self::certificate::SigningCertificate;
use crate::error::{Error, Result};
use crate::token_cache::TokenCache;
use crate::token_endpoint::{FormValue, TokenEndpoint, http_client};

/// The only `client_assertion_type` the identity platform accepts.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the app registration proves who it is.
#[derive(Clone)]
pub enum ClientCredential {
    /// A client secret (the secret's *value*, not its id).
    Secret(Secret),
    /// A certificate registered on the app, and its RSA private key.
    Certificate {
        /// The certificate (public part), PEM; the first `CERTIFICATE` block is used.
        certificate_pem: String,
        /// The private key, PEM (`PRIVATE KEY` or `RSA PRIVATE KEY`, unencrypted).
        private_key_pem: Secret,
    },
}

impl std::fmt::Debug for ClientCredential {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret(_) => formatter.write_str("Secret([redacted])"),
            Self::Certificate { certificate_pem, .. } => formatter
                .debug_struct("Certificate")
                .field("certificate_pem", &format_args!("<{} bytes>", certificate_pem.len()))
                .field("private_key_pem", &format_args!("[redacted]"))
                .finish(),
        }
    }
}

/// Everything needed to get app-only tokens for one app registration in one tenant.
#[derive(Clone)]
pub struct ClientCredentialsConfig {
    /// The tenant's cloud; picks the login host unless [`Self::login_base_url`] overrides it.
    pub cloud: NationalCloud,
    /// The tenant: its id (GUID) or a verified domain.
    pub tenant_id: String,
    /// The app registration's client (application) id.
    pub client_id: String,
    /// The app's credential.
    pub credential: ClientCredential,
    /// Overrides `https://{cloud.login_host()}`, e.g. `https://127.0.0.1:8443/login.microsoftonline.us` for the
    /// sandbox.
    pub login_base_url: Option<String>,
    /// The resource the token is for, e.g. `https://graph.microsoft.com` (see [`Self::graph_resource`]); the
    /// scope asked for is `{resource}/.default`.
    pub resource: String,
    /// A root certificate (PEM) to trust in addition to the system's, e.g. the sandbox's CA.
    pub extra_root_certificate_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for ClientCredentialsConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ClientCredentialsConfig")
            .field("cloud", &self.cloud)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("credential", &self.credential)
            .field("login_base_url", &self.login_base_url)
            .field("resource", &self.resource)
            .field("extra_root_certificate_pem", &self.extra_root_certificate_pem.as_ref().map(Vec::len))
            .finish()
    }
}

impl ClientCredentialsConfig {
    /// A configuration for Microsoft Graph in `cloud`, with the default login host and the system's roots.
    #[must_use]
    pub fn new(
        cloud: NationalCloud,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        credential: ClientCredential,
    ) -> Self {
        Self {
            cloud,
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            credential,
            login_base_url: None,
            resource: Self::graph_resource(cloud),
            extra_root_certificate_pem: None,
        }
    }

    /// Microsoft Graph's resource identifier in `cloud`: `https://{cloud.graph_host()}`.
    #[must_use]
    pub fn graph_resource(cloud: NationalCloud) -> String {
        format!("https://{}", cloud.graph_host())
    }

    /// The login base URL in use: the override, or `https://{cloud.login_host()}`; no trailing slash.
    #[must_use]
    pub fn login_base(&self) -> String {
        match &self.login_base_url {
            Some(base) => base.trim_end_matches('/').to_string(),
            None => format!("https://{}", self.cloud.login_host()),
        }
    }

    /// The token endpoint: `{login base}/{tenant}/oauth2/v2.0/token`.
    #[must_use]
    pub fn token_endpoint(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.login_base(), self.tenant_id)
    }

    /// The scope asked for: `{resource}/.default`.
    #[must_use]
    pub fn scope(&self) -> String {
        format!("{}/.default", self.resource.trim_end_matches('/'))
    }

    fn validate(&self) -> Result<()> {
        let invalid = |setting: &'static str, value: &str, reason: &str| Error::InvalidSetting {
            setting,
            value: value.to_string(),
            reason: reason.to_string(),
        };
        let tenant = self.tenant_id.as_str();
        if tenant.is_empty()
            || !tenant.chars().all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '.'))
        {
            return Err(invalid("tenant_id", tenant, "expected the tenant id (a GUID) or one of its domain names"));
        }
        if uuid::Uuid::parse_str(&self.client_id).is_err() {
            return Err(invalid("client_id", &self.client_id, "expected the app registration's client id (a GUID)"));
        }
        let resource = self.resource.trim_end_matches('/');
        match reqwest::Url::parse(resource) {
            Ok(url) if url.scheme() == "https" && url.host_str().is_some() && url.query().is_none() => {}
            _ => {
                return Err(invalid(
                    "resource",
                    &self.resource,
                    "expected an https URL such as https://graph.microsoft.com",
                ));
            }
        }
        if let Some(base) = &self.login_base_url {
            match reqwest::Url::parse(base.trim_end_matches('/')) {
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

/// The credential in its usable form; also how the authorization-code grant's confidential client
/// authenticates.
pub(crate) enum Prepared {
    Secret(Secret),
    Certificate(Box<SigningCertificate>),
}

impl Prepared {
    /// Checks `credential` (a non-empty secret; a certificate that reads, matches its key and is valid now).
    pub(crate) fn new(client_id: &str, credential: &ClientCredential) -> Result<Self> {
        match credential {
            ClientCredential::Secret(secret) => {
                if secret.expose().trim().is_empty() {
                    return Err(Error::InvalidSetting {
                        setting: "client secret",
                        value: String::new(),
                        reason: "the secret is empty".into(),
                    });
                }
                Ok(Prepared::Secret(secret.clone()))
            }
            ClientCredential::Certificate { certificate_pem, private_key_pem } => {
                let certificate = SigningCertificate::load(client_id, certificate_pem, private_key_pem)?;
                certificate.check_validity(client_id, Utc::now())?;
                Ok(Prepared::Certificate(Box::new(certificate)))
            }
        }
    }

    /// "secret" or "certificate {sha-256 thumbprint}", for `Debug`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Prepared::Secret(_) => "secret".to_string(),
            Prepared::Certificate(certificate) => format!("certificate {}", certificate.thumbprint()),
        }
    }

    /// The form fields that authenticate `client_id` at the token endpoint `audience` of `tenant`: the secret,
    /// or a freshly signed client assertion.
    pub(crate) fn form_fields(
        &self,
        client_id: &str,
        tenant: &str,
        audience: &str,
    ) -> Result<Vec<(&'static str, FormValue)>, TokenError> {
        match self {
            Prepared::Secret(secret) => Ok(vec![("client_secret", FormValue::Secret(secret.clone()))]),
            Prepared::Certificate(certificate) => {
                let now = Utc::now();
                certificate.check_validity(client_id, now).map_err(|error| TokenError {
                    message: error.to_string(),
                    transient: false,
                    needs_relink: false,
                })?;
                let assertion = certificate.assertion(client_id, audience, now).map_err(|reason| TokenError {
                    message: format!("token request for client {client_id} in tenant {tenant}: {reason}"),
                    transient: false,
                    needs_relink: false,
                })?;
                Ok(vec![
                    ("client_assertion_type", FormValue::Plain(JWT_BEARER.into())),
                    ("client_assertion", FormValue::Secret(assertion)),
                ])
            }
        }
    }
}

/// App-only tokens through the client-credentials grant, cached and refreshed one at a time. See the module
/// documentation.
pub struct ClientCredentialsProvider {
    tenant_id: String,
    client_id: String,
    scope: String,
    credential: Prepared,
    endpoint: TokenEndpoint,
    cache: TokenCache,
}

impl std::fmt::Debug for ClientCredentialsProvider {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let credential = self.credential.describe();
        formatter
            .debug_struct("ClientCredentialsProvider")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .field("credential", &credential)
            .field("endpoint", &self.endpoint.url())
            .finish_non_exhaustive()
    }
}

impl ClientCredentialsProvider {
    /// Checks the configuration and prepares the credential; sends nothing.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a malformed tenant, client id, resource or login URL;
    /// [`Error::InvalidCertificate`], [`Error::InvalidPrivateKey`], [`Error::KeyMismatch`],
    /// [`Error::CertificateExpired`] or [`Error::CertificateNotYetValid`] for a certificate credential that
    /// cannot work; [`Error::InvalidRootCertificate`] for an unreadable extra root.
    pub fn new(config: ClientCredentialsConfig) -> Result<Self> {
        config.validate()?;
        let credential = Prepared::new(&config.client_id, &config.credential)?;
        let http = http_client(config.extra_root_certificate_pem.as_deref())?;
        let endpoint = TokenEndpoint::new(http, config.token_endpoint(), &config.tenant_id, &config.client_id);
        Ok(Self {
            scope: config.scope(),
            tenant_id: config.tenant_id,
            client_id: config.client_id,
            credential,
            endpoint,
            cache: TokenCache::new(),
        })
    }

    /// HTTP requests sent to the token endpoint so far (retries included).
    #[must_use]
    pub fn token_requests(&self) -> u64 {
        self.endpoint.requests()
    }

    /// Forgets the cached token, so the next [`AccessTokenProvider::access_token`] asks for a new one (for a
    /// caller whose API refused the token).
    pub async fn invalidate(&self) {
        self.cache.invalidate().await;
    }

    /// Asks the token endpoint for a new token (no cache).
    async fn fetch(&self) -> Result<AccessToken, TokenError> {
        let form = || {
            let mut form: Vec<(&'static str, FormValue)> = vec![
                ("grant_type", FormValue::Plain("client_credentials".into())),
                ("client_id", FormValue::Plain(self.client_id.clone())),
                ("scope", FormValue::Plain(self.scope.clone())),
            ];
            form.extend(self.credential.form_fields(&self.client_id, &self.tenant_id, self.endpoint.url())?);
            Ok(form)
        };
        self.endpoint.request_token(form).await
    }
}

impl AccessTokenProvider for ClientCredentialsProvider {
    fn access_token(&self) -> TokenFuture<'_> {
        Box::pin(self.cache.get_or_refresh(|| self.fetch()))
    }

    fn fresh_access_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            self.cache.invalidate().await;
            self.cache.get_or_refresh(|| self.fetch()).await
        })
    }
}
