//! Stored connections end to end against the sandbox over HTTPS, with a real SQLite store: Link Account for a
//! Service provider application (sign-in and consent on the sandbox's pages) in each cloud with that cloud's
//! registration of Tenure's app (and the clear refusal where none is configured), the callback's `state` checks,
//! refresh-token rotation in the store, a revoked refresh token putting the connection in "needs re-link" and
//! stopping runs before any work, the admin-consent-request path, a Customer owned application with a generated
//! certificate, and the permission gate refusing a run its connection cannot do.

mod support;

#[path = "../../vault/tests/link/mod.rs"]
mod link;

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use engine::config::ApplyConfig;
use engine::connections::{
    ConnectionError, ConnectionService, ConnectionSettings, ConnectionView, NationalProviderApps, NewAppCredential,
    NewConnectionRequest, ProviderApp,
};
use engine::{RunTrigger, SilentProgress, SyncOptions};
use link::{Browser, Landing};
use model::{NationalCloud, Secret};
use sandbox::RunningSandbox;
use store::{ConnectionStatus, RunStatus, Store};
use vault::MasterKeyRing;

const PROVIDER_APP: &str = "a1b2c3d4-0000-4000-8000-00000000a001";
const PROVIDER_SECRET: &str = "tenure-sp-secret-Q9w8E7r6T5y4";
/// Tenure's app as registered in the US Government cloud (the sample seed's "Tenure Publisher (US Gov)").
const PROVIDER_APP_US_GOV: &str = "a1b2c3d4-0000-4000-8000-00000000a002";
const PROVIDER_SECRET_US_GOV: &str = "tenure-sp-usgov-secret-H3j4K5l6Z7x8";
/// Tenure's app as registered in the China cloud (the sample seed's "Tenure Publisher (China)").
const PROVIDER_APP_CHINA: &str = "a1b2c3d4-0000-4000-8000-00000000a003";
const PROVIDER_SECRET_CHINA: &str = "tenure-sp-china-secret-V9b8N7m6Q5w4";
const PASSWORD: &str = "Sandbox!Pass1";
const ADMIN: &str = "admin@contoso.com";
const USER: &str = "adele.vance@contoso.com";

async fn start_sandbox_with(seed_text_edit: impl FnOnce(String) -> String) -> RunningSandbox {
    let text = include_str!("../../sandbox/seed/sample.toml")
        .replace("seats = 25", "seats = 200000")
        .replace("seats = 5", "seats = 200000");
    let seed = sandbox::seed::Seed::from_toml(&seed_text_edit(text)).expect("seed parses");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    sandbox::Sandbox::builder().seed(seed).start(listener).await.expect("sandbox starts")
}

/// A sandbox (its seed text edited by `seed_text_edit`), a temporary directory and a connection service on a store
/// in it.
async fn started(
    seed_text_edit: impl FnOnce(String) -> String,
) -> (RunningSandbox, tempfile::TempDir, ConnectionService) {
    let sandbox = start_sandbox_with(seed_text_edit).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let service = service(&sandbox, dir.path()).await;
    (sandbox, dir, service)
}

fn registration(client_id: &str, secret: &str) -> ProviderApp {
    ProviderApp { client_id: client_id.to_string(), credential: vault::ClientCredential::Secret(Secret::new(secret)) }
}

/// The sample seed's registrations of Tenure's app in the national clouds.
fn national_registrations() -> NationalProviderApps {
    NationalProviderApps {
        us_government: Some(registration(PROVIDER_APP_US_GOV, PROVIDER_SECRET_US_GOV)),
        china: Some(registration(PROVIDER_APP_CHINA, PROVIDER_SECRET_CHINA)),
    }
}

/// The connection service over a store in `dir`, with Tenure's app registered in every cloud.
async fn service(sandbox: &RunningSandbox, dir: &Path) -> ConnectionService {
    service_with(sandbox, dir, national_registrations()).await
}

/// The connection service over a store in `dir`, with the Global registration and `national` ones.
async fn service_with(sandbox: &RunningSandbox, dir: &Path, national: NationalProviderApps) -> ConnectionService {
    let store = Store::open(&format!("sqlite://{}", dir.join("tenure.db").display())).await.expect("store opens");
    let (keys, _) = MasterKeyRing::generate();
    ConnectionService::new(
        store,
        Arc::new(keys),
        ConnectionSettings {
            public_base_url: "http://localhost:8080".to_string(),
            provider_app: Some(registration(PROVIDER_APP, PROVIDER_SECRET)),
            sandbox_url: Some(sandbox.https_base()),
            ca_pem: Some(sandbox.ca_pem().as_bytes().to_vec()),
        },
    )
    .with_national_provider_apps(national)
}

