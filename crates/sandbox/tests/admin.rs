//! The sandbox admin API over HTTPS (every endpoint and its errors) and state persistence: export, import and
//! the state file keep users, groups, credentials and uniqueness as they were, and never hold a clear secret.

mod common;

use std::path::PathBuf;

use base64::Engine;
use reqwest::StatusCode;
use sandbox::Sandbox;
use sandbox::directory::app::secret_hash;
use serde_json::{Value, json};
use uuid::Uuid;

/// Seed secrets, a generated secret pattern and the sample password: none may appear in an export.
const CLEAR_SECRETS: &[&str] = &[
    common::PASSWORD,
    common::CONTOSO_APP_SECRET,
    "tenure-sp-secret-Q9w8E7r6T5y4",
    "tenure-sp-usgov-secret-H3j4K5l6Z7x8",
    "tenure-sp-china-secret-V9b8N7m6Q5w4",
    "fabrikam-app-secret-Z1x2C3v4B5n6",
    "tailspin-app-secret-P0o9I8u7Y6t5",
];

async fn get(client: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let response = client.get(url).send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn send(client: &reqwest::Client, method: reqwest::Method, url: String, body: &str) -> (StatusCode, Value) {
    let response = client
        .request(method, url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> (StatusCode, Value) {
    send(client, reqwest::Method::POST, url, &body.to_string()).await
}

fn assert_error(status: StatusCode, body: &Value, expected_status: u16, expected_code: &str) {
    assert_eq!(status.as_u16(), expected_status, "{body}");
    assert_eq!(body["error"]["code"], expected_code, "{body}");
    let message = body["error"]["message"].as_str().expect("error.message is a string");
    assert!(!message.is_empty(), "{body}");
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sandbox-admin-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

#[tokio::test]
async fn health_answers_ok_over_https_and_http_and_unknown_paths_are_json_errors() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let response = client.get(format!("{}/health", sandbox.admin_base())).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap_or("").starts_with("application/json"));
    assert_eq!(response.json::<Value>().await.expect("json"), json!({"status": "ok"}));
    let (status, body) = get(&client, format!("{}/_sandbox/health", sandbox.http_base())).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));

    let (status, body) = get(&client, format!("{}/no-such-thing", sandbox.admin_base())).await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = send(&client, reqwest::Method::DELETE, format!("{}/health", sandbox.admin_base()), "").await;
    assert_error(status, &body, 405, "method_not_allowed");
}

#[tokio::test]
async fn the_tenant_list_counts_live_users_and_groups_per_tenant() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let (status, body) = get(&client, format!("{}/tenants", sandbox.admin_base())).await;
    assert_eq!(status, StatusCode::OK);
    let tenants = body.as_array().expect("an array");
    assert_eq!(tenants.len(), 6, "{body}");
    let contoso = tenants.iter().find(|tenant| tenant["id"] == common::CONTOSO).expect("Contoso listed");
    assert_eq!(contoso["name"], "Contoso");
    assert_eq!(contoso["cloud"], "Global");
    assert_eq!(contoso["domains"], json!(["contoso.onmicrosoft.com", "contoso.com"]));
    assert_eq!(contoso["users"], 6);
    assert_eq!(contoso["groups"], 4);
    let fabrikam = tenants.iter().find(|tenant| tenant["id"] == common::FABRIKAM).expect("Fabrikam listed");
    assert_eq!(fabrikam["cloud"], "UsGovHigh");

    // A user in deleted items is no longer counted.
    let tenant = sandbox.tenant(common::CONTOSO).expect("Contoso");
    let adele = Uuid::parse_str(common::ADELE).expect("uuid");
    let now = sandbox.state().clock.now();
    assert!(tenant.write().update_user(adele, |user| user.deleted = Some(now)));
    let (_, body) = get(&client, format!("{}/tenants", sandbox.admin_base())).await;
    let contoso = body.as_array().expect("array").iter().find(|tenant| tenant["id"] == common::CONTOSO).cloned();
    assert_eq!(contoso.expect("Contoso")["users"], 5);
}

