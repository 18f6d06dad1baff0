//! Shared set-up for the Exchange client's integration tests: start a sandbox (sample seed or a variant of it,
//! optional knobs) on `127.0.0.1:0`, and build an [`exchange::ExchangeClient`] that trusts the sandbox CA and gets
//! real app-only tokens from the sandbox's token endpoint with Contoso's app (client credentials, done here in a
//! few lines so the tests do not depend on `vault`). Also: a Graph call and the sandbox admin API, for the tests
//! that change licences and read the data-loss record.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use exchange::{Anchor, ExchangeClient, ExchangeConfig};
use model::{AccessToken, AccessTokenProvider, Secret, TokenError, TokenFuture};
use sandbox::knobs::Knobs;
use sandbox::seed::{SAMPLE_SEED, Seed};
use sandbox::{RunningSandbox, Sandbox};
use serde_json::Value;
use tokio::sync::Mutex;

/// Contoso (Global) from the sample seed.
pub const CONTOSO: &str = "6e3b1c2a-5d4f-4a8b-9c1d-2e3f4a5b6c7d";
/// Contoso's app (client id), a member of the "Tenure Provisioning" role group.
pub const CONTOSO_APP: &str = "a1b2c3d4-0000-4000-8000-00000000c001";
/// Contoso's app secret.
pub const CONTOSO_APP_SECRET: &str = "contoso-app-secret-A1s2D3f4G5h6";
/// The Exchange scope for app-only tokens.
pub const EXCHANGE_SCOPE: &str = "https://outlook.office365.com/.default";
/// The Graph scope.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
/// Adele Vance (licensed, a mailbox; Alex's manager).
pub const ADELE: &str = "adele.vance@contoso.com";
/// Alex Wilber (licensed, a mailbox).
pub const ALEX: &str = "alex.wilber@contoso.com";
/// Alex's directory id.
pub const ALEX_ID: &str = "0b1c2d3e-0000-4000-8000-000000000003";
/// Megan Bowen (no licence, no mailbox).
pub const MEGAN: &str = "megan.bowen@contoso.com";
/// The mail-enabled security group of the sample.
pub const FINANCE_APPROVERS: &str = "finance-approvers@contoso.com";
/// The distribution list of the sample.
pub const RETAIL_ANNOUNCEMENTS: &str = "retail-announcements@contoso.com";
/// Contoso's ENTERPRISEPACK SKU.
pub const ENTERPRISEPACK: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";
/// The role line of the "Tenure Provisioning" role group in the sample seed.
const ROLES_LINE: &str =
    r#"roles = ["Distribution Groups", "Security Group Creation and Membership", "Mail Recipients"]"#;

/// Starts a sandbox with the sample seed and these knobs.
pub async fn start(knobs: Knobs) -> RunningSandbox {
    start_seeded(Seed::from_toml(SAMPLE_SEED).expect("sample seed"), knobs).await
}

/// Starts a sandbox whose "Tenure Provisioning" role group lacks `missing_role`.
pub async fn start_without_role(missing_role: &str) -> RunningSandbox {
    assert!(SAMPLE_SEED.contains(ROLES_LINE), "the sample seed's role line changed");
    let roles: Vec<String> = ["Distribution Groups", "Security Group Creation and Membership", "Mail Recipients"]
        .into_iter()
        .filter(|role| *role != missing_role)
        .map(|role| format!("\"{role}\""))
        .collect();
    let text = SAMPLE_SEED.replace(ROLES_LINE, &format!("roles = [{}]", roles.join(", ")));
    start_seeded(Seed::from_toml(&text).expect("edited seed"), Knobs::default()).await
}

async fn start_seeded(seed: Seed, knobs: Knobs) -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    Sandbox::builder().seed(seed).knobs(knobs).start(listener).await.expect("sandbox starts")
}

/// An HTTPS client trusting only the sandbox CA.
pub fn http(sandbox: &RunningSandbox) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("CA PEM");
    reqwest::Client::builder().tls_certs_only([ca]).build().expect("client")
}

/// Client credentials for Contoso's app against the sandbox's token endpoint. The token is cached;
/// `fresh_access_token` fetches a new one. `fetched` counts the tokens fetched.
pub struct SandboxTokens {
    http: reqwest::Client,
    token_url: String,
    scope: &'static str,
    cached: Mutex<Option<String>>,
    /// Hands out this text instead of a real token until a fresh token is asked for.
    pub stale: std::sync::Mutex<Option<String>>,
    /// How many tokens were fetched.
    pub fetched: std::sync::atomic::AtomicU32,
    /// Every token fetched.
    pub issued: std::sync::Mutex<Vec<String>>,
}

