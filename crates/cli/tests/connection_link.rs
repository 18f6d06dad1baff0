//! `tenure connection link`: the sign-in URL is shown, the callback arrives on the command's own listener and
//! completes the link; a callback for a sign-in this process did not start is refused there.

#[path = "../../vault/tests/link/mod.rs"]
mod link;

use std::sync::Arc;
use std::time::Duration;

use engine::connections::{ConnectionService, ConnectionSettings, NewConnectionRequest, ProviderApp};
use link::{Browser, Landing};
use model::{NationalCloud, Secret};
use store::ConnectionStatus;
use tokio::net::TcpListener;
use vault::MasterKeyRing;

/// Runs the command's link in a task; returns the task and the sign-in URL it showed.
async fn start_link(
    service: &ConnectionService,
    id: store::ConnectionId,
    listener: TcpListener,
) -> (tokio::task::JoinHandle<anyhow::Result<engine::connections::ConnectionView>>, String) {
    let (url_sender, url_receiver) = tokio::sync::oneshot::channel::<String>();
    let service = service.clone();
    let linking = tokio::spawn(async move {
        cli::connection_command::link_and_wait(&service, id, None, listener, Duration::from_secs(120), |url| {
            let _ = url_sender.send(url.to_string());
        })
        .await
    });
    (linking, url_receiver.await.expect("the URL is shown"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_waits_for_the_callback_on_its_own_listener() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("address").port());
    // The provider app lists this listener's address as a redirect URI, as an operator registers theirs.
    let seed_text = include_str!("../../sandbox/seed/sample.toml").replace(
        "redirect_uris = [\"http://localhost:8080/oauth/callback\"",
        &format!("redirect_uris = [\"{base}/oauth/callback\", \"http://localhost:8080/oauth/callback\""),
    );
    let seed = sandbox::seed::Seed::from_toml(&seed_text).expect("seed");
    let sandbox_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let sandbox = sandbox::Sandbox::builder().seed(seed).start(sandbox_listener).await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        store::Store::open(&format!("sqlite://{}", dir.path().join("tenure.db").display())).await.expect("store");
    let service = ConnectionService::new(
        store,
        Arc::new(MasterKeyRing::generate().0),
        ConnectionSettings {
            public_base_url: base.clone(),
            provider_app: Some(ProviderApp {
                client_id: "a1b2c3d4-0000-4000-8000-00000000a001".into(),
                credential: vault::ClientCredential::Secret(Secret::new("tenure-sp-secret-Q9w8E7r6T5y4")),
            }),
            sandbox_url: Some(sandbox.https_base()),
            ca_pem: Some(sandbox.ca_pem().as_bytes().to_vec()),
        },
    );
    let view = service
        .create(NewConnectionRequest::ServiceProvider { name: "contoso".into(), cloud: NationalCloud::Global })
        .await
        .expect("created");

    let (linking, url) = start_link(&service, view.connection.id, listener).await;
    let browser = Browser::new(&sandbox);
    let landing = browser.sign_in_with(&browser.open(&url).await.page(), "admin@contoso.com", "Sandbox!Pass1").await;
    let landing = match landing {
        Landing::Page(consent) => browser.submit(&consent, "accept", &[("org_consent", "on")]).await,
        callback => callback,
    };
    let Landing::Callback(query) = landing else { panic!("a callback") };

    // A forged answer first: refused on the page, and the command keeps no link from it.
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{base}/oauth/callback?code=forged&state=forged"))
        .send()
        .await
        .expect("the listener answers")
        .text()
        .await
        .expect("a page");
    assert!(page.contains("did not complete"), "{page}");
    let outcome = linking.await.expect("the command finishes");
    let error = outcome.expect_err("the forged answer ends the command with an error");
    assert!(error.to_string().contains("never issued by Tenure"), "{error}");
    assert_eq!(service.get(view.connection.id).await.expect("read").connection.status, ConnectionStatus::NotLinked);
    drop(query);

    // Again, with the real answer.
    let listener = TcpListener::bind(base.trim_start_matches("http://")).await.expect("bind the same address");
    let (linking, url) = start_link(&service, view.connection.id, listener).await;
    let Landing::Callback(query) = browser.open(&url).await else { panic!("signed in and consented before") };
    let page = http
        .get(format!("{base}/oauth/callback?{query}"))
        .send()
        .await
        .expect("the listener answers")
        .text()
        .await
        .expect("a page");
    assert!(page.contains("Connected"), "{page}");
    let linked = linking.await.expect("the command finishes").expect("linked");
    assert_eq!(linked.connection.status, ConnectionStatus::Connected);
    assert_eq!(linked.connection.linked_by.as_deref(), Some("admin@contoso.com"));
    sandbox.shutdown().await;
}
