//! Token providers for stored connections: what a run (or Test connection) uses to reach Graph or Exchange.
//!
//! App connections get the client-credentials provider with their sealed client secret or the active generated
//! certificate. Delegated connections get the refresh-token provider over [`StoredRefreshToken`], which keeps the
//! newest refresh token sealed in the store: each redemption's new token replaces the one it was redeemed with by
//! compare-and-swap, so two processes refreshing at once both end up with a valid token and the store with the
//! newest; an `invalid_grant` marks the connection "Needs re-link" with the platform's reason.

use std::sync::{Arc, Mutex};

use model::{AccessTokenProvider, NationalCloud, Secret};
use store::{Connection, ConnectionAuth, ConnectionId, ConnectionKind, ConnectionStatus};
use vault::authorization_code::{DelegatedTokenProvider, RefreshTokenStore, TokenStoreFuture};
use vault::{ClientCredential, ClientCredentialsConfig, ClientCredentialsProvider};

use super::{ConnectionError, ConnectionService};

/// The resource a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Microsoft Graph.
    Graph,
    /// Exchange Online.
    Exchange,
}

impl Resource {
    /// The resource identifier in `cloud` (`https://graph.microsoft.com`).
    #[must_use]
    pub fn identifier(self, cloud: NationalCloud) -> String {
        match self {
            Self::Graph => format!("https://{}", cloud.graph_host()),
            Self::Exchange => format!("https://{}", cloud.exchange_host()),
        }
    }

    /// The resource a connection of `kind` is for.
    #[must_use]
    pub fn of(kind: ConnectionKind) -> Self {
        match kind {
            ConnectionKind::Exchange => Self::Exchange,
            ConnectionKind::EntraDelegated | ConnectionKind::EntraApp => Self::Graph,
        }
    }
}

impl ConnectionService {
    /// A token provider for connection `id`'s resource, for a run or a test. A connection that needs re-linking,
    /// or a delegated one never linked, is refused here, before any work.
    ///
    /// # Errors
    ///
    /// Unknown id, the connection cannot be used ([`ConnectionError::NeedsRelink`], not linked), its secrets do
    /// not open, the store failed.
    pub async fn token_provider(&self, id: ConnectionId) -> Result<Arc<dyn AccessTokenProvider>, ConnectionError> {
        let connection = self.record(id).await?;
        self.provider_for(&connection).await
    }

    pub(super) async fn provider_for(
        &self,
        connection: &Connection,
    ) -> Result<Arc<dyn AccessTokenProvider>, ConnectionError> {
        if connection.status == ConnectionStatus::NeedsRelink {
            return Err(ConnectionError::NeedsRelink {
                name: connection.name.clone(),
                reason: connection.status_reason.clone().unwrap_or_else(|| "no reason recorded".to_string()),
            });
        }
        let resource = Resource::of(connection.kind).identifier(connection.cloud);
        match connection.auth {
            ConnectionAuth::Delegated => {
                if self.inner.store.secret(connection.id, "refresh_token").await?.is_none() {
                    return Err(ConnectionError::Invalid(format!(
                        "connection \"{}\" is not linked yet: click Link Account (or run `tenure connection link {}`)",
                        connection.name, connection.name
                    )));
                }
                let config = self.delegated_config(connection.cloud, connection.tenant_id.as_deref())?;
                let store =
                    StoredRefreshToken { service: self.clone(), id: connection.id, last_loaded: Mutex::new(None) };
                let provider = DelegatedTokenProvider::new(config, format!("{resource}/.default"), Arc::new(store))?;
                Ok(Arc::new(provider))
            }
            ConnectionAuth::ClientSecret | ConnectionAuth::Certificate => {
                let credential = self.app_credential(connection).await?;
                let provider = ClientCredentialsProvider::new(ClientCredentialsConfig {
                    cloud: connection.cloud,
                    tenant_id: connection.tenant_id.clone().unwrap_or_default(),
                    client_id: connection.client_id.clone().unwrap_or_default(),
                    credential,
                    login_base_url: Some(self.login_base(connection.cloud)),
                    resource,
                    extra_root_certificate_pem: self.inner.settings.ca_pem.clone(),
                })?;
                Ok(Arc::new(provider))
            }
        }
    }

