//! `tenure vault rotate-key` and `new-key` on a real SQLite store: every sealed value (connection secrets and a
//! pending link's verifier) opens with the new key alone afterwards, the key file holds exactly that key, a
//! rotation interrupted after its first write is finished by running it again, nothing changes when a stored
//! secret does not open, and no key text is ever printed.

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{Duration, Utc};
use clap::Parser as _;
use model::{NationalCloud, Secret};
use store::{
    ConnectionAuth, ConnectionId, ConnectionKind, NewConnection, OAuthPurpose, OAuthState, Store, StoredSecret,
    connection_secret_context, oauth_state_context,
};
use vault::MasterKeyRing;

/// The plaintexts put in the store, by (connection name, purpose).
const SECRETS: [(&str, &str, &str); 3] = [
    ("contoso", "refresh_token", "0.AXoA-refresh-token-contoso"),
    ("fabrikam", "client_secret", "fabrikam~client~secret"),
    ("fabrikam", "private_key:ABCDEF", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"),
];
const VERIFIER: &str = "pkce-verifier-of-a-pending-link";
const STATE_HASH: &str = "5a7e";

struct Fixture {
    _dir: tempfile::TempDir,
    folder: PathBuf,
    key_file: PathBuf,
    store_url: String,
}

fn sealed(ring: &MasterKeyRing, plaintext: &str, context: &str) -> StoredSecret {
    let sealed = ring.seal(&Secret::new(plaintext), context);
    StoredSecret { key_id: sealed.key_id, ciphertext: sealed.ciphertext }
}

fn key_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// A key file and a SQLite store holding three connection secrets and one pending OAuth state, all sealed by
/// `ring` (which is written to the key file).
async fn fixture(ring: &MasterKeyRing, text: &Secret) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().to_owned();
    let key_file = folder.join("master.key");
    MasterKeyRing::write_file(&key_file, text).unwrap();
    let store_url = format!("sqlite://{}", folder.join("tenure.db").display());
    let store = Store::open(&store_url).await.unwrap();
    let now = Utc::now();
    for name in ["contoso", "fabrikam"] {
        let new = NewConnection {
            name: name.to_owned(),
            kind: ConnectionKind::EntraApp,
            auth: ConnectionAuth::ClientSecret,
            cloud: NationalCloud::Global,
            tenant_id: Some("tenant".to_owned()),
            client_id: Some("client".to_owned()),
        };
        store.create_connection(&new, now).await.unwrap();
    }
    for (name, purpose, plaintext) in SECRETS {
        let id = store.connection_by_name(name).await.unwrap().unwrap().id;
        let secret = sealed(ring, plaintext, &connection_secret_context(id, purpose));
        store.put_secret(id, purpose, &secret, now).await.unwrap();
    }
    let contoso = store.connection_by_name("contoso").await.unwrap().unwrap().id;
    let state = OAuthState {
        state_hash: STATE_HASH.to_owned(),
        connection_id: contoso,
        purpose: OAuthPurpose::Link,
        session_binding: "session".to_owned(),
        verifier: Some(sealed(ring, VERIFIER, &oauth_state_context(STATE_HASH))),
        redirect_uri: "https://tenure.example.com/oauth/callback".to_owned(),
        expires_at: now + Duration::minutes(10),
    };
    store.save_oauth_state(&state).await.unwrap();
    store.close().await;
    Fixture { _dir: dir, folder, key_file, store_url }
}

