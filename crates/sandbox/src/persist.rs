//! Saving and restoring a sandbox's state: the versioned JSON export behind `GET /_sandbox/state` and
//! `tenure sandbox --state-file`, and the state file itself (loaded at start, saved atomically when something
//! changed and at shutdown).
//!
//! The export holds the tenants (users, groups, licences, consent, the delta change log) and the app
//! registrations exactly as the [`crate::directory`] types serialize them, plus the clock offset. Passwords and
//! client secrets are only ever present as the SHA-256 hashes the directory keeps; certificates are public
//! parts; the token-signing key and the TLS CA are not saved at all (they are generated afresh at each start,
//! so tokens issued before a restart stop verifying, as after a key rollover).
//!
//! The identity platform's refresh-token chains go under `"identity"`, as
//! [`crate::identity::IdentityState::snapshot`] renders them (token digests, never tokens). Authorization
//! codes, sign-in sessions and flows in progress are short-lived and not saved.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Duration;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::watch;
use uuid::Uuid;

use crate::Error;
use crate::directory::Directory;
use crate::directory::app::App;
use crate::directory::tenant::Tenant;
use crate::state::AppState;

/// The version of the state format written by [`export`]; [`import`] refuses any other.
pub const FORMAT: u64 = 1;

/// How often a running sandbox with a state file checks whether its state changed and saves it.
pub const AUTOSAVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// A state read back by [`import`], ready to serve.
#[derive(Debug)]
pub struct Restored {
    /// Tenants and apps, with their indexes rebuilt.
    pub directory: Directory,
    /// How far the sandbox clock had been moved ahead of real time.
    pub clock_offset: Duration,
    /// The identity platform's snapshot, when the file has one.
    pub identity: Option<Value>,
}

/// The whole state as versioned JSON: `{"format":1,"clock_offset_ms":…,"tenants":[…],"apps":[…],
/// "identity":{…}}`.
///
/// Tenants are ordered by id and apps by client id, so that an unchanged state exports to the same bytes.
pub fn export(state: &AppState) -> Value {
    let mut tenants: Vec<(Uuid, Value)> = state
        .directory
        .tenants()
        .iter()
        .map(|tenant| {
            let tenant = tenant.read();
            // Every field is plain data keyed by strings or GUIDs, so serialization cannot fail; were it to, the
            // tenant would be missing from the export, and that is logged.
            let value = serde_json::to_value(&*tenant).unwrap_or_else(|error| {
                tracing::error!(tenant = %tenant.id, error = %error, "Exporting a tenant failed.");
                Value::Null
            });
            (tenant.id, value)
        })
        .collect();
    tenants.sort_by_key(|(id, _)| *id);
    let mut apps = state.directory.apps();
    apps.sort_by_key(|app| app.app_id);
    json!({
        "format": FORMAT,
        "clock_offset_ms": state.clock.offset().num_milliseconds(),
        "tenants": tenants.into_iter().map(|(_, tenant)| tenant).collect::<Vec<_>>(),
        "apps": apps,
        "identity": state.identity.snapshot(),
    })
}

fn invalid(message: String) -> Error {
    Error::State(message)
}

/// Reads an exported state back into a directory (rebuilding the uniqueness indexes and change index).
pub fn import(value: Value) -> Result<Restored, Error> {
    let Value::Object(mut object) = value else {
        return Err(invalid("expected a JSON object".into()));
    };
    match object.get("format") {
        Some(Value::Number(number)) if number.as_u64() == Some(FORMAT) => {}
        Some(other) => return Err(invalid(format!("unsupported format {other} (this sandbox reads format {FORMAT})"))),
        None => return Err(invalid("no \"format\" field: not a sandbox state export".into())),
    }
    let clock_offset_ms = match object.get("clock_offset_ms") {
        None | Some(Value::Null) => 0,
        Some(value) => value.as_i64().ok_or_else(|| invalid("\"clock_offset_ms\" is not an integer".into()))?,
    };
    let directory = Directory::default();
    for (index, app) in array(&mut object, "apps")?.into_iter().enumerate() {
        let label = describe(&app, "app_id");
        let app: App =
            serde_json::from_value(app).map_err(|error| invalid(format!("app {index} ({label}): {error}")))?;
        if directory.app(app.app_id).is_some() {
            return Err(invalid(format!("app {} appears twice", app.app_id)));
        }
        directory.insert_app(app);
    }
    for (index, tenant) in array(&mut object, "tenants")?.into_iter().enumerate() {
        let label = describe(&tenant, "id");
        let tenant: Tenant =
            serde_json::from_value(tenant).map_err(|error| invalid(format!("tenant {index} ({label}): {error}")))?;
        if directory.tenant(&tenant.id.to_string()).is_some() {
            return Err(invalid(format!("tenant {} appears twice", tenant.id)));
        }
        let tenant = directory.insert_tenant(tenant);
        warn_about_shared_values(&tenant.read());
    }
    Ok(Restored {
        directory,
        clock_offset: Duration::milliseconds(clock_offset_ms.max(0)),
        identity: object.remove("identity").filter(|identity| !identity.is_null()),
    })
}

