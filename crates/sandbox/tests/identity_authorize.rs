//! The interactive side of the identity platform, driven over HTTPS like a browser would: `/authorize` with
//! the sign-in and consent pages, PKCE and the authorization-code grant, `prompt`, response modes, the admin
//! consent request path (a user asks, the sandbox admin approves), `/adminconsent`, and refresh tokens
//! (rotation, 90-day inactivity, revocation, withdrawn consent, the Exchange resource).

mod common;

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use common::{ADELE, CONTOSO, CONTOSO_ADMIN, CONTOSO_APP, PASSWORD, TENURE_APP, TENURE_SECRET, jwt_payload};

const REDIRECT: &str = "http://localhost:8080/oauth/callback";
const SCOPES: &str = "https://graph.microsoft.com/User.ReadWrite.All https://graph.microsoft.com/Group.ReadWrite.All \
                      https://outlook.office365.com/Exchange.Manage openid profile offline_access";
const VERIFIER: &str = "verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref())
}

/// The value of a hidden input on a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no hidden {name} in {html}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// The query (or fragment) parameters of a redirect.
fn redirect_params(location: &str) -> HashMap<String, String> {
    let tail = location.split_once(['?', '#']).map_or("", |(_, tail)| tail);
    serde_urlencoded::from_str(tail).expect("encoded parameters")
}

/// A tiny browser: one cookie jar entry (the session cookie), no redirect following.
struct Browser {
    client: reqwest::Client,
    cookie: Option<String>,
}

struct Page {
    status: u16,
    location: Option<String>,
    html: String,
}

impl Browser {
    fn new(sandbox: &sandbox::RunningSandbox) -> Browser {
        Browser { client: common::client(sandbox), cookie: None }
    }

    async fn finish(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie.clone()),
            None => request,
        };
        let response = request.send().await.expect("request");
        if let Some(set) = response.headers().get("set-cookie").and_then(|value| value.to_str().ok()) {
            self.cookie = set.split(';').next().map(str::to_string);
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|value| value.to_str().unwrap().to_string());
        Page { status, location, html: response.text().await.unwrap() }
    }

    async fn get(&mut self, url: &str, query: &[(&str, &str)]) -> Page {
        let request = self.client.get(url).query(query);
        self.finish(request).await
    }

    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let request = self.client.post(url).form(form);
        self.finish(request).await
    }

    /// Submits the sign-in form of `page`.
    async fn sign_in(&mut self, url: &str, page: &Page, login: &str, password: &str) -> Page {
        let ctx = hidden(&page.html, "ctx");
        self.post(url, &[("ctx", &ctx), ("action", "signin"), ("login", login), ("passwd", password)]).await
    }

    /// Presses a button (`action`) on `page`.
    async fn press(&mut self, url: &str, page: &Page, action: &str, extra: &[(&str, &str)]) -> Page {
        let ctx = hidden(&page.html, "ctx");
        let mut form = vec![("ctx", ctx.as_str()), ("action", action)];
        form.extend_from_slice(extra);
        self.post(url, &form).await
    }
}

fn authorize_url(sandbox: &sandbox::RunningSandbox) -> String {
    format!("{}/{CONTOSO}/oauth2/v2.0/authorize", sandbox.https_base())
}

fn token_url(sandbox: &sandbox::RunningSandbox) -> String {
    format!("{}/{CONTOSO}/oauth2/v2.0/token", sandbox.https_base())
}

fn authorize_query<'a>(extra: &[(&'a str, &'a str)], code_challenge: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut query = vec![
        ("client_id", TENURE_APP),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", SCOPES),
        ("state", "state-123"),
        ("nonce", "nonce value/verbatim"),
        ("code_challenge", code_challenge),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in extra {
        query.retain(|(existing, _)| existing != name);
        query.push((name, value));
    }
    query
}

