//! Stored connections to Microsoft tenants — the service behind `tenure connection …` and the web UI.
//!
//! Three kinds, as admins know them from the category: **Entra ID — Service provider application** (Tenure's
//! multi-tenant app, linked by an admin's sign-in; the refresh token is kept; the app is registered once per
//! cloud, see [`NationalProviderApps`]), **Entra ID — Customer owned
//! application** (the customer's app registration in any national cloud, with a certificate Tenure generates or
//! a client secret) and **Exchange Online** (a service account linked by the same sign-in, or app-only with a
//! certificate). Records live in the store; every secret is sealed by the vault's master key before the store
//! sees it, bound to its place (`connection:{id}:{purpose}`).
//!
//! The pieces: [`link`] (Link Account, the OAuth callback, admin consent), [`credentials`] (token providers for
//! runs and tests), [`check`] (Test connection; for Exchange also which management roles the account holds,
//! probed with `-WhatIf` by the `exchange` client), [`certificates`] (generated key pairs and their renewal).

mod certificates;
mod check;
mod credentials;
mod deployment;
mod error;
mod link;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use model::{NationalCloud, Secret};
use store::{CertificateRecord, Connection, ConnectionAuth, ConnectionId, ConnectionKind, NewConnection, Store};
use vault::{ClientCredential, MasterKeyRing};

pub use check::{TestLine, TestReport};
pub use credentials::Resource;
pub use deployment::{connection_service, master_keys, national_provider_apps, provider_app};
pub use error::ConnectionError;

/// Where the clock is read (tests and the sandbox's moved clock use their own).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Tenure's multi-tenant app registration in one cloud.
#[derive(Clone)]
pub struct ProviderApp {
    /// Its application (client) ID.
    pub client_id: String,
    /// Its credential.
    pub credential: ClientCredential,
}

impl std::fmt::Debug for ProviderApp {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ProviderApp").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// Tenure's app registrations in the national clouds (`[provider_app.us_government]`, `[provider_app.china]`).
///
/// An app registered in the Global cloud does not exist in the US Government or China clouds: each national cloud
/// needs its own registration, with its own client ID and credential
/// (<https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud>). GCC High and DoD share
/// the US Government cloud's identity platform (`login.microsoftonline.us`), so they share one registration.
#[derive(Clone, Debug, Default)]
pub struct NationalProviderApps {
    /// The registration in the US Government cloud, for GCC High and DoD tenants.
    pub us_government: Option<ProviderApp>,
    /// The registration in the China cloud.
    pub china: Option<ProviderApp>,
}

/// What the service needs besides the store and the keys.
#[derive(Clone)]
pub struct ConnectionSettings {
    /// The address admins' browsers use (`https://tenure.example.com`), without a trailing slash.
    pub public_base_url: String,
    /// Tenure's multi-tenant app registered in the Global cloud, when the operator registered one (the national
    /// clouds' registrations are given with [`ConnectionService::with_national_provider_apps`]).
    pub provider_app: Option<ProviderApp>,
    /// A sandbox standing in for every Microsoft host (rehearsals, tests).
    pub sandbox_url: Option<String>,
    /// An extra root certificate (PEM) to trust, e.g. the sandbox's CA.
    pub ca_pem: Option<Vec<u8>>,
}

/// What an admin asks to create.
pub enum NewConnectionRequest {
    /// Entra ID through Tenure's multi-tenant app; linked afterwards with Link Account.
    ServiceProvider {
        /// The connection's name.
        name: String,
        /// The tenant's cloud.
        cloud: NationalCloud,
    },
    /// Entra ID through the customer's own app registration (client credentials).
    CustomerApp {
        /// The connection's name.
        name: String,
        /// The tenant's cloud.
        cloud: NationalCloud,
        /// The directory (tenant) ID.
        tenant_id: String,
        /// The application (client) ID.
        client_id: String,
        /// How the app proves who it is.
        credential: NewAppCredential,
    },
    /// Exchange Online through a service account that signs in with Link Account.
    ExchangeDelegated {
        /// The connection's name.
        name: String,
        /// The tenant's cloud.
        cloud: NationalCloud,
    },
    /// Exchange Online app-only, with a certificate Tenure generates.
    ExchangeApp {
        /// The connection's name.
        name: String,
        /// The tenant's cloud.
        cloud: NationalCloud,
        /// The directory (tenant) ID.
        tenant_id: String,
        /// The application (client) ID.
        client_id: String,
    },
}

/// The credential of a new customer-owned app connection.
pub enum NewAppCredential {
    /// Tenure generates a key pair; the admin uploads the public certificate to the app registration.
    GenerateCertificate,
    /// A client secret's value.
    ClientSecret(Secret),
}

/// A connection as pages and commands show it.
#[derive(Debug, Clone)]
pub struct ConnectionView {
    /// The record.
    pub connection: Connection,
    /// Its certificates (newest first), for certificate connections.
    pub certificates: Vec<CertificateRecord>,
    /// The last Test connection report.
    pub last_test: Option<TestReport>,
}

impl ConnectionView {
    /// The kind and credential in the product's words.
    #[must_use]
    pub fn kind_label(&self) -> &'static str {
        match (self.connection.kind, self.connection.auth) {
            (ConnectionKind::EntraDelegated, _) => "Entra ID — Service provider application",
            (ConnectionKind::EntraApp, _) => "Entra ID — Customer owned application",
            (ConnectionKind::Exchange, ConnectionAuth::Delegated) => "Exchange Online — service account",
            (ConnectionKind::Exchange, _) => "Exchange Online — app-only certificate",
        }
    }

