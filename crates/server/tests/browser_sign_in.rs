//! Admin sign-in in real headless Chromium (Debian's chromium + chromedriver over WebDriver): the sign-in page,
//! a wrong password, and a form posted without its CSRF token.

mod support;

use support::browser::Browser;
use support::running::RunningServer;
use support::{ADMIN, PASSWORD, TestStore};

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_signs_in_sees_the_dashboard_and_signs_out() {
    let db = TestStore::new().await;
    let server = RunningServer::start(|url| db.state(url)).await;
    let browser = Browser::start().await;

    browser.goto(&format!("{}/", server.url)).await;
    browser.find("#username").await;
    assert!(browser.url().await.starts_with(&format!("{}/login?next=", server.url)), "{}", browser.url().await);
    browser.screenshot("sign-in").await;
    browser.fill("#username", ADMIN).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#sign-in").await;

    let text = browser.wait_for_text("Signed in as").await;
    assert!(text.contains("Dashboard") && text.contains(ADMIN), "{text}");
    assert_eq!(browser.url().await, format!("{}/", server.url));

    browser.click("header.top form button").await;
    let text = browser.wait_for_text("You have signed out.").await;
    assert!(text.contains("Sign in to Tenure"), "{text}");
    browser.goto(&format!("{}/", server.url)).await;
    browser.find("#username").await;

    browser.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_refused() {
    let db = TestStore::new().await;
    let server = RunningServer::start(|url| db.state(url)).await;
    let browser = Browser::start().await;

    browser.goto(&format!("{}/login", server.url)).await;
    browser.fill("#username", ADMIN).await;
    browser.fill("#password", "not the right password").await;
    browser.click("#sign-in").await;
    let text = browser.wait_for_text("The user name or password is incorrect.").await;
    assert!(!text.contains("Signed in as"), "{text}");
    assert_eq!(browser.url().await, format!("{}/login", server.url));

    browser.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_without_its_csrf_token_is_refused() {
    let db = TestStore::new().await;
    let server = RunningServer::start(|url| db.state(url)).await;
    let browser = Browser::start().await;

    browser.goto(&format!("{}/login", server.url)).await;
    browser.fill("#username", ADMIN).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#sign-in").await;
    browser.wait_for_text("Signed in as").await;

    // Strip the hidden token from the sign-out form, as a forged form would lack it, and send it.
    browser
        .client
        .execute("document.querySelectorAll('input[name=_csrf]').forEach(field => field.remove());", vec![])
        .await
        .expect("removing the CSRF field");
    browser.click("header.top form button").await;
    let text = browser.wait_for_text("Form refused").await;
    assert!(text.contains("security token is missing or out of date"), "{text}");

    // The session survived the refused form.
    browser.goto(&format!("{}/", server.url)).await;
    browser.wait_for_text("Signed in as").await;

    browser.close().await;
    server.stop().await;
}