    /// The sealed credential of an app connection: its client secret, or the active certificate and its key.
    async fn app_credential(&self, connection: &Connection) -> Result<ClientCredential, ConnectionError> {
        if connection.auth == ConnectionAuth::ClientSecret {
            let secret = self.open_secret(connection.id, "client_secret").await?.ok_or_else(|| {
                ConnectionError::Invalid(format!("connection \"{}\" has no client secret stored", connection.name))
            })?;
            return Ok(ClientCredential::Secret(secret));
        }
        let certificates = self.inner.store.certificates(connection.id).await?;
        let active = certificates.into_iter().find(|certificate| certificate.active).ok_or_else(|| {
            ConnectionError::Invalid(format!("connection \"{}\" has no active certificate", connection.name))
        })?;
        let key = self
            .open_secret(connection.id, &super::certificates::key_purpose(&active.sha1_thumbprint))
            .await?
            .ok_or_else(|| {
                ConnectionError::Invalid(format!(
                    "the private key of certificate {} of connection \"{}\" is missing",
                    active.sha1_thumbprint, connection.name
                ))
            })?;
        Ok(ClientCredential::Certificate { certificate_pem: active.certificate_pem, private_key_pem: key })
    }
}

/// The refresh token of one delegated connection, sealed in the store.
struct StoredRefreshToken {
    service: ConnectionService,
    id: ConnectionId,
    /// The token last read and its ciphertext (the compare-and-swap's expected value).
    last_loaded: Mutex<Option<(Secret, String)>>,
}

impl StoredRefreshToken {
    async fn load_current(&self) -> Result<(Secret, String), model::TokenError> {
        let store_error = |error: String| model::TokenError {
            message: format!("reading the connection's refresh token: {error}"),
            transient: true,
            needs_relink: false,
        };
        let stored = self
            .service
            .inner
            .store
            .secret(self.id, "refresh_token")
            .await
            .map_err(|error| store_error(error.to_string()))?
            .ok_or_else(|| model::TokenError {
                message: "the connection has no refresh token: link it again".to_string(),
                transient: false,
                needs_relink: true,
            })?;
        let token = self
            .service
            .inner
            .keys
            .open(
                &vault::SealedSecret { key_id: stored.key_id.clone(), ciphertext: stored.ciphertext.clone() },
                &super::secret_context(self.id, "refresh_token"),
            )
            .map_err(|error| model::TokenError { message: error.to_string(), transient: false, needs_relink: false })?;
        Ok((token, stored.ciphertext))
    }
}

impl RefreshTokenStore for StoredRefreshToken {
    fn load(&self) -> TokenStoreFuture<'_, Secret> {
        Box::pin(async move {
            let (token, ciphertext) = self.load_current().await?;
            *self.last_loaded.lock().expect("refresh-token lock") = Some((token.clone(), ciphertext));
            Ok(token)
        })
    }

    fn save_rotated(&self, previous: &Secret, newest: Secret) -> TokenStoreFuture<'_, bool> {
        let previous = previous.clone();
        Box::pin(async move {
            let remembered = self.last_loaded.lock().expect("refresh-token lock").clone();
            let expected = match remembered {
                Some((token, ciphertext)) if token == previous => ciphertext,
                _ => {
                    let (token, ciphertext) = self.load_current().await?;
                    if token != previous {
                        return Ok(false);
                    }
                    ciphertext
                }
            };
            let inner = &self.service.inner;
            let sealed = inner.keys.seal(&newest, &super::secret_context(self.id, "refresh_token"));
            let replacement = store::StoredSecret { key_id: sealed.key_id, ciphertext: sealed.ciphertext };
            let swapped = inner
                .store
                .replace_secret_if(self.id, "refresh_token", &expected, &replacement, self.service.now())
                .await
                .map_err(|error| model::TokenError {
                    message: format!("storing the rotated refresh token: {error}"),
                    transient: true,
                    needs_relink: false,
                })?;
            if swapped {
                *self.last_loaded.lock().expect("refresh-token lock") = Some((newest, replacement.ciphertext));
            }
            Ok(swapped)
        })
    }

    fn mark_needs_relink(&self, reason: String) -> TokenStoreFuture<'_, ()> {
        Box::pin(async move {
            let now = self.service.now();
            if let Err(error) = self
                .service
                .inner
                .store
                .set_connection_status(self.id, ConnectionStatus::NeedsRelink, Some(&reason), now)
                .await
            {
                tracing::error!(connection_id = %self.id, error = %error, "Could not mark the connection as needing a re-link.");
            } else {
                tracing::warn!(connection_id = %self.id, reason = %reason, "Connection needs to be linked again.");
            }
            Ok(())
        })
    }
}
