//! `tenure sandbox` as a user runs it: the built binary starts with the bundled sample, announces itself (one
//! JSON line or a readable summary), serves HTTPS that the printed CA file lets clients trust, saves its state
//! file on SIGTERM, and refuses bad input (seed, busy port, state file) with a clear message.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

/// How long the test waits for the binary to say something or to exit before giving up.
const PATIENCE: Duration = Duration::from_secs(90);
const CONTOSO: &str = "6e3b1c2a-5d4f-4a8b-9c1d-2e3f4a5b6c7d";
const FABRIKAM: &str = "7f4c2d3b-6e5a-4b9c-8d2e-3f4a5b6c7d8e";
const CONTOSO_APP: &str = "a1b2c3d4-0000-4000-8000-00000000c001";

/// A running `tenure` process whose standard output arrives line by line.
struct Tenure {
    child: Option<Child>,
    lines: Receiver<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Tenure {
    fn spawn(arguments: &[&str]) -> Tenure {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tenure"))
            .args(arguments)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tenure binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Tenure { child: Some(child), lines, stderr: Some(stderr) }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// The next line of standard output (blocking, with a guard against a binary that never answers).
    fn next_line(&mut self) -> String {
        match self.lines.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(_) => {
                let (status, stderr) = self.kill_and_collect();
                panic!("no line on stdout; the process ended with {status:?}; stderr:\n{stderr}");
            }
        }
    }

    fn kill_and_collect(&mut self) -> (Option<ExitStatus>, String) {
        let status = self.child.take().and_then(|mut child| {
            let _ = child.kill();
            child.wait().ok()
        });
        (status, self.stderr.take().and_then(|handle| handle.join().ok()).unwrap_or_default())
    }

    /// Waits for the process to exit by itself; returns its status and standard error.
    fn wait_for_exit(mut self) -> (ExitStatus, String) {
        let mut child = self.child.take().expect("running");
        let pid = child.id();
        let (sender, exited) = channel();
        std::thread::spawn(move || {
            let _ = sender.send(child.wait());
        });
        let status = match exited.recv_timeout(PATIENCE) {
            Ok(status) => status.expect("wait"),
            Err(_) => {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
                panic!("tenure did not exit");
            }
        };
        let stderr = self.stderr.take().and_then(|handle| handle.join().ok()).unwrap_or_default();
        (status, stderr)
    }
}

impl Drop for Tenure {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tenure-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn client_trusting(ca_pem_file: &str) -> reqwest::Client {
    let pem = std::fs::read(ca_pem_file).expect("the printed CA file exists");
    let ca = reqwest::Certificate::from_pem(&pem).expect("a PEM certificate");
    reqwest::Client::builder().tls_certs_only([ca]).build().expect("client")
}

#[tokio::test]
async fn the_json_line_describes_a_serving_sandbox_that_the_printed_ca_lets_clients_trust() {
    let mut tenure = Tenure::spawn(&["sandbox", "--listen", "127.0.0.1:0", "--json"]);
    let line = tenure.next_line();
    let summary: Value = serde_json::from_str(&line).expect("one line of JSON");
    let https = summary["https"].as_str().expect("https").to_string();
    let port = https.rsplit(':').next().expect("port").to_string();
    assert!(https.starts_with("https://127.0.0.1:") && port != "0", "{https}");
    assert_eq!(summary["http"], format!("http://127.0.0.1:{port}"));
    assert_eq!(summary["admin"], format!("{https}/_sandbox"));
    let ca_pem_file = summary["ca_pem_file"].as_str().expect("ca_pem_file");
    assert!(std::path::Path::new(ca_pem_file).is_absolute(), "{ca_pem_file}");

    let tenants = summary["tenants"].as_array().expect("tenants");
    let contoso = tenants.iter().find(|tenant| tenant["id"] == CONTOSO).expect("Contoso");
    assert_eq!(contoso["name"], "Contoso");
    assert_eq!(contoso["cloud"], "Global");
    assert_eq!(contoso["domains"], json!(["contoso.onmicrosoft.com", "contoso.com"]));
    assert_eq!(contoso["authority"], format!("{https}/{CONTOSO}"));
    assert_eq!(contoso["graph"], format!("{https}/v1.0"));
    let fabrikam = tenants.iter().find(|tenant| tenant["id"] == FABRIKAM).expect("Fabrikam");
    assert_eq!(fabrikam["authority"], format!("{https}/login.microsoftonline.us/{FABRIKAM}"));
    assert_eq!(fabrikam["graph"], format!("{https}/graph.microsoft.us/v1.0"));
    let app = summary["apps"].as_array().expect("apps").iter().find(|app| app["app_id"] == CONTOSO_APP).cloned();
    let app = app.expect("Contoso's app");
    assert_eq!(app["secrets"], json!(["contoso-app-secret-A1s2D3f4G5h6"]));
    assert_eq!(app["home_tenant"], CONTOSO);
    assert_eq!(app["multi_tenant"], false);
    let users = summary["users"].as_array().expect("users");
    let admin = users.iter().find(|user| user["upn"] == "admin@contoso.com").expect("Contoso's admin");
    assert_eq!(admin["tenant"], CONTOSO);
    assert_eq!(admin["password"], "Sandbox!Pass1");
    assert_eq!(admin["roles"], json!(["Global Administrator"]));

    let client = client_trusting(ca_pem_file);
    let health: Value = client
        .get(format!("{https}/_sandbox/health"))
        .send()
        .await
        .expect("health over HTTPS")
        .json()
        .await
        .expect("JSON");
    assert_eq!(health, json!({"status": "ok"}));
    let discovery = client
        .get(format!("{}/v2.0/.well-known/openid-configuration", contoso["authority"].as_str().expect("authority")))
        .send()
        .await
        .expect("discovery over HTTPS");
    assert_eq!(discovery.status(), reqwest::StatusCode::OK);
    let discovery: Value = discovery.json().await.expect("JSON");
    assert!(discovery["token_endpoint"].as_str().expect("token_endpoint").starts_with(&format!("{https}/{CONTOSO}/")));

    let killed = Command::new("kill").args(["-TERM", &tenure.pid().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let (status, stderr) = tenure.wait_for_exit();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(!std::path::Path::new(ca_pem_file).exists(), "the temporary CA file is removed on exit");
}

#[tokio::test]
async fn the_readable_summary_names_endpoints_credentials_and_how_to_trust_the_ca() {
    let dir = scratch_dir("readable");
    let ca_out = dir.join("ca.pem");
    let mut tenure =
        Tenure::spawn(&["sandbox", "--listen", "127.0.0.1:0", "--ca-out", ca_out.to_str().expect("utf-8 path")]);
    let mut text = String::new();
    loop {
        let line = tenure.next_line();
        text.push_str(&line);
        text.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let port =
        text.split("https://127.0.0.1:").nth(1).and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next());
    let https = format!("https://127.0.0.1:{}", port.expect("the HTTPS address is printed"));
    for expected in [
        format!("{https}/login.microsoftonline.us/{FABRIKAM}"),
        format!("{https}/graph.microsoft.us/v1.0"),
        format!("{https}/{CONTOSO}"),
        format!("{https}/_sandbox"),
        "contoso-app-secret-A1s2D3f4G5h6".to_string(),
        "admin@contoso.com".to_string(),
        "Sandbox!Pass1".to_string(),
        "Global Administrator".to_string(),
        format!("curl --cacert {}", ca_out.display()),
        "trust_env = False".to_string(),
        "no authentication".to_string(),
    ] {
        assert!(text.contains(&expected), "{expected:?} missing from:\n{text}");
    }
    assert!(std::fs::read_to_string(&ca_out).expect("--ca-out written").starts_with("-----BEGIN CERTIFICATE-----"));
    drop(tenure);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sigterm_stops_the_sandbox_cleanly_and_saves_the_state_file() {
    let dir = scratch_dir("sigterm");
    let state_file = dir.join("state.json");
    let ca_out = dir.join("ca.pem");
    let arguments = [
        "sandbox",
        "--listen",
        "127.0.0.1:0",
        "--json",
        "--state-file",
        state_file.to_str().expect("utf-8 path"),
        "--ca-out",
        ca_out.to_str().expect("utf-8 path"),
    ];
    let mut tenure = Tenure::spawn(&arguments);
    let summary: Value = serde_json::from_str(&tenure.next_line()).expect("JSON line");
    assert_eq!(summary["ca_pem_file"], ca_out.to_str().expect("utf-8 path"));
    let client = client_trusting(summary["ca_pem_file"].as_str().expect("ca file"));
    let response = client
        .post(format!("{}/apps/{CONTOSO_APP}/secrets", summary["admin"].as_str().expect("admin")))
        .json(&json!({"value": "added-before-sigterm"}))
        .send()
        .await
        .expect("add a secret");
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);

    let killed = Command::new("kill").args(["-TERM", &tenure.pid().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let (status, stderr) = tenure.wait_for_exit();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("SIGTERM") && stderr.contains("state saved"), "{stderr}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&state_file).expect("saved")).expect("JSON");
    assert_eq!(saved["format"], 1);
    let hash = sandbox::directory::app::secret_hash("added-before-sigterm");
    let app = saved["apps"].as_array().expect("apps").iter().find(|app| app["app_id"] == CONTOSO_APP).cloned();
    let secrets = app.expect("app saved")["secrets"].clone();
    assert!(
        secrets.as_array().expect("secrets").iter().any(|secret| secret["sha256_hex"] == hash.as_str()),
        "{secrets}"
    );

    // Started again on the same file, it announces the restored state.
    let mut tenure = Tenure::spawn(&arguments);
    let summary: Value = serde_json::from_str(&tenure.next_line()).expect("JSON line");
    assert!(summary["tenants"].as_array().expect("tenants").iter().any(|tenant| tenant["id"] == CONTOSO));
    drop(tenure);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_seed_file_is_reported_with_the_tenant_and_user() {
    let dir = scratch_dir("bad-seed");
    let seed = dir.join("seed.toml");
    std::fs::write(
        &seed,
        "[[tenants]]\nid = \"11111111-1111-1111-1111-111111111111\"\nname = \"Woodgrove\"\n\
         domains = [\"woodgrove.onmicrosoft.com\"]\n[[tenants.users]]\nupn = \"ann@elsewhere.com\"\n\
         display_name = \"Ann\"\npassword = \"x\"\n",
    )
    .expect("write seed");
    let tenure = Tenure::spawn(&["sandbox", "--listen", "127.0.0.1:0", "--seed", seed.to_str().expect("utf-8")]);
    let (status, stderr) = tenure.wait_for_exit();
    assert!(!status.success());
    for expected in ["seed.toml", "Woodgrove", "ann@elsewhere.com", "not a verified domain"] {
        assert!(stderr.contains(expected), "{expected:?} missing from: {stderr}");
    }

    std::fs::write(&seed, "[[tenants]]\nname = 5\n").expect("write seed");
    let tenure = Tenure::spawn(&["sandbox", "--listen", "127.0.0.1:0", "--seed", seed.to_str().expect("utf-8")]);
    let (status, stderr) = tenure.wait_for_exit();
    assert!(!status.success());
    assert!(stderr.contains("parsing the seed file") && stderr.contains("seed.toml"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_port_in_use_is_reported_as_such() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let tenure = Tenure::spawn(&["sandbox", "--listen", &address, "--json"]);
    let (status, stderr) = tenure.wait_for_exit();
    assert!(!status.success());
    assert!(stderr.contains("already in use") && stderr.contains("--listen"), "{stderr}");
}

#[test]
fn an_unreadable_state_file_or_knobs_file_is_reported_with_its_path() {
    let dir = scratch_dir("bad-files");
    let state_file = dir.join("state.json");
    std::fs::write(&state_file, "{\"format\": 99}").expect("write");
    let tenure =
        Tenure::spawn(&["sandbox", "--listen", "127.0.0.1:0", "--state-file", state_file.to_str().expect("utf-8")]);
    let (status, stderr) = tenure.wait_for_exit();
    assert!(!status.success());
    assert!(stderr.contains("state.json") && stderr.contains("unsupported format 99"), "{stderr}");

    let knobs = dir.join("knobs.toml");
    std::fs::write(&knobs, "error_rate = 3.0\n").expect("write");
    let tenure = Tenure::spawn(&["sandbox", "--listen", "127.0.0.1:0", "--knobs", knobs.to_str().expect("utf-8")]);
    let (status, stderr) = tenure.wait_for_exit();
    assert!(!status.success());
    assert!(stderr.contains("knobs.toml") && stderr.contains("error_rate"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
