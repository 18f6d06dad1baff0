//! `tenure vault new-key` and `tenure vault rotate-key`: make the vault's master key file, and replace its key
//! with a new one, re-sealing every stored secret.
//!
//! Rotation is ordered so that a crash at any point leaves every stored secret openable with the key file as it is
//! on disk: (1) every stored secret is opened with the current ring first, so nothing changes when one cannot be;
//! (2) the file is rewritten with a new first key, the old keys kept; (3) each secret is opened and sealed under
//! the new key and written back in one transaction, each value only over the ciphertext it was re-sealed from (a
//! refresh token rotated meanwhile is picked up by the next pass, not overwritten); (4) only when the store holds
//! nothing under an old key is the file rewritten with the new key alone. Running it again after a crash finishes
//! the job. Key text is never printed: only key ids and counts.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::Utc;
use clap::{Args, Subcommand};
use serde::Deserialize;
use store::{SecretRow, Store};
use vault::MasterKeyRing;
use vault::master_key::{MASTER_KEY_FILE_VARIABLE, MASTER_KEY_VARIABLE};

/// How many times rotation re-reads the store for secrets still under an old key (a refresh token that rotates
/// during a pass is re-sealed by the next one).
const ROTATION_PASSES: usize = 5;

/// `tenure vault`.
#[derive(Debug, Args)]
pub struct VaultArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: VaultCommand,
}

/// The vault's commands.
#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Create a master key file (32 random bytes, base64, mode 0600); refuses to overwrite an existing file.
    NewKey(NewKeyArgs),
    /// Replace the master key: a new key seals every stored secret again, then the old key leaves the key file.
    RotateKey(RotateKeyArgs),
}

/// `tenure vault new-key`.
#[derive(Debug, Args)]
pub struct NewKeyArgs {
    /// Where to write the key file.
    #[arg(long)]
    pub out: PathBuf,
}

/// `tenure vault rotate-key`.
#[derive(Debug, Args)]
pub struct RotateKeyArgs {
    /// The configuration file; only `store.url` and `vault.master_key_file` are read. Default: `tenure.toml`, when
    /// `--key-file` or `--store` is not given.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The master key file to rotate (instead of the configuration's `vault.master_key_file`).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// The store whose secrets to re-seal (instead of the configuration's `store.url`).
    #[arg(long)]
    pub store: Option<String>,
}

/// The part of `tenure.toml` rotation needs; everything else is ignored.
#[derive(Debug, Default, Deserialize)]
struct RotationConfig {
    store: Option<StoreSection>,
    #[serde(default)]
    vault: VaultSection,
}

#[derive(Debug, Deserialize)]
struct StoreSection {
    url: String,
}

#[derive(Debug, Default, Deserialize)]
struct VaultSection {
    master_key_file: Option<PathBuf>,
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// The key id that seals from now on.
    pub new_key_id: String,
    /// The key ids removed from the key file.
    pub retired_key_ids: Vec<String>,
    /// How many stored values were re-sealed.
    pub resealed: usize,
    /// The key file.
    pub key_file: PathBuf,
}

/// Runs a `tenure vault` command, printing to standard output.
pub async fn run(arguments: VaultArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match arguments.command {
        VaultCommand::NewKey(arguments) => new_key(&arguments.out, &mut out),
        VaultCommand::RotateKey(arguments) => {
            let (key_file, store_url) = rotation_targets(&arguments)?;
            let report = rotate_key(&key_file, &store_url).await?;
            print_report(&report, &mut out)
        }
    }
}

/// Writes a new key file at `path`.
fn new_key(path: &Path, out: &mut impl Write) -> anyhow::Result<()> {
    if path.exists() {
        bail!(
            "{} already exists: a key file is never overwritten (secrets sealed under its key would be lost); use \
             `tenure vault rotate-key` to replace its key",
            path.display()
        );
    }
    let (ring, text) = MasterKeyRing::generate();
    MasterKeyRing::write_file(path, &text)?;
    writeln!(
        out,
        "wrote master key {} to {} (mode 0600)\nset vault.master_key_file in tenure.toml to this path, or \
         {MASTER_KEY_FILE_VARIABLE}; keep a backup of the file apart from the database",
        ring.current_key_id(),
        path.display()
    )?;
    Ok(())
}

/// The key file and store URL to rotate: the flags, else the configuration file.
fn rotation_targets(arguments: &RotateKeyArgs) -> anyhow::Result<(PathBuf, String)> {
    let config = if arguments.key_file.is_none() || arguments.store.is_none() {
        let path = arguments.config.clone().unwrap_or_else(|| PathBuf::from("tenure.toml"));
        read_rotation_config(&path)?
    } else {
        RotationConfig::default()
    };
    let store_url = match (&arguments.store, config.store) {
        (Some(url), _) => url.clone(),
        (None, Some(store)) => store.url,
        (None, None) => bail!("no store to re-seal: give --store URL or set store.url in the configuration file"),
    };
    let key_file =
        arguments.key_file.clone().or(config.vault.master_key_file).or_else(|| {
            std::env::var_os(MASTER_KEY_FILE_VARIABLE).filter(|value| !value.is_empty()).map(PathBuf::from)
        });
    let Some(key_file) = key_file else {
        if std::env::var_os(MASTER_KEY_VARIABLE).is_some() {
            bail!(
                "the master key comes from the {MASTER_KEY_VARIABLE} environment variable, which this command \
                 cannot rewrite: put the key text in a file readable only by Tenure (mode 0600), name it in \
                 vault.master_key_file (or {MASTER_KEY_FILE_VARIABLE}) instead of {MASTER_KEY_VARIABLE}, and run \
                 `tenure vault rotate-key` again"
            );
        }
        bail!(
            "no master key file to rotate: give --key-file PATH, or set vault.master_key_file in the configuration \
             file or {MASTER_KEY_FILE_VARIABLE}"
        );
    };
    Ok((key_file, store_url))
}

