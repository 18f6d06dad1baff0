//! Shared set-up for `vault`'s integration tests: a sandbox on `127.0.0.1:0` (optionally with knobs that make
//! the login host countable or faulty), configurations for the sample seed's app registrations, certificates
//! made with rcgen and registered through the sandbox admin API, and reading JWT payloads.
#![allow(dead_code, unreachable_pub)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use model::{NationalCloud, Secret};
use sandbox::knobs::Knobs;
use sandbox::{RunningSandbox, Sandbox};
use serde_json::Value;
use vault::{ClientCredential, ClientCredentialsConfig};

/// Contoso (Global) from the sample seed.
pub const CONTOSO: &str = "6e3b1c2a-5d4f-4a8b-9c1d-2e3f4a5b6c7d";
/// Contoso's customer-owned app.
pub const CONTOSO_APP: &str = "a1b2c3d4-0000-4000-8000-00000000c001";
/// Its secret.
pub const CONTOSO_APP_SECRET: &str = "contoso-app-secret-A1s2D3f4G5h6";
/// Fabrikam (GCC High).
pub const FABRIKAM: &str = "7f4c2d3b-6e5a-4b9c-8d2e-3f4a5b6c7d8e";
/// Fabrikam's app registration.
pub const FABRIKAM_APP: &str = "a1b2c3d4-0000-4000-8000-00000000f001";
/// Its secret.
pub const FABRIKAM_APP_SECRET: &str = "fabrikam-app-secret-Z1x2C3v4B5n6";

/// A sandbox with the sample seed.
pub async fn start() -> RunningSandbox {
    start_with(Knobs::default()).await
}

/// A sandbox with the sample seed and `knobs`.
pub async fn start_with(knobs: Knobs) -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    Sandbox::builder().knobs(knobs).start(listener).await.expect("sandbox starts")
}

/// Knobs that add `latency_ms` to every login-host request, so `delayed_requests` counts token requests (and,
/// with a few milliseconds, concurrent callers really overlap).
pub fn counting_knobs(latency_ms: u64) -> Knobs {
    Knobs { latency_ms, include_login: true, ..Knobs::default() }
}

/// Requests the login host received since start (needs [`counting_knobs`]).
pub fn login_requests(sandbox: &RunningSandbox) -> u64 {
    sandbox.state().knobs.stats().delayed_requests
}

/// `{https_base}/{host}`: the sandbox's path-prefix addressing of a Microsoft host.
pub fn host_base(sandbox: &RunningSandbox, host: &str) -> String {
    format!("{}/{host}", sandbox.https_base())
}

/// A configuration for `client` in `tenant` of `cloud`, through the sandbox's `cloud` login host, for Graph.
pub fn config(
    sandbox: &RunningSandbox,
    cloud: NationalCloud,
    tenant: &str,
    client: &str,
    credential: ClientCredential,
) -> ClientCredentialsConfig {
    ClientCredentialsConfig {
        login_base_url: Some(host_base(sandbox, cloud.login_host())),
        extra_root_certificate_pem: Some(sandbox.ca_pem().as_bytes().to_vec()),
        ..ClientCredentialsConfig::new(cloud, tenant, client, credential)
    }
}

/// Contoso's app with `secret`, through the sandbox.
pub fn contoso(sandbox: &RunningSandbox, secret: &str) -> ClientCredentialsConfig {
    config(sandbox, NationalCloud::Global, CONTOSO, CONTOSO_APP, ClientCredential::Secret(Secret::new(secret)))
}

/// The payload of a JWT, without verification.
pub fn jwt_payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON payload")
}

/// The `roles` claim of a JWT.
pub fn roles(token: &str) -> Vec<String> {
    jwt_payload(token)["roles"]
        .as_array()
        .map(|roles| roles.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// A self-signed RSA certificate and its private key, both PEM.
pub struct TestCertificate {
    /// The certificate.
    pub certificate_pem: String,
    /// The PKCS#8 private key.
    pub private_key_pem: String,
}

impl TestCertificate {
    /// A new RSA-2048 key and a certificate valid from `not_before` to `not_after` (year, month, day).
    pub fn new(not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> TestCertificate {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
        let mut params = rcgen::CertificateParams::new(vec!["tenure-vault-test".to_string()]).expect("params");
        params.distinguished_name.push(rcgen::DnType::CommonName, "tenure vault test");
        params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let certificate = params.self_signed(&key).expect("self-signed");
        TestCertificate { certificate_pem: certificate.pem(), private_key_pem: key.serialize_pem() }
    }

    /// Valid from 2020 to 2099.
    pub fn valid() -> TestCertificate {
        TestCertificate::new((2020, 1, 1), (2099, 1, 1))
    }

    /// The credential.
    pub fn credential(&self) -> ClientCredential {
        ClientCredential::Certificate {
            certificate_pem: self.certificate_pem.clone(),
            private_key_pem: Secret::new(self.private_key_pem.clone()),
        }
    }
}

/// Registers `certificate` on `app_id` through the admin API; returns the admin API's answer.
pub async fn register_certificate(sandbox: &RunningSandbox, app_id: &str, certificate: &TestCertificate) -> Value {
    let ca = reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("CA PEM");
    let http = reqwest::Client::builder().tls_certs_only([ca]).build().expect("client");
    let response = http
        .post(format!("{}/apps/{app_id}/certificates", sandbox.admin_base()))
        .json(&serde_json::json!({"pem": certificate.certificate_pem}))
        .send()
        .await
        .expect("admin API answers");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON answer");
    assert_eq!(status, 201, "{body}");
    body
}