fn array(object: &mut serde_json::Map<String, Value>, key: &str) -> Result<Vec<Value>, Error> {
    match object.remove(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(format!("\"{key}\" is not an array"))),
    }
}

fn describe(item: &Value, key: &str) -> String {
    item.get(key).and_then(Value::as_str).unwrap_or("no id").to_string()
}

/// A state edited by hand may give two live objects one UPN or address; the indexes then point at only one of
/// them. That is worth a warning, not a refusal to start (the file would otherwise be unusable).
fn warn_about_shared_values(tenant: &Tenant) {
    for user in tenant.users.values().filter(|user| !user.is_deleted()) {
        if tenant.upn_holder(&user.user_principal_name) != Some(user.id) {
            tracing::warn!(tenant = %tenant.id, user = %user.id, "Two live users share a userPrincipalName.");
        }
        if user.smtp_addresses().iter().any(|address| tenant.address_holder(address) != Some(user.id)) {
            tracing::warn!(tenant = %tenant.id, user = %user.id, "A user shares an SMTP address with another object.");
        }
    }
}

/// Reads a state file; `Ok(None)` when there is no file at `path` yet.
pub fn load_file(path: &Path) -> Result<Option<Restored>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::Io { context: format!("reading state file {}", path.display()), source }),
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|error| invalid(format!("state file {} is not valid JSON: {error}", path.display())))?;
    match import(value) {
        Ok(restored) => Ok(Some(restored)),
        Err(Error::State(message)) => Err(invalid(format!("state file {}: {message}", path.display()))),
        Err(other) => Err(other),
    }
}

/// Writes `text` to `path` atomically: a temporary file in the same directory, flushed to disk, then renamed
/// over the target, so a crash mid-write leaves the previous file intact.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), Error> {
    let file_name = path.file_name().map_or_else(|| "state".into(), |name| name.to_string_lossy().into_owned());
    let temporary = path.with_file_name(format!(".{file_name}.tmp"));
    let io = |context: &str| {
        let context = format!("{context} {}", temporary.display());
        move |source| Error::Io { context, source }
    };
    let mut file = std::fs::File::create(&temporary).map_err(io("creating"))?;
    file.write_all(text.as_bytes()).map_err(io("writing"))?;
    file.sync_all().map_err(io("flushing"))?;
    drop(file);
    std::fs::rename(&temporary, path)
        .map_err(|source| Error::Io { context: format!("renaming the saved state to {}", path.display()), source })
}

/// What was last written to a state file: a cheap fingerprint of the state and the SHA-256 of the text.
#[derive(Clone, Copy, Debug)]
struct Saved {
    fingerprint: u64,
    digest: [u8; 32],
}

/// A state file and what was last written to it.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    last_saved: Mutex<Option<Saved>>,
}

impl StateFile {
    /// A state file at `path`, not yet saved by this process.
    pub fn new(path: PathBuf) -> StateFile {
        StateFile { path, last_saved: Mutex::new(None) }
    }

    /// Where the state is saved.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the current state as already on disk (after loading it), so it is not rewritten unchanged.
    pub fn mark_saved(&self, state: &AppState) {
        let fingerprint = fingerprint(state);
        *self.last_saved.lock() = Some(Saved { fingerprint, digest: digest(&render(state)) });
    }

    /// Saves the state if its text differs from what this process last saved; returns whether it wrote the
    /// file.
    pub fn save_if_changed(&self, state: &AppState) -> Result<bool, Error> {
        let mut last_saved = self.last_saved.lock();
        let fingerprint = fingerprint(state);
        let text = render(state);
        let digest = digest(&text);
        let unchanged = last_saved.is_some_and(|saved| saved.digest == digest);
        if !unchanged {
            write_atomically(&self.path, &text)?;
        }
        *last_saved = Some(Saved { fingerprint, digest });
        Ok(!unchanged)
    }

