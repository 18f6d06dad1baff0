//! Building the connection service from `tenure.toml`: the master key (`[vault]` or `TENURE_MASTER_KEY`), the
//! provider app's credential (`[provider_app]`, its secret from a file or `TENURE_PROVIDER_CLIENT_SECRET`), the
//! public URL (`[server]`) and the sandbox (`[sandbox]`), so that `tenure serve`, `tenure connection …` and runs
//! see the same settings.

use std::sync::Arc;

use anyhow::Context as _;
use model::Secret;
use store::Store;
use vault::{ClientCredential, MasterKeyRing};

use super::{ConnectionService, ConnectionSettings, ProviderApp};
use crate::config::{EngineConfig, ProviderAppConfig};

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

/// The provider app's settings, with its credential read from files or the environment.
///
/// # Errors
///
/// A credential file cannot be read, or no credential is given.
pub fn provider_app(app: &ProviderAppConfig) -> anyhow::Result<ProviderApp> {
    let credential = if let Some(certificate_file) = &app.certificate_file {
        let key_file = app
            .private_key_file
            .as_ref()
            .context("provider_app.certificate_file is set, so provider_app.private_key_file is needed too")?;
        ClientCredential::Certificate {
            certificate_pem: std::fs::read_to_string(certificate_file)
                .with_context(|| format!("reading certificate {}", certificate_file.display()))?,
            private_key_pem: Secret::new(
                std::fs::read_to_string(key_file)
                    .with_context(|| format!("reading private key {}", key_file.display()))?,
            ),
        }
    } else if let Some(secret_file) = &app.client_secret_file {
        let text = std::fs::read_to_string(secret_file)
            .with_context(|| format!("reading client secret file {}", secret_file.display()))?;
        ClientCredential::Secret(Secret::new(text.trim()))
    } else {
        match std::env::var("TENURE_PROVIDER_CLIENT_SECRET") {
            Ok(secret) if !secret.is_empty() => ClientCredential::Secret(Secret::new(secret)),
            _ => anyhow::bail!(
                "no credential for the provider app: set provider_app.client_secret_file, \
                 provider_app.certificate_file, or the TENURE_PROVIDER_CLIENT_SECRET environment variable"
            ),
        }
    };
    Ok(ProviderApp { client_id: app.client_id.clone(), credential })
}

/// The connection service for `config` over `store`.
///
/// # Errors
///
/// The master key, the provider app's credential or the sandbox's CA file cannot be read.
pub fn connection_service(config: &EngineConfig, store: Store) -> anyhow::Result<ConnectionService> {
    let keys = master_keys(config)?;
    let provider_app = config.provider_app.as_ref().map(provider_app).transpose()?;
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
    Ok(ConnectionService::new(store, Arc::new(keys), settings))
}