impl SandboxTokens {
    /// A provider for Contoso's app on `sandbox`, for `scope`.
    pub fn new(sandbox: &RunningSandbox, scope: &'static str) -> SandboxTokens {
        SandboxTokens {
            http: http(sandbox),
            token_url: format!("{}/{CONTOSO}/oauth2/v2.0/token", sandbox.https_base()),
            scope,
            cached: Mutex::new(None),
            stale: std::sync::Mutex::new(None),
            fetched: std::sync::atomic::AtomicU32::new(0),
            issued: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The raw token text (fetched if needed), for tests that check it never shows up in errors.
    pub async fn token_text(&self) -> String {
        self.access_token().await.expect("token").token.expose().to_string()
    }

    async fn fetch(&self) -> Result<String, TokenError> {
        let failed = |message: String| TokenError { message, transient: false, needs_relink: false };
        self.fetched.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = self
            .http
            .post(&self.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CONTOSO_APP),
                ("client_secret", CONTOSO_APP_SECRET),
                ("scope", self.scope),
            ])
            .send()
            .await
            .map_err(|error| failed(error.to_string()))?;
        let body: Value = response.json().await.map_err(|error| failed(error.to_string()))?;
        let token = body["access_token"].as_str().map(str::to_string).ok_or_else(|| failed(body.to_string()))?;
        self.issued.lock().expect("lock").push(token.clone());
        Ok(token)
    }

    async fn token(&self, fresh: bool) -> Result<AccessToken, TokenError> {
        let stale = self.stale.lock().expect("lock").clone();
        if let (Some(stale), false) = (stale, fresh) {
            return Ok(wrap(stale));
        }
        if fresh {
            *self.stale.lock().expect("lock") = None;
        }
        let mut cached = self.cached.lock().await;
        if fresh || cached.is_none() {
            *cached = Some(self.fetch().await?);
        }
        Ok(wrap(cached.clone().unwrap_or_default()))
    }
}

fn wrap(token: String) -> AccessToken {
    AccessToken { token: Secret::new(token), expires_at: chrono::Utc::now() + chrono::Duration::hours(1) }
}

impl AccessTokenProvider for SandboxTokens {
    fn access_token(&self) -> TokenFuture<'_> {
        Box::pin(self.token(false))
    }

    fn fresh_access_token(&self) -> TokenFuture<'_> {
        Box::pin(self.token(true))
    }
}

/// The client configuration for Contoso on `sandbox` (app-only), trusting its CA.
pub fn config(sandbox: &RunningSandbox) -> ExchangeConfig {
    ExchangeConfig {
        extra_root_certificate_pem: Some(sandbox.ca_pem().as_bytes().to_vec()),
        timeout: Duration::from_secs(20),
        max_attempts: 5,
        ..ExchangeConfig::new(sandbox.https_base(), CONTOSO, Anchor::AppOnly)
    }
}

/// A client for Contoso on `sandbox` with this configuration, and its token provider.
pub fn client_with(sandbox: &RunningSandbox, config: ExchangeConfig) -> (ExchangeClient, Arc<SandboxTokens>) {
    let tokens = Arc::new(SandboxTokens::new(sandbox, EXCHANGE_SCOPE));
    let client = ExchangeClient::new(config, tokens.clone()).expect("exchange client");
    (client, tokens)
}

/// A client for Contoso on `sandbox` with the test configuration.
pub fn client(sandbox: &RunningSandbox) -> ExchangeClient {
    client_with(sandbox, config(sandbox)).0
}

/// A Graph `POST` (Contoso's app), answering status and body.
pub async fn graph_post(sandbox: &RunningSandbox, path: &str, body: Value) -> (u16, Value) {
    let token = SandboxTokens::new(sandbox, GRAPH_SCOPE).token_text().await;
    let response = http(sandbox)
        .post(format!("{}/v1.0{path}", sandbox.https_base()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("graph request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `GET /_sandbox/tenants/{Contoso}/exchange/{what}` of the sandbox admin API.
pub async fn admin(sandbox: &RunningSandbox, what: &str) -> Value {
    let url = format!("{}/tenants/{CONTOSO}/exchange/{what}", sandbox.admin_base());
    let response = http(sandbox).get(url).send().await.expect("admin request");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("admin JSON")
}