/// Uploads a certificate to an app registration, as an admin does in the Entra admin center.
async fn upload_certificate(sandbox: &RunningSandbox, app_id: &str, pem: &str) {
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("CA")])
        .build()
        .expect("client");
    let response = http
        .post(format!("{}/apps/{app_id}/certificates", sandbox.admin_base()))
        .json(&serde_json::json!({ "pem": pem }))
        .send()
        .await
        .expect("admin API");
    assert_eq!(response.status(), 201);
}

/// Contoso's own app as an app-only Exchange connection ("contoso-exchange-app"), its generated certificate
/// uploaded to the app registration.
async fn exchange_app_connection(sandbox: &RunningSandbox, service: &ConnectionService) -> ConnectionView {
    let view = service
        .create(NewConnectionRequest::ExchangeApp {
            name: "contoso-exchange-app".into(),
            cloud: NationalCloud::Global,
            tenant_id: support::CONTOSO_TENANT.into(),
            client_id: support::CONTOSO_APP.into(),
        })
        .await
        .expect("created");
    let certificate = view.certificates.first().expect("a generated certificate");
    upload_certificate(sandbox, support::CONTOSO_APP, &certificate.certificate_pem).await;
    view
}

/// Link Account as `upn` through the sandbox's pages, consenting for the organisation when asked; returns the
/// callback's query.
async fn sign_in_and_consent(browser: &Browser, url: &str, upn: &str) -> String {
    let landing = browser.sign_in_with(&browser.open(url).await.page(), upn, PASSWORD).await;
    let landing = match landing {
        Landing::Page(consent) => {
            assert_eq!(consent.title(), "Permissions requested", "{}", consent.html);
            browser.submit(&consent, "accept", &[("org_consent", "on")]).await
        }
        callback => callback,
    };
    match landing {
        Landing::Callback(query) => query,
        Landing::Page(page) => panic!("expected the callback, got {:?}: {}", page.title(), page.html),
    }
}

async fn linked_service_provider(sandbox: &RunningSandbox, service: &ConnectionService) -> store::ConnectionId {
    let view = service
        .create(NewConnectionRequest::ServiceProvider { name: "contoso".into(), cloud: NationalCloud::Global })
        .await
        .expect("created");
    assert_eq!(view.status_label(), "Not linked");
    let url = service.begin_link(view.connection.id, "session-1").await.expect("link starts");
    assert!(url.contains("code_challenge_method=S256") && url.contains("Directory.AccessAsUser.All"), "{url}");
    let query = sign_in_and_consent(&Browser::new(sandbox), &url, ADMIN).await;
    let linked = service.complete_callback(&query, "session-1").await.expect("callback accepted");
    assert_eq!(linked.connection.status, ConnectionStatus::Connected);
    assert_eq!(linked.connection.linked_by.as_deref(), Some(ADMIN));
    assert!(
        linked.connection.granted_permissions.iter().any(|scope| scope == "Directory.AccessAsUser.All"),
        "{:?}",
        linked.connection.granted_permissions
    );
    assert_eq!(linked.connection.tenant_id.as_deref(), Some(support::CONTOSO_TENANT));
    // The answer is single use.
    let replay = service.complete_callback(&query, "session-1").await.expect_err("a replay is refused");
    assert!(matches!(replay, ConnectionError::InvalidState(_)), "{replay}");
    view.connection.id
}