/// Asserts that every stored value opens with the key file's ring, which holds one key, not among `old_ids`.
async fn assert_everything_opens_with_the_new_key_alone(fixture: &Fixture, old_ids: &[String]) -> MasterKeyRing {
    assert_eq!(key_lines(&fixture.key_file).len(), 1, "the key file holds exactly one key");
    let ring = MasterKeyRing::load_file(&fixture.key_file).unwrap();
    assert_eq!(ring.key_ids().len(), 1);
    assert!(!old_ids.contains(&ring.current_key_id().to_owned()), "a new key");
    let store = Store::open(&fixture.store_url).await.unwrap();
    let rows = store.list_secrets().await.unwrap();
    assert_eq!(rows.len(), SECRETS.len() + 1);
    for row in &rows {
        assert_eq!(row.secret.key_id, ring.current_key_id(), "{}", row.purpose);
    }
    for (name, purpose, plaintext) in SECRETS {
        let id: ConnectionId = store.connection_by_name(name).await.unwrap().unwrap().id;
        let stored = store.secret(id, purpose).await.unwrap().unwrap();
        let opened = ring
            .open(
                &vault::SealedSecret { key_id: stored.key_id, ciphertext: stored.ciphertext },
                &connection_secret_context(id, purpose),
            )
            .unwrap();
        assert_eq!(opened.expose(), plaintext);
    }
    let verifier = store.take_oauth_state(STATE_HASH).await.unwrap().unwrap().verifier.unwrap();
    let opened = ring
        .open(
            &vault::SealedSecret { key_id: verifier.key_id, ciphertext: verifier.ciphertext },
            &oauth_state_context(STATE_HASH),
        )
        .unwrap();
    assert_eq!(opened.expose(), VERIFIER);
    store.close().await;
    ring
}

async fn run_cli(arguments: &[&str]) -> anyhow::Result<()> {
    let cli = cli::Cli::try_parse_from(std::iter::once("tenure").chain(arguments.iter().copied())).unwrap();
    cli::run(cli).await
}

async fn tenure(folder: &Path, arguments: &[&str], environment: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tenure"));
    command.args(arguments).current_dir(folder).env("RUST_LOG", "warn");
    for variable in ["TENURE_MASTER_KEY", "TENURE_MASTER_KEY_FILE", "TENURE_CONFIG"] {
        command.env_remove(variable);
    }
    for (name, value) in environment {
        command.env(name, value);
    }
    command.output().await.unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test]
async fn rotate_key_reseals_every_secret_and_the_file_keeps_only_the_new_key() {
    let (old, old_text) = MasterKeyRing::generate();
    let fixture = fixture(&old, &old_text).await;
    let key_file = fixture.key_file.display().to_string();
    run_cli(&["vault", "rotate-key", "--key-file", &key_file, "--store", &fixture.store_url]).await.unwrap();

    let new = assert_everything_opens_with_the_new_key_alone(&fixture, &old.key_ids()).await;
    assert_ne!(key_lines(&fixture.key_file), key_lines_of(&old_text));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&fixture.key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The old ring cannot open what was re-sealed.
    let store = Store::open(&fixture.store_url).await.unwrap();
    let row = store.list_secrets().await.unwrap().remove(0);
    let error = old
        .open(
            &vault::SealedSecret { key_id: row.secret.key_id.clone(), ciphertext: row.secret.ciphertext.clone() },
            &row.seal_context(),
        )
        .unwrap_err();
    assert!(error.to_string().contains(new.current_key_id()), "{error}");
    store.close().await;
}

fn key_lines_of(text: &Secret) -> Vec<String> {
    text.expose().lines().filter(|line| !line.starts_with('#')).map(str::to_owned).collect()
}

#[tokio::test]
async fn an_interrupted_rotation_is_finished_by_running_it_again() {
    let (old, old_text) = MasterKeyRing::generate();
    let fixture = fixture(&old, &old_text).await;
    // The state after a crash in the middle: the file has a second key in front, one secret is under it.
    let (middle, middle_text) = old.with_new_current_key();
    MasterKeyRing::write_file(&fixture.key_file, &middle_text).unwrap();
    let store = Store::open(&fixture.store_url).await.unwrap();
    let id = store.connection_by_name("contoso").await.unwrap().unwrap().id;
    let context = connection_secret_context(id, "refresh_token");
    store.put_secret(id, "refresh_token", &sealed(&middle, SECRETS[0].2, &context), Utc::now()).await.unwrap();
    store.close().await;

    let key_file = fixture.key_file.display().to_string();
    run_cli(&["vault", "rotate-key", "--key-file", &key_file, "--store", &fixture.store_url]).await.unwrap();
    assert_everything_opens_with_the_new_key_alone(&fixture, &middle.key_ids()).await;
}

