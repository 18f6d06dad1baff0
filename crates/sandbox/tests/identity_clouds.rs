//! An app registration belongs to the cloud of its home tenant: each cloud's login host knows only the apps
//! registered in that cloud (GCC High and DoD share `login.microsoftonline.us` and its apps). Elsewhere
//! `/authorize` and `/adminconsent` show AADSTS700016 on their error page and the token endpoint answers it as
//! JSON, as Entra does for an application it does not know. Tenure's app, registered once per cloud in the
//! sample seed, links a GCC High and a DoD tenant through the US Government registration.

mod common;

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use common::{PASSWORD, TENURE_APP, TENURE_SECRET, jwt_payload};

const US_APP: &str = "a1b2c3d4-0000-4000-8000-00000000a002";
const US_SECRET: &str = "tenure-sp-usgov-secret-H3j4K5l6Z7x8";
const CHINA_APP: &str = "a1b2c3d4-0000-4000-8000-00000000a003";
const CHINA_SECRET: &str = "tenure-sp-china-secret-V9b8N7m6Q5w4";
const FABRIKAM: &str = "7f4c2d3b-6e5a-4b9c-8d2e-3f4a5b6c7d8e";
const NORTHWIND: &str = "4d0d0000-0000-4000-8000-000000000001";
const REDIRECT: &str = "http://localhost:8080/oauth/callback";
const VERIFIER: &str = "verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG";

/// A DoD tenant with an administrator, added to the sample seed (which has none).
const NORTHWIND_DOD: &str = r#"
[[tenants]]
id = "4d0d0000-0000-4000-8000-000000000001"
name = "Northwind"
cloud = "UsGovDod"
domains = ["northwind.onmicrosoft.us", "northwind.mil"]

[[tenants.users]]
upn = "admin@northwind.mil"
display_name = "Northwind Admin"
password = "Sandbox!Pass1"
roles = ["Global Administrator"]
"#;

/// Each cloud family's login host and the Graph resource asked for there.
const HOSTS: [(&str, &str); 3] = [
    ("login.microsoftonline.com", "https://graph.microsoft.com"),
    ("login.microsoftonline.us", "https://graph.microsoft.us"),
    ("login.partner.microsoftonline.cn", "https://microsoftgraph.chinacloudapi.cn"),
];

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref())
}

fn endpoint(sandbox: &sandbox::RunningSandbox, host: &str, tenant: &str, path: &str) -> String {
    format!("{}/{host}/{tenant}/{path}", sandbox.https_base())
}

/// The value of a hidden input on a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no hidden {name} in {html}")) + marker.len();
    html[start..start + html[start..].find('"').expect("a closing quote")].to_string()
}

/// A page of the login host, or its redirect.
struct Page {
    status: u16,
    location: Option<String>,
    html: String,
}

/// A browser holding the login host's session cookie, following no redirects.
struct Browser {
    client: reqwest::Client,
    cookie: Option<String>,
}

impl Browser {
    fn new(sandbox: &sandbox::RunningSandbox) -> Browser {
        Browser { client: common::client(sandbox), cookie: None }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie.clone()),
            None => request,
        };
        let response = request.send().await.expect("the login host answers");
        if let Some(set) = response.headers().get("set-cookie").and_then(|value| value.to_str().ok()) {
            self.cookie = set.split(';').next().map(str::to_string);
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").and_then(|value| value.to_str().ok()).map(str::to_string);
        Page { status, location, html: response.text().await.expect("a body") }
    }

    async fn get(&mut self, url: &str, query: &[(&str, &str)]) -> Page {
        let request = self.client.get(url).query(query);
        self.send(request).await
    }

    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let request = self.client.post(url).form(form);
        self.send(request).await
    }
}

fn authorize_query<'a>(client_id: &'a str, scope: &'a str, code_challenge: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", client_id),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "state-1"),
        ("code_challenge", code_challenge),
        ("code_challenge_method", "S256"),
    ]
}

fn is_sign_in_page(page: &Page) -> bool {
    page.status == 200 && page.html.contains("name=\"passwd\"")
}

/// Checks the error page of an unknown application.
#[track_caller]
fn assert_unknown_app_page(page: &Page, client_id: &str, context: &str) {
    assert_eq!((page.status, page.location.as_deref()), (200, None), "{context}: {}", page.html);
    assert!(page.html.contains("data-code=\"700016\""), "{context}: {}", page.html);
    let text = format!(
        "AADSTS700016: Application with identifier '{client_id}' was not found in the directory 'organizations'."
    );
    assert!(page.html.contains(&text), "{context}: {}", page.html);
}

