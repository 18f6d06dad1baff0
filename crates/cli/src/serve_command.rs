//! `tenure serve` (the web UI and the OAuth callback) and `tenure admin add-user | set-password | list-users |
//! remove-user` (the accounts that may sign in to it).
//!
//! Settings come from three places, the first present winning: the command-line flags (`--bind`,
//! `--public-url`, `--store`), then `tenure.toml` (`[server] bind / public_url`, `[store] url`, and `[vault]`,
//! `[provider_app]`, `[sandbox]` for the connection service), then the defaults (`127.0.0.1:8080`,
//! `http://{bind}`, `sqlite://tenure.db`). The config file is optional for `serve`: without one the master key
//! comes from `TENURE_MASTER_KEY`/`TENURE_MASTER_KEY_FILE` and no provider app is configured.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use chrono::Utc;
use clap::{Args, Subcommand};
use engine::EngineConfig;
use engine::connections::{ConnectionService, ConnectionSettings};
use model::Secret;
use server::{AppState, MIN_PASSWORD_LENGTH, ServerSettings};
use store::Store;

/// The config file read when `--config` is not given, if it exists.
const DEFAULT_CONFIG: &str = "tenure.toml";
/// The store when neither `--store` nor a config file names one.
const DEFAULT_STORE: &str = "sqlite://tenure.db";
/// The address when neither `--bind` nor `[server] bind` names one.
const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Where the config and the store are (shared by `serve` and `admin`).
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// The configuration file (default: ./tenure.toml when it exists).
    #[arg(long, short, env = "TENURE_CONFIG")]
    pub config: Option<PathBuf>,
    /// The store URL (overrides `[store] url`; default sqlite://tenure.db).
    #[arg(long)]
    pub store: Option<String>,
}

impl StoreArgs {
    /// The config file: the one named (which must load), else ./tenure.toml when it exists.
    fn load_config(&self) -> anyhow::Result<Option<EngineConfig>> {
        match &self.config {
            Some(path) => Ok(Some(EngineConfig::load(path)?)),
            None if Path::new(DEFAULT_CONFIG).exists() => Ok(Some(EngineConfig::load(Path::new(DEFAULT_CONFIG))?)),
            None => Ok(None),
        }
    }
}

/// `tenure serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The address to listen on (overrides `[server] bind`; default 127.0.0.1:8080).
    #[arg(long)]
    bind: Option<String>,
    /// The address admins' browsers use, e.g. https://tenure.example.com (overrides `[server] public_url`;
    /// default http://{bind}). The OAuth redirect URI is {public_url}/oauth/callback.
    #[arg(long)]
    public_url: Option<String>,
}

/// What `serve` ends up using.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeSettings {
    /// The listen address.
    pub bind: String,
    /// The public base URL, without a trailing slash.
    pub public_url: String,
    /// The store URL.
    pub store_url: String,
}

/// Flags over the config file over the defaults.
#[must_use]
pub fn resolve_serve_settings(
    config: Option<&EngineConfig>,
    bind: Option<&str>,
    public_url: Option<&str>,
    store: Option<&str>,
) -> ServeSettings {
    let bind = bind.map(str::to_owned).or_else(|| config.map(|config| config.server.bind.clone()));
    let bind = bind.unwrap_or_else(|| DEFAULT_BIND.to_owned());
    let public_url = public_url
        .map(str::to_owned)
        .or_else(|| config.and_then(|config| config.server.public_url.clone()))
        .unwrap_or_else(|| format!("http://{bind}"));
    let store_url = store
        .map(str::to_owned)
        .or_else(|| config.map(|config| config.store.url.clone()))
        .unwrap_or_else(|| DEFAULT_STORE.to_owned());
    ServeSettings { bind, public_url: public_url.trim_end_matches('/').to_owned(), store_url }
}

/// Runs `tenure serve` until Ctrl-C or SIGTERM.
///
/// # Errors
/// The config, the store, the master key or the listen address is unusable.
pub async fn serve(arguments: ServeArgs) -> anyhow::Result<()> {
    let mut config = arguments.store.load_config()?;
    let mut settings = resolve_serve_settings(
        config.as_ref(),
        arguments.bind.as_deref(),
        arguments.public_url.as_deref(),
        arguments.store.store.as_deref(),
    );
    let listener = tokio::net::TcpListener::bind(&settings.bind)
        .await
        .with_context(|| format!("listening on {}", settings.bind))?;
    let address = listener.local_addr().context("reading the listen address")?;
    if settings.public_url == format!("http://{}", settings.bind) {
        // The default public URL names the address actually bound (`--bind 127.0.0.1:0` picks a port).
        settings.public_url = format!("http://{address}");
    }
    let store = Store::open(&settings.store_url).await.context("opening the store")?;
    let connections = match config.as_mut() {
        Some(config) => {
            config.server.bind.clone_from(&settings.bind);
            config.server.public_url = Some(settings.public_url.clone());
            config.store.url.clone_from(&settings.store_url);
            engine::connections::connection_service(config, store)?
        }
        None => {
            let keys = vault::MasterKeyRing::from_env()?.context(
                "no master key for the vault: set TENURE_MASTER_KEY or TENURE_MASTER_KEY_FILE, or give a \
                 tenure.toml with vault.master_key_file (create a key with `tenure vault new-key`)",
            )?;
            let connection_settings = ConnectionSettings {
                public_base_url: settings.public_url.clone(),
                provider_app: None,
                sandbox_url: None,
                ca_pem: None,
            };
            ConnectionService::new(store.clone(), Arc::new(keys), connection_settings)
        }
    };
    if connections.store().list_admin_accounts().await?.is_empty() {
        eprintln!("No admin account yet: create one with `tenure admin add-user NAME` to sign in.");
    }
    eprintln!(
        "Tenure's web UI: {} (listening on {address}). OAuth redirect URI: {}",
        settings.public_url,
        connections.redirect_uri()
    );
    let state = AppState::new(connections, ServerSettings::new(&settings.public_url));
    server::serve(listener, state, shutdown_signal()).await.context("serving the web UI")?;
    eprintln!("Stopped.");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// `tenure admin …`.
#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// What to do.
    #[command(subcommand)]
    action: AdminAction,
}

