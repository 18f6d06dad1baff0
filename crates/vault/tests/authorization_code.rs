//! Linking a delegated connection against the sandbox over HTTPS, the way an admin's browser does it: sign-in
//! and consent pages, the redirect to the callback, the code redeemed with PKCE by the provider app (secret or
//! certificate). Covers an admin who consents for the organisation, a user who may not (admin consent request,
//! then approval), `v2.0/adminconsent`, Exchange, every national cloud through its own login host with that
//! cloud's registration of the provider app, and the refusals: a replayed code, a wrong PKCE verifier, a wrong
//! tenant, a wrong cloud, an app registered in another cloud.

mod link;

use link::*;
use model::{NationalCloud, Secret};
use reqwest::StatusCode;
use vault::authorization_code::{
    CallbackOutcome, admin_consent_url, exchange_resource_scope, exchange_scopes, graph_scopes, redeem_code,
};
use vault::{ClientCredential, DelegatedAppConfig, Error, Feature, GrantType, Pkce, missing_permissions};

const GRAPH_FEATURES: [Feature; 7] = [
    Feature::ReadDirectory,
    Feature::CreateAndUpdateUsers,
    Feature::EnableDisableAccounts,
    Feature::ResetPasswords,
    Feature::ManageGroups,
    Feature::AssignLicenses,
    Feature::DeleteUsers,
];

#[tokio::test]
async fn an_admin_links_by_consenting_for_the_organisation() {
    let sandbox = start().await;
    let (_, grant) = link_contoso(&sandbox).await;
    assert_eq!(grant.user.as_deref(), Some(CONTOSO_ADMIN));
    assert_eq!(grant.tenant_id, CONTOSO);
    assert_eq!(grant.granted.audience.as_deref(), Some("https://graph.microsoft.com"));
    for scope in ["User.ReadWrite.All", "Group.ReadWrite.All", "Directory.AccessAsUser.All"] {
        assert!(grant.granted.has(scope), "{scope} granted: {:?}", grant.granted.scopes);
    }
    assert!(grant.granted.roles.is_empty());
    assert_eq!(missing_permissions(GrantType::Delegated, &grant.granted, &GRAPH_FEATURES), []);
    assert!(!grant.refresh_token.expose().is_empty());
    let (status, me) = graph_me(&sandbox, "graph.microsoft.com", &grant.access_token.token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["userPrincipalName"], CONTOSO_ADMIN);
    // The consent was for everyone: another user of the tenant now links without a consent page.
    let config = provider_config(&sandbox, NationalCloud::Global);
    let browser = Browser::new(&sandbox);
    let link = start_link(&config, graph_scopes(NationalCloud::Global), Some(CONTOSO_USER));
    let page = browser.open(&link.url).await.page();
    assert!(page.html.contains(CONTOSO_USER), "the login hint fills the sign-in page");
    let code = code_of(browser.sign_in(&page, CONTOSO_USER).await.callback(), &link);
    let second = redeem_code(&config, &code, REDIRECT_URI, &link.pkce.verifier, &link.scopes).await.expect("redeemed");
    assert_eq!(second.user.as_deref(), Some(CONTOSO_USER));
}

#[tokio::test]
async fn a_user_who_cannot_consent_asks_an_admin_and_links_once_approved() {
    let sandbox = start().await;
    let config = provider_config(&sandbox, NationalCloud::Global);
    let scopes = graph_scopes(NationalCloud::Global);
    let browser = Browser::new(&sandbox);

    let link = start_link(&config, scopes.clone(), None);
    let approval = browser.sign_in(&browser.open(&link.url).await.page(), CONTOSO_USER).await.page();
    assert_eq!(approval.title(), "Need admin approval", "{}", approval.html);
    let sent = browser.submit(&approval, "request_approval", &[("justification", "Tenure keeps HR in sync")]).await;
    assert!(sent.page().html.contains("Request sent"));
    let requests = consent_requests(&sandbox).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["status"], "pending");
    assert_eq!(requests[0]["requested_by_upn"], CONTOSO_USER);
    assert!(
        requests[0]["scopes"]
            .as_array()
            .expect("scopes")
            .iter()
            .any(|scope| scope == "https://graph.microsoft.com/Directory.AccessAsUser.All"),
        "{requests:?}"
    );

    // Until an admin approves, the link ends on the callback with an error (what Tenure shows as "waiting for
    // admin approval"); the signed-in session skips the password this time.
    let waiting = start_link(&config, scopes.clone(), None);
    let approval = browser.open(&waiting.url).await.page();
    assert_eq!(approval.title(), "Need admin approval", "{}", approval.html);
    let CallbackOutcome::Error { error, aadsts, state, .. } = browser.submit(&approval, "cancel", &[]).await.callback()
    else {
        panic!("an error callback")
    };
    assert_eq!(error, "access_denied");
    assert_eq!(aadsts, Some(65004));
    assert_eq!(state.map(|state| state.expose().to_string()), Some(waiting.state.expose().to_string()));

    approve_consent_request(&sandbox, requests[0]["id"].as_str().expect("an id")).await;
    let link = start_link(&config, scopes, None);
    let code = code_of(browser.open(&link.url).await.callback(), &link);
    let grant = redeem_code(&config, &code, REDIRECT_URI, &link.pkce.verifier, &link.scopes).await.expect("redeemed");
    assert_eq!(grant.user.as_deref(), Some(CONTOSO_USER));
    assert!(grant.granted.has("Directory.AccessAsUser.All"), "{:?}", grant.granted);
}

