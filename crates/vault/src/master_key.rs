//! The vault's master keys: [`MasterKeyRing`], read from a key file or the environment, never from the database.
//!
//! A key is 32 random bytes written as standard base64, one key per line (`#` starts a comment line). The first
//! key is the current one and seals new secrets; the others only open secrets sealed before the last rotation
//! (`tenure vault rotate-key` adds a new first key, re-seals every stored secret, then drops the old keys). Each
//! key has a public id — the first 16 hex digits of SHA-256(`tenure-master-key-v1` ‖ key) — that is stored next to
//! every ciphertext, so the ring knows which key opens it. Neither `Debug` nor any error shows key text: parse
//! errors say which line is wrong and how, never what it contains.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use aes_gcm::aead::OsRng;
use aes_gcm::aead::rand_core::RngCore as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use model::Secret;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The length of a master key in bytes (AES-256).
pub const MASTER_KEY_BYTES: usize = 32;

/// The environment variable holding the key text itself (keys separated by newlines or commas).
pub const MASTER_KEY_VARIABLE: &str = "TENURE_MASTER_KEY";

/// The environment variable naming a key file.
pub const MASTER_KEY_FILE_VARIABLE: &str = "TENURE_MASTER_KEY_FILE";

/// What is hashed in front of a key to derive its id (versioned, so a later scheme gets other ids).
const KEY_ID_DOMAIN: &[u8] = b"tenure-master-key-v1";

/// One master key and its id.
#[derive(Clone)]
pub(crate) struct MasterKey {
    /// The public id stored with every ciphertext sealed under this key.
    pub(crate) id: String,
    /// The key (zeroed on drop).
    pub(crate) bytes: Zeroizing<[u8; MASTER_KEY_BYTES]>,
}

impl MasterKey {
    fn new(bytes: Zeroizing<[u8; MASTER_KEY_BYTES]>) -> Self {
        let digest = Sha256::new().chain_update(KEY_ID_DOMAIN).chain_update(bytes.as_slice()).finalize();
        let id = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
        Self { id, bytes }
    }

    fn random() -> Self {
        let mut bytes = Zeroizing::new([0_u8; MASTER_KEY_BYTES]);
        OsRng.fill_bytes(bytes.as_mut_slice());
        Self::new(bytes)
    }
}

/// The master keys: the current one (first) seals, every one opens what it sealed.
///
/// `Debug` shows the key ids only. Sealing and opening are in [`crate::seal`].
#[derive(Clone)]
pub struct MasterKeyRing {
    /// Never empty; `keys[0]` is current; no id twice.
    pub(crate) keys: Vec<MasterKey>,
}

impl fmt::Debug for MasterKeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKeyRing").field("current", &self.current_key_id()).field("keys", &self.key_ids()).finish()
    }
}