    /// The status in words.
    #[must_use]
    pub fn status_label(&self) -> &'static str {
        match self.connection.status {
            store::ConnectionStatus::NotLinked => match self.connection.auth {
                ConnectionAuth::Delegated => "Not linked",
                _ => "Not tested",
            },
            store::ConnectionStatus::WaitingAdminApproval => "Waiting for admin approval",
            store::ConnectionStatus::Connected => "Connected",
            store::ConnectionStatus::NeedsRelink => "Needs re-link",
        }
    }
}

/// Creates, links, tests and removes stored connections, and hands runs their token providers.
#[derive(Clone)]
pub struct ConnectionService {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    store: Store,
    keys: Arc<MasterKeyRing>,
    settings: ConnectionSettings,
    national_provider_apps: NationalProviderApps,
    clock: Clock,
}

impl std::fmt::Debug for ConnectionService {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ConnectionService")
            .field("public_base_url", &self.inner.settings.public_base_url)
            .field("keys", &self.inner.keys)
            .finish_non_exhaustive()
    }
}

impl ConnectionService {
    /// A service over `store`, sealing secrets with `keys`, reading the system clock.
    #[must_use]
    pub fn new(store: Store, keys: Arc<MasterKeyRing>, settings: ConnectionSettings) -> Self {
        Self::with_clock(store, keys, settings, Arc::new(Utc::now))
    }

    /// The same, with another clock (tests that move the sandbox's clock move this one too).
    #[must_use]
    pub fn with_clock(store: Store, keys: Arc<MasterKeyRing>, settings: ConnectionSettings, clock: Clock) -> Self {
        let national_provider_apps = NationalProviderApps::default();
        Self { inner: Arc::new(Inner { store, keys, settings, national_provider_apps, clock }) }
    }

