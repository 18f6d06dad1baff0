//! `tenure.toml`: where the store is, which HR files and policy to read, and how to reach the tenant.
//!
//! Plain serde structs with `deny_unknown_fields`; relative paths are resolved against the config file's folder.
//! Secrets are not written in the file: the client secret comes from `client_secret_file` or the environment
//! variable `TENURE_CLIENT_SECRET`, the certificate's private key from `private_key_file`.

use std::path::{Path, PathBuf};

use model::NationalCloud;
use serde::Deserialize;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Where run history, the journal and the audit log live.
    pub store: StoreConfig,
    /// Where HR records come from.
    pub hr: HrConfig,
    /// The policy file (TOML): mapping, naming, lifecycle, rules, scope and limits.
    pub policy: PathBuf,
    /// The tenant connection (a customer-owned app registration, client-credentials flow).
    pub connection: ConnectionConfig,
    /// Apply settings.
    #[serde(default)]
    pub apply: ApplyConfig,
}

/// The store location.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://tenure.db` (the default; created if missing) or `postgres://user@host/db`.
    pub url: String,
}

/// The HR input.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HrConfig {
    /// The HR export: a `.csv` file (read with the policy's `[hr]` mapping) or a `.json` file.
    pub file: PathBuf,
}

/// A customer-owned app registration in a national cloud.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    /// `global`, `us-gov-high`, `us-gov-dod` or `china`.
    #[serde(default = "default_cloud")]
    pub cloud: NationalCloud,
    /// The directory (tenant) ID.
    pub tenant_id: String,
    /// The application (client) ID.
    pub client_id: String,
    /// A file holding the client secret (else the `TENURE_CLIENT_SECRET` environment variable).
    pub client_secret_file: Option<PathBuf>,
    /// The certificate (PEM) registered on the app, for certificate credentials.
    pub certificate_file: Option<PathBuf>,
    /// The certificate's private key (PEM).
    pub private_key_file: Option<PathBuf>,
    /// Rehearsals against the sandbox: its base URL (`https://127.0.0.1:8443`); the cloud's login and Graph
    /// hosts are addressed as path prefixes under it.
    pub sandbox_url: Option<String>,
    /// An extra trusted root certificate (PEM), e.g. the sandbox's CA.
    pub ca_file: Option<PathBuf>,
}

/// How to apply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApplyConfig {
    /// Batches of up to 20 requests in flight at once (Graph's throttling lowers it adaptively).
    pub max_concurrency: usize,
    /// Attempts per request for transient failures (429, 5xx, timeouts).
    pub max_attempts: u32,
    /// Re-read the whole tenant (instead of the delta since the last run) when the last full read is older.
    pub full_reconcile_hours: u32,
}

impl Default for ApplyConfig {
    fn default() -> Self {
        Self { max_concurrency: 4, max_attempts: 8, full_reconcile_hours: 24 }
    }
}

fn default_cloud() -> NationalCloud {
    NationalCloud::Global
}

impl EngineConfig {
    /// Parses `text` (the file at `path`) and resolves relative paths against the file's folder.
    pub fn parse(path: &Path, text: &str) -> anyhow::Result<Self> {
        let mut config: Self = toml::from_str(text)
            .map_err(|error| anyhow::anyhow!("{}: {}", path.display(), error.to_string().trim()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |file: &mut PathBuf| {
            if file.is_relative() {
                *file = base.join(&*file);
            }
        };
        resolve(&mut config.hr.file);
        resolve(&mut config.policy);
        for file in [
            &mut config.connection.client_secret_file,
            &mut config.connection.certificate_file,
            &mut config.connection.private_key_file,
            &mut config.connection.ca_file,
        ]
        .into_iter()
        .flatten()
        {
            resolve(file);
        }
        if let Some(rest) = config.store.url.strip_prefix("sqlite://") {
            let file = Path::new(rest);
            if file.is_relative() && !rest.starts_with(':') {
                config.store.url = format!("sqlite://{}", base.join(file).display());
            }
        }
        Ok(config)
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| anyhow::anyhow!("reading config file {}: {error}", path.display()))?;
        Self::parse(path, &text)
    }
}