#[tokio::test]
async fn an_admin_grants_for_the_organisation_through_adminconsent() {
    let sandbox = start().await;
    let config = provider_config(&sandbox, NationalCloud::Global);
    let state = vault::authorization_code::new_state();
    let scope = "https://graph.microsoft.com/.default offline_access openid profile";
    let url = admin_consent_url(&config, "organizations", REDIRECT_URI, scope, state.expose());
    assert!(url.contains("/organizations/v2.0/adminconsent?"), "{url}");

    // An ordinary user cannot grant for the organisation.
    let browser = Browser::new(&sandbox);
    let refused = browser.sign_in(&browser.open(&url).await.page(), CONTOSO_USER).await.callback();
    let CallbackOutcome::AdminConsent { granted: false, error: Some(error), description, .. } = refused else {
        panic!("a refused admin consent: {refused:?}")
    };
    assert_eq!(error, "access_denied");
    assert!(description.is_some_and(|text| text.starts_with("AADSTS90094")));

    let browser = Browser::new(&sandbox);
    let consent = browser.sign_in(&browser.open(&url).await.page(), CONTOSO_ADMIN).await.page();
    assert_eq!(consent.title(), "Permissions requested");
    assert!(consent.html.contains("Accept for your organization"), "{}", consent.html);
    let outcome = browser.submit(&consent, "accept", &[]).await.callback();
    let CallbackOutcome::AdminConsent { tenant, scope, state: returned, granted: true, .. } = outcome else {
        panic!("a granted admin consent: {outcome:?}")
    };
    assert_eq!(tenant.as_deref(), Some(CONTOSO));
    assert_eq!(returned.map(|value| value.expose().to_string()), Some(state.expose().to_string()));
    assert!(scope.contains(&"https://graph.microsoft.com/Directory.AccessAsUser.All".to_string()), "{scope:?}");

    // Afterwards an ordinary user links without any consent page.
    let browser = Browser::new(&sandbox);
    let link = start_link(&config, graph_scopes(NationalCloud::Global), None);
    let code = code_of(browser.sign_in(&browser.open(&link.url).await.page(), CONTOSO_USER).await.callback(), &link);
    let grant = redeem_code(&config, &code, REDIRECT_URI, &link.pkce.verifier, &link.scopes).await.expect("redeemed");
    assert_eq!(missing_permissions(GrantType::Delegated, &grant.granted, &GRAPH_FEATURES), []);
}

/// Signs in as Contoso's admin and consents (unless consented before); returns the link and its code, not yet redeemed.
async fn contoso_code(sandbox: &sandbox::RunningSandbox, config: &DelegatedAppConfig) -> (PendingLink, Secret) {
    let browser = Browser::new(sandbox);
    let link = start_link(config, graph_scopes(NationalCloud::Global), None);
    let outcome = match browser.sign_in(&browser.open(&link.url).await.page(), CONTOSO_ADMIN).await {
        Landing::Page(consent) => browser.submit(&consent, "accept", &[("org_consent", "on")]).await.callback(),
        Landing::Callback(query) => vault::authorization_code::parse_callback(&query), // consented before
    };
    let code = code_of(outcome, &link);
    (link, code)
}