    /// The same service with Tenure's app registrations in the national clouds: Service provider and Exchange
    /// service-account connections in a national cloud sign in with that cloud's registration.
    #[must_use]
    pub fn with_national_provider_apps(mut self, apps: NationalProviderApps) -> Self {
        Arc::make_mut(&mut self.inner).national_provider_apps = apps;
        self
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The OAuth redirect URI (`{public_base_url}/oauth/callback`), to register on the provider app.
    #[must_use]
    pub fn redirect_uri(&self) -> String {
        format!("{}/oauth/callback", self.inner.settings.public_base_url.trim_end_matches('/'))
    }

    /// The extra root certificate (PEM) clients trust, e.g. the sandbox's CA.
    #[must_use]
    pub fn ca_pem(&self) -> Option<Vec<u8>> {
        self.inner.settings.ca_pem.clone()
    }

    fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    /// Every connection, by name.
    ///
    /// # Errors
    ///
    /// The store failed.
    pub async fn list(&self) -> Result<Vec<ConnectionView>, ConnectionError> {
        let mut views = Vec::new();
        for connection in self.inner.store.list_connections().await? {
            views.push(self.view(connection).await?);
        }
        Ok(views)
    }

    /// One connection.
    ///
    /// # Errors
    ///
    /// Unknown id, or the store failed.
    pub async fn get(&self, id: ConnectionId) -> Result<ConnectionView, ConnectionError> {
        let connection = self.record(id).await?;
        self.view(connection).await
    }

    /// One connection, by name.
    ///
    /// # Errors
    ///
    /// Unknown name, or the store failed.
    pub async fn get_by_name(&self, name: &str) -> Result<ConnectionView, ConnectionError> {
        let connection = self
            .inner
            .store
            .connection_by_name(name)
            .await?
            .ok_or_else(|| ConnectionError::NotFound(format!("named \"{name}\"")))?;
        self.view(connection).await
    }

    async fn record(&self, id: ConnectionId) -> Result<Connection, ConnectionError> {
        self.inner.store.connection(id).await?.ok_or_else(|| ConnectionError::NotFound(id.to_string()))
    }

    async fn view(&self, connection: Connection) -> Result<ConnectionView, ConnectionError> {
        let certificates = self.inner.store.certificates(connection.id).await?;
        let last_test = connection.last_test.as_deref().and_then(|text| serde_json::from_str(text).ok());
        Ok(ConnectionView { connection, certificates, last_test })
    }

    /// Creates a connection. Delegated connections start "Not linked" (Link Account is next); app connections
    /// start "Not tested" with their credential sealed (a generated certificate is ready to download).
    ///
    /// # Errors
    ///
    /// A bad name, tenant or client ID; a delegated connection in a cloud where no provider app is configured; a
    /// name already taken; the store failed.
    pub async fn create(&self, request: NewConnectionRequest) -> Result<ConnectionView, ConnectionError> {
        let now = self.now();
        let (new, credential) = match request {
            NewConnectionRequest::ServiceProvider { name, cloud } => {
                self.require_provider_app(cloud)?;
                (delegated(name, ConnectionKind::EntraDelegated, cloud), None)
            }
            NewConnectionRequest::ExchangeDelegated { name, cloud } => {
                self.require_provider_app(cloud)?;
                (delegated(name, ConnectionKind::Exchange, cloud), None)
            }
            NewConnectionRequest::CustomerApp { name, cloud, tenant_id, client_id, credential } => {
                let auth = match credential {
                    NewAppCredential::GenerateCertificate => ConnectionAuth::Certificate,
                    NewAppCredential::ClientSecret(_) => ConnectionAuth::ClientSecret,
                };
                (app(name, ConnectionKind::EntraApp, auth, cloud, &tenant_id, &client_id)?, Some(credential))
            }
            NewConnectionRequest::ExchangeApp { name, cloud, tenant_id, client_id } => (
                app(name, ConnectionKind::Exchange, ConnectionAuth::Certificate, cloud, &tenant_id, &client_id)?,
                Some(NewAppCredential::GenerateCertificate),
            ),
        };
        validate_name(&new.name)?;
        let connection = self.inner.store.create_connection(&new, now).await?;
        match credential {
            Some(NewAppCredential::ClientSecret(secret)) => {
                if secret.expose().trim().is_empty() {
                    self.inner.store.delete_connection(connection.id).await?;
                    return Err(ConnectionError::Invalid("the client secret is empty".to_string()));
                }
                self.put_secret(connection.id, "client_secret", &secret).await?;
            }
            Some(NewAppCredential::GenerateCertificate) => {
                if let Err(error) = self.add_generated_certificate(&connection, true).await {
                    self.inner.store.delete_connection(connection.id).await?;
                    return Err(error);
                }
            }
            None => {}
        }
        tracing::info!(connection_id = %connection.id, name = %connection.name, kind = connection.kind.as_str(), "Connection created.");
        self.get(connection.id).await
    }

    /// Removes a connection with its secrets and certificates.
    ///
    /// # Errors
    ///
    /// Unknown id, or the store failed.
    pub async fn remove(&self, id: ConnectionId) -> Result<(), ConnectionError> {
        let connection = self.record(id).await?;
        self.inner.store.delete_connection(id).await?;
        tracing::info!(connection_id = %id, name = %connection.name, "Connection removed.");
        Ok(())
    }

    /// Tenure's app registration in `cloud`, or why there is none (naming the `tenure.toml` section to add).
    fn require_provider_app(&self, cloud: NationalCloud) -> Result<&ProviderApp, ConnectionError> {
        let national = &self.inner.national_provider_apps;
        let (registration, section, cloud_name) = match cloud {
            NationalCloud::Global => {
                return self.inner.settings.provider_app.as_ref().ok_or_else(|| {
                    ConnectionError::NotConfigured(
                        "no service provider application is configured: set [provider_app] (client_id and its \
                         secret or certificate) in tenure.toml"
                            .to_string(),
                    )
                });
            }
            NationalCloud::UsGovHigh | NationalCloud::UsGovDod => {
                (national.us_government.as_ref(), "[provider_app.us_government]", "US Government (GCC High and DoD)")
            }
            NationalCloud::China => (national.china.as_ref(), "[provider_app.china]", "China (21Vianet)"),
        };
        registration.ok_or_else(|| {
            ConnectionError::NotConfigured(format!(
                "no service provider application is configured for the {cloud_name} cloud: an app registered in the \
                 Global cloud ([provider_app]) does not exist there. Register Tenure's app in that cloud and set \
                 {section} (client_id and its secret or certificate) in tenure.toml"
            ))
        })
    }

    /// Seals `secret` for `connection:{id}:{purpose}` and stores it.
    async fn put_secret(&self, id: ConnectionId, purpose: &str, secret: &Secret) -> Result<(), ConnectionError> {
        let sealed = self.inner.keys.seal(secret, &secret_context(id, purpose));
        let stored = store::StoredSecret { key_id: sealed.key_id, ciphertext: sealed.ciphertext };
        self.inner.store.put_secret(id, purpose, &stored, self.now()).await?;
        Ok(())
    }

    /// Opens the secret stored for `connection:{id}:{purpose}`, if any.
    async fn open_secret(&self, id: ConnectionId, purpose: &str) -> Result<Option<Secret>, ConnectionError> {
        let Some(stored) = self.inner.store.secret(id, purpose).await? else { return Ok(None) };
        let sealed = vault::SealedSecret { key_id: stored.key_id, ciphertext: stored.ciphertext };
        Ok(Some(self.inner.keys.open(&sealed, &secret_context(id, purpose))?))
    }

    /// The login base URL for `cloud` (the sandbox's path prefix in rehearsals).
    fn login_base(&self, cloud: NationalCloud) -> String {
        self.host_base(cloud.login_host())
    }

    /// Graph's base URL (without `/v1.0`) for `cloud`.
    #[must_use]
    pub fn graph_base(&self, cloud: NationalCloud) -> String {
        self.host_base(cloud.graph_host())
    }

    /// Exchange Online's base URL for `cloud`.
    #[must_use]
    pub fn exchange_base(&self, cloud: NationalCloud) -> String {
        self.host_base(cloud.exchange_host())
    }

    fn host_base(&self, host: &str) -> String {
        match &self.inner.settings.sandbox_url {
            Some(base) => format!("{}/{host}", base.trim_end_matches('/')),
            None => format!("https://{host}"),
        }
    }
}

/// The AAD context a connection's secret is sealed with: a ciphertext opens only in its own place.
fn secret_context(id: ConnectionId, purpose: &str) -> String {
    format!("connection:{id}:{purpose}")
}

fn delegated(name: String, kind: ConnectionKind, cloud: NationalCloud) -> NewConnection {
    NewConnection { name, kind, auth: ConnectionAuth::Delegated, cloud, tenant_id: None, client_id: None }
}

fn app(
    name: String,
    kind: ConnectionKind,
    auth: ConnectionAuth,
    cloud: NationalCloud,
    tenant_id: &str,
    client_id: &str,
) -> Result<NewConnection, ConnectionError> {
    let tenant_id = tenant_id.trim();
    let client_id = client_id.trim();
    if uuid_like(client_id).is_none() {
        return Err(ConnectionError::Invalid(format!(
            "client ID \"{client_id}\" is not an application (client) ID: expected a GUID such as \
             00000000-0000-0000-0000-000000000000, shown on the app registration's Overview page"
        )));
    }
    let domain_like = tenant_id.contains('.')
        && tenant_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !tenant_id.starts_with('.')
        && !tenant_id.ends_with('.');
    if uuid_like(tenant_id).is_none() && !domain_like {
        return Err(ConnectionError::Invalid(format!(
            "tenant ID \"{tenant_id}\" is neither a directory (tenant) ID (a GUID) nor a verified domain"
        )));
    }
    Ok(NewConnection {
        name,
        kind,
        auth,
        cloud,
        tenant_id: Some(tenant_id.to_ascii_lowercase()),
        client_id: Some(client_id.to_ascii_lowercase()),
    })
}

/// `Some(())` when `text` is a GUID in its usual 8-4-4-4-12 form.
fn uuid_like(text: &str) -> Option<()> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    (groups.len() == 5
        && groups
            .iter()
            .zip(lengths)
            .all(|(group, length)| group.len() == length && group.chars().all(|c| c.is_ascii_hexdigit())))
    .then_some(())
}