impl MasterKeyRing {
    /// Reads key text: base64 keys one per line (or comma-separated), the first one current; blank lines and
    /// lines starting with `#` are skipped; a key given twice counts once.
    ///
    /// # Errors
    /// [`Error::InvalidMasterKey`] when there is no key, or a line is not base64 or not 32 bytes long. The error
    /// names the line, never its text.
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_from(text, "the master key text")
    }

    /// [`Self::parse`], naming `origin` (a path, a variable) in errors.
    fn parse_from(text: &str, origin: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidMasterKey { origin: origin.to_owned(), reason };
        let mut keys: Vec<MasterKey> = Vec::new();
        for (index, line) in text.split('\n').enumerate() {
            let line_number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            for item in line.split(',').map(str::trim).filter(|item| !item.is_empty()) {
                let decoded = Zeroizing::new(STANDARD.decode(item).map_err(|_| {
                    invalid(format!(
                        "line {line_number} is not standard base64 (a master key is 32 random bytes written as 44 \
                         base64 characters; `tenure vault new-key` makes one)"
                    ))
                })?);
                let bytes: [u8; MASTER_KEY_BYTES] = decoded.as_slice().try_into().map_err(|_| {
                    invalid(format!(
                        "line {line_number} decodes to {} bytes, but a master key is {MASTER_KEY_BYTES} bytes",
                        decoded.len()
                    ))
                })?;
                let key = MasterKey::new(Zeroizing::new(bytes));
                if !keys.iter().any(|known| known.id == key.id) {
                    keys.push(key);
                }
            }
        }
        if keys.is_empty() {
            return Err(invalid("it holds no key (only blank lines or comments)".to_owned()));
        }
        Ok(Self { keys })
    }

    /// Reads the key file at `path`. Warns (tracing) when the file is readable or writable by group or others.
    ///
    /// # Errors
    /// [`Error::MasterKeyFile`] when the file cannot be read, [`Error::InvalidMasterKey`] (naming the path) when
    /// its text is not a key ring.
    pub fn load_file(path: &Path) -> Result<Self> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|error| Error::MasterKeyFile {
            path: path.to_owned(),
            action: "cannot be read",
            reason: error.to_string(),
        })?);
        warn_if_shared(path);
        Self::parse_from(&text, &path.display().to_string())
    }

    /// The ring from the environment: the key text in `TENURE_MASTER_KEY`, else the file named by
    /// `TENURE_MASTER_KEY_FILE`; `None` when neither is set.
    ///
    /// # Errors
    /// As [`Self::parse`] and [`Self::load_file`].
    pub fn from_env() -> Result<Option<Self>> {
        let text = std::env::var(MASTER_KEY_VARIABLE).ok().map(Zeroizing::new);
        let file = std::env::var_os(MASTER_KEY_FILE_VARIABLE).map(PathBuf::from);
        Self::from_sources(text.as_deref().map(String::as_str), file.as_deref())
    }

    /// [`Self::from_env`] with the variables' values given.
    fn from_sources(text: Option<&str>, file: Option<&Path>) -> Result<Option<Self>> {
        if let Some(text) = text {
            return Self::parse_from(text, MASTER_KEY_VARIABLE).map(Some);
        }
        match file {
            Some(file) if !file.as_os_str().is_empty() => Self::load_file(file).map(Some),
            _ => Ok(None),
        }
    }

    /// A ring of one new random key, and the key file text for it.
    #[must_use]
    pub fn generate() -> (Self, Secret) {
        let ring = Self { keys: vec![MasterKey::random()] };
        let text = ring.file_text();
        (ring, text)
    }

    /// The id of the key that seals.
    #[must_use]
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Every key's id, the current one first.
    #[must_use]
    pub fn key_ids(&self) -> Vec<String> {
        self.keys.iter().map(|key| key.id.clone()).collect()
    }

    /// A new random key becomes current; the existing keys stay to open older secrets. Returns the new ring and
    /// its key file text (new key first, then the old ones).
    #[must_use]
    pub fn with_new_current_key(&self) -> (Self, Secret) {
        let mut keys = vec![MasterKey::random()];
        keys.extend(self.keys.iter().cloned());
        let ring = Self { keys };
        let text = ring.file_text();
        (ring, text)
    }

    /// Only the keys whose ids are in `keep` (in ring order) — the current key always stays, since a ring must be
    /// able to seal. Returns the new ring and its key file text.
    #[must_use]
    pub fn without_keys_except(&self, keep: &[String]) -> (Self, Secret) {
        let keys = self
            .keys
            .iter()
            .enumerate()
            .filter(|(index, key)| *index == 0 || keep.contains(&key.id))
            .map(|(_, key)| key.clone())
            .collect();
        let ring = Self { keys };
        let text = ring.file_text();
        (ring, text)
    }

    /// The key file text for this ring: a comment header, then each key (current first) under a comment with its
    /// id.
    #[must_use]
    pub fn file_text(&self) -> Secret {
        let mut text = String::from(
            "# Tenure vault master keys: standard base64, one key per line. The first key seals new secrets; the\n\
             # others only open secrets sealed before the last `tenure vault rotate-key`. Keep this file private\n\
             # (mode 0600), out of the database and its backups, and back it up on its own: secrets sealed under a\n\
             # lost key cannot be recovered.\n",
        );
        for (index, key) in self.keys.iter().enumerate() {
            let role = if index == 0 { "current" } else { "older, opens only" };
            text.push_str(&format!("# key {} ({role})\n", key.id));
            text.push_str(STANDARD.encode(key.bytes.as_slice()).as_str());
            text.push('\n');
        }
        Secret::new(text)
    }

    /// Writes key file text to `path` atomically — a new file (mode 0600 on Unix) beside it, flushed to disk, then
    /// renamed over `path` — so a crash leaves either the old file or the new one, never half of one.
    ///
    /// # Errors
    /// [`Error::MasterKeyFile`] when the file cannot be written.
    pub fn write_file(path: &Path, text: &Secret) -> Result<()> {
        let failed =
            |reason: String| Error::MasterKeyFile { path: path.to_owned(), action: "cannot be written", reason };
        let name = path.file_name().ok_or_else(|| failed("the path names no file".to_owned()))?;
        let folder = match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        let temporary = folder.join(format!(".{}.{:016x}.tmp", name.to_string_lossy(), OsRng.next_u64()));
        let written = write_new_private_file(&temporary, text.expose().as_bytes())
            .and_then(|()| std::fs::rename(&temporary, path));
        if let Err(error) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(failed(error.to_string()));
        }
        // Make the rename itself durable; a folder that cannot be opened for syncing (some file systems) is fine.
        if let Ok(folder) = std::fs::File::open(folder) {
            let _ = folder.sync_all();
        }
        Ok(())
    }
}

