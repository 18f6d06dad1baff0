//! Shared set-up for the sandbox's integration tests: start a sandbox on `127.0.0.1:0`, build an HTTPS client
//! that trusts its CA, and mint access tokens directly (the token *endpoint* has its own tests; Graph tests
//! should not depend on it).
#![allow(dead_code, unreachable_pub)]

use sandbox::tokens::AccessClaims;
use sandbox::{RunningSandbox, Sandbox};

/// Contoso (Global) from the sample seed.
pub const CONTOSO: &str = "6e3b1c2a-5d4f-4a8b-9c1d-2e3f4a5b6c7d";
/// Fabrikam (GCC High).
pub const FABRIKAM: &str = "7f4c2d3b-6e5a-4b9c-8d2e-3f4a5b6c7d8e";
/// Contoso's customer-owned app.
pub const CONTOSO_APP: &str = "a1b2c3d4-0000-4000-8000-00000000c001";
/// Contoso's customer-owned app's secret.
pub const CONTOSO_APP_SECRET: &str = "contoso-app-secret-A1s2D3f4G5h6";
/// Tenure's multi-tenant app.
pub const TENURE_APP: &str = "a1b2c3d4-0000-4000-8000-00000000a001";
/// Contoso's global admin.
pub const CONTOSO_ADMIN: &str = "0b1c2d3e-0000-4000-8000-000000000001";
/// Adele Vance (no admin role).
pub const ADELE: &str = "0b1c2d3e-0000-4000-8000-000000000002";
/// Password of every sample user.
pub const PASSWORD: &str = "Sandbox!Pass1";

/// Starts a sandbox with the sample seed on an ephemeral loopback port.
pub async fn start() -> RunningSandbox {
    start_with(Sandbox::builder()).await
}

/// Starts a configured sandbox on an ephemeral loopback port.
pub async fn start_with(builder: sandbox::SandboxBuilder) -> RunningSandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    builder.start(listener).await.expect("sandbox starts")
}

/// A reqwest client trusting the sandbox CA, not following redirects.
pub fn client(sandbox: &RunningSandbox) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("CA PEM");
    reqwest::Client::builder().tls_certs_only([ca]).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn base_claims(sandbox: &RunningSandbox, tenant: &str, resource: &str) -> AccessClaims {
    let now = sandbox.state().clock.now().timestamp();
    AccessClaims {
        aud: resource.to_string(),
        iss: format!("https://sts.windows.net/{tenant}/"),
        iat: now,
        nbf: now,
        exp: now + 3600,
        aio: "test".into(),
        app_displayname: "test".into(),
        appid: CONTOSO_APP.into(),
        appidacr: "1".into(),
        idp: format!("https://sts.windows.net/{tenant}/"),
        idtyp: "app".into(),
        oid: uuid::Uuid::new_v4().to_string(),
        rh: "test".into(),
        sub: "test".into(),
        tid: tenant.to_string(),
        uti: uuid::Uuid::new_v4().to_string(),
        ver: "1.0".into(),
        tenant_region_scope: "WW".into(),
        scp: None,
        roles: None,
        upn: None,
        unique_name: None,
        name: None,
        wids: None,
    }
}

/// An app-only Graph token for Contoso's app with the given application roles.
pub fn app_token(sandbox: &RunningSandbox, roles: &[&str]) -> String {
    let mut claims = base_claims(sandbox, CONTOSO, "https://graph.microsoft.com");
    claims.roles = Some(roles.iter().map(|role| role.to_string()).collect());
    sandbox::tokens::sign(&sandbox.state().keys, &claims)
}

/// A delegated Graph token for a Contoso user with the given scopes.
pub fn user_token(sandbox: &RunningSandbox, user_id: &str, scopes: &[&str]) -> String {
    let mut claims = base_claims(sandbox, CONTOSO, "https://graph.microsoft.com");
    claims.idtyp = "user".into();
    claims.appid = TENURE_APP.into();
    claims.oid = user_id.to_string();
    claims.scp = Some(scopes.join(" "));
    sandbox::tokens::sign(&sandbox.state().keys, &claims)
}

/// The full-power app token Tenure's customer-owned connection gets.
pub fn tenure_app_token(sandbox: &RunningSandbox) -> String {
    app_token(
        sandbox,
        &["User.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All", "User.EnableDisableAccount.All"],
    )
}