fn validate_name(name: &str) -> Result<(), ConnectionError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.len() > 100 || trimmed != name || name.chars().any(char::is_control) {
        return Err(ConnectionError::Invalid(format!(
            "connection name \"{}\" must be 1–100 characters without leading or trailing spaces",
            name.escape_debug()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_and_tenant_ids_are_checked() {
        let ok = app(
            "x".into(),
            ConnectionKind::EntraApp,
            ConnectionAuth::ClientSecret,
            NationalCloud::Global,
            "contoso.onmicrosoft.com",
            "6731DE76-14A6-49AE-97BC-6EBA6914391E",
        )
        .expect("valid");
        assert_eq!(ok.client_id.as_deref(), Some("6731de76-14a6-49ae-97bc-6eba6914391e"));
        let error = app(
            "x".into(),
            ConnectionKind::EntraApp,
            ConnectionAuth::ClientSecret,
            NationalCloud::Global,
            "contoso",
            "6731de76-14a6-49ae-97bc-6eba6914391e",
        )
        .expect_err("bad tenant");
        assert!(error.to_string().contains("tenant ID \"contoso\""), "{error}");
        let error = app(
            "x".into(),
            ConnectionKind::EntraApp,
            ConnectionAuth::ClientSecret,
            NationalCloud::Global,
            "contoso.com",
            "secret-id",
        )
        .expect_err("bad client");
        assert!(error.to_string().contains("client ID \"secret-id\""), "{error}");
        assert!(validate_name(" padded").is_err() && validate_name("").is_err() && validate_name("Contoso").is_ok());
    }
}
