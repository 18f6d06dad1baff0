//! Shared set-up for the delegated-link tests: a sandbox seeded with Tenure's multi-tenant provider app in each
//! cloud and customer tenants with an admin and an ordinary user; a browser (reqwest with a cookie store, no
//! automatic redirects) that signs in and consents on the sandbox's pages and catches the redirect to the
//! redirect URI; an in-memory [`RefreshTokenStore`] (a test fixture over a `Mutex`); and small Graph calls.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};

use model::{NationalCloud, Secret, TokenError};
use reqwest::StatusCode;
use sandbox::seed::Seed;
use sandbox::{RunningSandbox, Sandbox};
use serde_json::Value;
use vault::authorization_code::{self, CallbackOutcome};
use vault::{ClientCredential, DelegatedAppConfig, LinkedGrant, Pkce, RefreshTokenStore, TokenStoreFuture};

/// Where Tenure receives the callback (never contacted: the browser stops at the redirect).
pub const REDIRECT_URI: &str = "https://tenure.example/connections/callback";
/// Every seeded user's password.
pub const PASSWORD: &str = "Link!Pass-2025";

/// The provider app registered in the Global cloud.
pub const PROVIDER_GLOBAL: &str = "5e7a0000-0000-4000-8000-00000000a001";
/// The provider app registered in Azure Government (GCC High and DoD share it).
pub const PROVIDER_US_GOV: &str = "5e7a0000-0000-4000-8000-00000000a002";
/// The provider app registered in the China cloud.
pub const PROVIDER_CHINA: &str = "5e7a0000-0000-4000-8000-00000000a003";
/// The provider apps' client secret.
pub const PROVIDER_SECRET: &str = "provider-secret-Q7w8E9r0T1y2";

/// Contoso (Global).
pub const CONTOSO: &str = "c0000000-0000-4000-8000-000000000001";
/// Litware (Global): another tenant, for wrong-tenant cases.
pub const LITWARE: &str = "c0000000-0000-4000-8000-000000000002";
/// Fabrikam (GCC High).
pub const FABRIKAM: &str = "c0000000-0000-4000-8000-000000000003";
/// Northwind (DoD).
pub const NORTHWIND: &str = "c0000000-0000-4000-8000-000000000004";
/// Tailspin (China).
pub const TAILSPIN: &str = "c0000000-0000-4000-8000-000000000005";

/// Contoso's Global Administrator.
pub const CONTOSO_ADMIN: &str = "admin@contoso.com";
/// Contoso's ordinary user (may not consent to admin-only scopes).
pub const CONTOSO_USER: &str = "adele.vance@contoso.com";
/// Litware's Global Administrator.
pub const LITWARE_ADMIN: &str = "admin@litware.com";

/// The tenant id, admin and provider app of each cloud's customer tenant.
pub fn cloud_tenant(cloud: NationalCloud) -> (&'static str, &'static str, &'static str) {
    match cloud {
        NationalCloud::Global => (CONTOSO, CONTOSO_ADMIN, PROVIDER_GLOBAL),
        NationalCloud::UsGovHigh => (FABRIKAM, "admin@fabrikam.gov", PROVIDER_US_GOV),
        NationalCloud::UsGovDod => (NORTHWIND, "admin@northwind.mil", PROVIDER_US_GOV),
        NationalCloud::China => (TAILSPIN, "admin@tailspin.partner.onmschina.cn", PROVIDER_CHINA),
    }
}

