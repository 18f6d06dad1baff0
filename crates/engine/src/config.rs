//! `tenure.toml`: where the store is, which HR files and policy to read, and how to reach the tenant.
//!
//! Plain serde structs with `deny_unknown_fields`; relative paths are resolved against the config file's folder.
//! Secrets are not written in the file: the client secret comes from `client_secret_file` or the environment
//! variable `TENURE_CLIENT_SECRET`, the certificate's private key from `private_key_file`, the vault's master key
//! from `vault.master_key_file` or `TENURE_MASTER_KEY`. Connections made in the web UI or with
//! `tenure connection add` live in the store (their secrets sealed by the vault); `[connections]` names the ones
//! a run uses. The inline `[connection]` table is the older way to name one customer-owned app.

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
    /// A customer-owned app registration given inline (client-credentials flow), instead of a stored
    /// connection named in `[connections]`.
    pub connection: Option<ConnectionConfig>,
    /// The stored connections a run uses.
    #[serde(default)]
    pub connections: ConnectionsConfig,
    /// Where the vault's master key is.
    #[serde(default)]
    pub vault: VaultConfig,
    /// The web UI and the OAuth callback (`tenure serve`).
    #[serde(default)]
    pub server: ServerConfig,
    /// Tenure's own multi-tenant app registration, for "Service provider application" connections and delegated
    /// Exchange connections.
    pub provider_app: Option<ProviderAppConfig>,
    /// Rehearsals: address every Microsoft host under a sandbox (`tenure sandbox`).
    pub sandbox: Option<SandboxConfig>,
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

/// The stored connections (created with `tenure connection add` or in the web UI) a run uses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsConfig {
    /// The Entra ID connection (Service provider application or Customer owned application), by name.
    pub graph: Option<String>,
    /// The Exchange Online connection, by name.
    pub exchange: Option<String>,
}

/// The vault's master key (32 bytes, base64, one key per line; the first line encrypts). Never in the database.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// The key file (mode 0600). Without it the key comes from `TENURE_MASTER_KEY` or `TENURE_MASTER_KEY_FILE`.
    pub master_key_file: Option<PathBuf>,
}

/// `tenure serve`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// The address to listen on.
    pub bind: String,
    /// The address admins' browsers use, without a trailing slash; the OAuth redirect URI is
    /// `{public_url}/oauth/callback` and must be registered on the provider app. Default: `http://{bind}`.
    pub public_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { bind: "127.0.0.1:8080".to_string(), public_url: None }
    }
}

impl ServerConfig {
    /// The public base URL without a trailing slash.
    #[must_use]
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.bind),
        }
    }
}

/// Tenure's multi-tenant app registration in the Global cloud, with its registrations in the national clouds.
///
/// An app registered in the Global cloud does not exist in the US Government or China clouds: each national cloud
/// needs its own registration (<https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud>).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderAppConfig {
    /// Its application (client) ID.
    pub client_id: String,
    /// A file holding its client secret (else `TENURE_PROVIDER_CLIENT_SECRET`).
    pub client_secret_file: Option<PathBuf>,
    /// Its certificate (PEM), for certificate credentials.
    pub certificate_file: Option<PathBuf>,
    /// The certificate's private key (PEM).
    pub private_key_file: Option<PathBuf>,
    /// `[provider_app.us_government]`: the registration in the US Government cloud, used for GCC High and DoD
    /// tenants.
    pub us_government: Option<CloudProviderAppConfig>,
    /// `[provider_app.china]`: the registration in the China cloud (operated by 21Vianet).
    pub china: Option<CloudProviderAppConfig>,
}

/// Tenure's app registered in one national cloud: the same settings as the Global registration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudProviderAppConfig {
    /// Its application (client) ID in that cloud.
    pub client_id: String,
    /// A file holding its client secret (else `TENURE_PROVIDER_US_GOVERNMENT_CLIENT_SECRET` or
    /// `TENURE_PROVIDER_CHINA_CLIENT_SECRET`).
    pub client_secret_file: Option<PathBuf>,
    /// Its certificate (PEM), for certificate credentials.
    pub certificate_file: Option<PathBuf>,
    /// The certificate's private key (PEM).
    pub private_key_file: Option<PathBuf>,
}