/// The Contoso admin signs in and consents for the organisation; returns the code of the redirect.
async fn admin_links_tenure(sandbox: &sandbox::RunningSandbox, browser: &mut Browser) -> String {
    let url = authorize_url(sandbox);
    let code_challenge = challenge(VERIFIER);
    let page = browser.get(&url, &authorize_query(&[], &code_challenge)).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Sign in"), "{}", page.html);
    assert!(page.html.contains(&format!("action=\"{url}\"")), "{}", page.html);

    let wrong = browser.sign_in(&url, &page, "admin@contoso.com", "not-the-password").await;
    assert!(wrong.html.contains("AADSTS50126"), "{}", wrong.html);
    assert!(browser.cookie.is_none(), "no session after a failed sign-in");

    let consent = browser.sign_in(&url, &wrong, "admin@contoso.com", PASSWORD).await;
    assert!(consent.html.contains("Permissions requested"), "{}", consent.html);
    assert!(consent.html.contains("Consent on behalf of your organization"), "{}", consent.html);
    assert!(browser.cookie.as_deref().is_some_and(|cookie| cookie.starts_with("ESTSAUTH=")));

    let done = browser.press(&url, &consent, "accept", &[("org_consent", "on")]).await;
    assert_eq!(done.status, 302, "{}", done.html);
    let location = done.location.expect("redirect");
    assert!(location.starts_with(&format!("{REDIRECT}?code=")), "{location}");
    let params = redirect_params(&location);
    assert_eq!(params["state"], "state-123");
    assert!(params.contains_key("session_state"));
    params["code"].clone()
}

async fn redeem(sandbox: &sandbox::RunningSandbox, code: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", TENURE_APP),
        ("client_secret", TENURE_SECRET),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("scope", SCOPES),
    ];
    for (name, value) in extra {
        form.retain(|(existing, _)| existing != name);
        if !value.is_empty() {
            form.push((name, value));
        }
    }
    let response = common::client(sandbox).post(token_url(sandbox)).form(&form).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[track_caller]
fn assert_grant_error(answer: &(u16, Value), error: &str, code: u64) {
    assert_eq!((answer.0, answer.1["error"].as_str()), (400, Some(error)), "{}", answer.1);
    assert_eq!(answer.1["error_codes"], json!([code]), "{}", answer.1);
    assert!(answer.1["error_description"].as_str().unwrap().starts_with(&format!("AADSTS{code}: ")));
}