/// Reads `store.url` and `vault.master_key_file` from the configuration at `path`, resolving relative paths
/// against its folder as the engine does.
fn read_rotation_config(path: &Path) -> anyhow::Result<RotationConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
    let mut config: RotationConfig =
        toml::from_str(&text).map_err(|error| anyhow::anyhow!("{}: {}", path.display(), error.to_string().trim()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    if let Some(file) = &mut config.vault.master_key_file
        && file.is_relative()
    {
        *file = base.join(&*file);
    }
    if let Some(store) = &mut config.store
        && let Some(rest) = store.url.strip_prefix("sqlite://")
        && Path::new(rest).is_relative()
        && !rest.starts_with(':')
    {
        store.url = format!("sqlite://{}", base.join(rest).display());
    }
    Ok(config)
}

/// Rotates the master key in `key_file`, re-sealing every secret in the store at `store_url` (see the module
/// documentation for the order).
///
/// # Errors
/// The key file cannot be read or written, the store fails, a stored secret does not open with the current key
/// file (nothing is changed then), or secrets kept changing under an old key for every pass (the key file then
/// keeps the old keys, so nothing is lost; run it again).
pub async fn rotate_key(key_file: &Path, store_url: &str) -> anyhow::Result<RotationReport> {
    let old_ring = MasterKeyRing::load_file(key_file)?;
    let store = Store::open(store_url).await.context("opening the store")?;
    let outcome = rotate_in_store(key_file, &old_ring, &store).await;
    store.close().await;
    outcome
}

async fn rotate_in_store(key_file: &Path, old_ring: &MasterKeyRing, store: &Store) -> anyhow::Result<RotationReport> {
    // (1) Everything must open before anything changes.
    for row in store.list_secrets().await? {
        old_ring.open(&sealed(&row), &row.seal_context()).with_context(|| {
            format!(
                "nothing was changed: the stored secret {} cannot be opened with {}",
                describe(&row),
                key_file.display()
            )
        })?;
    }

    // (2) The new key goes first in the file; the old keys stay until the store no longer needs them.
    let (ring, text) = old_ring.with_new_current_key();
    MasterKeyRing::write_file(key_file, &text)?;
    let new_key_id = ring.current_key_id().to_owned();
    tracing::info!(new_key = %new_key_id, "the key file holds a new current key; re-sealing the stored secrets");

    // (3) Re-seal whatever is not under the new key yet, until nothing is.
    let mut resealed = 0;
    let mut settled = false;
    for _ in 0..ROTATION_PASSES {
        let pending: Vec<SecretRow> =
            store.list_secrets().await?.into_iter().filter(|row| row.secret.key_id != new_key_id).collect();
        if pending.is_empty() {
            settled = true;
            break;
        }
        let mut pairs = Vec::with_capacity(pending.len());
        for row in pending {
            let context = row.seal_context();
            let plaintext = ring
                .open(&sealed(&row), &context)
                .with_context(|| format!("re-sealing the stored secret {}", describe(&row)))?;
            let fresh = ring.seal(&plaintext, &context);
            let expected = row.secret.ciphertext.clone();
            let secret = store::StoredSecret { key_id: fresh.key_id, ciphertext: fresh.ciphertext };
            pairs.push((SecretRow { secret, ..row }, expected));
        }
        resealed += store.rekey_secrets_if(&pairs, Utc::now()).await?;
    }
    if !settled {
        bail!(
            "stored secrets kept changing under an old key during {ROTATION_PASSES} passes (is Tenure still running \
             with the old key?); {} keeps the old and the new keys, so nothing is lost: stop Tenure and run \
             `tenure vault rotate-key` again",
            key_file.display()
        );
    }

    // (4) Nothing needs the old keys any more.
    let (final_ring, final_text) = ring.without_keys_except(&[]);
    MasterKeyRing::write_file(key_file, &final_text)?;
    let retired_key_ids = old_ring.key_ids().into_iter().filter(|id| !final_ring.key_ids().contains(id)).collect();
    Ok(RotationReport { new_key_id, retired_key_ids, resealed, key_file: key_file.to_owned() })
}

fn sealed(row: &SecretRow) -> vault::SealedSecret {
    vault::SealedSecret { key_id: row.secret.key_id.clone(), ciphertext: row.secret.ciphertext.clone() }
}

/// Names a stored value for an admin (`refresh_token of connection 3`), never its content.
fn describe(row: &SecretRow) -> String {
    if row.purpose.starts_with(store::OAUTH_STATE_PURPOSE_PREFIX) {
        format!("PKCE verifier of a pending link of connection {}", row.connection_id)
    } else {
        format!("{} of connection {}", row.purpose, row.connection_id)
    }
}

fn print_report(report: &RotationReport, out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "re-sealed {} secret(s) under the new master key {}", report.resealed, report.new_key_id)?;
    writeln!(out, "retired master key(s): {}", report.retired_key_ids.join(", "))?;
    writeln!(out, "{} now holds only key {}", report.key_file.display(), report.new_key_id)?;
    writeln!(
        out,
        "restart every running Tenure process (tenure serve, scheduled syncs) so it loads the new key, and replace \
         your backup of the key file"
    )?;
    Ok(())
}
