//! The setup the browser tests of the connection pages share: the sandbox with the sample seed (every Microsoft
//! host, Tenure's provider app accepting the server's callback), a store with Alice's account, Tenure's web
//! server on a loopback port, and headless Chromium signed in to Tenure; plus the steps a person takes on the
//! sandbox's own sign-in and consent pages.

#![allow(dead_code, unreachable_pub)]

use sandbox::RunningSandbox;

use super::browser::Browser;
use super::running::{RunningServer, url_of};
use super::{ADMIN, PASSWORD, SANDBOX_PASSWORD, TestStore, start_sandbox};

/// Tenure wired to a running sandbox, with one browser signed in to Tenure.
pub struct TenureWithSandbox {
    /// Tenure's `http://127.0.0.1:PORT`.
    pub url: String,
    pub sandbox: RunningSandbox,
    pub db: TestStore,
    /// Alice's browser, signed in to Tenure and showing the connection list.
    pub browser: Browser,
    server: RunningServer,
}

impl TenureWithSandbox {
    /// Starts the sandbox, the store and the server, and signs Alice in to Tenure in a fresh browser.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binding the web server");
        let url = url_of(&listener);
        let sandbox = start_sandbox(&format!("{url}/oauth/callback")).await;
        let db = TestStore::new().await;
        let server = RunningServer::start_on(listener, db.sandbox_state(&url, &sandbox));
        let browser = signed_in_browser(&url).await;
        Self { url, sandbox, db, browser, server }
    }

    /// Another browser signed in to Tenure, with cookies of its own (another person's computer: no sign-in
    /// session at the sandbox).
    pub async fn another_browser(&self) -> Browser {
        signed_in_browser(&self.url).await
    }

    /// Opens Tenure's page at `path` in Alice's browser.
    pub async fn open(&self, path: &str) {
        self.browser.goto(&format!("{}{path}", self.url)).await;
    }

    /// Closes the browser and stops the server and the sandbox.
    pub async fn stop(self) {
        self.browser.close().await;
        self.server.stop().await;
        self.sandbox.stop().await.expect("stopping the sandbox");
    }
}

/// A fresh browser in which Alice has signed in to Tenure; it shows the connection list.
async fn signed_in_browser(url: &str) -> Browser {
    let browser = Browser::start().await;
    browser.goto(&format!("{url}/connections")).await;
    browser.fill("#username", ADMIN).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#sign-in").await;
    browser.wait_for_text("Add a connection").await;
    browser
}

/// Waits for the sandbox's sign-in page (checked to be served by `sandbox`, over HTTPS) and signs in there as
/// `upn` with the sample seed's password. Returns the sign-in page's URL.
pub async fn sign_in_at_microsoft(browser: &Browser, sandbox: &RunningSandbox, upn: &str) -> String {
    browser.find("#login").await;
    let page = browser.url().await;
    assert!(page.starts_with(&sandbox.https_base()), "not the sandbox's sign-in page: {page}");
    browser.fill("#login", upn).await;
    browser.fill("#passwd", SANDBOX_PASSWORD).await;
    browser.click("button[type=submit]").await;
    page
}

/// Waits for the sandbox's "Permissions requested" page and accepts; returns the page's text.
pub async fn accept_permissions(browser: &Browser) -> String {
    let text = browser.wait_for_text("Permissions requested").await;
    browser.click("button[value=accept]").await;
    text
}