    /// The periodic check: exporting a large tenant takes a while, so the state is only rendered (and saved if
    /// its text changed) when its fingerprint moved since the last save.
    fn save_if_fingerprint_changed(&self, state: &AppState) -> Result<bool, Error> {
        let last = *self.last_saved.lock();
        if last.is_some_and(|saved| saved.fingerprint == fingerprint(state)) {
            return Ok(false);
        }
        self.save_if_changed(state)
    }
}

fn render(state: &AppState) -> String {
    let mut text = serde_json::to_string_pretty(&export(state)).unwrap_or_default();
    text.push('\n');
    text
}

fn digest(text: &str) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    let mut bytes = [0_u8; 32];
    bytes.copy_from_slice(digest.as_ref());
    bytes
}

/// A cheap summary of everything that changes in a running sandbox: each tenant's change sequence (every user
/// and group write moves it), the sizes of the collections written without it (consent, grants,
/// credentials), the clock and the identity snapshot (refresh-token digests). A change it cannot see (an
/// in-place edit that keeps every size) is still saved at shutdown, which compares the full text.
fn fingerprint(state: &AppState) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    state.clock.offset().num_milliseconds().hash(&mut hasher);
    state.identity.snapshot().to_string().hash(&mut hasher);
    let mut tenants = state.directory.tenants();
    tenants.sort_by_key(|tenant| tenant.read().id);
    for tenant in tenants {
        let tenant = tenant.read();
        (tenant.id, tenant.seq, tenant.users.len(), tenant.groups.len(), &tenant.display_name).hash(&mut hasher);
        (tenant.domains.len(), tenant.skus.len(), tenant.tombstones.len()).hash(&mut hasher);
        (tenant.exchange.revision, tenant.exchange.data_loss.len()).hash(&mut hasher);
        for sku in &tenant.skus {
            sku.enabled_units.hash(&mut hasher);
        }
        for principal in &tenant.service_principals {
            (principal.app_id, principal.app_roles.len(), principal.directory_roles.len()).hash(&mut hasher);
        }
        for grant in &tenant.grants {
            (grant.client_id, grant.principal, grant.scopes.len()).hash(&mut hasher);
        }
        for request in &tenant.consent_requests {
            (request.id, request.status as u8).hash(&mut hasher);
        }
    }
    let mut apps = state.directory.apps();
    apps.sort_by_key(|app| app.app_id);
    for app in apps {
        (app.app_id, app.secrets.len(), app.certificates.len(), app.redirect_uris.len()).hash(&mut hasher);
        (app.required_permissions.len(), app.multi_tenant, &app.display_name).hash(&mut hasher);
    }
    hasher.finish()
}

/// Saves the state every [`AUTOSAVE_INTERVAL`] when it changed, until `shutdown` turns true (the final save is
/// [`crate::RunningSandbox::stop`]'s).
pub(crate) async fn autosave(state: Arc<AppState>, file: Arc<StateFile>, mut shutdown: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(AUTOSAVE_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => return,
        }
        let (state, file) = (state.clone(), file.clone());
        match tokio::task::spawn_blocking(move || file.save_if_fingerprint_changed(&state)).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(error = %error, "Saving the sandbox state failed."),
            Err(error) => tracing::warn!(error = %error, "The state-saving task failed."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKeys;
    use crate::knobs::KnobState;
    use crate::tls::TlsMaterial;

    #[test]
    fn an_exchange_only_change_moves_the_autosave_fingerprint() {
        let directory = crate::seed::Seed::sample().build(chrono::Utc::now()).expect("the sample builds");
        let keys = SigningKeys::generate().expect("keys");
        let tls = TlsMaterial::generate().expect("tls");
        let state = AppState::new(directory, keys, tls, KnobState::default());
        let before = fingerprint(&state);
        let tenant = state.directory.tenant("contoso.com").expect("Contoso");
        tenant.write().exchange.mailboxes.values_mut().for_each(|mailbox| mailbox.hidden_from_address_lists = true);
        assert_eq!(fingerprint(&state), before, "an edit without touch() is invisible to the fingerprint");
        tenant.write().exchange.touch();
        assert_ne!(fingerprint(&state), before);
    }
}