fn seed_text() -> String {
    let app = |id: &str, name: &str, home: &str| {
        format!(
            r#"
[[apps]]
app_id = "{id}"
name = "{name}"
home_tenant = "{home}"
multi_tenant = true
redirect_uris = ["{REDIRECT_URI}"]
required_permissions = ["Graph:User.ReadWrite.All", "Graph:Group.ReadWrite.All", "Graph:Directory.AccessAsUser.All", "Exchange:Exchange.Manage"]
[[apps.secrets]]
value = "{PROVIDER_SECRET}"
"#
        )
    };
    let tenant = |id: &str, name: &str, cloud: &str, domains: &str, users: &[(&str, &str)]| {
        let mut text =
            format!("\n[[tenants]]\nid = \"{id}\"\nname = \"{name}\"\ncloud = \"{cloud}\"\ndomains = [{domains}]\n");
        for (upn, roles) in users {
            text.push_str(&format!(
                "[[tenants.users]]\nupn = \"{upn}\"\ndisplay_name = \"{upn}\"\npassword = \"{PASSWORD}\"\nroles = [{roles}]\n"
            ));
        }
        text
    };
    let admin = "\"Global Administrator\"";
    [
        tenant(
            "9b000000-0000-4000-8000-000000000001",
            "Tenure Publisher",
            "Global",
            "\"tenurepub.onmicrosoft.com\"",
            &[],
        ),
        tenant(
            "9b000000-0000-4000-8000-000000000002",
            "Tenure Publisher US",
            "UsGovHigh",
            "\"tenurepub.onmicrosoft.us\"",
            &[],
        ),
        tenant(
            "9b000000-0000-4000-8000-000000000003",
            "Tenure Publisher China",
            "China",
            "\"tenurepub.partner.onmschina.cn\"",
            &[],
        ),
        tenant(
            CONTOSO,
            "Contoso",
            "Global",
            "\"contoso.onmicrosoft.com\", \"contoso.com\"",
            &[(CONTOSO_ADMIN, admin), (CONTOSO_USER, ""), ("megan.bowen@contoso.com", "")],
        ),
        tenant(LITWARE, "Litware", "Global", "\"litware.onmicrosoft.com\", \"litware.com\"", &[(LITWARE_ADMIN, admin)]),
        tenant(
            FABRIKAM,
            "Fabrikam",
            "UsGovHigh",
            "\"fabrikam.onmicrosoft.us\", \"fabrikam.gov\"",
            &[("admin@fabrikam.gov", admin)],
        ),
        tenant(
            NORTHWIND,
            "Northwind",
            "UsGovDod",
            "\"northwind.onmicrosoft.us\", \"northwind.mil\"",
            &[("admin@northwind.mil", admin)],
        ),
        tenant(
            TAILSPIN,
            "Tailspin",
            "China",
            "\"tailspin.partner.onmschina.cn\"",
            &[("admin@tailspin.partner.onmschina.cn", admin)],
        ),
        app(PROVIDER_GLOBAL, "Tenure Connector", "9b000000-0000-4000-8000-000000000001"),
        app(PROVIDER_US_GOV, "Tenure Connector (US Gov)", "9b000000-0000-4000-8000-000000000002"),
        app(PROVIDER_CHINA, "Tenure Connector (China)", "9b000000-0000-4000-8000-000000000003"),
    ]
    .concat()
}

/// A sandbox with the link seed.
pub async fn start() -> RunningSandbox {
    start_with(sandbox::knobs::Knobs::default()).await
}

/// A sandbox with the link seed and `knobs`.
pub async fn start_with(knobs: sandbox::knobs::Knobs) -> RunningSandbox {
    let seed = Seed::from_toml(&seed_text()).expect("the link seed parses");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    Sandbox::builder().seed(seed).knobs(knobs).start(listener).await.expect("sandbox starts")
}

/// `{https_base}/{host}`: the sandbox's path-prefix addressing of a Microsoft host.
pub fn host_base(sandbox: &RunningSandbox, host: &str) -> String {
    format!("{}/{host}", sandbox.https_base())
}

/// The provider app of `cloud` with its secret, linking through the sandbox's `cloud` login host.
pub fn provider_config(sandbox: &RunningSandbox, cloud: NationalCloud) -> DelegatedAppConfig {
    let (_, _, provider) = cloud_tenant(cloud);
    DelegatedAppConfig {
        login_base_url: Some(host_base(sandbox, cloud.login_host())),
        extra_root_certificate_pem: Some(sandbox.ca_pem().as_bytes().to_vec()),
        ..DelegatedAppConfig::new(cloud, provider, ClientCredential::Secret(Secret::new(PROVIDER_SECRET)))
    }
}

/// An HTTPS client trusting only the sandbox's CA, following no redirects.
fn http(sandbox: &RunningSandbox, cookies: bool) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("CA PEM");
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(cookies)
        .build()
        .expect("client")
}

/// An HTML page the login host showed.
#[derive(Debug, Clone)]
pub struct Page {
    /// The page's URL.
    pub url: String,
    /// The HTML.
    pub html: String,
}

impl Page {
    /// The `<title>`.
    pub fn title(&self) -> &str {
        between(&self.html, "<title>", "</title>").unwrap_or("")
    }

    /// The first form's `action`.
    pub fn form_action(&self) -> String {
        let form = &self.html[self.html.find("<form").expect("the page has a form")..];
        unescape(attribute(form, "action").expect("the form has an action"))
    }