fn aadsts(error: &Error) -> Option<u32> {
    match error {
        Error::TokenRequest { aadsts, .. } => *aadsts,
        _ => None,
    }
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let sandbox = start().await;
    let config = provider_config(&sandbox, NationalCloud::Global);
    let (link, code) = contoso_code(&sandbox, &config).await;
    redeem_code(&config, &code, REDIRECT_URI, &link.pkce.verifier, &link.scopes).await.expect("first redemption");
    let error = redeem_code(&config, &code, REDIRECT_URI, &link.pkce.verifier, &link.scopes)
        .await
        .expect_err("a code is single use");
    assert_eq!(aadsts(&error), Some(54005), "{error}");
    assert!(matches!(&error, Error::TokenRequest { error_code: Some(code), source, .. }
        if code == "invalid_grant" && !source.transient && !source.needs_relink));
    assert!(!error.to_string().contains(code.expose()), "the code never appears in errors: {error}");
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_refused() {
    let sandbox = start().await;
    let config = provider_config(&sandbox, NationalCloud::Global);
    let (link, code) = contoso_code(&sandbox, &config).await;
    let other = Pkce::generate();
    let error =
        redeem_code(&config, &code, REDIRECT_URI, &other.verifier, &link.scopes).await.expect_err("wrong verifier");
    assert_eq!(aadsts(&error), Some(501481), "{error}");
    assert!(!error.to_string().contains(other.verifier.expose()));
}

#[tokio::test]
async fn a_code_redeemed_at_another_tenant_is_refused() {
    let sandbox = start().await;
    let config = provider_config(&sandbox, NationalCloud::Global);
    let (link, code) = contoso_code(&sandbox, &config).await;
    let litware = DelegatedAppConfig { tenant: LITWARE.into(), ..config.clone() };
    let error =
        redeem_code(&litware, &code, REDIRECT_URI, &link.pkce.verifier, &link.scopes).await.expect_err("other tenant");
    assert_eq!(aadsts(&error), Some(700016), "the app is not in Litware yet: {error}");
    // Once Litware's admin linked too, the app is known there, and the code is still Contoso's.
    link_as_admin(&sandbox, &config, LITWARE_ADMIN, graph_scopes(NationalCloud::Global)).await;
    let error =
        redeem_code(&litware, &code, REDIRECT_URI, &link.pkce.verifier, &link.scopes).await.expect_err("other tenant");
    assert_eq!(aadsts(&error), Some(700005), "{error}");

    // A link started for one tenant does not accept a user of another.
    let browser = Browser::new(&sandbox);
    let link = start_link(&litware, graph_scopes(NationalCloud::Global), None);
    let page = browser.sign_in(&browser.open(&link.url).await.page(), CONTOSO_ADMIN).await.page();
    assert!(page.html.contains("AADSTS50034"), "{}", page.html);
}

#[tokio::test]
async fn another_clouds_login_host_does_not_know_the_tenant_or_its_codes() {
    let sandbox = start().await;
    // A Global admin cannot sign in at the China login host.
    let china = provider_config(&sandbox, NationalCloud::China);
    let browser = Browser::new(&sandbox);
    let link = start_link(&china, graph_scopes(NationalCloud::China), None);
    let page = browser.sign_in(&browser.open(&link.url).await.page(), CONTOSO_ADMIN).await.page();
    assert!(page.html.contains("AADSTS50034"), "{}", page.html);

    // The Global registration of the provider app does not exist at the other clouds' login hosts.
    for cloud in [NationalCloud::UsGovHigh, NationalCloud::China] {
        let global_app_elsewhere = DelegatedAppConfig {
            cloud,
            login_base_url: Some(host_base(&sandbox, cloud.login_host())),
            ..provider_config(&sandbox, NationalCloud::Global)
        };
        let link = start_link(&global_app_elsewhere, graph_scopes(cloud), None);
        let page = Browser::new(&sandbox).open(&link.url).await.page();
        assert!(
            page.html.contains(&format!("AADSTS700016: Application with identifier '{PROVIDER_GLOBAL}'")),
            "{}",
            page.html
        );
    }

    // Another cloud's Graph scopes are unknown at the Global login host.
    let global = provider_config(&sandbox, NationalCloud::Global);
    let link = start_link(&global, graph_scopes(NationalCloud::UsGovHigh), None);
    let refused = Browser::new(&sandbox).open(&link.url).await.callback();
    assert!(matches!(&refused, CallbackOutcome::Error { .. }), "{refused:?}");

    // A Global code is not redeemed at the US Government token endpoint for Contoso.
    let (link, code) = contoso_code(&sandbox, &global).await;
    let us = DelegatedAppConfig {
        tenant: CONTOSO.into(),
        login_base_url: Some(host_base(&sandbox, NationalCloud::UsGovHigh.login_host())),
        ..global.clone()
    };
    let error =
        redeem_code(&us, &code, REDIRECT_URI, &link.pkce.verifier, &link.scopes).await.expect_err("wrong cloud");
    assert_eq!(aadsts(&error), Some(90002), "{error}");

    // Nor through the US Government host's `organizations` endpoint: the Global registration of the provider app
    // does not exist in that cloud, so the client is unknown there before the code is even looked at.
    let (link, code) = contoso_code(&sandbox, &global).await;
    let us_organizations = DelegatedAppConfig { cloud: NationalCloud::UsGovHigh, tenant: "organizations".into(), ..us };
    let error = redeem_code(&us_organizations, &code, REDIRECT_URI, &link.pkce.verifier, &link.scopes)
        .await
        .expect_err("an app of another cloud");
    assert_eq!(aadsts(&error), Some(700016), "{error}");
}

#[tokio::test]
async fn every_cloud_links_through_its_own_login_host() {
    let sandbox = start().await;
    for cloud in NationalCloud::ALL {
        let (tenant, admin, _) = cloud_tenant(cloud);
        let mut config = provider_config(&sandbox, cloud);
        if cloud == NationalCloud::UsGovDod {
            // The sandbox reads `organizations` at login.microsoftonline.us as GCC High and does not know DoD's
            // Graph there (AADSTS500011); naming the tenant selects DoD (docs/sandbox.md, "Fidelity choices").
            config.tenant = tenant.to_string();
        }
        let grant = link_as_admin(&sandbox, &config, admin, graph_scopes(cloud)).await;
        assert_eq!(grant.tenant_id, tenant, "{cloud}");
        assert_eq!(grant.user.as_deref(), Some(admin), "{cloud}");
        let graph = format!("https://{}", cloud.graph_host());
        assert_eq!(grant.granted.audience.as_deref(), Some(graph.as_str()), "{cloud}");
        assert!(grant.granted.has("Directory.AccessAsUser.All"), "{cloud}");
        let (status, me) = graph_me(&sandbox, cloud.graph_host(), &grant.access_token.token).await;
        assert_eq!(status, StatusCode::OK, "{cloud}: {me}");
        assert_eq!(me["userPrincipalName"], admin, "{cloud}");
    }
}

#[tokio::test]
async fn an_exchange_service_account_links_for_the_exchange_resource() {
    let sandbox = start().await;
    let config = provider_config(&sandbox, NationalCloud::Global);
    let grant = link_as_admin(&sandbox, &config, CONTOSO_ADMIN, exchange_scopes(NationalCloud::Global)).await;
    assert_eq!(grant.granted.audience.as_deref(), Some("https://outlook.office365.com"));
    assert!(grant.granted.has("Exchange.Manage"), "{:?}", grant.granted);
    assert_eq!(missing_permissions(GrantType::Delegated, &grant.granted, &[Feature::Exchange]), []);
    assert_eq!(exchange_resource_scope(NationalCloud::Global), "https://outlook.office365.com/.default");
}

#[tokio::test]
async fn the_provider_app_may_redeem_with_a_certificate() {
    let sandbox = start().await;
    let certificate = vault::generate_certificate("Tenure provider", chrono::Utc::now(), 30).expect("generated");
    let ca = reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("CA");
    let admin = reqwest::Client::builder().tls_certs_only([ca]).build().expect("client");
    let registered = admin
        .post(format!("{}/apps/{PROVIDER_GLOBAL}/certificates", sandbox.admin_base()))
        .json(&serde_json::json!({"pem": certificate.certificate_pem}))
        .send()
        .await
        .expect("admin API answers");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let config = DelegatedAppConfig {
        credential: ClientCredential::Certificate {
            certificate_pem: certificate.certificate_pem.clone(),
            private_key_pem: certificate.private_key_pem.clone(),
        },
        ..provider_config(&sandbox, NationalCloud::Global)
    };
    let (link, code) = contoso_code(&sandbox, &config).await;
    let grant = redeem_code(&config, &code, REDIRECT_URI, &link.pkce.verifier, &link.scopes).await.expect("redeemed");
    let claims = jwt_claims(&grant.access_token.token);
    assert_eq!(claims["appidacr"], "2", "a certificate-authenticated client");
}

fn jwt_claims(token: &Secret) -> serde_json::Value {
    use base64::Engine;
    let part = token.expose().split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("base64url"))
        .expect("JSON")
}
