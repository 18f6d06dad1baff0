//! The client-credentials grant with a client secret against the sandbox's identity platform: tokens carry the
//! app's roles, are cached, are shared by concurrent callers, and failures are reported with their AADSTS code,
//! classified as transient or not, and without the secret.

mod common;

use std::sync::Arc;

use common::*;
use model::AccessTokenProvider;
use sandbox::knobs::{FaultRule, Knobs};
use vault::ClientCredentialsProvider;

#[tokio::test]
async fn a_secret_gets_a_graph_token_with_the_apps_roles() {
    let sandbox = start().await;
    let provider = ClientCredentialsProvider::new(contoso(&sandbox, CONTOSO_APP_SECRET)).expect("config is fine");
    let token = provider.access_token().await.expect("token");
    let payload = jwt_payload(token.token.expose());
    assert_eq!(payload["aud"], "https://graph.microsoft.com");
    assert_eq!(payload["tid"], CONTOSO);
    assert_eq!(payload["appid"], CONTOSO_APP);
    assert_eq!(payload["appidacr"], "1");
    let roles = roles(token.token.expose());
    assert!(roles.iter().any(|role| role == "User.ReadWrite.All"), "{roles:?}");
    let lifetime = token.expires_at - chrono::Utc::now();
    assert!(lifetime > chrono::Duration::minutes(55) && lifetime <= chrono::Duration::minutes(60), "{lifetime}");
}

#[tokio::test]
async fn a_second_call_uses_the_cached_token() {
    let sandbox = start_with(counting_knobs(1)).await;
    let provider = ClientCredentialsProvider::new(contoso(&sandbox, CONTOSO_APP_SECRET)).expect("config is fine");
    let first = provider.access_token().await.expect("first token");
    let second = provider.access_token().await.expect("second token");
    assert_eq!(first.token, second.token);
    assert_eq!(login_requests(&sandbox), 1);
    assert_eq!(provider.token_requests(), 1);

    provider.invalidate().await;
    provider.access_token().await.expect("new token");
    assert_eq!(login_requests(&sandbox), 2);
}

#[tokio::test]
async fn ten_concurrent_callers_trigger_one_token_request() {
    let sandbox = start_with(counting_knobs(50)).await;
    let provider =
        Arc::new(ClientCredentialsProvider::new(contoso(&sandbox, CONTOSO_APP_SECRET)).expect("config is fine"));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let provider = provider.clone();
            tokio::spawn(async move { provider.access_token().await })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.expect("task").expect("token").token);
    }
    assert!(tokens.iter().all(|token| *token == tokens[0]));
    assert_eq!(login_requests(&sandbox), 1);
    assert_eq!(provider.token_requests(), 1);
}

#[tokio::test]
async fn a_wrong_secret_names_the_aadsts_code_and_never_the_secret() {
    let sandbox = start_with(counting_knobs(1)).await;
    let wrong = "wrong-secret-Zz9Yy8Xx7";
    let provider = ClientCredentialsProvider::new(contoso(&sandbox, wrong)).expect("config is fine");
    let error = provider.access_token().await.expect_err("refused");
    assert!(!error.transient, "{error}");
    let shown = format!("{error} {error:?} {provider:?}");
    assert!(error.message.contains("AADSTS7000215: Invalid client secret provided."), "{shown}");
    assert!(error.message.contains(CONTOSO_APP) && error.message.contains(CONTOSO), "{shown}");
    assert!(error.message.contains("invalid_client") && error.message.contains("HTTP 401"), "{shown}");
    assert!(error.message.contains("trace id "), "{shown}");
    assert!(!shown.contains(wrong), "{shown}");
    assert!(!shown.contains("\r\n"), "only the first line of the description: {shown}");
    assert_eq!(login_requests(&sandbox), 1, "a credential problem is not retried");
}

#[tokio::test]
async fn concurrent_callers_share_one_failed_request() {
    let sandbox = start_with(counting_knobs(50)).await;
    let provider = Arc::new(ClientCredentialsProvider::new(contoso(&sandbox, "not-the-secret")).expect("config"));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let provider = provider.clone();
            tokio::spawn(async move { provider.access_token().await })
        })
        .collect();
    for task in tasks {
        let error = task.await.expect("task").expect_err("refused");
        assert!(error.message.contains("AADSTS7000215"), "{error}");
    }
    assert_eq!(login_requests(&sandbox), 1);
}

#[tokio::test]
async fn a_transient_login_failure_is_retried() {
    let rule = FaultRule {
        path_prefix: format!("/{CONTOSO}/oauth2/v2.0/token"),
        nth: Some(1),
        status: Some(503),
        retry_after_seconds: Some(0),
        ..FaultRule::default()
    };
    let sandbox = start_with(Knobs { fault_plan: vec![rule], include_login: true, ..Knobs::default() }).await;
    let provider = ClientCredentialsProvider::new(contoso(&sandbox, CONTOSO_APP_SECRET)).expect("config is fine");
    let token = provider.access_token().await.expect("token after a retry");
    assert!(roles(token.token.expose()).iter().any(|role| role == "User.ReadWrite.All"));
    assert_eq!(provider.token_requests(), 2);
    assert_eq!(sandbox.state().knobs.stats().injected_errors, 1);
}

#[tokio::test]
async fn a_login_host_that_keeps_failing_gives_a_transient_error() {
    let knobs = Knobs {
        error_rate: 1.0,
        error_statuses: vec![503],
        retry_after_seconds: 0,
        include_login: true,
        ..Knobs::default()
    };
    let sandbox = start_with(knobs).await;
    let provider = ClientCredentialsProvider::new(contoso(&sandbox, CONTOSO_APP_SECRET)).expect("config is fine");
    let error = provider.access_token().await.expect_err("never succeeds");
    assert!(error.transient, "{error}");
    assert!(error.message.contains("AADSTS90033") && error.message.contains("HTTP 503"), "{error}");
    assert_eq!(provider.token_requests(), 3);
}

#[tokio::test]
async fn an_unreachable_login_host_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let config = vault::ClientCredentialsConfig {
        login_base_url: Some(format!("https://{address}")),
        ..vault::ClientCredentialsConfig::new(
            model::NationalCloud::Global,
            CONTOSO,
            CONTOSO_APP,
            vault::ClientCredential::Secret(model::Secret::new(CONTOSO_APP_SECRET)),
        )
    };
    let provider = ClientCredentialsProvider::new(config).expect("config is fine");
    let error = provider.access_token().await.expect_err("nobody listens");
    assert!(error.transient, "{error}");
    assert!(error.message.contains(&address.to_string()), "{error}");
    assert!(!error.message.contains(CONTOSO_APP_SECRET), "{error}");
}

#[tokio::test]
async fn the_resource_decides_the_token_audience() {
    let sandbox = start().await;
    let config = vault::ClientCredentialsConfig {
        resource: "https://outlook.office365.com".into(),
        ..contoso(&sandbox, CONTOSO_APP_SECRET)
    };
    let provider = ClientCredentialsProvider::new(config).expect("config is fine");
    let token = provider.access_token().await.expect("token");
    assert_eq!(jwt_payload(token.token.expose())["aud"], "https://outlook.office365.com");
    assert!(roles(token.token.expose()).iter().any(|role| role == "Exchange.ManageAsApp"));
}