#[tokio::test]
async fn nothing_changes_when_a_stored_secret_does_not_open() {
    let (old, old_text) = MasterKeyRing::generate();
    let fixture = fixture(&old, &old_text).await;
    let (stranger, _) = MasterKeyRing::generate();
    let store = Store::open(&fixture.store_url).await.unwrap();
    let id = store.connection_by_name("fabrikam").await.unwrap().unwrap().id;
    let context = connection_secret_context(id, "client_secret");
    store.put_secret(id, "client_secret", &sealed(&stranger, "lost", &context), Utc::now()).await.unwrap();
    let before = store.list_secrets().await.unwrap();
    store.close().await;
    let file_before = std::fs::read_to_string(&fixture.key_file).unwrap();

    let key_file = fixture.key_file.display().to_string();
    let error =
        run_cli(&["vault", "rotate-key", "--key-file", &key_file, "--store", &fixture.store_url]).await.unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("nothing was changed") && message.contains("client_secret of connection"), "{message}");
    assert!(message.contains(stranger.current_key_id()) && message.contains("older key"), "{message}");
    assert_eq!(std::fs::read_to_string(&fixture.key_file).unwrap(), file_before);
    let store = Store::open(&fixture.store_url).await.unwrap();
    assert_eq!(store.list_secrets().await.unwrap(), before);
    store.close().await;
}

#[tokio::test]
async fn the_command_reads_the_configuration_and_prints_ids_and_counts_never_keys() {
    let (old, old_text) = MasterKeyRing::generate();
    let fixture = fixture(&old, &old_text).await;
    // Relative paths resolve against the configuration's folder; the rest of the file is not this command's.
    let config = fixture.folder.join("tenure.toml");
    std::fs::write(
        &config,
        "policy = \"policy.toml\"\n[store]\nurl = \"sqlite://tenure.db\"\n[hr]\nfile = \"hr.csv\"\n\
         [vault]\nmaster_key_file = \"master.key\"\n[server]\nbind = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let output =
        tenure(elsewhere.path(), &["vault", "rotate-key", "--config", &config.display().to_string()], &[]).await;
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");
    let new = assert_everything_opens_with_the_new_key_alone(&fixture, &old.key_ids()).await;
    assert!(
        printed.contains(&format!("re-sealed 4 secret(s) under the new master key {}", new.current_key_id())),
        "{printed}"
    );
    assert!(printed.contains(&format!("retired master key(s): {}", old.current_key_id())), "{printed}");
    for key in key_lines_of(&old_text).into_iter().chain(key_lines(&fixture.key_file)) {
        assert!(!printed.contains(&key[..16]), "no key text is printed: {printed}");
    }
}

#[tokio::test]
async fn a_key_from_the_environment_is_not_rotated_and_new_key_never_overwrites() {
    let folder = tempfile::tempdir().unwrap();
    let (_, key_text) = MasterKeyRing::generate();
    let key = key_lines_of(&key_text).remove(0);
    std::fs::write(folder.path().join("tenure.toml"), "[store]\nurl = \"sqlite://tenure.db\"\n").unwrap();
    let refused = tenure(folder.path(), &["vault", "rotate-key"], &[("TENURE_MASTER_KEY", &key)]).await;
    assert!(!refused.status.success());
    let message = text(&refused);
    assert!(message.contains("TENURE_MASTER_KEY environment variable, which this command cannot rewrite"), "{message}");
    assert!(!message.contains(&key[..16]), "{message}");
    assert!(!folder.path().join("tenure.db").exists(), "the store was not touched");

    let created = tenure(folder.path(), &["vault", "new-key", "--out", "master.key"], &[]).await;
    assert!(created.status.success(), "{}", text(&created));
    let ring = MasterKeyRing::load_file(&folder.path().join("master.key")).unwrap();
    assert!(text(&created).contains(ring.current_key_id()), "{}", text(&created));
    let contents = std::fs::read_to_string(folder.path().join("master.key")).unwrap();
    let again = tenure(folder.path(), &["vault", "new-key", "--out", "master.key"], &[]).await;
    assert!(!again.status.success() && text(&again).contains("already exists"), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(folder.path().join("master.key")).unwrap(), contents);
}
