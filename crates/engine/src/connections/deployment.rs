//! Building the connection service from `tenure.toml`: the master key (`[vault]` or `TENURE_MASTER_KEY`), the
//! provider app's registrations (`[provider_app]` for the Global cloud, `[provider_app.us_government]` and
//! `[provider_app.china]` for the national clouds, each secret from a file or an environment variable), the public
//! URL (`[server]`) and the sandbox (`[sandbox]`), so that `tenure serve`, `tenure connection …` and runs see the
//! same settings.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use model::Secret;
use store::Store;
use vault::{ClientCredential, MasterKeyRing};

use super::{ConnectionService, ConnectionSettings, NationalProviderApps, ProviderApp};
use crate::config::{CloudProviderAppConfig, EngineConfig, ProviderAppConfig};

/// The master key ring named by `config` (its key file), else by `TENURE_MASTER_KEY`/`TENURE_MASTER_KEY_FILE`.
///
/// # Errors
///
/// No key configured, or the key file or variable does not hold a valid key.
pub fn master_keys(config: &EngineConfig) -> anyhow::Result<MasterKeyRing> {
    if let Some(file) = &config.vault.master_key_file {
        return MasterKeyRing::load_file(file).with_context(|| format!("loading the master key {}", file.display()));
    }
    MasterKeyRing::from_env()?.context(
        "no master key for the vault: set vault.master_key_file in tenure.toml (create one with \
         `tenure vault new-key --out master.key`) or the TENURE_MASTER_KEY environment variable",
    )
}

/// One registration's settings as the file gives them, with where they came from (for messages).
struct Registration<'a> {
    /// `provider_app` or `provider_app.us_government`, …
    section: &'static str,
    /// The environment variable holding the secret when no file is named.
    secret_variable: &'static str,
    client_id: &'a str,
    client_secret_file: Option<&'a Path>,
    certificate_file: Option<&'a Path>,
    private_key_file: Option<&'a Path>,
}

impl<'a> Registration<'a> {
    fn national(section: &'static str, secret_variable: &'static str, app: &'a CloudProviderAppConfig) -> Self {
        Registration {
            section,
            secret_variable,
            client_id: &app.client_id,
            client_secret_file: app.client_secret_file.as_deref(),
            certificate_file: app.certificate_file.as_deref(),
            private_key_file: app.private_key_file.as_deref(),
        }
    }

    /// The registration with its credential read from files or the environment.
    fn read(&self) -> anyhow::Result<ProviderApp> {
        let section = self.section;
        let credential = if let Some(certificate_file) = self.certificate_file {
            let key_file = self.private_key_file.with_context(|| {
                format!("{section}.certificate_file is set, so {section}.private_key_file is needed too")
            })?;
            ClientCredential::Certificate {
                certificate_pem: std::fs::read_to_string(certificate_file)
                    .with_context(|| format!("reading certificate {}", certificate_file.display()))?,
                private_key_pem: Secret::new(
                    std::fs::read_to_string(key_file)
                        .with_context(|| format!("reading private key {}", key_file.display()))?,
                ),
            }
        } else if let Some(secret_file) = self.client_secret_file {
            let text = std::fs::read_to_string(secret_file)
                .with_context(|| format!("reading client secret file {}", secret_file.display()))?;
            ClientCredential::Secret(Secret::new(text.trim()))
        } else {
            match std::env::var(self.secret_variable) {
                Ok(secret) if !secret.is_empty() => ClientCredential::Secret(Secret::new(secret)),
                _ => anyhow::bail!(
                    "no credential for the provider app in [{section}]: set {section}.client_secret_file, \
                     {section}.certificate_file, or the {} environment variable",
                    self.secret_variable
                ),
            }
        };
        Ok(ProviderApp { client_id: self.client_id.to_string(), credential })
    }
}

/// The provider app's Global registration (`[provider_app]`), with its credential read from files or the
/// environment (`TENURE_PROVIDER_CLIENT_SECRET`).
///
/// # Errors
///
/// A credential file cannot be read, or no credential is given.
pub fn provider_app(app: &ProviderAppConfig) -> anyhow::Result<ProviderApp> {
    Registration {
        section: "provider_app",
        secret_variable: "TENURE_PROVIDER_CLIENT_SECRET",
        client_id: &app.client_id,
        client_secret_file: app.client_secret_file.as_deref(),
        certificate_file: app.certificate_file.as_deref(),
        private_key_file: app.private_key_file.as_deref(),
    }
    .read()
}

/// The provider app's national-cloud registrations (`[provider_app.us_government]`, `[provider_app.china]`),
/// with their credentials read from files or the environment (`TENURE_PROVIDER_US_GOVERNMENT_CLIENT_SECRET`,
/// `TENURE_PROVIDER_CHINA_CLIENT_SECRET`).
///
/// # Errors
///
/// A credential file cannot be read, or a registration has no credential.
pub fn national_provider_apps(app: &ProviderAppConfig) -> anyhow::Result<NationalProviderApps> {
    let us_government = app
        .us_government
        .as_ref()
        .map(|us| {
            Registration::national("provider_app.us_government", "TENURE_PROVIDER_US_GOVERNMENT_CLIENT_SECRET", us)
                .read()
        })
        .transpose()?;
    let china = app
        .china
        .as_ref()
        .map(|china| Registration::national("provider_app.china", "TENURE_PROVIDER_CHINA_CLIENT_SECRET", china).read())
        .transpose()?;
    Ok(NationalProviderApps { us_government, china })
}

/// The connection service for `config` over `store`.
///
/// # Errors
///
/// The master key, a provider app registration's credential or the sandbox's CA file cannot be read.
pub fn connection_service(config: &EngineConfig, store: Store) -> anyhow::Result<ConnectionService> {
    let keys = master_keys(config)?;
    let provider_app = config.provider_app.as_ref().map(provider_app).transpose()?;
    let national = config.provider_app.as_ref().map(national_provider_apps).transpose()?.unwrap_or_default();
    let ca_pem = match config.sandbox.as_ref().and_then(|sandbox| sandbox.ca_file.as_ref()) {
        Some(file) => Some(std::fs::read(file).with_context(|| format!("reading CA file {}", file.display()))?),
        None => None,
    };
    let settings = ConnectionSettings {
        public_base_url: config.server.public_base_url(),
        provider_app,
        sandbox_url: config.sandbox.as_ref().map(|sandbox| sandbox.url.clone()),
        ca_pem,
    };
    Ok(ConnectionService::new(store, Arc::new(keys), settings).with_national_provider_apps(national))
}