    /// The hidden inputs of the first form.
    pub fn hidden_fields(&self) -> Vec<(String, String)> {
        let start = self.html.find("<form").expect("the page has a form");
        let end = self.html[start..].find("</form>").map_or(self.html.len(), |index| start + index);
        let mut fields = Vec::new();
        let mut rest = &self.html[start..end];
        while let Some(index) = rest.find("<input type=\"hidden\"") {
            let tag = &rest[index..];
            let tag = &tag[..tag.find('>').expect("a closed tag")];
            fields.push((
                unescape(attribute(tag, "name").expect("a name")),
                unescape(attribute(tag, "value").expect("a value")),
            ));
            rest = &rest[index + tag.len()..];
        }
        fields
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    between(tag, &format!(" {name}=\""), "\"")
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&#x27;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// Where a browser request ended.
#[derive(Debug)]
pub enum Landing {
    /// A page of the login host.
    Page(Page),
    /// The redirect to [`REDIRECT_URI`], with its query.
    Callback(String),
}

impl Landing {
    /// The page; panics on a callback.
    pub fn page(self) -> Page {
        match self {
            Landing::Page(page) => page,
            Landing::Callback(query) => panic!("expected a page, got the callback ?{query}"),
        }
    }

    /// The callback; panics on a page.
    pub fn callback(self) -> CallbackOutcome {
        match self {
            Landing::Callback(query) => authorization_code::parse_callback(&query),
            Landing::Page(page) => panic!("expected the callback, got the page {:?}: {}", page.title(), page.html),
        }
    }
}

/// A browser: a cookie store (the login host's session cookie), redirects followed by hand so the one to the
/// redirect URI is caught.
pub struct Browser {
    http: reqwest::Client,
    /// The sandbox's HTTPS base: a redirect anywhere else is the callback to the application.
    sandbox_base: String,
}

impl Browser {
    /// A new browser with an empty cookie store.
    pub fn new(sandbox: &RunningSandbox) -> Browser {
        Browser { http: http(sandbox, true), sandbox_base: sandbox.https_base() }
    }

    /// Opens `url`.
    pub async fn open(&self, url: &str) -> Landing {
        let response = self.http.get(url).send().await.expect("the login host answers");
        self.land(response).await
    }

    /// Submits the first form of `page` with its hidden fields, `fields`, and the button `action`.
    pub async fn submit(&self, page: &Page, action: &str, fields: &[(&str, &str)]) -> Landing {
        let mut form: Vec<(String, String)> =
            page.hidden_fields().into_iter().filter(|(name, _)| name != "action").collect();
        form.push(("action".into(), action.into()));
        form.extend(fields.iter().map(|(name, value)| ((*name).to_string(), (*value).to_string())));
        let response = self.http.post(page.form_action()).form(&form).send().await.expect("the login host answers");
        self.land(response).await
    }

    /// Signs in as `upn` on a sign-in page.
    pub async fn sign_in(&self, page: &Page, upn: &str) -> Landing {
        self.sign_in_with(page, upn, PASSWORD).await
    }

    /// Signs in as `upn` with `password` on a sign-in page.
    pub async fn sign_in_with(&self, page: &Page, upn: &str, password: &str) -> Landing {
        assert_eq!(page.title(), "Sign in to your account", "{}", page.html);
        assert!(page.html.contains("name=\"passwd\""), "a sign-in form: {}", page.html);
        self.submit(page, "signin", &[("login", upn), ("passwd", password)]).await
    }

    async fn land(&self, response: reqwest::Response) -> Landing {
        let mut response = response;
        loop {
            let url = response.url().to_string();
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .expect("a redirect has a location")
                    .to_string();
                if let Some(query) = location.strip_prefix(REDIRECT_URI) {
                    return Landing::Callback(query.trim_start_matches('?').to_string());
                }
                if location.starts_with("http") && !location.starts_with(&self.sandbox_base) {
                    let query = location.split_once('?').map_or("", |(_, query)| query);
                    return Landing::Callback(query.to_string());
                }
                let next = reqwest::Url::parse(&url).and_then(|base| base.join(&location)).expect("a location URL");
                response = self.http.get(next).send().await.expect("the login host answers");
                continue;
            }
            assert_eq!(response.status(), StatusCode::OK, "{url}");
            let html = response.text().await.expect("HTML");
            return Landing::Page(Page { url, html });
        }
    }
}

/// A link in progress: what Tenure keeps between `/authorize` and the callback.
pub struct PendingLink {
    /// The state sent.
    pub state: Secret,
    /// The PKCE pair.
    pub pkce: Pkce,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// The `/authorize` URL.
    pub url: String,
}

/// Starts a link for `scopes` with `config`.
pub fn start_link(config: &DelegatedAppConfig, scopes: Vec<String>, login_hint: Option<&str>) -> PendingLink {
    let state = authorization_code::new_state();
    let pkce = Pkce::generate();
    let url =
        authorization_code::authorize_url(config, REDIRECT_URI, &scopes, state.expose(), &pkce.challenge, login_hint);
    PendingLink { state, pkce, scopes, url }
}

/// The code of a callback, after checking its state is the link's.
pub fn code_of(outcome: CallbackOutcome, link: &PendingLink) -> Secret {
    match outcome {
        CallbackOutcome::Code { code, state } => {
            let state = state.expect("the callback carries the state");
            assert_eq!(
                authorization_code::state_hash(state.expose()),
                authorization_code::state_hash(link.state.expose())
            );
            code
        }
        other => panic!("expected a code, got {other:?}"),
    }
}

/// An admin links `config`'s cloud with `scopes`: signs in as `upn`, consents for the organisation (unless the
/// organisation consented before), and the code is redeemed.
pub async fn link_as_admin(
    sandbox: &RunningSandbox,
    config: &DelegatedAppConfig,
    upn: &str,
    scopes: Vec<String>,
) -> LinkedGrant {
    let browser = Browser::new(sandbox);
    let link = start_link(config, scopes, None);
    let outcome = match browser.sign_in(&browser.open(&link.url).await.page(), upn).await {
        Landing::Page(consent) => {
            assert_eq!(consent.title(), "Permissions requested", "{}", consent.html);
            assert!(consent.html.contains("Consent on behalf of your organization"), "{}", consent.html);
            browser.submit(&consent, "accept", &[("org_consent", "on")]).await.callback()
        }
        Landing::Callback(query) => authorization_code::parse_callback(&query), // consented before
    };
    let code = code_of(outcome, &link);
    authorization_code::redeem_code(config, &code, REDIRECT_URI, &link.pkce.verifier, &link.scopes)
        .await
        .expect("the code is redeemed")
}

/// Contoso's admin links the Global provider app for Graph.
pub async fn link_contoso(sandbox: &RunningSandbox) -> (DelegatedAppConfig, LinkedGrant) {
    let config = provider_config(sandbox, NationalCloud::Global);
    let grant =
        link_as_admin(sandbox, &config, CONTOSO_ADMIN, authorization_code::graph_scopes(NationalCloud::Global)).await;
    let linked = DelegatedAppConfig { tenant: grant.tenant_id.clone(), ..config };
    (linked, grant)
}

/// `GET {graph}/v1.0/me` with `token`: the status and body.
pub async fn graph_me(sandbox: &RunningSandbox, graph_host: &str, token: &Secret) -> (StatusCode, Value) {
    let response = http(sandbox, false)
        .get(format!("{}/v1.0/me", host_base(sandbox, graph_host)))
        .bearer_auth(token.expose())
        .send()
        .await
        .expect("Graph answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `POST {graph}/v1.0/me/revokeSignInSessions` with `token`.
pub async fn revoke_sessions(sandbox: &RunningSandbox, token: &Secret) {
    let response = http(sandbox, false)
        .post(format!("{}/v1.0/me/revokeSignInSessions", host_base(sandbox, "graph.microsoft.com")))
        .bearer_auth(token.expose())
        .send()
        .await
        .expect("Graph answers");
    assert_eq!(response.status(), StatusCode::OK, "{:?}", response.text().await);
}

/// Moves the sandbox clock forward.
pub async fn advance_clock(sandbox: &RunningSandbox, seconds: i64) {
    let response = http(sandbox, false)
        .post(format!("{}/clock/advance", sandbox.admin_base()))
        .json(&serde_json::json!({ "seconds": seconds }))
        .send()
        .await
        .expect("admin API answers");
    assert_eq!(response.status(), StatusCode::OK);
}

/// The sandbox's admin consent requests (JSON).
pub async fn consent_requests(sandbox: &RunningSandbox) -> Vec<Value> {
    let response = http(sandbox, false)
        .get(format!("{}/consent-requests", sandbox.admin_base()))
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .expect("admin API answers");
    response.json().await.expect("a JSON list")
}

/// Approves an admin consent request through the sandbox's admin API.
pub async fn approve_consent_request(sandbox: &RunningSandbox, id: &str) {
    let response = http(sandbox, false)
        .post(format!("{}/consent-requests/{id}/approve", sandbox.admin_base()))
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .expect("admin API answers");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

/// What the in-memory store saw.
#[derive(Debug, Default)]
pub struct StoreLog {
    /// Successful rotations, `(previous, newest)`.
    pub rotations: Vec<(Secret, Secret)>,
    /// Rotations refused because the stored token had changed.
    pub lost_rotations: u32,
    /// Reasons given to `mark_needs_relink`.
    pub relinks: Vec<String>,
    /// Calls to `load`.
    pub loads: u32,
}

/// A [`RefreshTokenStore`] over a mutex: the test fixture the engine's store-backed one stands in for.
pub struct MemoryStore {
    current: Mutex<Secret>,
    log: Mutex<StoreLog>,
    /// When set, the first loads wait until this many callers have loaded (to make providers race).
    load_barrier: Option<tokio::sync::Barrier>,
    barrier_loads: Mutex<usize>,
    /// A token that replaces the current one right after the next load (another process re-linking meanwhile).
    after_next_load: Mutex<Option<Secret>>,
}

impl MemoryStore {
    /// A store holding `token`.
    pub fn new(token: Secret) -> Arc<MemoryStore> {
        Arc::new(MemoryStore {
            current: Mutex::new(token),
            log: Mutex::new(StoreLog::default()),
            load_barrier: None,
            barrier_loads: Mutex::new(0),
            after_next_load: Mutex::new(None),
        })
    }

    /// A store holding `token` whose first `callers` loads return together, once all of them have loaded.
    pub fn with_racing_loads(token: Secret, callers: usize) -> Arc<MemoryStore> {
        Arc::new(MemoryStore {
            current: Mutex::new(token),
            log: Mutex::new(StoreLog::default()),
            load_barrier: Some(tokio::sync::Barrier::new(callers)),
            barrier_loads: Mutex::new(callers),
            after_next_load: Mutex::new(None),
        })
    }

    /// The token held now.
    pub fn current(&self) -> Secret {
        self.current.lock().expect("not poisoned").clone()
    }

    /// Replaces the token (a re-link).
    pub fn set(&self, token: Secret) {
        *self.current.lock().expect("not poisoned") = token;
    }

    /// Replaces the token right after the next load: the loader holds the old one, the store the new one.
    pub fn set_after_next_load(&self, token: Secret) {
        *self.after_next_load.lock().expect("not poisoned") = Some(token);
    }

    /// Reads the log.
    pub fn log<T>(&self, read: impl FnOnce(&StoreLog) -> T) -> T {
        read(&self.log.lock().expect("not poisoned"))
    }
}

impl RefreshTokenStore for MemoryStore {
    fn load(&self) -> TokenStoreFuture<'_, Secret> {
        Box::pin(async move {
            let token = self.current();
            self.log.lock().expect("not poisoned").loads += 1;
            if let Some(replacement) = self.after_next_load.lock().expect("not poisoned").take() {
                self.set(replacement);
            }
            let wait = {
                let mut remaining = self.barrier_loads.lock().expect("not poisoned");
                let wait = *remaining > 0;
                *remaining = remaining.saturating_sub(1);
                wait
            };
            if wait && let Some(barrier) = &self.load_barrier {
                barrier.wait().await;
            }
            Ok::<_, TokenError>(token)
        })
    }

    fn save_rotated(&self, previous: &Secret, newest: Secret) -> TokenStoreFuture<'_, bool> {
        let previous = previous.clone();
        Box::pin(async move {
            let mut current = self.current.lock().expect("not poisoned");
            let mut log = self.log.lock().expect("not poisoned");
            if *current != previous {
                log.lost_rotations += 1;
                return Ok(false);
            }
            *current = newest.clone();
            log.rotations.push((previous, newest));
            Ok(true)
        })
    }

    fn mark_needs_relink(&self, reason: String) -> TokenStoreFuture<'_, ()> {
        Box::pin(async move {
            self.log.lock().expect("not poisoned").relinks.push(reason);
            Ok(())
        })
    }
}