async fn redeem(
    sandbox: &sandbox::RunningSandbox,
    url: &str,
    client: (&str, &str),
    code: &str,
    scope: &str,
) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", client.0),
        ("client_secret", client.1),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("scope", scope),
    ];
    let response = common::client(sandbox).post(url).form(&form).send().await.expect("the token endpoint answers");
    (response.status().as_u16(), response.json().await.expect("JSON"))
}

#[track_caller]
fn assert_token_error(answer: &(u16, Value), error: &str, code: u64, context: &str) {
    assert_eq!((answer.0, answer.1["error"].as_str()), (400, Some(error)), "{context}: {}", answer.1);
    assert_eq!(answer.1["error_codes"], json!([code]), "{context}: {}", answer.1);
    let description = answer.1["error_description"].as_str().expect("error_description");
    assert!(description.starts_with(&format!("AADSTS{code}: ")), "{context}: {description}");
}

#[tokio::test]
async fn an_app_is_known_only_at_the_login_host_of_its_cloud() {
    let sandbox = common::start().await;
    let code_challenge = challenge(VERIFIER);
    let apps = [
        (TENURE_APP, TENURE_SECRET, "login.microsoftonline.com"),
        (US_APP, US_SECRET, "login.microsoftonline.us"),
        (CHINA_APP, CHINA_SECRET, "login.partner.microsoftonline.cn"),
    ];
    for (app, secret, home_host) in apps {
        for (host, graph) in HOSTS {
            let context = format!("app {app} at {host}");
            let known = host == home_host;
            let mut browser = Browser::new(&sandbox);
            let scope = format!("{graph}/User.ReadWrite.All openid offline_access");

            let authorize = endpoint(&sandbox, host, "organizations", "oauth2/v2.0/authorize");
            let page = browser.get(&authorize, &authorize_query(app, &scope, &code_challenge)).await;
            if known {
                assert!(is_sign_in_page(&page), "{context}: {}", page.html);
            } else {
                assert_unknown_app_page(&page, app, &context);
            }

            let adminconsent = endpoint(&sandbox, host, "organizations", "v2.0/adminconsent");
            let default_scope = format!("{graph}/.default");
            let query = [("client_id", app), ("redirect_uri", REDIRECT), ("scope", default_scope.as_str())];
            let page = browser.get(&adminconsent, &query).await;
            if known {
                assert!(is_sign_in_page(&page), "{context}: {}", page.html);
            } else {
                assert_unknown_app_page(&page, app, &context);
            }

            // The token endpoint finds the client before it looks at the code.
            let token = endpoint(&sandbox, host, "organizations", "oauth2/v2.0/token");
            let answer = redeem(&sandbox, &token, (app, secret), "not-a-code", &scope).await;
            if known {
                assert_token_error(&answer, "invalid_grant", 70000, &context);
            } else {
                assert_token_error(&answer, "unauthorized_client", 700016, &context);
                let description = answer.1["error_description"].as_str().unwrap_or_default();
                assert!(
                    description.contains(&format!(
                        "Application with identifier '{app}' was not found in the directory 'organizations'."
                    )),
                    "{context}: {description}"
                );
            }
        }
    }
}

/// Signs `upn` in at `authorize` with the US Government registration and consents for the organisation;
/// returns the code.
async fn link_with_us_app(browser: &mut Browser, authorize: &str, scope: &str, upn: &str) -> String {
    let code_challenge = challenge(VERIFIER);
    let page = browser.get(authorize, &authorize_query(US_APP, scope, &code_challenge)).await;
    assert!(is_sign_in_page(&page), "{}", page.html);
    let ctx = hidden(&page.html, "ctx");
    let consent =
        browser.post(authorize, &[("ctx", &ctx), ("action", "signin"), ("login", upn), ("passwd", PASSWORD)]).await;
    assert!(consent.html.contains("Permissions requested"), "{}", consent.html);
    assert!(consent.html.contains("Tenure (US Gov)"), "the consent page names the app: {}", consent.html);
    let ctx = hidden(&consent.html, "ctx");
    let done = browser.post(authorize, &[("ctx", &ctx), ("action", "accept"), ("org_consent", "on")]).await;
    assert_eq!(done.status, 302, "{}", done.html);
    let location = done.location.expect("a redirect");
    let (_, query) = location.split_once('?').expect("a query");
    let params: HashMap<String, String> = serde_urlencoded::from_str(query).expect("encoded parameters");
    params.get("code").cloned().unwrap_or_else(|| panic!("a code: {location}"))
}