/// Creates `path` (which must not exist) readable by its owner only, writes `bytes` and flushes them to disk.
fn write_new_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Warns when the key file at `path` is accessible to group or others.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(metadata) = std::fs::metadata(path) {
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{mode:o}"),
                    "the master key file is accessible to other users; restrict it with `chmod 600`"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_text(byte: u8) -> String {
        STANDARD.encode([byte; MASTER_KEY_BYTES])
    }

    #[test]
    fn key_ids_are_the_domain_separated_hash_prefix() {
        let ring = MasterKeyRing::parse(&key_text(7)).unwrap();
        let digest = Sha256::digest([KEY_ID_DOMAIN, &[7_u8; 32][..]].concat());
        let expected: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(ring.current_key_id(), expected);
        assert_eq!(ring.current_key_id().len(), 16);
    }

    #[test]
    fn parses_lines_commas_comments_and_duplicates_first_key_current() {
        let text =
            format!("# keys\n\n  {}  \n# older\n{},{}\n{}\n", key_text(1), key_text(2), key_text(3), key_text(1));
        let ring = MasterKeyRing::parse(&text).unwrap();
        let expected: Vec<String> = [1, 2, 3]
            .iter()
            .map(|byte| MasterKeyRing::parse(&key_text(*byte)).unwrap().current_key_id().to_owned())
            .collect();
        assert_eq!(ring.key_ids(), expected);
        assert_eq!(ring.current_key_id(), expected[0]);
    }

    #[test]
    fn parse_errors_name_the_line_and_never_the_key_text() {
        let empty = MasterKeyRing::parse("# nothing here\n\n").unwrap_err().to_string();
        assert!(empty.contains("holds no key"), "{empty}");

        let not_base64 = "c2VjcmV0LWtleS1tYXRlcmlhbC13aXRoLWEtIQ==#!";
        let message = MasterKeyRing::parse(&format!("{}\n{not_base64}", key_text(1))).unwrap_err().to_string();
        assert!(message.contains("line 2 is not standard base64"), "{message}");
        assert!(!message.contains("c2VjcmV0") && !message.contains("#!"), "{message}");

        let short = STANDARD.encode(b"sixteen byte key");
        let message = MasterKeyRing::parse(&short).unwrap_err().to_string();
        assert!(message.contains("line 1 decodes to 16 bytes, but a master key is 32 bytes"), "{message}");
        assert!(!message.contains(&short), "{message}");
    }

    #[test]
    fn debug_shows_key_ids_only() {
        let (ring, text) = MasterKeyRing::generate();
        let debug = format!("{ring:?}");
        assert!(debug.contains(ring.current_key_id()), "{debug}");
        let key_line = text.expose().lines().find(|line| !line.starts_with('#')).unwrap().to_owned();
        assert_eq!(key_line.len(), 44);
        assert!(!debug.contains(&key_line), "{debug}");
        assert_eq!(format!("{text:?}"), "[redacted]");
    }

    #[test]
    fn generated_text_parses_back_to_the_same_ring() {
        let (ring, text) = MasterKeyRing::generate();
        assert_eq!(MasterKeyRing::parse(text.expose()).unwrap().key_ids(), ring.key_ids());
        let (rotated, rotated_text) = ring.with_new_current_key();
        assert_eq!(rotated.key_ids().len(), 2);
        assert_eq!(rotated.key_ids()[1], ring.current_key_id());
        assert_eq!(MasterKeyRing::parse(rotated_text.expose()).unwrap().key_ids(), rotated.key_ids());
    }

    #[test]
    fn without_keys_except_keeps_the_current_key_and_the_named_ones() {
        let (ring, _) = MasterKeyRing::generate();
        let (two, _) = ring.with_new_current_key();
        let (three, _) = two.with_new_current_key();
        let ids = three.key_ids();
        let (trimmed, text) = three.without_keys_except(&[ids[2].clone()]);
        assert_eq!(trimmed.key_ids(), [ids[0].clone(), ids[2].clone()]);
        assert_eq!(MasterKeyRing::parse(text.expose()).unwrap().key_ids(), trimmed.key_ids());
        let (only_current, _) = three.without_keys_except(&[]);
        assert_eq!(only_current.key_ids(), [ids[0].clone()]);
    }

    #[test]
    fn the_key_variable_wins_over_the_file_variable_and_errors_name_it() {
        let folder = std::env::temp_dir();
        let missing = folder.join("tenure-no-such-master-key-file");
        assert!(MasterKeyRing::from_sources(None, None).unwrap().is_none());
        assert!(MasterKeyRing::from_sources(None, Some(Path::new(""))).unwrap().is_none());
        let from_text = MasterKeyRing::from_sources(Some(&key_text(9)), Some(&missing)).unwrap().unwrap();
        assert_eq!(from_text.key_ids().len(), 1);
        let message = MasterKeyRing::from_sources(Some("short"), None).unwrap_err().to_string();
        assert!(message.contains(MASTER_KEY_VARIABLE), "{message}");
        let message = MasterKeyRing::from_sources(None, Some(&missing)).unwrap_err().to_string();
        assert!(message.contains("tenure-no-such-master-key-file") && message.contains("cannot be read"), "{message}");
    }
}
