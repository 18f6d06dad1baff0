//! The connection pages in real headless Chromium against the sandbox: create a Service provider application
//! connection, click Link Account, sign in and consent on the sandbox's own pages (HTTPS with its own CA), and
//! land back on the connection's page "Connected" with the linked user and the granted permissions; then a
//! customer-owned app with a generated certificate, the Exchange form, and removal behind its confirmation.
//! With `TENURE_UPDATE_SCREENSHOTS=1` the pages are saved as PNGs under `docs/screenshots/`.

mod support;

use support::tenure_with_sandbox::{TenureWithSandbox, accept_permissions, sign_in_at_microsoft};
use support::{CONTOSO_ADMIN, CONTOSO_APP, CONTOSO_TENANT};

#[tokio::test(flavor = "multi_thread")]
async fn link_a_service_provider_connection_through_the_sandbox_sign_in() {
    // Signed in to Tenure; no connection yet.
    let tenure = TenureWithSandbox::start().await;
    let (browser, url, db) = (&tenure.browser, &tenure.url, &tenure.db);
    browser.wait_for_text("No connections yet.").await;

    // The Service provider form: name, national cloud, Link Account.
    browser.click("#new-service-provider").await;
    let text = browser.wait_for_text("Entra ID — Service provider application").await;
    for field in ["Connection name", "National cloud", "Link Account"] {
        assert!(text.contains(field), "{field} missing:\n{text}");
    }
    let clouds = browser.find("#cloud").await.text().await.expect("the cloud options");
    for cloud in ["Global", "US Government GCC High", "US Government DoD", "China operated by 21Vianet"] {
        assert!(clouds.contains(cloud), "{cloud} missing from {clouds}");
    }
    browser.screenshot("new-service-provider").await;
    browser.fill("#name", "Contoso").await;
    browser.find("#cloud").await.select_by_value("global").await.expect("choosing Global");
    browser.click("#submit").await;

    // The sandbox's sign-in page (its own HTML, over HTTPS), then its consent page.
    let sign_in_page = sign_in_at_microsoft(browser, &tenure.sandbox, CONTOSO_ADMIN).await;
    assert!(sign_in_page.contains("/oauth2/v2.0/authorize"), "{sign_in_page}");
    let consent = accept_permissions(browser).await;
    assert!(consent.contains("Tenure"), "{consent}");

    // Back on Tenure: connected, by whom, with what.
    let text = browser.wait_for_text("Connected: linked by admin@contoso.com").await;
    assert!(browser.url().await.starts_with(&format!("{url}/connections/")), "{}", browser.url().await);
    let status = browser.find("#status").await.text().await.unwrap();
    assert!(status.starts_with("Connected"), "{status}");
    assert_eq!(browser.find("#linked-by").await.text().await.unwrap(), CONTOSO_ADMIN);
    let granted = browser.find("#granted").await.text().await.unwrap();
    for permission in ["User.ReadWrite.All", "Group.ReadWrite.All", "Directory.AccessAsUser.All"] {
        assert!(granted.contains(permission), "{permission} not shown as granted: {granted}\n{text}");
    }
    assert!(text.contains("Re-link") && text.contains("Test connection") && text.contains("Remove"), "{text}");
    // The refresh token is sealed in the store, never on the page.
    let stored = db.store.list_connections().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].linked_by.as_deref(), Some(CONTOSO_ADMIN));
    assert!(db.store.secret(stored[0].id, "refresh_token").await.unwrap().is_some());

    // Test connection reports line by line.
    browser.click("#test").await;
    // The report's lines exist only once the test has run ("Last test" is on the page before the click too).
    browser.find("ul.report li").await;
    let text = browser.text().await;
    assert!(text.contains("Test passed.") || text.contains("Test failed"), "{text}");
    browser.screenshot("connection-connected").await;

    // A customer-owned app with a certificate Tenure generates: thumbprints, expiry and a download link.
    browser.goto(&format!("{url}/connections/new/customer-app")).await;
    let text = browser.wait_for_text("Customer owned application").await;
    for field in ["Client ID", "Tenant ID", "Generate a certificate", "Client secret"] {
        assert!(text.contains(field), "{field} missing:\n{text}");
    }
    browser.screenshot("new-customer-app").await;
    browser.fill("#name", "Contoso app").await;
    browser.fill("#client_id", CONTOSO_APP).await;
    browser.fill("#tenant_id", CONTOSO_TENANT).await;
    browser.click("#submit").await;
    let text = browser.wait_for_text("Connection created with a new certificate.").await;
    assert!(text.contains("SHA-1") && text.contains("Expires in"), "{text}");
    let download = browser.find("#certificates a[download]").await.attr("href").await.unwrap().unwrap();
    assert!(download.contains("/certificates/"), "{download}");
    browser.screenshot("connection-certificate").await;

    // The Exchange form offers both sign-in methods.
    browser.goto(&format!("{url}/connections/new/exchange")).await;
    let text = browser.wait_for_text("Exchange Online").await;
    assert!(text.contains("Service account") && text.contains("App-only certificate"), "{text}");
    browser.screenshot("new-exchange").await;

    // The list shows both; remove the app connection behind its confirmation page.
    browser.goto(&format!("{url}/connections")).await;
    let text = browser.wait_for_text("Contoso app").await;
    assert!(text.contains("Connected"), "{text}");
    browser.screenshot("connections").await;
    browser.click("#connections a[href$='/2']").await;
    browser.click("#remove").await;
    let text = browser.wait_for_text("This cannot be undone.").await;
    assert!(text.contains("Remove connection “Contoso app”?"), "{text}");
    browser.click("#confirm-remove").await;
    browser.wait_for_text("Connection “Contoso app” removed.").await;
    assert_eq!(db.store.list_connections().await.unwrap().len(), 1);

    tenure.stop().await;
}
