//! Secrets never leave the vault in clear text: a full `tenure sync` through a linked Service provider connection
//! (refresh token, provider app secret), with a Customer owned application (client secret) and a certificate
//! connection (private key) beside it, run with every log at `trace`; then every log line and every command's
//! output, and the database files byte for byte, are searched for each secret and for access tokens.

#[path = "../../engine/tests/support/mod.rs"]
mod support;

#[path = "../../vault/tests/link/mod.rs"]
mod link;

use std::path::Path;
use std::process::Output;

use engine::EngineConfig;
use engine::connections::NewConnectionRequest;
use link::{Browser, Landing};
use model::{NationalCloud, Secret};
use sandbox::knobs::Knobs;
use tokio::process::Command;
use vault::MasterKeyRing;

const PROVIDER_APP: &str = "a1b2c3d4-0000-4000-8000-00000000a001";
const PROVIDER_SECRET: &str = "tenure-sp-secret-Q9w8E7r6T5y4";

async fn tenure(config: &Path, arguments: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenure"));
    if arguments.first() == Some(&"connection") {
        command.arg("connection").arg("--config").arg(config).args(&arguments[1..]);
    } else {
        command.args(arguments).arg("--config").arg(config);
    }
    command
        .current_dir(config.parent().expect("the config file's folder"))
        .env("RUST_LOG", "trace")
        .env("TENURE_PROGRESS", "lines")
        .env_remove("TENURE_MASTER_KEY")
        .output()
        .await
        .expect("tenure runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_logs_outputs_or_the_database() {
    let sandbox = support::start_sandbox(Knobs::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path();
    support::write_inputs(path, &support::workforce(10));
    let (_, key_text) = MasterKeyRing::generate();
    MasterKeyRing::write_file(&path.join("master.key"), &key_text).expect("key file");
    std::fs::write(path.join("provider-secret.txt"), PROVIDER_SECRET).expect("provider secret");
    std::fs::write(path.join("app-secret.txt"), support::CONTOSO_APP_SECRET).expect("app secret");
    std::fs::write(path.join("ca.pem"), sandbox.ca_pem()).expect("CA");
    let config_path = path.join("tenure.toml");
    std::fs::write(
        &config_path,
        format!(
            "policy = \"policy.toml\"\n[store]\nurl = \"sqlite://tenure.db\"\n[hr]\nfile = \"hr.csv\"\n\
             [connections]\ngraph = \"contoso\"\n[vault]\nmaster_key_file = \"master.key\"\n\
             [server]\npublic_url = \"http://localhost:8080\"\n\
             [provider_app]\nclient_id = \"{PROVIDER_APP}\"\nclient_secret_file = \"provider-secret.txt\"\n\
             [sandbox]\nurl = \"{}\"\nca_file = \"ca.pem\"\n",
            sandbox.https_base()
        ),
    )
    .expect("config");

    // Link the Service provider connection the way an admin does (sign-in and consent on the sandbox's pages).
    let config = EngineConfig::load(&config_path).expect("config loads");
    let store = store::Store::open(&config.store.url).await.expect("store");
    let service = engine::connections::connection_service(&config, store.clone()).expect("service");
    let view = service
        .create(NewConnectionRequest::ServiceProvider { name: "contoso".into(), cloud: NationalCloud::Global })
        .await
        .expect("created");
    let url = service.begin_link(view.connection.id, "admin-session").await.expect("link starts");
    let browser = Browser::new(&sandbox);
    let landing = browser.sign_in_with(&browser.open(&url).await.page(), "admin@contoso.com", "Sandbox!Pass1").await;
    let landing = match landing {
        Landing::Page(consent) => browser.submit(&consent, "accept", &[("org_consent", "on")]).await,
        callback => callback,
    };
    let Landing::Callback(query) = landing else { panic!("a callback") };
    service.complete_callback(&query, "admin-session").await.expect("linked");
    let keys = engine::connections::master_keys(&config).expect("keys");
    let open = |row: &store::SecretRow| {
        keys.open(
            &vault::SealedSecret { key_id: row.secret.key_id.clone(), ciphertext: row.secret.ciphertext.clone() },
            &row.seal_context(),
        )
        .expect("opens")
    };
    let first_refresh_token = store
        .list_secrets()
        .await
        .expect("secrets")
        .iter()
        .find(|row| row.purpose == "refresh_token")
        .map(open)
        .expect("a refresh token");
    let sample_token =
        service.token_provider(view.connection.id).await.expect("provider").access_token().await.expect("token");
    store.close().await;

    // The admin's commands, every log at trace.
    let mut outputs = Vec::new();
    for arguments in [
        &[
            "connection",
            "add",
            "contoso-app",
            "--type",
            "customer-app",
            "--tenant-id",
            support::CONTOSO_TENANT,
            "--client-id",
            support::CONTOSO_APP,
            "--client-secret-file",
            "app-secret.txt",
        ][..],
        &[
            "connection",
            "add",
            "contoso-cert",
            "--type",
            "customer-app",
            "--tenant-id",
            support::CONTOSO_TENANT,
            "--client-id",
            support::CONTOSO_APP,
        ][..],
        &["connection", "test", "contoso-app"][..],
        &["connection", "test", "contoso-cert"][..],
        &["sync"][..],
        &["connection", "test", "contoso"][..],
        &["connection", "show", "contoso"][..],
        &["connection", "list"][..],
        &["runs"][..],
        &["audit"][..],
    ] {
        let output = tenure(&config_path, arguments).await;
        if arguments.starts_with(&["connection", "add"]) {
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "{}{}",
                stdout,
                String::from_utf8_lossy(&output.stderr)
                    .lines()
                    .filter(|line| !line.contains("TRACE") && !line.contains("DEBUG"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        outputs.push((arguments.join(" "), output));
    }
    let (_, sync) = outputs.iter().find(|(command, _)| command == "sync").expect("sync ran");
    assert!(sync.status.success(), "{}", text(sync));
    assert!(text(sync).contains("succeeded"), "{}", text(sync));
    let (_, app_test) = outputs.iter().find(|(command, _)| command == "connection test contoso-app").expect("ran");
    assert!(app_test.status.success(), "{}", text(app_test));
    let all_output: String = outputs.iter().map(|(command, output)| format!("$ {command}\n{}", text(output))).collect();
    assert!(all_output.contains("TRACE"), "trace logging is on");

    // Every secret there is.
    let store = store::Store::open(&config.store.url).await.expect("store");
    let rows = store.list_secrets().await.expect("secrets");
    store.close().await;
    let mut secrets: Vec<(String, Secret)> = vec![
        ("provider app secret".into(), Secret::new(PROVIDER_SECRET)),
        ("customer app secret".into(), Secret::new(support::CONTOSO_APP_SECRET)),
        ("first refresh token".into(), first_refresh_token),
    ];
    for line in key_text.expose().lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()) {
        secrets.push(("master key".into(), Secret::new(line.trim())));
    }
    for row in &rows {
        let value = open(row);
        if row.purpose.starts_with("private_key:") {
            // Any line of the key's base64 body.
            for line in value.expose().lines().filter(|line| !line.starts_with("-----")).take(3) {
                secrets.push((format!("{} line", row.purpose), Secret::new(line)));
            }
        } else {
            secrets.push((row.purpose.clone(), value));
        }
    }
    assert!(rows.iter().any(|row| row.purpose.starts_with("private_key:")), "a certificate connection was made");
    // Access tokens are JWTs; their header is the same for every token the sandbox issues, so it marks any
    // token that leaked, whichever it was.
    let jwt_header = sample_token.token.expose().split('.').next().expect("a JWT").to_string();
    secrets.push(("access token (JWT header)".into(), Secret::new(jwt_header)));

    let mut database = Vec::new();
    for entry in std::fs::read_dir(path).expect("dir") {
        let entry = entry.expect("entry");
        if entry.file_name().to_string_lossy().starts_with("tenure.db") {
            database.extend(std::fs::read(entry.path()).expect("database file"));
        }
    }
    assert!(!database.is_empty());
    for (what, secret) in &secrets {
        assert!(secret.expose().len() >= 12, "{what} is long enough to search for");
        assert!(!all_output.contains(secret.expose()), "the {what} appears in a log line or an output");
        assert!(
            !database.windows(secret.expose().len()).any(|window| window == secret.expose().as_bytes()),
            "the {what} appears in the database in clear text"
        );
    }
    assert!(!all_output.contains("\"password\":\""), "a password value in the logs");
    sandbox.shutdown().await;
}
