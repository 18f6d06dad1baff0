//! National clouds: the default login hosts per cloud, a GCC High tenant's app getting a token through
//! `login.microsoftonline.us` (secret and certificate, whose assertion audience is that cloud's endpoint), and a
//! tenant asked for on the wrong cloud's login host being refused.

mod common;

use common::*;
use model::{AccessTokenProvider, NationalCloud, Secret};
use vault::{ClientCredential, ClientCredentialsConfig, ClientCredentialsProvider, Error};

#[test]
fn every_cloud_has_its_own_login_host_and_graph_resource() {
    let config =
        |cloud| ClientCredentialsConfig::new(cloud, FABRIKAM, FABRIKAM_APP, ClientCredential::Secret(Secret::new("x")));
    let global = config(NationalCloud::Global);
    assert_eq!(global.token_endpoint(), format!("https://login.microsoftonline.com/{FABRIKAM}/oauth2/v2.0/token"));
    assert_eq!(global.scope(), "https://graph.microsoft.com/.default");
    let high = config(NationalCloud::UsGovHigh);
    assert_eq!(high.token_endpoint(), format!("https://login.microsoftonline.us/{FABRIKAM}/oauth2/v2.0/token"));
    assert_eq!(high.scope(), "https://graph.microsoft.us/.default");
    assert_eq!(config(NationalCloud::UsGovDod).scope(), "https://dod-graph.microsoft.us/.default");
    let china = config(NationalCloud::China);
    assert_eq!(
        china.token_endpoint(),
        format!("https://login.partner.microsoftonline.cn/{FABRIKAM}/oauth2/v2.0/token")
    );
    assert_eq!(
        ClientCredentialsConfig::graph_resource(NationalCloud::China),
        "https://microsoftgraph.chinacloudapi.cn"
    );
    let overridden = ClientCredentialsConfig {
        login_base_url: Some("https://127.0.0.1:1/login.microsoftonline.us/".into()),
        ..high
    };
    assert_eq!(
        overridden.token_endpoint(),
        format!("https://127.0.0.1:1/login.microsoftonline.us/{FABRIKAM}/oauth2/v2.0/token")
    );
}

#[tokio::test]
async fn a_gcc_high_app_gets_a_us_graph_token_with_its_secret() {
    let sandbox = start().await;
    let credential = ClientCredential::Secret(Secret::new(FABRIKAM_APP_SECRET));
    let config = config(&sandbox, NationalCloud::UsGovHigh, FABRIKAM, FABRIKAM_APP, credential);
    assert_eq!(config.resource, "https://graph.microsoft.us");
    let provider = ClientCredentialsProvider::new(config).expect("config is fine");
    let token = provider.access_token().await.expect("token");
    let payload = jwt_payload(token.token.expose());
    assert_eq!(payload["aud"], "https://graph.microsoft.us");
    assert_eq!(payload["tid"], FABRIKAM);
    assert!(roles(token.token.expose()).iter().any(|role| role == "User.ReadWrite.All"));
}

#[tokio::test]
async fn a_gcc_high_app_gets_a_token_with_a_certificate() {
    let sandbox = start().await;
    let certificate = TestCertificate::valid();
    register_certificate(&sandbox, FABRIKAM_APP, &certificate).await;
    let config = config(&sandbox, NationalCloud::UsGovHigh, FABRIKAM, FABRIKAM_APP, certificate.credential());
    let provider = ClientCredentialsProvider::new(config).expect("config is fine");
    let token = provider.access_token().await.expect("token");
    let payload = jwt_payload(token.token.expose());
    assert_eq!(payload["aud"], "https://graph.microsoft.us");
    assert_eq!(payload["appidacr"], "2");
}

#[tokio::test]
async fn a_global_tenant_on_the_us_government_login_host_is_refused() {
    let sandbox = start().await;
    let credential = ClientCredential::Secret(Secret::new(CONTOSO_APP_SECRET));
    let config = ClientCredentialsConfig {
        login_base_url: Some(host_base(&sandbox, "login.microsoftonline.us")),
        ..config(&sandbox, NationalCloud::Global, CONTOSO, CONTOSO_APP, credential)
    };
    let provider = ClientCredentialsProvider::new(config).expect("config is fine");
    let error = provider.access_token().await.expect_err("wrong cloud");
    assert!(!error.transient, "{error}");
    assert!(error.message.contains("AADSTS90002"), "{error}");
    assert!(error.message.contains("login.microsoftonline.us"), "{error}");
}

#[tokio::test]
async fn a_gcc_high_app_asking_for_global_graph_is_refused() {
    let sandbox = start().await;
    let credential = ClientCredential::Secret(Secret::new(FABRIKAM_APP_SECRET));
    let config = ClientCredentialsConfig {
        resource: ClientCredentialsConfig::graph_resource(NationalCloud::Global),
        ..config(&sandbox, NationalCloud::UsGovHigh, FABRIKAM, FABRIKAM_APP, credential)
    };
    let provider = ClientCredentialsProvider::new(config).expect("config is fine");
    let error = provider.access_token().await.expect_err("Global Graph is not a US Government resource");
    assert!(!error.transient, "{error}");
    assert!(error.message.contains("AADSTS500011"), "{error}");
}

#[test]
fn malformed_settings_are_configuration_errors() {
    let base = || {
        ClientCredentialsConfig::new(
            NationalCloud::Global,
            CONTOSO,
            CONTOSO_APP,
            ClientCredential::Secret(Secret::new("s")),
        )
    };
    let setting = |config: ClientCredentialsConfig| match ClientCredentialsProvider::new(config) {
        Err(Error::InvalidSetting { setting, .. }) => setting,
        other => panic!("{other:?}"),
    };
    assert_eq!(setting(ClientCredentialsConfig { tenant_id: "contoso/../x".into(), ..base() }), "tenant_id");
    assert_eq!(setting(ClientCredentialsConfig { tenant_id: String::new(), ..base() }), "tenant_id");
    assert_eq!(setting(ClientCredentialsConfig { client_id: "Contoso Connector".into(), ..base() }), "client_id");
    assert_eq!(setting(ClientCredentialsConfig { resource: "graph.microsoft.com".into(), ..base() }), "resource");
    assert_eq!(
        setting(ClientCredentialsConfig { login_base_url: Some("http://login.microsoftonline.com".into()), ..base() }),
        "login_base_url"
    );
    assert_eq!(
        setting(ClientCredentialsConfig { login_base_url: Some("not a url".into()), ..base() }),
        "login_base_url"
    );
    assert_eq!(
        setting(ClientCredentialsConfig { credential: ClientCredential::Secret(Secret::new(" ")), ..base() }),
        "client secret"
    );
    let bad_root = ClientCredentialsConfig { extra_root_certificate_pem: Some(b"no pem".to_vec()), ..base() };
    assert!(matches!(ClientCredentialsProvider::new(bad_root), Err(Error::InvalidRootCertificate { .. })));
    assert!(
        ClientCredentialsProvider::new(ClientCredentialsConfig { tenant_id: "contoso.com".into(), ..base() }).is_ok()
    );
}
