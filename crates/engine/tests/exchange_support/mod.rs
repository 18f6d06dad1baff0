//! Shared set-up for the engine's Exchange tests: a sandbox whose Contoso tenant has the sample's users plus the
//! test's own (seed TOML appended to Contoso), an Exchange Online client on Contoso's app (app-only, real tokens
//! from the sandbox's token endpoint, HTTPS trusting the sandbox CA), the engine's context with that client as its
//! Exchange connection, and the sandbox admin API.

#![allow(dead_code, unreachable_pub)]

use std::fmt::Write as _;
use std::sync::Arc;

use exchange::{Anchor, ExchangeClient, ExchangeConfig};
use model::{NationalCloud, Secret};
use sandbox::RunningSandbox;
use sandbox::knobs::Knobs;
use sandbox::seed::Seed;
use serde_json::Value;

use crate::support::{CONTOSO_APP, CONTOSO_APP_SECRET, CONTOSO_TENANT};

/// Contoso's ENTERPRISEPACK SKU (it includes Exchange).
pub const ENTERPRISEPACK: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";
pub const ADELE: &str = "adele.vance@contoso.com";
pub const ADELE_ID: &str = "0b1c2d3e-0000-4000-8000-000000000002";
pub const ALEX: &str = "alex.wilber@contoso.com";
pub const ALEX_ID: &str = "0b1c2d3e-0000-4000-8000-000000000003";
/// Megan Bowen: no licence, so no mailbox.
pub const MEGAN: &str = "megan.bowen@contoso.com";
/// The sample's distribution list (Adele is a member).
pub const RETAIL_ANNOUNCEMENTS: &str = "Retail Announcements";

/// Where the extra Contoso objects go in the sample seed: before the next tenant.
const AFTER_CONTOSO: &str = "# Fabrikam: a US Government GCC High tenant.";

/// Seed TOML for a Contoso user: `id` is the object id's last twelve hex digits; licensed users get
/// ENTERPRISEPACK (and so a mailbox).
pub fn user(id: u64, upn: &str, employee_id: Option<&str>, licensed: bool) -> String {
    let mut text = format!(
        "[[tenants.users]]\nid = \"{}\"\nupn = \"{upn}\"\ndisplay_name = \"{upn}\"\npassword = \"Sandbox!Pass1\"\n\
         usage_location = \"DE\"\n",
        object_id(id)
    );
    if let Some(employee_id) = employee_id {
        let _ = writeln!(text, "employee_id = \"{employee_id}\"");
    }
    if licensed {
        text.push_str("licenses = [\"ENTERPRISEPACK\"]\n");
    }
    text
}

/// The object id [`user`] gives `id`.
pub fn object_id(id: u64) -> String {
    format!("0e1d2c3b-0000-4000-8000-{id:012}")
}

/// Seed TOML for a Contoso mail-enabled group (`kind` `"distribution"` or `"mail-security"`).
pub fn group(name: &str, nickname: &str, kind: &str, members: &[&str]) -> String {
    let members: Vec<String> = members.iter().map(|member| format!("\"{member}\"")).collect();
    format!(
        "[[tenants.groups]]\ndisplay_name = \"{name}\"\nmail_nickname = \"{nickname}\"\nkind = \"{kind}\"\n\
         members = [{}]\n",
        members.join(", ")
    )
}

/// Starts a sandbox with the sample seed (licence seats raised), `extra` TOML added to Contoso, and `knobs`.
pub async fn start(extra: &str, knobs: Knobs) -> RunningSandbox {
    let sample = include_str!("../../../sandbox/seed/sample.toml")
        .replace("seats = 25", "seats = 200000")
        .replace("seats = 5", "seats = 200000");
    assert!(sample.contains(AFTER_CONTOSO), "the sample seed's tenant order changed");
    let text = sample.replace(AFTER_CONTOSO, &format!("{extra}\n{AFTER_CONTOSO}"));
    let seed = Seed::from_toml(&text).expect("the test seed parses");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    sandbox::Sandbox::builder().seed(seed).knobs(knobs).start(listener).await.expect("sandbox starts")
}

/// An app-only Exchange client for Contoso with `page_size` objects per page.
pub fn exchange_client(sandbox: &RunningSandbox, page_size: u32) -> ExchangeClient {
    let (login_base, _) = engine::endpoints(&crate::support::connection(sandbox));
    let ca = sandbox.ca_pem().as_bytes().to_vec();
    let tokens = vault::ClientCredentialsProvider::new(vault::ClientCredentialsConfig {
        cloud: NationalCloud::Global,
        tenant_id: CONTOSO_TENANT.to_string(),
        client_id: CONTOSO_APP.to_string(),
        credential: vault::ClientCredential::Secret(Secret::new(CONTOSO_APP_SECRET)),
        login_base_url: Some(login_base),
        resource: format!("https://{}", NationalCloud::Global.exchange_host()),
        extra_root_certificate_pem: Some(ca.clone()),
    })
    .expect("token provider");
    let mut config = ExchangeConfig::new(sandbox.https_base(), CONTOSO_TENANT, Anchor::AppOnly);
    config.extra_root_certificate_pem = Some(ca);
    config.page_size = page_size;
    config.max_attempts = 8;
    ExchangeClient::new(config, Arc::new(tokens)).expect("exchange client")
}

/// The engine's context on `sandbox` with a SQLite store in `dir` and the Exchange client as its connection.
pub async fn engine_context(
    sandbox: &RunningSandbox,
    dir: &std::path::Path,
    apply: engine::config::ApplyConfig,
) -> engine::Context {
    let store_url = format!("sqlite://{}", dir.join("tenure.db").display());
    let mut ctx = crate::support::context(sandbox, &store_url, apply).await;
    ctx.exchange = Some(engine::exchange_gate::ExchangeConnection {
        name: "contoso-exchange".into(),
        client: exchange_client(sandbox, 1000),
    });
    ctx
}

/// An HTTPS client trusting only the sandbox CA.
fn http(sandbox: &RunningSandbox) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("CA PEM");
    reqwest::Client::builder().tls_certs_only([ca]).build().expect("client")
}

/// `GET /_sandbox/tenants/{Contoso}/exchange/{what}` of the sandbox admin API.
pub async fn admin(sandbox: &RunningSandbox, what: &str) -> Value {
    let url = format!("{}/tenants/{CONTOSO_TENANT}/exchange/{what}", sandbox.admin_base());
    let response = http(sandbox).get(url).send().await.expect("admin request");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("admin JSON")
}

/// The sandbox admin API's view of the mailbox of `upn`.
pub async fn admin_mailbox(sandbox: &RunningSandbox, upn: &str) -> Value {
    let mailboxes = admin(sandbox, "mailboxes").await;
    mailboxes
        .as_array()
        .into_iter()
        .flatten()
        .find(|mailbox| mailbox["user_principal_name"] == upn)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Changes the licences of the user `id` through Graph (Contoso's app).
pub async fn assign_licenses(graph: &graph::Client, id: &str, add: &[&str], remove: &[&str]) {
    let add: Vec<Value> = add.iter().map(|sku| serde_json::json!({"skuId": sku, "disabledPlans": []})).collect();
    let request = graph::GraphRequest {
        method: graph::Method::POST,
        path: format!("/users/{id}/assignLicense"),
        body: Some(serde_json::json!({"addLicenses": add, "removeLicenses": remove})),
    };
    let response = graph.send(request).await.expect("assignLicense");
    assert_eq!(response.status, 200, "{}", response.body);
}