async fn refresh(sandbox: &sandbox::RunningSandbox, token: &str, scope: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", TENURE_APP),
        ("client_secret", TENURE_SECRET),
        ("refresh_token", token),
        ("scope", scope),
        ("client_info", "1"),
    ];
    let response = common::client(sandbox).post(token_url(sandbox)).form(&form).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn an_admin_links_tenure_with_pkce_and_receives_tokens_that_echo_the_nonce() {
    let sandbox = common::start().await;
    let mut browser = Browser::new(&sandbox);
    let code = admin_links_tenure(&sandbox, &mut browser).await;

    let (status, body) = redeem(&sandbox, &code, &[("client_info", "1")]).await;
    assert_eq!(status, 200, "{body}");
    let id_token = jwt_payload(body["id_token"].as_str().expect("openid was asked"));
    assert_eq!(id_token["nonce"], "nonce value/verbatim");
    assert_eq!(id_token["aud"], TENURE_APP);
    assert_eq!(id_token["iss"], format!("https://login.microsoftonline.com/{CONTOSO}/v2.0"));
    assert_eq!(id_token["tid"], CONTOSO);
    assert_eq!(id_token["oid"], CONTOSO_ADMIN);
    assert_eq!(id_token["preferred_username"], "admin@contoso.com");
    assert_eq!(id_token["ver"], "2.0");
    let access = jwt_payload(body["access_token"].as_str().unwrap());
    assert_eq!(access["aud"], "https://graph.microsoft.com");
    assert_eq!(access["idtyp"], "user");
    assert_eq!(access["oid"], CONTOSO_ADMIN);
    assert_eq!(access["upn"], "admin@contoso.com");
    let scp: Vec<&str> = access["scp"].as_str().unwrap().split(' ').collect();
    assert!(scp.contains(&"User.ReadWrite.All") && scp.contains(&"Group.ReadWrite.All"), "{scp:?}");
    assert!(!scp.contains(&"Exchange.Manage"), "a token is for one resource: {scp:?}");
    assert!(access["wids"].as_array().unwrap().contains(&json!("62e90394-69f5-4237-9190-012177145e10")));
    assert!(body["refresh_token"].as_str().is_some_and(|token| !token.is_empty()));
    assert!(body["scope"].as_str().unwrap().contains("User.ReadWrite.All"));
    let client_info: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body["client_info"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(client_info, json!({"uid": CONTOSO_ADMIN, "utid": CONTOSO}));

    // A code is single-use.
    assert_grant_error(&redeem(&sandbox, &code, &[]).await, "invalid_grant", 54005);
    // The grant is tenant-wide and the app is now present in Contoso.
    let tenant = sandbox.tenant(CONTOSO).unwrap();
    let tenant = tenant.read();
    assert!(tenant.grants.iter().any(|grant| grant.client_id.to_string() == TENURE_APP && grant.principal.is_none()));
    assert!(tenant.service_principal(TENURE_APP.parse().unwrap()).is_some());
}

#[tokio::test]
async fn codes_are_bound_to_their_pkce_challenge_redirect_uri_and_lifetime() {
    let sandbox = common::start().await;
    let mut browser = Browser::new(&sandbox);
    admin_links_tenure(&sandbox, &mut browser).await;
    let url = authorize_url(&sandbox);
    let code_challenge = challenge(VERIFIER);
    // With a session and consent in place, /authorize answers at once.
    let mut silent_code = async |extra: &[(&str, &str)]| {
        let page = browser.get(&url, &authorize_query(extra, &code_challenge)).await;
        assert_eq!(page.status, 302, "{}", page.html);
        redirect_params(&page.location.unwrap())["code"].clone()
    };

    let code = silent_code(&[("prompt", "none")]).await;
    assert_grant_error(
        &redeem(&sandbox, &code, &[("code_verifier", "a-different-verifier-0123456789-abcdefghijklmn")]).await,
        "invalid_grant",
        501481,
    );
    let code = silent_code(&[]).await;
    assert_grant_error(&redeem(&sandbox, &code, &[("code_verifier", "")]).await, "invalid_request", 900144);
    let code = silent_code(&[]).await;
    assert_grant_error(
        &redeem(&sandbox, &code, &[("redirect_uri", "https://localhost:8443/oauth/callback")]).await,
        "invalid_grant",
        500112,
    );
    let plain = "plain-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
    let code = silent_code(&[("code_challenge", plain), ("code_challenge_method", "")]).await;
    assert_eq!(redeem(&sandbox, &code, &[("code_verifier", plain)]).await.0, 200);
    let code = silent_code(&[]).await;
    sandbox.state().clock.advance(chrono::Duration::minutes(11));
    assert_grant_error(&redeem(&sandbox, &code, &[]).await, "invalid_grant", 70008);
    assert_grant_error(&redeem(&sandbox, "not-a-code", &[]).await, "invalid_grant", 70000);
}

#[tokio::test]
async fn authorize_shows_errors_on_a_page_until_the_redirect_uri_is_trusted() {
    let sandbox = common::start().await;
    let mut browser = Browser::new(&sandbox);
    let url = authorize_url(&sandbox);
    let code_challenge = challenge(VERIFIER);

    let page = browser
        .get(&url, &authorize_query(&[("redirect_uri", "https://evil.example/callback")], &code_challenge))
        .await;
    assert_eq!((page.status, page.location.as_deref()), (200, None));
    assert!(page.html.contains("AADSTS50011"), "{}", page.html);
    assert!(page.html.contains("https://evil.example/callback"));
    let page = browser
        .get(&url, &authorize_query(&[("client_id", "11111111-2222-3333-4444-555555555555")], &code_challenge))
        .await;
    assert_eq!((page.status, page.location.as_deref()), (200, None));
    assert!(page.html.contains("AADSTS700016"), "{}", page.html);
    let page = browser
        .get(
            &format!("{}/common/oauth2/v2.0/authorize", sandbox.https_base()),
            &authorize_query(&[("client_id", CONTOSO_APP), ("redirect_uri", "")], &code_challenge),
        )
        .await;
    assert!(page.html.contains("AADSTS50194"), "{}", page.html);

    let page = browser.get(&url, &authorize_query(&[("response_type", "token")], &code_challenge)).await;
    let params = redirect_params(&page.location.expect("error redirect"));
    assert_eq!(params["error"], "unsupported_response_type");
    assert!(params["error_description"].starts_with("AADSTS700051: "));
    assert_eq!(params["state"], "state-123");
    let page = browser
        .get(&url, &authorize_query(&[("scope", "https://graph.microsoft.com/Nope.Read")], &code_challenge))
        .await;
    assert_eq!(redirect_params(&page.location.unwrap())["error"], "invalid_client");
    let page = browser.get(&url, &authorize_query(&[("code_challenge", "short")], &code_challenge)).await;
    assert!(redirect_params(&page.location.unwrap())["error_description"].starts_with("AADSTS501491: "));

    // prompt=none without a session: login_required, carrying the state.
    let page = browser.get(&url, &authorize_query(&[("prompt", "none")], &code_challenge)).await;
    let params = redirect_params(&page.location.unwrap());
    assert_eq!(params["error"], "login_required");
    assert!(params["error_description"].starts_with("AADSTS50058: "));
    assert_eq!(params["state"], "state-123");

    // Sign-in page problems.
    let page = browser.get(&url, &authorize_query(&[], &code_challenge)).await;
    let unknown = browser.sign_in(&url, &page, "nobody@contoso.com", PASSWORD).await;
    assert!(unknown.html.contains("AADSTS50034"), "{}", unknown.html);
    sandbox.tenant(CONTOSO).unwrap().write().update_user(ADELE.parse().unwrap(), |user| user.account_enabled = false);
    let disabled = browser.sign_in(&url, &unknown, "adele.vance@contoso.com", PASSWORD).await;
    assert!(disabled.html.contains("AADSTS50057"), "{}", disabled.html);
}

#[tokio::test]
async fn response_modes_and_hybrid_responses_deliver_the_code_as_asked() {
    let sandbox = common::start().await;
    let mut browser = Browser::new(&sandbox);
    admin_links_tenure(&sandbox, &mut browser).await;
    let url = authorize_url(&sandbox);
    let code_challenge = challenge(VERIFIER);

    let page = browser.get(&url, &authorize_query(&[("response_mode", "form_post")], &code_challenge)).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains(&format!("action=\"{REDIRECT}\"")), "{}", page.html);
    assert!(!hidden(&page.html, "code").is_empty());
    assert_eq!(hidden(&page.html, "state"), "state-123");
    assert!(page.html.contains("document.forms[0].submit()"));

    let page = browser.get(&url, &authorize_query(&[("response_type", "code id_token")], &code_challenge)).await;
    let location = page.location.expect("redirect");
    assert!(location.starts_with(&format!("{REDIRECT}#code=")), "{location}");
    let params = redirect_params(&location);
    let id_token = jwt_payload(&params["id_token"]);
    assert_eq!(id_token["nonce"], "nonce value/verbatim");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, params["code"].as_bytes());
    assert_eq!(id_token["c_hash"], URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]));

    // prompt=login asks for the password again even with a session.
    let page = browser.get(&url, &authorize_query(&[("prompt", "login")], &code_challenge)).await;
    assert!(page.html.contains("passwd"), "{}", page.html);

    // prompt=select_account offers the signed-in account; prompt=consent shows the consent page again.
    let picker = browser.get(&url, &authorize_query(&[("prompt", "select_account")], &code_challenge)).await;
    assert!(picker.html.contains("Pick an account") && picker.html.contains("admin@contoso.com"), "{}", picker.html);
    let chosen = browser.press(&url, &picker, "use_session", &[]).await;
    assert!(chosen.location.expect("redirect").contains("code="));
    let consent = browser.get(&url, &authorize_query(&[("prompt", "consent")], &code_challenge)).await;
    assert!(consent.html.contains("Permissions requested"), "{}", consent.html);
    let accepted = browser.press(&url, &consent, "accept", &[]).await;
    assert!(accepted.location.expect("redirect").contains("code="));
}