/// `tenure admin` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Create an account that may sign in to the web UI.
    AddUser(PasswordArgs),
    /// Change an account's password (signs out its sessions).
    SetPassword(PasswordArgs),
    /// List the accounts.
    ListUsers,
    /// Remove an account (signs out its sessions).
    RemoveUser {
        /// The user name.
        name: String,
    },
}

/// An account name and where its password comes from.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The user name typed at sign-in.
    name: String,
    /// A file holding the password (its trailing newline is ignored); else TENURE_ADMIN_PASSWORD, else a prompt.
    #[arg(long)]
    password_file: Option<PathBuf>,
}

/// Runs `tenure admin …`.
///
/// # Errors
/// The store is unusable, the name or password is refused, or the account exists (add) or does not (others).
pub async fn admin(arguments: AdminArgs) -> anyhow::Result<()> {
    let config = arguments.store.load_config()?;
    let store_url = resolve_serve_settings(config.as_ref(), None, None, arguments.store.store.as_deref()).store_url;
    let store = Store::open(&store_url).await.context("opening the store")?;
    match arguments.action {
        AdminAction::AddUser(account) => {
            let name = check_user_name(&account.name)?;
            if store.admin_account(name).await?.is_some() {
                bail!("an admin account named \"{name}\" already exists: use `tenure admin set-password {name}`");
            }
            let hash = hashed_password(&account)?;
            store.create_admin_account(name, &hash, Utc::now()).await?;
            println!("Admin account \"{name}\" created. Sign in at the web UI (`tenure serve`).");
        }
        AdminAction::SetPassword(account) => {
            let name = account.name.trim();
            if store.admin_account(name).await?.is_none() {
                bail!("no admin account named \"{name}\"");
            }
            let hash = hashed_password(&account)?;
            store.set_admin_password(name, &hash, Utc::now()).await?;
            println!("Password of \"{name}\" changed; its sessions were signed out.");
        }
        AdminAction::ListUsers => {
            let accounts = store.list_admin_accounts().await?;
            if accounts.is_empty() {
                println!("No admin accounts. Create one with `tenure admin add-user NAME`.");
            }
            for account in accounts {
                println!("{}\tcreated {}", account.username, account.created_at.format("%Y-%m-%d %H:%M UTC"));
            }
        }
        AdminAction::RemoveUser { name } => {
            if !store.delete_admin_account(name.trim()).await? {
                bail!("no admin account named \"{}\"", name.trim());
            }
            println!("Admin account \"{}\" removed.", name.trim());
        }
    }
    store.close().await;
    Ok(())
}

/// A user name: 1–64 characters, no spaces or control characters.
///
/// # Errors
/// The name breaks those rules.
pub fn check_user_name(name: &str) -> anyhow::Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("user name \"{}\" must be 1–64 characters without spaces", name.escape_debug());
    }
    Ok(name)
}

/// The password from `--password-file`, `TENURE_ADMIN_PASSWORD` or a prompt, checked and hashed.
fn hashed_password(account: &PasswordArgs) -> anyhow::Result<String> {
    let password = read_password(account.password_file.as_deref())?;
    Ok(server::hash_password(&password)?)
}

fn read_password(file: Option<&Path>) -> anyhow::Result<Secret> {
    if let Some(file) = file {
        let text = Secret::new(
            std::fs::read_to_string(file).with_context(|| format!("reading the password file {}", file.display()))?,
        );
        return Ok(Secret::new(text.expose().trim_end_matches(['\r', '\n'])));
    }
    if let Ok(password) = std::env::var("TENURE_ADMIN_PASSWORD") {
        return Ok(Secret::new(password));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password given: use --password-file, the TENURE_ADMIN_PASSWORD variable, or run in a terminal");
    }
    let first = Secret::new(
        rpassword::prompt_password(format!("Password (at least {MIN_PASSWORD_LENGTH} characters): "))
            .context("reading the password")?,
    );
    let second = Secret::new(rpassword::prompt_password("Repeat the password: ").context("reading the password")?);
    if first.expose() != second.expose() {
        bail!("the two passwords differ");
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_config_which_wins_over_defaults() {
        let defaults = resolve_serve_settings(None, None, None, None);
        assert_eq!(
            defaults,
            ServeSettings {
                bind: "127.0.0.1:8080".into(),
                public_url: "http://127.0.0.1:8080".into(),
                store_url: "sqlite://tenure.db".into()
            }
        );
        let flags =
            resolve_serve_settings(None, Some("0.0.0.0:9000"), Some("https://t.example.com/"), Some("sqlite::memory:"));
        assert_eq!(flags.public_url, "https://t.example.com");
        assert_eq!(flags.bind, "0.0.0.0:9000");
        assert_eq!(flags.store_url, "sqlite::memory:");
        let bind_only = resolve_serve_settings(None, Some("127.0.0.1:9999"), None, None);
        assert_eq!(bind_only.public_url, "http://127.0.0.1:9999");
    }

    #[test]
    fn user_names_are_checked() {
        assert_eq!(check_user_name(" alice ").unwrap(), "alice");
        assert!(check_user_name("").is_err());
        assert!(check_user_name("two words").is_err());
        assert!(check_user_name(&"x".repeat(65)).is_err());
    }
}