#[tokio::test]
async fn a_service_provider_connection_links_syncs_and_rotates_its_refresh_token() {
    let (sandbox, dir, service) = started(|text| text).await;
    let id = linked_service_provider(&sandbox, &service).await;

    let stored = service.store().secret(id, "refresh_token").await.expect("read").expect("a refresh token");
    assert!(!stored.ciphertext.is_empty() && !stored.key_id.is_empty());

    let ctx = engine::connect_stored(service.store().clone(), &service, "contoso", ApplyConfig::default())
        .await
        .expect("connects");
    std::fs::write(dir.path().join("policy.toml"), support::POLICY).expect("policy");
    let workers = support::workforce(6);
    std::fs::write(dir.path().join("hr.csv"), support::csv(&workers)).expect("hr");
    let now = Utc::now();
    let prepared =
        engine::prepare(&ctx, &dir.path().join("policy.toml"), &dir.path().join("hr.csv"), now, &SilentProgress)
            .await
            .expect("prepare");
    assert!(!prepared.plan.is_empty());
    let options = SyncOptions { dry_run: false, override_limits: false, trigger: RunTrigger::Cli };
    let report = engine::sync(&ctx, &prepared, options, now, &SilentProgress).await.expect("sync");
    assert_eq!(report.status, RunStatus::Succeeded, "{:?}", report.missing_permissions);
    let again =
        engine::prepare(&ctx, &dir.path().join("policy.toml"), &dir.path().join("hr.csv"), now, &SilentProgress)
            .await
            .expect("re-plan");
    assert!(again.plan.is_empty(), "{}", planner::render_text(&again.plan));

    // Every redemption rotates the refresh token; the store keeps the newest.
    let provider = service.token_provider(id).await.expect("provider");
    provider.fresh_access_token().await.expect("a fresh token");
    let rotated = service.store().secret(id, "refresh_token").await.expect("read").expect("a refresh token");
    assert_ne!(rotated.ciphertext, stored.ciphertext, "the refresh token was rotated");

    let report = service.test(id).await.expect("tested");
    assert!(report.passed, "{report:?}");
    assert!(report.lines.iter().any(|line| line.text.contains("Microsoft Graph: reading one user: OK")), "{report:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_callback_from_another_session_a_forged_state_or_a_late_one_is_refused() {
    let (sandbox, _dir, service) = started(|text| text).await;
    let view = service
        .create(NewConnectionRequest::ServiceProvider { name: "contoso".into(), cloud: NationalCloud::Global })
        .await
        .expect("created");
    let id = view.connection.id;

    let url = service.begin_link(id, "session-A").await.expect("link starts");
    let query = sign_in_and_consent(&Browser::new(&sandbox), &url, ADMIN).await;
    let error = service.complete_callback(&query, "session-B").await.expect_err("another session");
    assert!(error.to_string().contains("another session"), "{error}");
    // The state was spent by that attempt: even the right session cannot use it now.
    let error = service.complete_callback(&query, "session-A").await.expect_err("spent");
    assert!(matches!(error, ConnectionError::InvalidState(_)), "{error}");

    let error = service.complete_callback("code=abc&state=forged", "session-A").await.expect_err("forged");
    assert!(error.to_string().contains("never issued by Tenure"), "{error}");
    let error = service.complete_callback("code=abc", "session-A").await.expect_err("no state");
    assert!(matches!(error, ConnectionError::InvalidState(_)), "{error}");

    // Nothing was linked by any of it.
    let view = service.get(id).await.expect("read");
    assert_eq!(view.connection.status, ConnectionStatus::NotLinked);
    assert!(service.store().secret(id, "refresh_token").await.expect("read").is_none());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_revoked_refresh_token_needs_a_relink_and_runs_stop_before_any_work() {
    let (sandbox, _dir, service) = started(|text| text).await;
    let id = linked_service_provider(&sandbox, &service).await;

    let token = service.token_provider(id).await.expect("provider").access_token().await.expect("token");
    link::revoke_sessions(&sandbox, &token.token).await;

    let error = service.token_provider(id).await.expect("provider").fresh_access_token().await.expect_err("revoked");
    assert!(error.needs_relink, "{error:?}");
    let view = service.get(id).await.expect("read");
    assert_eq!(view.connection.status, ConnectionStatus::NeedsRelink);
    assert_eq!(view.status_label(), "Needs re-link");
    let reason = view.connection.status_reason.clone().unwrap_or_default();
    assert!(reason.contains("AADSTS50173"), "{reason}");

    let Err(error) = engine::connect_stored(service.store().clone(), &service, "contoso", ApplyConfig::default()).await
    else {
        panic!("a run on a connection that needs a re-link must not start")
    };
    let text = error.to_string();
    assert!(text.contains("needs re-link") && text.contains("nothing was done"), "{text}");
    assert_eq!(service.store().list_runs(10).await.expect("runs").len(), 0);

    // Re-link: the organisation consented before, so the sign-in comes straight back.
    let url = service.begin_link(id, "session-2").await.expect("relink starts");
    let query = sign_in_and_consent(&Browser::new(&sandbox), &url, ADMIN).await;
    let view = service.complete_callback(&query, "session-2").await.expect("relinked");
    assert_eq!(view.connection.status, ConnectionStatus::Connected);
    assert!(view.connection.status_reason.is_none(), "{:?}", view.connection.status_reason);
    service.token_provider(id).await.expect("provider").fresh_access_token().await.expect("works again");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_user_who_cannot_consent_leaves_the_connection_waiting_for_admin_approval() {
    let (sandbox, _dir, service) = started(|text| text).await;
    let view = service
        .create(NewConnectionRequest::ServiceProvider { name: "contoso".into(), cloud: NationalCloud::Global })
        .await
        .expect("created");
    let id = view.connection.id;
    let browser = Browser::new(&sandbox);

    let url = service.begin_link(id, "s").await.expect("link starts");
    let approval = browser.sign_in_with(&browser.open(&url).await.page(), USER, PASSWORD).await.page();
    assert_eq!(approval.title(), "Need admin approval", "{}", approval.html);
    assert!(
        browser
            .submit(&approval, "request_approval", &[("justification", "HR sync")])
            .await
            .page()
            .html
            .contains("Request sent")
    );
    // The user returns to Tenure without a grant: the connection waits for an administrator.
    let url = service.begin_link(id, "s").await.expect("link starts");
    let approval = browser.open(&url).await.page();
    let Landing::Callback(query) = browser.submit(&approval, "cancel", &[]).await else { panic!("a callback") };
    let view = service.complete_callback(&query, "s").await.expect("recorded");
    assert_eq!(view.connection.status, ConnectionStatus::WaitingAdminApproval);
    assert_eq!(view.status_label(), "Waiting for admin approval");

    let requests = link::consent_requests(&sandbox).await;
    link::approve_consent_request(&sandbox, requests[0]["id"].as_str().expect("an id")).await;
    let url = service.begin_link(id, "s").await.expect("link starts");
    let Landing::Callback(query) = browser.open(&url).await else { panic!("approved: straight back") };
    let view = service.complete_callback(&query, "s").await.expect("linked");
    assert_eq!(view.connection.status, ConnectionStatus::Connected);
    assert_eq!(view.connection.linked_by.as_deref(), Some(USER));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_customer_owned_app_with_a_generated_certificate_connects_once_the_certificate_is_uploaded() {
    let (sandbox, _dir, service) = started(|text| text).await;
    let view = service
        .create(NewConnectionRequest::CustomerApp {
            name: "contoso-app".into(),
            cloud: NationalCloud::Global,
            tenant_id: support::CONTOSO_TENANT.into(),
            client_id: support::CONTOSO_APP.into(),
            credential: NewAppCredential::GenerateCertificate,
        })
        .await
        .expect("created");
    let id = view.connection.id;
    assert_eq!(view.status_label(), "Not tested");
    let certificate = view.certificates.first().expect("a generated certificate").clone();
    assert!(certificate.active && certificate.certificate_pem.contains("BEGIN CERTIFICATE"));
    assert!(!certificate.certificate_pem.contains("PRIVATE KEY"));

    // Not uploaded yet: the test says so.
    let report = service.test(id).await.expect("tested");
    assert!(!report.passed);
    assert!(report.lines.iter().any(|line| line.text.contains("AADSTS700027")), "{report:?}");

    let pem = service.public_certificate(id, &certificate.sha1_thumbprint).await.expect("download");
    upload_certificate(&sandbox, support::CONTOSO_APP, &pem).await;

    let report = service.test(id).await.expect("tested");
    assert!(report.passed, "{report:?}");
    let view = service.get(id).await.expect("read");
    assert_eq!(view.connection.status, ConnectionStatus::Connected);
    assert!(view.connection.granted_permissions.iter().any(|role| role == "User.ReadWrite.All"));
    assert_eq!(view.last_test.as_ref(), Some(&report));

    // Renewal adds an inactive certificate; the active one keeps working until the new one is activated.
    let renewed = service.renew_certificate(id).await.expect("renewed");
    assert_eq!(renewed.certificates.len(), 2);
    assert_eq!(renewed.certificates.iter().filter(|certificate| certificate.active).count(), 1);
    assert!(service.test(id).await.expect("tested").passed);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_run_is_refused_steps_its_connection_cannot_do() {
    // Contoso's app with User.ReadWrite.All and Group.ReadWrite.All only: it can create people and groups, but
    // not reset passwords (Directory.ReadWrite.All in the product's set); Organization.Read.All lets it read licences.
    let (sandbox, dir, service) = started(|text| {
        text.replacen(
            "application_permissions = [\"Graph:User.ReadWrite.All\", \"Graph:Group.ReadWrite.All\", \"Graph:Directory.ReadWrite.All\", \"Graph:User.EnableDisableAccount.All\", ",
            "application_permissions = [\"Graph:User.ReadWrite.All\", \"Graph:Group.ReadWrite.All\", \"Graph:Organization.Read.All\", ",
            1,
        )
    })
    .await;
    let view = service
        .create(NewConnectionRequest::CustomerApp {
            name: "contoso-app".into(),
            cloud: NationalCloud::Global,
            tenant_id: support::CONTOSO_TENANT.into(),
            client_id: support::CONTOSO_APP.into(),
            credential: NewAppCredential::ClientSecret(Secret::new(support::CONTOSO_APP_SECRET)),
        })
        .await
        .expect("created");
    let report = service.test(view.connection.id).await.expect("tested");
    assert!(!report.passed, "{report:?}");
    assert!(
        report.lines.iter().any(|line| line.text.starts_with("Directory.ReadWrite.All is missing")
            && line.text.contains("passwords cannot be reset")),
        "{report:?}"
    );
    // A connection that failed its test is not "Connected": a run refuses it outright.
    let refused =
        engine::connect_stored(service.store().clone(), &service, "contoso-app", ApplyConfig::default()).await;
    assert!(refused.is_err());

    // The same app given inline: joiners go through (nothing they need is missing) …
    let ctx = support::context(
        &sandbox,
        &format!("sqlite://{}", dir.path().join("run.db").display()),
        ApplyConfig::default(),
    )
    .await;
    let policy = dir.path().join("policy.toml");
    let hr = dir.path().join("hr.csv");
    std::fs::write(&policy, support::POLICY).expect("policy");
    let mut workers = support::workforce(12);
    std::fs::write(&hr, support::csv(&workers)).expect("hr");
    let now = Utc::now();
    let options = SyncOptions { dry_run: false, override_limits: false, trigger: RunTrigger::Cli };
    let prepared = engine::prepare(&ctx, &policy, &hr, now, &SilentProgress).await.expect("prepare");
    let report = engine::sync(&ctx, &prepared, options, now, &SilentProgress).await.expect("sync");
    assert_eq!(report.status, RunStatus::Succeeded, "{:?}", report.missing_permissions);

    // … but a leaver's password reset is not possible, so that run stops before its first step.
    workers[11].last_day = "2024-06-30".into();
    std::fs::write(&hr, support::csv(&workers)).expect("hr");
    let prepared = engine::prepare(&ctx, &policy, &hr, now, &SilentProgress).await.expect("prepare");
    assert!(prepared.plan.steps.iter().any(|step| matches!(step.action, model::Action::ResetPassword { .. })));
    let report = engine::sync(&ctx, &prepared, options, now, &SilentProgress).await.expect("sync");
    assert_eq!(report.status, RunStatus::Blocked);
    assert!(report.apply.is_none());
    assert!(
        report.missing_permissions.iter().any(|line| line.starts_with("Directory.ReadWrite.All is missing")),
        "{:?}",
        report.missing_permissions
    );
    let after = engine::prepare(&ctx, &policy, &hr, now, &SilentProgress).await.expect("prepare");
    assert_eq!(after.plan.steps.len(), prepared.plan.steps.len(), "nothing was applied");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn service_provider_and_exchange_links_in_each_cloud_use_that_clouds_registration() {
    let (sandbox, _dir, service) = started(|text| text).await;
    let cases = [
        (NationalCloud::Global, PROVIDER_APP, ADMIN, support::CONTOSO_TENANT),
        (NationalCloud::UsGovHigh, PROVIDER_APP_US_GOV, "admin@fabrikam.gov", "7f4c2d3b-6e5a-4b9c-8d2e-3f4a5b6c7d8e"),
        (
            NationalCloud::China,
            PROVIDER_APP_CHINA,
            "admin@tailspin.partner.onmschina.cn",
            "8a5d3e4c-7f6b-4cad-9e3f-4a5b6c7d8e9f",
        ),
    ];
    for (cloud, client_id, admin, tenant) in cases {
        for exchange in [false, true] {
            let name = format!("{cloud}-{}", if exchange { "exchange" } else { "entra" });
            let request = if exchange {
                NewConnectionRequest::ExchangeDelegated { name: name.clone(), cloud }
            } else {
                NewConnectionRequest::ServiceProvider { name: name.clone(), cloud }
            };
            let view = service.create(request).await.expect("created");
            let url = service.begin_link(view.connection.id, "s").await.expect("link starts");
            // The cloud's own login host, with the cloud's own registration of Tenure's app.
            assert!(
                url.starts_with(&format!("{}/{}/organizations/", sandbox.https_base(), cloud.login_host())),
                "{url}"
            );
            assert!(url.contains(&format!("client_id={client_id}")), "{name}: {url}");
            let query = sign_in_and_consent(&Browser::new(&sandbox), &url, admin).await;
            let linked = service.complete_callback(&query, "s").await.expect("linked");
            assert_eq!(linked.connection.status, ConnectionStatus::Connected, "{name}");
            assert_eq!(linked.connection.tenant_id.as_deref(), Some(tenant), "{name}");
            assert_eq!(linked.connection.linked_by.as_deref(), Some(admin), "{name}");
            // Its refresh token is redeemed with the same registration, for the cloud's resource.
            let provider = service.token_provider(linked.connection.id).await.expect("provider");
            let token = provider.fresh_access_token().await.expect("a fresh token");
            let granted = vault::granted_permissions(&token.token).expect("claims");
            let host = if exchange { cloud.exchange_host() } else { cloud.graph_host() };
            assert_eq!(granted.audience, Some(format!("https://{host}")), "{name}: {granted:?}");
        }
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_national_cloud_without_its_registration_of_the_provider_app_is_refused_naming_the_section() {
    let sandbox = start_sandbox_with(|text| text).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let global_only = service_with(&sandbox, dir.path(), NationalProviderApps::default()).await;
    for (request, section) in [
        (
            NewConnectionRequest::ServiceProvider { name: "fabrikam".into(), cloud: NationalCloud::UsGovHigh },
            "[provider_app.us_government]",
        ),
        (
            NewConnectionRequest::ServiceProvider { name: "northwind".into(), cloud: NationalCloud::UsGovDod },
            "[provider_app.us_government]",
        ),
        (
            NewConnectionRequest::ExchangeDelegated { name: "tailspin".into(), cloud: NationalCloud::China },
            "[provider_app.china]",
        ),
    ] {
        let error = global_only.create(request).await.expect_err("no registration in that cloud");
        assert!(matches!(error, ConnectionError::NotConfigured(_)), "{error}");
        let text = error.to_string();
        assert!(text.contains(section) && text.contains("does not exist there"), "{text}");
    }
    assert!(global_only.list().await.expect("listed").is_empty(), "nothing was created");
    // The Global cloud still links with [provider_app].
    global_only
        .create(NewConnectionRequest::ServiceProvider { name: "contoso".into(), cloud: NationalCloud::Global })
        .await
        .expect("created");

    // A GCC High connection made while the registration was configured cannot be linked once it is gone.
    let configured = service_with(&sandbox, dir.path(), national_registrations()).await;
    let view = configured
        .create(NewConnectionRequest::ServiceProvider { name: "fabrikam".into(), cloud: NationalCloud::UsGovHigh })
        .await
        .expect("created");
    let error = global_only.begin_link(view.connection.id, "s").await.expect_err("no US Government registration");
    assert!(error.to_string().contains("[provider_app.us_government]"), "{error}");
    sandbox.shutdown().await;
}

/// A DoD tenant with its own app registration, added to the sample seed (which has none).
const NORTHWIND_DOD: &str = r#"
[[tenants]]
id = "4d0d0000-0000-4000-8000-000000000001"
name = "Northwind"
cloud = "UsGovDod"
domains = ["northwind.onmicrosoft.us", "northwind.mil"]

[[tenants.service_principals]]
app_id = "4d0d0000-0000-4000-8000-0000000000a1"
application_permissions = ["Graph:User.ReadWrite.All", "Graph:Group.ReadWrite.All", "Graph:Directory.ReadWrite.All", "Graph:User.EnableDisableAccount.All"]

[[apps]]
app_id = "4d0d0000-0000-4000-8000-0000000000a1"
name = "Northwind Tenure Connector"
home_tenant = "4d0d0000-0000-4000-8000-000000000001"
required_permissions = ["Graph:role:User.ReadWrite.All", "Graph:role:Group.ReadWrite.All", "Graph:role:Directory.ReadWrite.All", "Graph:role:User.EnableDisableAccount.All"]

[[apps.secrets]]
value = "northwind-app-secret-M1n2B3v4C5x6"
"#;

#[tokio::test]
async fn customer_owned_apps_connect_in_every_cloud_and_a_wrong_cloud_or_tenant_is_reported() {
    let (sandbox, _dir, service) = started(|text| text + NORTHWIND_DOD).await;
    let cases = [
        (
            "contoso",
            NationalCloud::Global,
            support::CONTOSO_TENANT,
            support::CONTOSO_APP,
            support::CONTOSO_APP_SECRET,
            true,
        ),
        (
            "fabrikam",
            NationalCloud::UsGovHigh,
            "7f4c2d3b-6e5a-4b9c-8d2e-3f4a5b6c7d8e",
            "a1b2c3d4-0000-4000-8000-00000000f001",
            "fabrikam-app-secret-Z1x2C3v4B5n6",
            true,
        ),
        (
            "northwind",
            NationalCloud::UsGovDod,
            "4d0d0000-0000-4000-8000-000000000001",
            "4d0d0000-0000-4000-8000-0000000000a1",
            "northwind-app-secret-M1n2B3v4C5x6",
            true,
        ),
        // Tailspin's app holds only User.ReadWrite.All and Group.ReadWrite.All: it connects, and the test says
        // what is missing.
        (
            "tailspin",
            NationalCloud::China,
            "8a5d3e4c-7f6b-4cad-9e3f-4a5b6c7d8e9f",
            "a1b2c3d4-0000-4000-8000-00000000d001",
            "tailspin-app-secret-P0o9I8u7Y6t5",
            false,
        ),
    ];
    for (name, cloud, tenant, client, secret, passes) in cases {
        let view = service
            .create(NewConnectionRequest::CustomerApp {
                name: name.into(),
                cloud,
                tenant_id: tenant.into(),
                client_id: client.into(),
                credential: NewAppCredential::ClientSecret(Secret::new(secret)),
            })
            .await
            .expect("created");
        let report = service.test(view.connection.id).await.expect("tested");
        assert_eq!(report.passed, passes, "{name}: {report:?}");
        assert!(
            report
                .lines
                .iter()
                .any(|line| line.ok && line.text.starts_with("Token acquired") && line.text.contains(tenant)),
            "{name}: {report:?}"
        );
        assert!(
            report.lines.iter().any(|line| line.ok && line.text.contains("Microsoft Graph: reading one user: OK")),
            "{name}: {report:?}"
        );
        if !passes {
            assert!(
                report.lines.iter().any(|line| !line.ok && line.text.starts_with("Directory.ReadWrite.All is missing")),
                "{report:?}"
            );
        }
    }

    // Fabrikam's app in the wrong cloud, and Contoso's app at Fabrikam's tenant: no token, said plainly.
    for (name, cloud, tenant, client, secret, code) in [
        (
            "wrong-cloud",
            NationalCloud::Global,
            "7f4c2d3b-6e5a-4b9c-8d2e-3f4a5b6c7d8e",
            "a1b2c3d4-0000-4000-8000-00000000f001",
            "fabrikam-app-secret-Z1x2C3v4B5n6",
            "AADSTS90002",
        ),
        (
            "wrong-tenant",
            NationalCloud::Global,
            "tenurepublisher.onmicrosoft.com",
            support::CONTOSO_APP,
            support::CONTOSO_APP_SECRET,
            "AADSTS700016",
        ),
    ] {
        let view = service
            .create(NewConnectionRequest::CustomerApp {
                name: name.into(),
                cloud,
                tenant_id: tenant.into(),
                client_id: client.into(),
                credential: NewAppCredential::ClientSecret(Secret::new(secret)),
            })
            .await
            .expect("created");
        let report = service.test(view.connection.id).await.expect("tested");
        assert!(!report.passed);
        let text: Vec<&str> = report.lines.iter().map(|line| line.text.as_str()).collect();
        assert!(
            text.iter().any(|line| line.starts_with("Microsoft refused a token") && line.contains(code)),
            "{name}: {text:?}"
        );
        assert!(!text.iter().any(|line| line.contains(secret)), "no secret in the report");
        assert_eq!(service.get(view.connection.id).await.expect("read").status_label(), "Not tested");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_exchange_service_account_links_for_the_exchange_resource() {
    let (sandbox, _dir, service) = started(|text| text).await;
    let view = service
        .create(NewConnectionRequest::ExchangeDelegated {
            name: "contoso-exchange".into(),
            cloud: NationalCloud::Global,
        })
        .await
        .expect("created");
    assert_eq!(view.kind_label(), "Exchange Online — service account");
    let url = service.begin_link(view.connection.id, "s").await.expect("link starts");
    assert!(url.contains("outlook.office365.com"), "{url}");
    let query = sign_in_and_consent(&Browser::new(&sandbox), &url, ADMIN).await;
    let linked = service.complete_callback(&query, "s").await.expect("linked");
    assert_eq!(linked.connection.status, ConnectionStatus::Connected);
    let token =
        service.token_provider(linked.connection.id).await.expect("provider").access_token().await.expect("token");
    let granted = vault::granted_permissions(&token.token).expect("claims");
    assert_eq!(granted.audience.as_deref(), Some("https://outlook.office365.com"), "{granted:?}");
    let report = service.test(linked.connection.id).await.expect("tested");
    assert!(report.lines.iter().any(|line| line.ok && line.text.starts_with("Token acquired")), "{report:?}");
    assert!(
        report.lines.iter().any(|line| line.ok && line.text.starts_with("Exchange Online: reading one mailbox")),
        "{report:?}"
    );
    for role in ["Mail Recipients", "Security Group Creation and Membership", "Distribution Groups"] {
        let held = format!("Exchange role \"{role}\": held.");
        assert!(report.lines.iter().any(|line| line.ok && line.text == held), "{role}: {report:?}");
    }
    assert!(report.passed, "{report:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_exchange_role_group_missing_a_role_fails_the_test_naming_the_role() {
    let (sandbox, _dir, service) = started(|text| {
        text.replace(
            r#"roles = ["Distribution Groups", "Security Group Creation and Membership", "Mail Recipients"]"#,
            r#"roles = ["Distribution Groups", "Mail Recipients"]"#,
        )
    })
    .await;
    let view = exchange_app_connection(&sandbox, &service).await;
    let report = service.test(view.connection.id).await.expect("tested");
    assert!(!report.passed, "{report:?}");
    let missing = report.lines.iter().find(|line| !line.ok).expect("a failing line");
    assert_eq!(
        missing.text,
        "Exchange role \"Security Group Creation and Membership\" is missing from the account's role group: members \
         of mail-enabled security groups cannot be added or removed."
    );
    let failing = report.lines.iter().filter(|line| !line.ok).count();
    assert_eq!(failing, 1, "only that role is reported: {report:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_exchange_app_only_connection_gets_exchange_tokens_with_its_generated_certificate() {
    let (sandbox, _dir, service) = started(|text| text).await;
    let view = exchange_app_connection(&sandbox, &service).await;
    assert_eq!(view.kind_label(), "Exchange Online — app-only certificate");
    let token =
        service.token_provider(view.connection.id).await.expect("provider").access_token().await.expect("token");
    let granted = vault::granted_permissions(&token.token).expect("claims");
    assert_eq!(granted.audience.as_deref(), Some("https://outlook.office365.com"), "{granted:?}");
    assert!(granted.roles.iter().any(|role| role == "Exchange.ManageAsApp"), "{granted:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_run_stops_before_its_first_step_when_the_exchange_role_group_lost_a_role() {
    let (sandbox, dir, service) = started(|text| text).await;
    let view = exchange_app_connection(&sandbox, &service).await;
    assert!(service.test(view.connection.id).await.expect("tested").passed, "all three roles held at first");

    // Later an Exchange admin takes Mail Recipients out of the connection's role group.
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("CA")])
        .build()
        .expect("client");
    let changed = http
        .put(format!(
            "{}/tenants/{}/exchange/role-groups/Tenure Provisioning",
            sandbox.admin_base(),
            support::CONTOSO_TENANT
        ))
        .json(&serde_json::json!({
            "roles": ["Distribution Groups", "Security Group Creation and Membership"],
            "members": ["exchange.svc@contoso.com", format!("app:{}", support::CONTOSO_APP)],
        }))
        .send()
        .await
        .expect("admin API");
    assert_eq!(changed.status(), 200);

    let mut ctx = support::context(
        &sandbox,
        &format!("sqlite://{}", dir.path().join("run.db").display()),
        ApplyConfig::default(),
    )
    .await;
    ctx.exchange =
        Some(engine::exchange_gate::connect_exchange(&service, "contoso-exchange-app").await.expect("exchange"));
    let policy = dir.path().join("policy.toml");
    let hr = dir.path().join("hr.csv");
    std::fs::write(&policy, support::POLICY).expect("policy");
    std::fs::write(&hr, support::csv(&support::workforce(6))).expect("hr");
    let now = Utc::now();
    let options = SyncOptions { dry_run: false, override_limits: false, trigger: RunTrigger::Cli };
    let prepared = engine::prepare(&ctx, &policy, &hr, now, &SilentProgress).await.expect("prepare");
    assert!(!prepared.plan.steps.is_empty());
    let report = engine::sync(&ctx, &prepared, options, now, &SilentProgress).await.expect("sync");
    assert_eq!(report.status, RunStatus::Blocked);
    assert!(report.apply.is_none());
    assert_eq!(
        report.missing_permissions,
        vec![
            "Exchange role \"Mail Recipients\" is missing from the role group of connection \"contoso-exchange-app\": \
             leavers' mailboxes cannot be converted to shared, hidden from the address lists or shared with their \
             manager"
                .to_string()
        ]
    );
    let after = engine::prepare(&ctx, &policy, &hr, now, &SilentProgress).await.expect("prepare");
    assert_eq!(after.plan.steps.len(), prepared.plan.steps.len(), "nothing was applied");
    sandbox.shutdown().await;
}
