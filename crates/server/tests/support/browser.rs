//! Real headless Chromium driven over WebDriver: `chromedriver` (Debian's `chromium-driver`) started as a child
//! process on a free loopback port, polled on `/status` until ready, and a fantoccini session with Chromium's
//! headless options. The driver process is killed when [`Browser`] is dropped.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// Where Debian puts the driver and the browser (`apt-get install chromium chromium-driver`).
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// How long the driver may take to come up, and a page element to appear.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A running chromedriver with one browser session.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium that accepts the sandbox's self-signed HTTPS.
    pub async fn start() -> Self {
        for binary in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: install Debian's chromium and chromium-driver (.ci/run does it)"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("starting chromedriver");
        wait_until_ready(port).await;

        let profile = tempfile::tempdir().expect("a browser profile directory");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--ignore-certificate-errors",
                    "--window-size=1280,1200",
                    "--force-device-scale-factor=1",
                    "--no-first-run",
                    "--lang=en-US",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("opening a Chromium session through chromedriver");
        Self { client, driver, _profile: profile }
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|error| panic!("opening {url}: {error}"));
    }

    /// The element `css` selects, waiting (bounded) for it to appear.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(READY_WITHIN).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => panic!("finding {css} on {}: {error}\n{}", self.url().await, self.source().await),
        }
    }

    /// Types `text` into the field `css` selects (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clearing a field");
        field.send_keys(text).await.unwrap_or_else(|error| panic!("typing into {css}: {error}"));
    }

    /// Clicks the element `css` selects.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|error| panic!("clicking {css}: {error}"));
    }

    /// The visible text of the page's body (empty while a navigation replaces the page).
    pub async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The page's HTML (for failure messages).
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap_or_default()
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.client.current_url().await.map(|url| url.to_string()).unwrap_or_default()
    }

    /// Waits (bounded) until the page's text contains `needle`, and returns the text.
    pub async fn wait_for_text(&self, needle: &str) -> String {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            assert!(Instant::now() < deadline, "\"{needle}\" never appeared on {}:\n{text}", self.url().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG of the page as `docs/screenshots/{name}.png` when `TENURE_UPDATE_SCREENSHOTS=1`.
    pub async fn screenshot(&self, name: &str) {
        if std::env::var("TENURE_UPDATE_SCREENSHOTS").as_deref() != Ok("1") {
            return;
        }
        let png = self.client.screenshot().await.expect("taking a screenshot");
        let folder = screenshot_folder();
        std::fs::create_dir_all(&folder).expect("creating docs/screenshots");
        let path = folder.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
    }

    /// Ends the browser session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

/// `docs/screenshots` at the repository's root.
pub fn screenshot_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

/// A port that was free a moment ago (bound to 127.0.0.1:0, then released for chromedriver to take).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("its address").port()
}

/// Polls chromedriver's `/status` until it says `"ready": true`.
async fn wait_until_ready(port: u16) {
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        if let Some(body) = status(port).await
            && body.contains("\"ready\":true")
        {
            return;
        }
        assert!(Instant::now() < deadline, "chromedriver on port {port} was not ready within {READY_WITHIN:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn status(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    stream.write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.ok()?;
    // chromedriver keeps the connection open: read until the JSON body is complete.
    let mut response = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut chunk)).await.ok()?.ok()?;
        if read == 0 {
            break;
        }
        response.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&response);
        if text.contains("\r\n\r\n") && text.trim_end().ends_with("}}") {
            break;
        }
    }
    Some(String::from_utf8_lossy(&response).replace(' ', ""))
}
