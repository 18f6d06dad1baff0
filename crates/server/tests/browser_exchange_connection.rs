//! An Exchange Online service-account connection in real headless Chromium against the sandbox: created on the
//! Exchange form, linked by signing in as Contoso's administrator and consenting on the sandbox's pages, then
//! Test connection reads a mailbox through the Exchange admin API and finds the three management roles Tenure
//! needs. With `TENURE_UPDATE_SCREENSHOTS=1` the tested connection is saved as `docs/screenshots/exchange-connection.png`.

mod support;

use support::CONTOSO_ADMIN;
use support::tenure_with_sandbox::{TenureWithSandbox, accept_permissions, sign_in_at_microsoft};

/// The management roles Tenure's Exchange connection needs.
const EXCHANGE_ROLES: [&str; 3] = ["Mail Recipients", "Security Group Creation and Membership", "Distribution Groups"];

#[tokio::test(flavor = "multi_thread")]
async fn link_an_exchange_service_account_and_test_its_mailbox_access_and_roles() {
    let tenure = TenureWithSandbox::start().await;
    let browser = &tenure.browser;

    // The Exchange form, Service account: creating it goes straight on to Link Account.
    browser.click("#new-exchange").await;
    browser.wait_for_text("Sign-in method").await;
    browser.fill("#name", "Contoso Exchange").await;
    browser.find("#cloud").await.select_by_value("global").await.expect("choosing Global");
    browser.click("input[name=method][value=service-account]").await;
    browser.click("#submit").await;

    // The sandbox's sign-in and consent pages ask for Exchange Online's permission.
    let sign_in_page = sign_in_at_microsoft(browser, &tenure.sandbox, CONTOSO_ADMIN).await;
    assert!(sign_in_page.contains("/oauth2/v2.0/authorize"), "{sign_in_page}");
    let consent = accept_permissions(browser).await;
    assert!(consent.contains("Tenure") && consent.contains("Office 365 Exchange Online"), "{consent}");

    // Back on Tenure: connected as the administrator, with Exchange's delegated permission.
    let text = browser.wait_for_text("Connected: linked by admin@contoso.com").await;
    assert!(text.contains("Exchange Online — service account"), "{text}");
    let status = browser.find("#status").await.text().await.expect("the status");
    assert!(status.starts_with("Connected"), "{status}");
    assert_eq!(browser.find("#linked-by").await.text().await.expect("who linked"), CONTOSO_ADMIN);
    let granted = browser.find("#granted").await.text().await.expect("the granted permissions");
    assert!(granted.contains("Exchange.Manage"), "{granted}");

    // Test connection: a mailbox read through the admin API and each role, each on a line marked good.
    browser.click("#test").await;
    let text = browser.wait_for_text("Test passed.").await;
    let mut passed = Vec::new();
    for line in browser.client.find_all(fantoccini::Locator::Css("ul.report li.ok")).await.expect("the report") {
        passed.push(line.text().await.expect("a report line"));
    }
    let expected = ["Exchange Online: reading one mailbox: OK.".to_owned()]
        .into_iter()
        .chain(EXCHANGE_ROLES.iter().map(|role| format!("Exchange role \"{role}\": held.")));
    for line in expected {
        assert!(passed.contains(&line), "{line} is not a passed line of the report: {passed:?}\n{text}");
    }
    assert!(browser.client.find_all(fantoccini::Locator::Css("ul.report li.bad")).await.unwrap().is_empty(), "{text}");
    // The picture shows the report: the page scrolled to the end of the last test.
    browser
        .client
        .execute("document.getElementById('last-test').scrollIntoView({block: 'end'});", vec![])
        .await
        .expect("scrolling to the report");
    browser.screenshot("exchange-connection").await;

    tenure.stop().await;
}
