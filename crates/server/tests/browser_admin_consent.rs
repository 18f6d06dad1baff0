//! The admin-consent path in real headless Chromium against the sandbox: a user who may not consent to Tenure's
//! permissions clicks Link Account, the sandbox asks for an administrator's approval, she sends the request and
//! Tenure shows the connection waiting; an administrator, in a browser of their own, grants consent for the
//! organisation from the connection's page; then her Link Account completes without any consent page.

mod support;

use support::CONTOSO_ADMIN;
use support::tenure_with_sandbox::{TenureWithSandbox, accept_permissions, sign_in_at_microsoft};

/// A Contoso user with no administrator role.
const ADELE: &str = "adele.vance@contoso.com";
const JUSTIFICATION: &str = "Tenure keeps our accounts in step with HR.";

#[tokio::test(flavor = "multi_thread")]
async fn a_user_who_cannot_consent_waits_for_an_admin_then_links() {
    let tenure = TenureWithSandbox::start().await;
    let browser = &tenure.browser;

    // Adele links a Service provider connection; the sandbox wants an administrator's approval.
    browser.click("#new-service-provider").await;
    browser.fill("#name", "Contoso").await;
    browser.click("#submit").await;
    sign_in_at_microsoft(browser, &tenure.sandbox, ADELE).await;
    let text = browser.wait_for_text("Need admin approval").await;
    assert!(text.contains("only an admin can grant") && text.contains("Tenure"), "{text}");
    browser.fill("#justification", JUSTIFICATION).await;
    browser.click("button[value=request_approval]").await;
    browser.wait_for_text("Request sent").await;

    // Back in Tenure she clicks Link Account again, and returns without a grant: the connection waits.
    tenure.open("/connections").await;
    browser.click("#connections a").await;
    let connection_page = browser.url().await;
    browser.click("#link").await;
    browser.wait_for_text("Need admin approval").await;
    browser.click("button[value=cancel]").await;
    let text = browser.wait_for_text("Waiting for admin approval: an administrator of the tenant").await;
    let status = browser.find("#status").await.text().await.expect("the status");
    assert!(status.starts_with("Waiting for admin approval"), "{status}\n{text}");
    assert!(browser.find("#admin-consent").await.text().await.unwrap().contains("has been asked to approve"));
    assert_eq!(browser.url().await, connection_page);

    // The administrator, in a browser of their own: the request is filed, and they grant consent from Tenure.
    let admin = tenure.another_browser().await;
    admin.goto(&format!("{}/_sandbox/consent-requests", tenure.sandbox.https_base())).await;
    let requests = admin.wait_for_text("Admin consent requests").await;
    assert!(requests.contains(ADELE) && requests.contains(JUSTIFICATION), "{requests}");
    admin.goto(&connection_page).await;
    admin.fill("#consent-tenant", "contoso.onmicrosoft.com").await;
    admin.click("#admin-consent button[type=submit]").await;
    let sign_in_page = sign_in_at_microsoft(&admin, &tenure.sandbox, CONTOSO_ADMIN).await;
    assert!(sign_in_page.contains("/contoso.onmicrosoft.com/v2.0/adminconsent"), "{sign_in_page}");
    let consent = accept_permissions(&admin).await;
    assert!(consent.contains("Accept for your organization"), "{consent}");
    admin.wait_for_text("Admin consent recorded. Click Link Account to finish linking.").await;
    admin.close().await;

    // Adele's Link Account now comes straight back: connected, linked by her.
    tenure.open(&connection_page[tenure.url.len()..]).await;
    browser.click("#link").await;
    let text = browser.wait_for_text("Connected: linked by adele.vance@contoso.com").await;
    let status = browser.find("#status").await.text().await.expect("the status");
    assert!(status.starts_with("Connected"), "{status}\n{text}");
    assert_eq!(browser.find("#linked-by").await.text().await.expect("who linked"), ADELE);
    let stored = tenure.db.store.list_connections().await.expect("the connections");
    assert_eq!(stored[0].linked_by.as_deref(), Some(ADELE));

    tenure.stop().await;
}
