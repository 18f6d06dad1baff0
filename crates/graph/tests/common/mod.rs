//! Shared set-up for the graph client's integration tests: start a sandbox (sample seed, optional knobs) on
//! `127.0.0.1:0`, and build a [`graph::Client`] that trusts the sandbox CA and gets real tokens from the
//! sandbox's token endpoint with the seeded Contoso app (client credentials, done here in a few lines so the
//! tests do not depend on `vault`).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use graph::{Client, GraphConfig};
use model::{AccessToken, AccessTokenProvider, Secret, TokenError, TokenFuture};
use sandbox::knobs::Knobs;
use sandbox::{RunningSandbox, Sandbox};
use tokio::sync::OnceCell;

/// Contoso (Global) from the sample seed.
pub const CONTOSO: &str = "6e3b1c2a-5d4f-4a8b-9c1d-2e3f4a5b6c7d";
/// Contoso's app (client id).
pub const CONTOSO_APP: &str = "a1b2c3d4-0000-4000-8000-00000000c001";
/// Contoso's app secret.
pub const CONTOSO_APP_SECRET: &str = "contoso-app-secret-A1s2D3f4G5h6";
/// Adele Vance (employee 1001, manager of Alex and Megan).
pub const ADELE: &str = "0b1c2d3e-0000-4000-8000-000000000002";
/// Alex Wilber (employee 1002).
pub const ALEX: &str = "0b1c2d3e-0000-4000-8000-000000000003";
/// Megan Bowen (employee 1003).
pub const MEGAN: &str = "0b1c2d3e-0000-4000-8000-000000000004";
/// The "All Staff" security group.
pub const ALL_STAFF: &str = "0c1d2e3f-0000-4000-8000-000000000001";
/// The "Marketing" Microsoft 365 group.
pub const MARKETING: &str = "0c1d2e3f-0000-4000-8000-000000000002";
/// The ENTERPRISEPACK SKU.
pub const ENTERPRISEPACK: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";

/// Starts a sandbox with the sample seed and these knobs.
pub async fn start(knobs: Knobs) -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    Sandbox::builder().knobs(knobs).start(listener).await.expect("sandbox starts")
}

/// Client credentials against the sandbox's token endpoint; the token is fetched once and reused.
pub struct SandboxTokens {
    http: reqwest::Client,
    token_url: String,
    token: OnceCell<String>,
}

impl SandboxTokens {
    /// A provider for Contoso's app on `sandbox`.
    pub fn new(sandbox: &RunningSandbox) -> SandboxTokens {
        let ca = reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("CA PEM");
        let http = reqwest::Client::builder().tls_certs_only([ca]).build().expect("client");
        SandboxTokens {
            http,
            token_url: format!("{}/{CONTOSO}/oauth2/v2.0/token", sandbox.https_base()),
            token: OnceCell::new(),
        }
    }

    async fn fetch(&self) -> Result<String, TokenError> {
        let failed = |message: String| TokenError { message, transient: false, needs_relink: false };
        let response = self
            .http
            .post(&self.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CONTOSO_APP),
                ("client_secret", CONTOSO_APP_SECRET),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .map_err(|error| failed(error.to_string()))?;
        let body: serde_json::Value = response.json().await.map_err(|error| failed(error.to_string()))?;
        body["access_token"].as_str().map(str::to_string).ok_or_else(|| failed(body.to_string()))
    }
}

impl AccessTokenProvider for SandboxTokens {
    fn access_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let token = self.token.get_or_try_init(|| self.fetch()).await?;
            Ok(AccessToken {
                token: Secret::new(token.clone()),
                expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
            })
        })
    }
}

/// The client configuration for `sandbox`.
pub fn config(sandbox: &RunningSandbox, max_attempts: u32, max_concurrency: usize) -> GraphConfig {
    GraphConfig {
        base_url: sandbox.https_base(),
        extra_root_certificate_pem: Some(sandbox.ca_pem().as_bytes().to_vec()),
        timeout: Duration::from_secs(10),
        max_attempts,
        max_concurrency,
    }
}

/// A Graph client for Contoso on `sandbox`.
pub fn client(sandbox: &RunningSandbox, max_attempts: u32, max_concurrency: usize) -> Client {
    Client::new(config(sandbox, max_attempts, max_concurrency), Arc::new(SandboxTokens::new(sandbox)))
        .expect("graph client")
}
