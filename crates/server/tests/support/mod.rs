//! Shared test setup: a real SQLite store in a temporary directory with one admin account, the connection
//! service over it (a fresh master key; optionally the sandbox and Tenure's provider app), and the server's state.

#![allow(dead_code, unreachable_pub)]

pub mod browser;
pub mod http;
pub mod running;
pub mod tenure_with_sandbox;

use std::sync::Arc;

use chrono::Utc;
use engine::connections::{ConnectionService, ConnectionSettings, ProviderApp};
use model::Secret;
use sandbox::RunningSandbox;
use server::{AppState, ServerSettings};
use store::Store;

/// The admin every test signs in as.
pub const ADMIN: &str = "alice";
/// Alice's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// Tenure's multi-tenant app in the sandbox's sample seed, and its secret.
pub const PROVIDER_APP: &str = "a1b2c3d4-0000-4000-8000-00000000a001";
pub const PROVIDER_APP_SECRET: &str = "tenure-sp-secret-Q9w8E7r6T5y4";
/// Contoso (Global) in the sample seed, its own app registration, and its administrator.
pub const CONTOSO_TENANT: &str = "6e3b1c2a-5d4f-4a8b-9c1d-2e3f4a5b6c7d";
pub const CONTOSO_APP: &str = "a1b2c3d4-0000-4000-8000-00000000c001";
pub const CONTOSO_ADMIN: &str = "admin@contoso.com";
pub const SANDBOX_PASSWORD: &str = "Sandbox!Pass1";

/// A store with Alice's account, kept alive with its directory.
pub struct TestStore {
    pub store: Store,
    _dir: tempfile::TempDir,
}

impl TestStore {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("tenure.db").display());
        let store = Store::open(&url).await.expect("opening the store");
        let hash = server::hash_password(&Secret::new(PASSWORD)).expect("hashing");
        store.create_admin_account(ADMIN, &hash, Utc::now()).await.expect("creating the admin account");
        Self { store, _dir: dir }
    }

    /// The server's state at `public_url`, without a sandbox or provider app.
    pub fn state(&self, public_url: &str) -> AppState {
        let settings = ConnectionSettings {
            public_base_url: public_url.to_owned(),
            provider_app: None,
            sandbox_url: None,
            ca_pem: None,
        };
        self.state_with(public_url, settings)
    }

    /// The server's state at `public_url` with every Microsoft host served by `sandbox` and the sample seed's
    /// provider app.
    pub fn sandbox_state(&self, public_url: &str, sandbox: &RunningSandbox) -> AppState {
        let settings = ConnectionSettings {
            public_base_url: public_url.to_owned(),
            provider_app: Some(ProviderApp {
                client_id: PROVIDER_APP.to_owned(),
                credential: vault::ClientCredential::Secret(Secret::new(PROVIDER_APP_SECRET)),
            }),
            sandbox_url: Some(sandbox.https_base()),
            ca_pem: Some(sandbox.ca_pem().as_bytes().to_vec()),
        };
        self.state_with(public_url, settings)
    }

    fn state_with(&self, public_url: &str, settings: ConnectionSettings) -> AppState {
        let (keys, _) = vault::MasterKeyRing::generate();
        let service = ConnectionService::new(self.store.clone(), Arc::new(keys), settings);
        AppState::new(service, ServerSettings::new(public_url))
    }
}

/// Starts the sandbox with the sample seed, its provider app accepting `redirect_uri`.
pub async fn start_sandbox(redirect_uri: &str) -> RunningSandbox {
    let sample = include_str!("../../../sandbox/seed/sample.toml");
    let registered =
        r#"redirect_uris = ["http://localhost:8080/oauth/callback", "https://localhost:8443/oauth/callback"]"#;
    assert!(sample.contains(registered), "the sample seed's provider app changed: update the tests");
    let text = sample.replace(registered, &format!("redirect_uris = [\"{redirect_uri}\"]"));
    let seed = sandbox::seed::Seed::from_toml(&text).expect("the sample seed parses");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binding the sandbox");
    sandbox::Sandbox::builder().seed(seed).start(listener).await.expect("starting the sandbox")
}