#[tokio::test]
async fn the_us_government_registration_links_gcc_high_and_dod_tenants() {
    let seed = sandbox::seed::Seed::from_toml(&format!("{}{NORTHWIND_DOD}", sandbox::seed::SAMPLE_SEED))
        .expect("the seed parses");
    let sandbox = common::start_with(sandbox::Sandbox::builder().seed(seed)).await;
    let us = "login.microsoftonline.us";

    // GCC High, through `organizations`.
    let scope = "https://graph.microsoft.us/User.ReadWrite.All openid offline_access";
    let authorize = endpoint(&sandbox, us, "organizations", "oauth2/v2.0/authorize");
    let code = link_with_us_app(&mut Browser::new(&sandbox), &authorize, scope, "admin@fabrikam.gov").await;
    // The code is not taken at the Global host, where the app does not exist (nor is it spent there).
    let global = endpoint(&sandbox, "login.microsoftonline.com", "organizations", "oauth2/v2.0/token");
    let refused = redeem(&sandbox, &global, (US_APP, US_SECRET), &code, scope).await;
    assert_token_error(&refused, "unauthorized_client", 700016, "a US code at the Global host");
    let token = endpoint(&sandbox, us, "organizations", "oauth2/v2.0/token");
    let (status, body) = redeem(&sandbox, &token, (US_APP, US_SECRET), &code, scope).await;
    assert_eq!(status, 200, "{body}");
    let access = jwt_payload(body["access_token"].as_str().expect("an access token"));
    assert_eq!((access["aud"].as_str(), access["tid"].as_str()), (Some("https://graph.microsoft.us"), Some(FABRIKAM)));
    assert_eq!(access["appid"], US_APP);
    let id_token = jwt_payload(body["id_token"].as_str().expect("an id token"));
    assert_eq!(id_token["iss"], format!("https://login.microsoftonline.us/{FABRIKAM}/v2.0"));

    // DoD shares the host and the registration. (`organizations` there reads resources as GCC High's, so a DoD
    // tenant names itself to ask for DoD's Graph.)
    let scope = "https://dod-graph.microsoft.us/User.ReadWrite.All openid offline_access";
    let authorize = endpoint(&sandbox, us, NORTHWIND, "oauth2/v2.0/authorize");
    let code = link_with_us_app(&mut Browser::new(&sandbox), &authorize, scope, "admin@northwind.mil").await;
    let token = endpoint(&sandbox, us, NORTHWIND, "oauth2/v2.0/token");
    let (status, body) = redeem(&sandbox, &token, (US_APP, US_SECRET), &code, scope).await;
    assert_eq!(status, 200, "{body}");
    let access = jwt_payload(body["access_token"].as_str().expect("an access token"));
    assert_eq!(
        (access["aud"].as_str(), access["tid"].as_str()),
        (Some("https://dod-graph.microsoft.us"), Some(NORTHWIND))
    );
}

#[tokio::test]
async fn a_sign_in_started_at_one_clouds_host_cannot_be_finished_at_another() {
    let sandbox = common::start().await;
    let mut browser = Browser::new(&sandbox);
    let code_challenge = challenge(VERIFIER);
    let scope = "https://graph.microsoft.us/User.ReadWrite.All openid";
    let us = endpoint(&sandbox, "login.microsoftonline.us", "organizations", "oauth2/v2.0/authorize");
    let page = browser.get(&us, &authorize_query(US_APP, scope, &code_challenge)).await;
    let ctx = hidden(&page.html, "ctx");
    let form = [("ctx", ctx.as_str()), ("action", "signin"), ("login", "admin@fabrikam.gov"), ("passwd", PASSWORD)];
    let global = endpoint(&sandbox, "login.microsoftonline.com", "organizations", "oauth2/v2.0/authorize");
    let elsewhere = browser.post(&global, &form).await;
    assert!(elsewhere.html.contains("data-code=\"90023\""), "{}", elsewhere.html);
    assert!(browser.cookie.is_none(), "nobody signed in");
    // At its own host the same sign-in goes on.
    let consent = browser.post(&us, &form).await;
    assert!(consent.html.contains("Permissions requested"), "{}", consent.html);
}