#[tokio::test]
async fn knobs_are_read_replaced_and_checked() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let url = format!("{}/knobs", sandbox.admin_base());
    let (status, knobs) = get(&client, url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(knobs["replication_delay_ms"], 0, "{knobs}");

    let (status, _) =
        send(&client, reqwest::Method::PUT, url.clone(), r#"{"replication_delay_ms": 1500, "seed": 7}"#).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, knobs) = get(&client, url.clone()).await;
    assert_eq!((knobs["replication_delay_ms"].clone(), knobs["seed"].clone()), (json!(1500), json!(7)));
    assert_eq!(sandbox.state().knobs.replication_delay(), chrono::Duration::milliseconds(1500));

    let (status, body) = send(&client, reqwest::Method::PUT, url.clone(), r#"{"replication_dealy_ms": 5}"#).await;
    assert_error(status, &body, 400, "invalid_request");
    assert!(body["error"]["message"].as_str().unwrap_or("").contains("replication_dealy_ms"), "{body}");
    let (status, body) = send(&client, reqwest::Method::PUT, url.clone(), r#"{"error_rate": 2.0}"#).await;
    assert_error(status, &body, 400, "invalid_knobs");
    assert!(body["error"]["message"].as_str().unwrap_or("").contains("error_rate"), "{body}");
    let (status, body) = send(&client, reqwest::Method::PUT, url.clone(), "").await;
    assert_error(status, &body, 400, "invalid_request");
    let (status, body) = send(&client, reqwest::Method::PUT, url.clone(), "{not json").await;
    assert_error(status, &body, 400, "invalid_request");
    // A refused change leaves the knobs as they were.
    let (_, knobs) = get(&client, url).await;
    assert_eq!(knobs["replication_delay_ms"], 1500);
}

#[tokio::test]
async fn the_clock_moves_forward_only_and_within_bounds() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let url = format!("{}/clock/advance", sandbox.admin_base());
    let before = sandbox.state().clock.now();
    let (status, body) = post(&client, url.clone(), json!({"seconds": 3600})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["offset_seconds"], 3600);
    let now = chrono::DateTime::parse_from_rfc3339(body["now"].as_str().expect("now")).expect("RFC 3339");
    assert!(now.timestamp() >= before.timestamp() + 3600, "{body}");
    assert_eq!(sandbox.state().clock.offset().num_seconds(), 3600);
    let (_, body) = post(&client, url.clone(), json!({"seconds": 60})).await;
    assert_eq!(body["offset_seconds"], 3660);

    for bad in [json!({"seconds": -5}), json!({"seconds": i64::MAX}), json!({}), json!({"seconds": "ten"})] {
        let (status, body) = post(&client, url.clone(), bad.clone()).await;
        assert_error(status, &body, 400, "invalid_request");
    }
    let (status, body) = post(&client, url, json!({"seconds": 1, "minutes": 2})).await;
    assert_error(status, &body, 400, "invalid_request");
    assert_eq!(sandbox.state().clock.offset().num_seconds(), 3660);
}

#[tokio::test]
async fn a_certificate_is_added_with_its_thumbprints_once() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let certified = rcgen::generate_simple_self_signed(vec!["tenure-test".to_string()]).expect("certificate");
    let pem = certified.cert.pem();
    let der = certified.cert.der().to_vec();
    let url = format!("{}/apps/{}/certificates", sandbox.admin_base(), common::CONTOSO_APP);

    let (status, body) = post(&client, url.clone(), json!({"pem": pem})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    assert_eq!(body["thumbprint_sha1"], hex_upper(sha1.as_ref()));
    assert_eq!(body["thumbprint_sha256"], hex_upper(sha256.as_ref()));
    let key_id = Uuid::parse_str(body["key_id"].as_str().expect("key_id")).expect("key_id is a GUID");
    let app = sandbox.state().directory.app(Uuid::parse_str(common::CONTOSO_APP).expect("uuid")).expect("app");
    let stored = app.certificates.iter().find(|certificate| certificate.key_id == key_id).expect("stored");
    assert_eq!(stored.der_base64, base64::engine::general_purpose::STANDARD.encode(&der));

    let (status, body) = post(&client, url.clone(), json!({"pem": pem})).await;
    assert_error(status, &body, 409, "duplicate_certificate");
    let (status, body) =
        post(&client, url.clone(), json!({"pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}))
            .await;
    assert_error(status, &body, 400, "invalid_certificate");
    let (status, body) = post(&client, url.clone(), json!({"pem": certified.signing_key.serialize_pem()})).await;
    assert_error(status, &body, 400, "invalid_certificate");
    let (status, body) = post(&client, url, json!({"certificate": pem})).await;
    assert_error(status, &body, 400, "invalid_request");
    for app_id in ["a1b2c3d4-0000-4000-8000-0000000000ff", "not-a-guid"] {
        let url = format!("{}/apps/{app_id}/certificates", sandbox.admin_base());
        let (status, body) = post(&client, url, json!({"pem": pem})).await;
        assert_error(status, &body, 404, "unknown_app");
    }
}

#[tokio::test]
async fn a_secret_is_added_hashed_given_or_generated() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let url = format!("{}/apps/{}/secrets", sandbox.admin_base(), common::CONTOSO_APP);
    let app_id = Uuid::parse_str(common::CONTOSO_APP).expect("uuid");

    let (status, body) =
        post(&client, url.clone(), json!({"value": "rehearsal-secret-1", "expires_in_days": 30})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["hint"], "reh");
    assert!(body.get("value").is_none(), "a given value is not echoed: {body}");
    let key_id = Uuid::parse_str(body["key_id"].as_str().expect("key_id")).expect("GUID");
    let app = sandbox.state().directory.app(app_id).expect("app");
    let secret = app.secrets.iter().find(|secret| secret.key_id == key_id).expect("stored");
    assert_eq!(secret.sha256_hex, secret_hash("rehearsal-secret-1"));
    let days = (secret.expires - sandbox.state().clock.now()).num_hours();
    assert!((29 * 24..=30 * 24).contains(&days), "{days} hours");

    let (status, body) = post(&client, url.clone(), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let value = body["value"].as_str().expect("a generated value is returned once");
    assert_eq!(value.len(), 40);
    assert_eq!(&value[4..6], "Q~");
    assert_eq!(body["hint"], &value[..3]);
    let app = sandbox.state().directory.app(app_id).expect("app");
    assert!(app.secrets.iter().any(|secret| secret.sha256_hex == secret_hash(value)));
    assert_eq!(app.secrets.len(), 3);

    let (status, body) = post(&client, url.clone(), json!({"value": "  "})).await;
    assert_error(status, &body, 400, "invalid_request");
    let (status, body) = post(&client, url.clone(), json!({"value": "x-secret", "expires_in_days": 99_999})).await;
    assert_error(status, &body, 400, "invalid_request");
    let (status, body) = post(&client, url, json!({"value": 5})).await;
    assert_error(status, &body, 400, "invalid_request");
    let url = format!("{}/apps/a1b2c3d4-0000-4000-8000-0000000000ff/secrets", sandbox.admin_base());
    let (status, body) = post(&client, url, json!({"value": "x-secret"})).await;
    assert_error(status, &body, 404, "unknown_app");
}

#[tokio::test]
async fn the_state_export_is_versioned_and_holds_only_hashes() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let (status, body) =
        post(&client, format!("{}/apps/{}/secrets", sandbox.admin_base(), common::CONTOSO_APP), json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let generated = body["value"].as_str().expect("generated").to_string();

    let response = client.get(format!("{}/state", sandbox.admin_base())).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("body");
    for secret in CLEAR_SECRETS.iter().copied().chain([generated.as_str()]) {
        assert!(!text.contains(secret), "the export holds a clear secret");
    }
    let state: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(state["format"], 1);
    assert_eq!(state["tenants"].as_array().expect("tenants").len(), 6);
    assert_eq!(state["apps"].as_array().expect("apps").len(), 6);
    assert!(state["identity"].is_object(), "the identity platform's refresh-token chains are part of the state");
    let contoso = state["tenants"].as_array().expect("tenants").iter().find(|tenant| tenant["id"] == common::CONTOSO);
    let adele = &contoso.expect("Contoso")["users"][common::ADELE];
    assert_eq!(adele["user_principal_name"], "adele.vance@contoso.com");
    assert_eq!(adele["password_sha256"].as_str().map(str::len), Some(64));
}

/// Changes Contoso in ways the export must carry: an edited user, a purged user, a membership change.
fn change_contoso(sandbox: &sandbox::RunningSandbox) -> (Uuid, Uuid) {
    let tenant = sandbox.tenant(common::CONTOSO).expect("Contoso");
    let mut tenant = tenant.write();
    let adele = Uuid::parse_str(common::ADELE).expect("uuid");
    let megan = Uuid::parse_str("0b1c2d3e-0000-4000-8000-000000000004").expect("uuid");
    let all_staff = Uuid::parse_str("0c1d2e3f-0000-4000-8000-000000000001").expect("uuid");
    assert!(tenant.update_user(adele, |user| user.department = Some("Rehearsals".into())));
    assert!(tenant.update_group(all_staff, |group| {
        group.members.remove(&adele);
    }));
    assert!(tenant.purge_user(megan).is_some());
    (adele, megan)
}

#[tokio::test]
async fn an_export_imports_to_the_same_directory_with_working_uniqueness() {
    let sandbox = common::start().await;
    let (adele, megan) = change_contoso(&sandbox);
    sandbox.state().clock.advance(chrono::Duration::seconds(90));
    let exported = sandbox::persist::export(sandbox.state());

    let restored = sandbox::persist::import(exported.clone()).expect("imports");
    assert_eq!(restored.clock_offset.num_seconds(), 90);
    let before = sandbox.tenant(common::CONTOSO).expect("Contoso");
    let before = before.read();
    let after = restored.directory.tenant(common::CONTOSO).expect("Contoso restored");
    let after = after.read();
    assert_eq!(after.users.keys().collect::<Vec<_>>(), before.users.keys().collect::<Vec<_>>());
    assert_eq!(after.groups.keys().collect::<Vec<_>>(), before.groups.keys().collect::<Vec<_>>());
    assert_eq!(after.users[&adele].department.as_deref(), Some("Rehearsals"));
    let all_staff = Uuid::parse_str("0c1d2e3f-0000-4000-8000-000000000001").expect("uuid");
    assert!(!after.groups[&all_staff].members.contains(&adele));
    assert_eq!(after.seq, before.seq);
    assert_eq!(after.changes, before.changes, "the change index (delta) is rebuilt as it was");
    assert!(after.users[&adele].password_matches(common::PASSWORD), "hashes survive");
    // Uniqueness indexes are rebuilt: Adele's UPN and mail are taken, the purged user's are free.
    assert_eq!(after.check_unique(Some("ADELE.VANCE@contoso.com"), &[], None).map_err(|c| c.holder), Err(adele));
    assert_eq!(after.address_holder("adele.vance@contoso.com"), Some(adele));
    assert!(after.check_unique(Some("megan.bowen@contoso.com"), &[], None).is_ok());
    assert!(!after.users.contains_key(&megan));
    assert_eq!(restored.directory.apps().len(), 6);
    let app = restored.directory.app(Uuid::parse_str(common::CONTOSO_APP).expect("uuid")).expect("app");
    assert!(app.secrets.iter().any(|secret| secret.sha256_hex == secret_hash(common::CONTOSO_APP_SECRET)));

    // The same state exports to the same JSON again.
    let reexported: Vec<Value> = {
        let mut tenants: Vec<_> = restored.directory.tenants();
        tenants.sort_by_key(|tenant| tenant.read().id);
        tenants.iter().map(|tenant| serde_json::to_value(&*tenant.read()).expect("serializes")).collect()
    };
    assert_eq!(Value::Array(reexported), exported["tenants"]);
}

#[tokio::test]
async fn a_bad_export_is_refused_with_the_reason() {
    let message = |value: Value| sandbox::persist::import(value).expect_err("refused").to_string();
    assert!(message(json!({"tenants": []})).contains("format"));
    assert!(message(json!({"format": 2, "tenants": []})).contains("unsupported format 2"));
    assert!(message(json!([1, 2])).contains("JSON object"));
    let error = message(json!({"format": 1, "tenants": [{"id": common::CONTOSO, "display_name": "Contoso"}]}));
    assert!(error.contains(common::CONTOSO) && error.contains("missing field"), "{error}");
}

#[tokio::test]
async fn the_state_file_is_written_at_start_saved_on_stop_and_restored() {
    let dir = scratch_dir("state-file");
    let path = dir.join("state.json");
    let sandbox = common::start_with(Sandbox::builder().state_file(&path)).await;
    assert!(!sandbox.restored_from_state_file());
    assert!(path.exists(), "a new state file is written at start");
    assert!(!sandbox.save_state().expect("saves"), "nothing changed yet");
    let (adele, megan) = change_contoso(&sandbox);
    let client = common::client(&sandbox);
    let url = format!("{}/apps/{}/secrets", sandbox.admin_base(), common::CONTOSO_APP);
    let (status, _) = post(&client, url, json!({"value": "kept-across-restarts"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let now = sandbox.state().clock.now();
    let contoso = Uuid::parse_str(common::CONTOSO).expect("uuid");
    let tenure_app = Uuid::parse_str(common::TENURE_APP).expect("uuid");
    let refresh_token =
        sandbox.state().identity.start_refresh_chain(tenure_app, contoso, adele, now, "openid User.Read", now);
    assert!(sandbox.save_state().expect("saves"), "a new refresh token is a change");
    sandbox.state().clock.advance(chrono::Duration::days(2));
    sandbox.stop().await.expect("stops and saves");

    let text = std::fs::read_to_string(&path).expect("state file");
    for secret in CLEAR_SECRETS.iter().copied().chain(["kept-across-restarts", refresh_token.as_str()]) {
        assert!(!text.contains(secret), "the state file holds a clear secret");
    }
    assert!(!dir.join(".state.json.tmp").exists(), "the temporary file was renamed");

    // A different seed is ignored when the state file exists (but still checked).
    let one_tenant = sandbox::seed::Seed::from_toml(
        r#"
[[tenants]]
id = "11111111-1111-1111-1111-111111111111"
name = "Other"
domains = ["other.onmicrosoft.com"]
"#,
    )
    .expect("seed");
    let sandbox = common::start_with(Sandbox::builder().seed(one_tenant).state_file(&path)).await;
    assert!(sandbox.restored_from_state_file());
    assert!(sandbox.tenant("11111111-1111-1111-1111-111111111111").is_none());
    assert!(sandbox.state().clock.offset() >= chrono::Duration::days(2));
    {
        let tenant = sandbox.tenant(common::CONTOSO).expect("Contoso restored");
        let tenant = tenant.read();
        assert_eq!(tenant.users[&adele].department.as_deref(), Some("Rehearsals"));
        assert!(!tenant.users.contains_key(&megan));
        assert_eq!(tenant.upn_holder("adele.vance@contoso.com"), Some(adele));
    }
    let app = sandbox.state().directory.app(Uuid::parse_str(common::CONTOSO_APP).expect("uuid")).expect("app");
    assert!(app.secrets.iter().any(|secret| secret.sha256_hex == secret_hash("kept-across-restarts")));
    let (_, chain) = sandbox.state().identity.refresh_token(&refresh_token).expect("the refresh token survives");
    assert_eq!((chain.user_id, chain.client_id), (adele, tenure_app));
    assert!(!sandbox.save_state().expect("saves"), "a restored, unchanged state is not rewritten");
    sandbox.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_unreadable_state_file_stops_the_start_with_its_path() {
    let dir = scratch_dir("bad-state");
    let listener = || async { tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind") };

    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{ this is not json").expect("write");
    let error = Sandbox::builder().state_file(&garbage).start(listener().await).await.expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("garbage.json") && message.contains("not valid JSON"), "{message}");
    assert_eq!(std::fs::read_to_string(&garbage).expect("read"), "{ this is not json", "the file is left alone");

    let error = Sandbox::builder().state_file(&dir).start(listener().await).await.expect_err("a directory");
    assert!(error.to_string().contains("reading state file"), "{error}");

    let missing_parent = dir.join("no-such-dir").join("state.json");
    let error = Sandbox::builder().state_file(&missing_parent).start(listener().await).await.expect_err("unwritable");
    assert!(error.to_string().contains("no-such-dir"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}