/// A sandbox standing in for every Microsoft host.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    /// Its base URL (`https://127.0.0.1:8443`); each cloud's hosts are path prefixes under it.
    pub url: String,
    /// Its CA certificate (PEM).
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
    /// How long a run waits for Exchange — a new mailbox to be provisioned, a conversion to shared to show —
    /// before it leaves the step (and what depends on it) `waiting` for the next run.
    pub mailbox_wait_seconds: u64,
}

impl Default for ApplyConfig {
    fn default() -> Self {
        Self { max_concurrency: 4, max_attempts: 8, full_reconcile_hours: 24, mailbox_wait_seconds: 900 }
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
        let mut files: Vec<&mut PathBuf> = Vec::new();
        if let Some(connection) = &mut config.connection {
            files.extend(
                [
                    &mut connection.client_secret_file,
                    &mut connection.certificate_file,
                    &mut connection.private_key_file,
                    &mut connection.ca_file,
                ]
                .into_iter()
                .flatten(),
            );
        }
        if let Some(app) = &mut config.provider_app {
            files.extend(
                [&mut app.client_secret_file, &mut app.certificate_file, &mut app.private_key_file]
                    .into_iter()
                    .flatten(),
            );
            for national in [&mut app.us_government, &mut app.china].into_iter().flatten() {
                files.extend(
                    [&mut national.client_secret_file, &mut national.certificate_file, &mut national.private_key_file]
                        .into_iter()
                        .flatten(),
                );
            }
        }
        if let Some(sandbox) = &mut config.sandbox {
            files.extend(sandbox.ca_file.as_mut());
        }
        files.extend(config.vault.master_key_file.as_mut());
        for file in files {
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

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "policy = 'policy.toml'\n[store]\nurl = 'sqlite://tenure.db'\n[hr]\nfile = 'hr.csv'\n";

    #[test]
    fn national_cloud_registrations_of_the_provider_app_are_read_with_their_paths_resolved() {
        let text = format!(
            "{MINIMAL}[provider_app]\nclient_id = 'global-id'\nclient_secret_file = 'global.txt'\n\
             [provider_app.us_government]\nclient_id = 'us-id'\ncertificate_file = 'us.crt'\n\
             private_key_file = 'us.key'\n[provider_app.china]\nclient_id = 'cn-id'\nclient_secret_file = 'cn.txt'\n"
        );
        let config = EngineConfig::parse(Path::new("/etc/tenure/tenure.toml"), &text).expect("parses");
        let app = config.provider_app.expect("[provider_app]");
        assert_eq!(app.client_id, "global-id");
        let us = app.us_government.expect("[provider_app.us_government]");
        assert_eq!(us.client_id, "us-id");
        assert_eq!(us.certificate_file.as_deref(), Some(Path::new("/etc/tenure/us.crt")));
        assert_eq!(us.private_key_file.as_deref(), Some(Path::new("/etc/tenure/us.key")));
        let china = app.china.expect("[provider_app.china]");
        assert_eq!(china.client_secret_file.as_deref(), Some(Path::new("/etc/tenure/cn.txt")));
    }

    #[test]
    fn the_national_registrations_are_optional_and_checked_for_typos() {
        let text = format!("{MINIMAL}[provider_app]\nclient_id = 'global-id'\n");
        let app = EngineConfig::parse(Path::new("tenure.toml"), &text).expect("parses").provider_app.expect("app");
        assert!(app.us_government.is_none() && app.china.is_none());
        let typo = format!("{MINIMAL}[provider_app]\nclient_id = 'x'\n[provider_app.usgov]\nclient_id = 'y'\n");
        let error = EngineConfig::parse(Path::new("tenure.toml"), &typo).expect_err("refused").to_string();
        assert!(error.contains("usgov"), "{error}");
    }
}