#[tokio::test]
async fn a_user_asks_for_admin_approval_and_signs_in_once_it_is_granted() {
    let sandbox = common::start().await;
    let mut adele = Browser::new(&sandbox);
    let url = authorize_url(&sandbox);
    let code_challenge = challenge(VERIFIER);
    let page = adele.get(&url, &authorize_query(&[("login_hint", "adele.vance@contoso.com")], &code_challenge)).await;
    assert!(page.html.contains("value=\"adele.vance@contoso.com\""), "login_hint prefills: {}", page.html);
    let approval = adele.sign_in(&url, &page, "adele.vance@contoso.com", PASSWORD).await;
    assert!(approval.html.contains("Need admin approval"), "{}", approval.html);
    assert!(!approval.html.contains("Consent on behalf of your organization"));

    // Silent requests cannot get past missing consent.
    let silent = adele.get(&url, &authorize_query(&[("prompt", "none")], &code_challenge)).await;
    let params = redirect_params(&silent.location.expect("redirect"));
    assert_eq!(params["error"], "consent_required");
    assert!(params["error_description"].starts_with("AADSTS65001: "));

    let page = adele.get(&url, &authorize_query(&[], &code_challenge)).await;
    assert!(page.html.contains("Need admin approval"), "the session skips the sign-in page: {}", page.html);
    let sent = adele.press(&url, &page, "request_approval", &[("justification", "I run the <HR> sync")]).await;
    assert!(sent.html.contains("Request sent"), "{}", sent.html);

    let admin = common::client(&sandbox);
    let list_url = format!("{}/_sandbox/consent-requests", sandbox.https_base());
    let list: Value =
        admin.get(&list_url).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
    let request = &list.as_array().unwrap()[0];
    assert_eq!(request["status"], "pending");
    assert_eq!(request["requested_by_upn"], "adele.vance@contoso.com");
    assert_eq!(request["justification"], "I run the <HR> sync");
    assert!(request["scopes"].as_array().unwrap().contains(&json!("https://graph.microsoft.com/User.ReadWrite.All")));
    let html = admin.get(&list_url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Approve") && html.contains("I run the &lt;HR&gt; sync"), "{html}");

    let id = request["id"].as_str().unwrap();
    let approved = admin
        .post(format!("{list_url}/{id}/approve"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 303);
    assert_eq!(approved.headers()["location"], "/_sandbox/consent-requests");
    let again = admin.post(format!("{list_url}/{id}/deny")).send().await.unwrap();
    assert_eq!(again.status(), 409);
    let list: Value =
        admin.get(&list_url).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
    assert_eq!(list[0]["status"], "approved");

    let page = adele.get(&url, &authorize_query(&[], &code_challenge)).await;
    assert_eq!(page.status, 302, "{}", page.html);
    let code = redirect_params(&page.location.unwrap())["code"].clone();
    let (status, body) = redeem(&sandbox, &code, &[]).await;
    assert_eq!(status, 200, "{body}");
    let access = jwt_payload(body["access_token"].as_str().unwrap());
    assert_eq!(access["oid"], ADELE);
    assert!(access["scp"].as_str().unwrap().split(' ').any(|scope| scope == "User.ReadWrite.All"));
}

#[tokio::test]
async fn admin_consent_grants_the_registered_permissions_for_the_whole_tenant() {
    let sandbox = common::start().await;
    let base = sandbox.https_base();
    let url = format!("{base}/{CONTOSO}/v2.0/adminconsent");
    let query = [
        ("client_id", TENURE_APP),
        ("scope", "https://graph.microsoft.com/.default"),
        ("redirect_uri", REDIRECT),
        ("state", "ac-1"),
    ];

    // Not at /common.
    let mut browser = Browser::new(&sandbox);
    let page = browser.get(&format!("{base}/common/v2.0/adminconsent"), &query).await;
    assert!(page.html.contains("AADSTS90130"), "{}", page.html);

    // A user who is not an administrator is sent back with an error.
    let page = browser.get(&url, &query).await;
    let refused = browser.sign_in(&url, &page, "adele.vance@contoso.com", PASSWORD).await;
    let params = redirect_params(&refused.location.expect("error redirect"));
    assert_eq!(params["admin_consent"], "True");
    assert!(params["error_description"].starts_with("AADSTS90094: "));
    assert_eq!(params["state"], "ac-1");

    let mut admin = Browser::new(&sandbox);
    let page = admin.get(&url, &query).await;
    let consent = admin.sign_in(&url, &page, "admin@contoso.com", PASSWORD).await;
    assert!(consent.html.contains("Accept for your organization"), "{}", consent.html);
    let declined = admin.press(&url, &consent, "cancel", &[]).await;
    let params = redirect_params(&declined.location.unwrap());
    assert_eq!(params["error"], "consent_required");
    assert!(params["error_description"].starts_with("AADSTS65004: "));

    let page = admin.get(&url, &query).await;
    let done = admin.press(&url, &page, "accept", &[]).await;
    let location = done.location.expect("redirect");
    let params = redirect_params(&location);
    assert_eq!(params["admin_consent"], "True");
    assert_eq!(params["tenant"], CONTOSO);
    assert_eq!(params["state"], "ac-1");
    assert!(params["scope"].contains("https://graph.microsoft.com/User.ReadWrite.All"), "{location}");

    // The app is installed: client credentials work now (without roles: Tenure asks for delegated ones only).
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", TENURE_APP),
        ("client_secret", TENURE_SECRET),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let response = common::client(&sandbox).post(token_url(&sandbox)).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(jwt_payload(body["access_token"].as_str().unwrap()).get("roles").is_none());

    // The older endpoint grants every application permission of the registration as app roles, and
    // answers `tenant`, `state`, `admin_consent` in the query.
    let state = sandbox.state();
    let mut contoso_app = state.directory.app(CONTOSO_APP.parse().unwrap()).unwrap();
    contoso_app.redirect_uris.push(REDIRECT.to_string());
    state.directory.insert_app(contoso_app);
    let contoso_app_id: uuid::Uuid = CONTOSO_APP.parse().unwrap();
    let tenant = sandbox.tenant(CONTOSO).unwrap();
    for principal in tenant.write().service_principals.iter_mut().filter(|principal| principal.app_id == contoso_app_id)
    {
        principal.app_roles.clear();
    }
    let v1 = format!("{base}/{CONTOSO}/adminconsent");
    let page = admin.get(&v1, &[("client_id", CONTOSO_APP), ("state", "v1"), ("redirect_uri", REDIRECT)]).await;
    assert!(page.html.contains("Exchange.ManageAsApp"), "{}", page.html);
    let done = admin.press(&v1, &page, "accept", &[]).await;
    let location = done.location.expect("redirect");
    assert_eq!(location, format!("{REDIRECT}?tenant={CONTOSO}&state=v1&admin_consent=True"));
    let roles = tenant.read().service_principal(contoso_app_id).unwrap().app_roles.clone();
    assert!(roles.contains(&(sandbox::permissions::Resource::Graph, "User.ReadWrite.All".to_string())), "{roles:?}");
    assert!(roles.contains(&(sandbox::permissions::Resource::Exchange, "Exchange.ManageAsApp".to_string())));
}

#[tokio::test]
async fn refresh_tokens_rotate_reach_exchange_and_die_of_inactivity() {
    let sandbox = common::start().await;
    let mut browser = Browser::new(&sandbox);
    let code = admin_links_tenure(&sandbox, &mut browser).await;
    let (_, body) = redeem(&sandbox, &code, &[]).await;
    let first = body["refresh_token"].as_str().unwrap().to_string();

    let graph = "https://graph.microsoft.com/User.ReadWrite.All offline_access";
    let (status, body) = refresh(&sandbox, &first, graph).await;
    assert_eq!(status, 200, "{body}");
    let second = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(first, second, "every redemption returns a new refresh token");
    assert!(body["client_info"].is_string());
    // The old one stays valid, as Microsoft documents.
    assert_eq!(refresh(&sandbox, &first, graph).await.0, 200);

    let (status, body) =
        refresh(&sandbox, &second, "https://outlook.office365.com/Exchange.Manage offline_access").await;
    assert_eq!(status, 200, "{body}");
    let exchange = jwt_payload(body["access_token"].as_str().unwrap());
    assert_eq!(exchange["aud"], "https://outlook.office365.com");
    assert_eq!(exchange["scp"], "Exchange.Manage");
    assert_eq!(body["scope"], "https://outlook.office365.com/Exchange.Manage");

    let asked_too_much = refresh(&sandbox, &second, "https://graph.microsoft.com/Directory.ReadWrite.All").await;
    assert_grant_error(&asked_too_much, "invalid_grant", 65001);
    assert_eq!(asked_too_much.1["suberror"], "consent_required");
    assert_grant_error(&refresh(&sandbox, "garbage", graph).await, "invalid_grant", 9002313);

    sandbox.state().clock.advance(chrono::Duration::days(91));
    let dead = refresh(&sandbox, &second, graph).await;
    assert_grant_error(&dead, "invalid_grant", 700082);
    assert_eq!(dead.1["suberror"], "bad_token");
    assert!(dead.1["error_description"].as_str().unwrap().contains("was inactive for 90.00:00:00.\r\nTrace ID: "));
}

#[tokio::test]
async fn refresh_tokens_stop_working_when_sessions_are_revoked_consent_withdrawn_or_the_user_disabled() {
    let sandbox = common::start().await;
    let mut browser = Browser::new(&sandbox);
    let graph = "https://graph.microsoft.com/User.ReadWrite.All offline_access";
    let fresh_token = async |browser: &mut Browser| {
        let code_challenge = challenge(VERIFIER);
        let page =
            browser.get(&authorize_url(&sandbox), &authorize_query(&[("prompt", "login")], &code_challenge)).await;
        let done = browser.sign_in(&authorize_url(&sandbox), &page, "admin@contoso.com", PASSWORD).await;
        let code = redirect_params(&done.location.expect("consent exists already"))["code"].clone();
        redeem(&sandbox, &code, &[]).await.1["refresh_token"].as_str().unwrap().to_string()
    };
    admin_links_tenure(&sandbox, &mut browser).await;
    let tenant = sandbox.tenant(CONTOSO).unwrap();
    let admin_id: uuid::Uuid = CONTOSO_ADMIN.parse().unwrap();

    let token = fresh_token(&mut browser).await;
    sandbox.state().clock.advance(chrono::Duration::seconds(5));
    let now = sandbox.state().clock.now();
    tenant.write().update_user(admin_id, |user| user.sign_in_sessions_valid_from = now);
    let revoked = refresh(&sandbox, &token, graph).await;
    assert_grant_error(&revoked, "invalid_grant", 50173);
    assert!(revoked.1["error_description"].as_str().unwrap().contains("TokensValidFrom date"));
    // The session cookie died with it: the next /authorize asks for a password.
    let page = browser.get(&authorize_url(&sandbox), &authorize_query(&[], &challenge(VERIFIER))).await;
    assert!(page.html.contains("passwd"), "{}", page.html);

    sandbox.state().clock.advance(chrono::Duration::seconds(5));
    let token = fresh_token(&mut browser).await;
    assert_eq!(refresh(&sandbox, &token, graph).await.0, 200);
    let grants = std::mem::take(&mut tenant.write().grants);
    assert_grant_error(&refresh(&sandbox, &token, graph).await, "invalid_grant", 65001);
    tenant.write().grants = grants;

    tenant.write().update_user(admin_id, |user| user.account_enabled = false);
    assert_grant_error(&refresh(&sandbox, &token, graph).await, "invalid_grant", 50057);
}
