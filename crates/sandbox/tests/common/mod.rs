//! Shared set-up for the sandbox's integration tests: start a sandbox on `127.0.0.1:0`, build an HTTPS client
//! that trusts its CA, mint access tokens directly (the token *endpoint* has its own tests; Graph tests
//! should not depend on it), call Graph through [`GraphApi`], and read JWT payloads.
#![allow(dead_code, unreachable_pub)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use sandbox::tokens::AccessClaims;
use sandbox::{RunningSandbox, Sandbox};
use serde_json::Value;

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
/// The client secret of Tenure's service principal credential in the sample seed.
pub const TENURE_SECRET: &str = "tenure-sp-secret-Q9w8E7r6T5y4";
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

/// The client id of Exchange Online PowerShell (its delegated tokens carry this `appid`).
pub const EXO_MODULE_APP: &str = "fb78d390-0c51-40cd-8e17-fdbfab77341b";
/// Contoso's Exchange service account (member of the "Tenure Provisioning" role group).
pub const EXCHANGE_SVC: &str = "0b1c2d3e-0000-4000-8000-000000000006";

/// An app-only Exchange Online token (`Exchange.ManageAsApp`) for Contoso's app.
pub fn exchange_app_token(sandbox: &RunningSandbox) -> String {
    let mut claims = base_claims(sandbox, CONTOSO, "https://outlook.office365.com");
    claims.appid = CONTOSO_APP.into();
    claims.roles = Some(vec!["Exchange.ManageAsApp".to_string()]);
    sandbox::tokens::sign(&sandbox.state().keys, &claims)
}

/// A delegated Exchange Online token (`Exchange.Manage`) for a Contoso user.
pub fn exchange_user_token(sandbox: &RunningSandbox, user_id: &str) -> String {
    let mut claims = base_claims(sandbox, CONTOSO, "https://outlook.office365.com");
    claims.idtyp = "user".into();
    claims.appid = EXO_MODULE_APP.into();
    claims.oid = user_id.to_string();
    claims.scp = Some("Exchange.Manage".into());
    sandbox::tokens::sign(&sandbox.state().keys, &claims)
}

/// The full-power app token Tenure's customer-owned connection gets.
pub fn tenure_app_token(sandbox: &RunningSandbox) -> String {
    app_token(
        sandbox,
        &["User.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All", "User.EnableDisableAccount.All"],
    )
}

/// The payload of a JWT, without verification.
pub fn jwt_payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON payload")
}

/// A sandbox and an HTTPS client for calling its Graph API.
pub struct GraphApi {
    /// The running sandbox.
    pub sandbox: RunningSandbox,
    /// A client trusting the sandbox CA.
    pub client: reqwest::Client,
}

/// One Graph answer: status, headers, and the body as JSON (a JSON string when it is not JSON).
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: Value,
}

impl Reply {
    /// `error.code`, or `""`.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// `error.message`, or `""`.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    /// Checks status, `error.code` and `error.message`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error"]["code"], code, "{}", self.body);
        assert_eq!(self.body["error"]["message"], message, "{}", self.body);
    }

    /// The `id`s of a collection's `value`.
    pub fn ids(&self) -> Vec<String> {
        self.body["value"].as_array().map_or_else(Vec::new, |values| {
            values.iter().filter_map(|value| value["id"].as_str().map(str::to_string)).collect()
        })
    }
}

impl GraphApi {
    /// Starts a sandbox with the sample seed.
    pub async fn start() -> GraphApi {
        let sandbox = start().await;
        let client = client(&sandbox);
        GraphApi { sandbox, client }
    }

    /// The full-power app token of Tenure's customer-owned connection.
    pub fn admin(&self) -> String {
        tenure_app_token(&self.sandbox)
    }

    /// Sends a JSON body (if any) to `path` under `/v1.0` (or to an absolute URL); `eventual` adds
    /// `ConsistencyLevel: eventual`.
    pub async fn send(&self, method: Method, path: &str, token: &str, body: Option<Value>, eventual: bool) -> Reply {
        let raw = body.map(|body| body.to_string().into_bytes());
        self.send_raw(method, path, token, raw, eventual).await
    }

    /// Sends raw bytes as an `application/json` body.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Vec<u8>>,
        eventual: bool,
    ) -> Reply {
        let url = if path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}/v1.0{path}", self.sandbox.https_base())
        };
        let mut request = self.client.request(method, url).bearer_auth(token);
        if eventual {
            request = request.header("ConsistencyLevel", "eventual");
        }
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, headers, body }
    }

    /// `GET`.
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, token, None, false).await
    }

    /// `POST` with a JSON body.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::POST, path, token, Some(body), false).await
    }

    /// `PATCH` with a JSON body.
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, token, Some(body), false).await
    }

    /// `DELETE`.
    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(Method::DELETE, path, token, None, false).await
    }
}
