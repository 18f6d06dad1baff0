//! The provider app as a confidential client of one token endpoint: its credential (client secret or
//! certificate assertion, prepared by [`crate::client_credentials`]) added to every grant it sends — the
//! authorization code of a link and the refresh tokens afterwards.

use model::TokenError;

use super::DelegatedAppConfig;
use crate::client_credentials::Prepared;
use crate::error::Result;
use crate::token_endpoint::{EndpointFailure, FormValue, TokenEndpoint, TokenResponse, http_client};

/// The provider app at the token endpoint of [`DelegatedAppConfig::tenant`].
pub(crate) struct ConfidentialClient {
    client_id: String,
    tenant: String,
    credential: Prepared,
    endpoint: TokenEndpoint,
}

impl std::fmt::Debug for ConfidentialClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ConfidentialClient")
            .field("client_id", &self.client_id)
            .field("tenant", &self.tenant)
            .field("credential", &self.credential.describe())
            .field("endpoint", &self.endpoint.url())
            .finish()
    }
}

impl ConfidentialClient {
    /// Checks `config` and prepares the credential; sends nothing.
    pub(crate) fn new(config: &DelegatedAppConfig) -> Result<Self> {
        config.validate()?;
        let credential = Prepared::new(&config.client_id, &config.credential)?;
        let http = http_client(config.extra_root_certificate_pem.as_deref())?;
        let endpoint = TokenEndpoint::new(http, config.token_endpoint(), &config.tenant, &config.client_id);
        Ok(Self { client_id: config.client_id.clone(), tenant: config.tenant.clone(), credential, endpoint })
    }

    /// The provider app's client id.
    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The tenant segment of the token endpoint.
    pub(crate) fn tenant(&self) -> &str {
        &self.tenant
    }

    /// HTTP requests sent so far (retries included).
    pub(crate) fn requests(&self) -> u64 {
        self.endpoint.requests()
    }

    /// Sends the grant `grant_fields` builds (afresh for each attempt) with `client_id` and the credential.
    pub(crate) async fn request(
        &self,
        grant_fields: impl Fn() -> Vec<(&'static str, FormValue)>,
    ) -> Result<TokenResponse, EndpointFailure> {
        let form = || -> Result<Vec<(&'static str, FormValue)>, TokenError> {
            let mut form = grant_fields();
            form.push(("client_id", FormValue::Plain(self.client_id.clone())));
            form.extend(self.credential.form_fields(&self.client_id, &self.tenant, self.endpoint.url())?);
            Ok(form)
        };
        self.endpoint.request(form).await
    }
}
