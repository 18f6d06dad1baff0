//! The identity platform's discovery documents and token endpoint over real HTTPS: shapes of the documents per
//! cloud, client credentials with secrets and certificate assertions (PS256 + `x5t#S256`, RS256 + `x5t`),
//! every error with its HTTP status, `error` value and AADSTS code, and tokens that the published keys verify.

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

use common::{CONTOSO, CONTOSO_APP, CONTOSO_APP_SECRET, FABRIKAM, TENURE_APP, TENURE_SECRET, jwt_payload};

const FABRIKAM_APP: &str = "a1b2c3d4-0000-4000-8000-00000000f001";
const FABRIKAM_APP_SECRET: &str = "fabrikam-app-secret-Z1x2C3v4B5n6";

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn post_form(client: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Answer {
    let response = client.post(url).form(form).send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.expect("JSON body");
    Answer { status, headers, body }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Answer {
    let response = client.get(url).send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.expect("JSON body");
    Answer { status, headers, body }
}

/// Checks the §1.6 error shape, status, `error` and code.
#[track_caller]
fn assert_aad_error(answer: &Answer, status: u16, error: &str, code: u64) {
    let body = &answer.body;
    assert_eq!((answer.status, body["error"].as_str()), (status, Some(error)), "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let description = body["error_description"].as_str().expect("error_description");
    assert!(description.starts_with(&format!("AADSTS{code}: ")), "{description}");
    let trace = body["trace_id"].as_str().expect("trace_id");
    let correlation = body["correlation_id"].as_str().expect("correlation_id");
    let timestamp = body["timestamp"].as_str().expect("timestamp");
    assert!(
        description
            .ends_with(&format!("\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}")),
        "{description}"
    );
    assert_eq!(timestamp.len(), "2024-01-02 03:04:05Z".len(), "{timestamp}");
    assert_eq!(body["error_uri"], format!("https://login.microsoftonline.com/error?code={code}"));
    assert_eq!(answer.headers["x-ms-request-id"], trace);
}

fn token_url(sandbox: &sandbox::RunningSandbox, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", sandbox.https_base())
}

#[tokio::test]
async fn discovery_documents_describe_the_tenant_at_its_clouds_login_host() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let base = sandbox.https_base();

    let answer = get_json(&client, &format!("{base}/contoso.com/v2.0/.well-known/openid-configuration")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let document = &answer.body;
    assert_eq!(document["token_endpoint"], format!("{base}/{CONTOSO}/oauth2/v2.0/token"));
    assert_eq!(document["authorization_endpoint"], format!("{base}/{CONTOSO}/oauth2/v2.0/authorize"));
    assert_eq!(document["jwks_uri"], format!("{base}/{CONTOSO}/discovery/v2.0/keys"));
    assert_eq!(document["issuer"], format!("https://login.microsoftonline.com/{CONTOSO}/v2.0"));
    assert_eq!(document["tenant_region_scope"], "WW");
    assert_eq!(document["cloud_instance_name"], "microsoftonline.com");
    assert_eq!(document["msgraph_host"], "graph.microsoft.com");
    assert_eq!(
        document["token_endpoint_auth_methods_supported"],
        json!(["client_secret_post", "private_key_jwt", "client_secret_basic"])
    );
    assert_eq!(answer.headers["cache-control"], "max-age=86400, private");
    assert_eq!(answer.headers["access-control-allow-origin"], "*");
    assert_eq!(answer.headers["content-type"], "application/json; charset=utf-8");
    assert!(answer.headers.contains_key("x-ms-ests-server"));

    let common_document = get_json(&client, &format!("{base}/common/v2.0/.well-known/openid-configuration")).await.body;
    assert_eq!(common_document["issuer"], "https://login.microsoftonline.com/{tenantid}/v2.0");
    assert_eq!(common_document["token_endpoint"], format!("{base}/common/oauth2/v2.0/token"));
    assert_eq!(common_document["tenant_region_scope"], Value::Null);

    let v1_keys = get_json(&client, &format!("{base}/common/discovery/keys")).await.body;
    assert!(v1_keys["keys"][0]["n"].is_string() && v1_keys["keys"][0].get("issuer").is_none(), "{v1_keys}");
    let v1 = get_json(&client, &format!("{base}/{CONTOSO}/.well-known/openid-configuration")).await.body;
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{CONTOSO}/"));
    assert_eq!(v1["token_endpoint"], format!("{base}/{CONTOSO}/oauth2/token"));

    // GCC High lives at its own login host; a Global tenant does not exist there.
    let us = format!("{base}/login.microsoftonline.us");
    let gcc = get_json(&client, &format!("{us}/fabrikam.gov/v2.0/.well-known/openid-configuration")).await;
    assert_eq!(gcc.status, 200, "{}", gcc.body);
    assert_eq!(gcc.body["token_endpoint"], format!("{us}/{FABRIKAM}/oauth2/v2.0/token"));
    assert_eq!(gcc.body["issuer"], format!("https://login.microsoftonline.us/{FABRIKAM}/v2.0"));
    assert_eq!(gcc.body["cloud_instance_name"], "microsoftonline.us");
    assert_eq!(gcc.body["msgraph_host"], "graph.microsoft.us");
    assert_eq!(gcc.body["tenant_region_scope"], "USGov");
    let elsewhere = get_json(&client, &format!("{us}/{CONTOSO}/v2.0/.well-known/openid-configuration")).await;
    assert_aad_error(&elsewhere, 400, "invalid_tenant", 90002);
    let at_global = get_json(&client, &format!("{base}/{FABRIKAM}/v2.0/.well-known/openid-configuration")).await;
    assert_aad_error(&at_global, 400, "invalid_tenant", 90002);
    let unknown = get_json(&client, &format!("{base}/nowhere.example/v2.0/.well-known/openid-configuration")).await;
    assert_aad_error(&unknown, 400, "invalid_tenant", 90002);
}

#[tokio::test]
async fn instance_discovery_points_at_the_tenant_document_and_refuses_unknown_hosts() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let base = sandbox.https_base();
    let known = client
        .get(format!("{base}/common/discovery/instance"))
        .query(&[
            ("api-version", "1.1"),
            ("authorization_endpoint", &format!("{base}/{CONTOSO}/oauth2/v2.0/authorize")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(known.status(), 200);
    assert_eq!(known.headers()["access-control-allow-methods"], "GET, OPTIONS");
    let body: Value = known.json().await.unwrap();
    assert_eq!(body["tenant_discovery_endpoint"], format!("{base}/{CONTOSO}/v2.0/.well-known/openid-configuration"));
    assert_eq!(body["api-version"], "1.1");
    assert!(
        body["metadata"]
            .as_array()
            .unwrap()
            .iter()
            .any(|group| group["preferred_network"] == "login.microsoftonline.us")
    );

    let microsoft = client
        .get(format!("{base}/common/discovery/instance"))
        .query(&[
            ("api-version", "1.1"),
            ("authorization_endpoint", "https://login.microsoftonline.us/common/oauth2/v2.0/authorize"),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = microsoft.json().await.unwrap();
    assert_eq!(
        body["tenant_discovery_endpoint"],
        "https://login.microsoftonline.us/common/v2.0/.well-known/openid-configuration"
    );

    let response = client
        .get(format!("{base}/common/discovery/instance"))
        .query(&[
            ("api-version", "1.1"),
            ("authorization_endpoint", "https://login.example.com/common/oauth2/v2.0/authorize"),
        ])
        .send()
        .await
        .unwrap();
    let answer = Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.json().await.unwrap(),
    };
    assert_aad_error(&answer, 400, "invalid_instance", 50049);
}

#[tokio::test]
async fn client_credentials_issue_an_app_token_that_the_published_keys_verify() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CONTOSO_APP),
        ("client_secret", CONTOSO_APP_SECRET),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let answer = post_form(&client, &token_url(&sandbox, "contoso.onmicrosoft.com"), &form).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.headers["cache-control"], "no-store, no-cache");
    assert_eq!(answer.headers["pragma"], "no-cache");
    assert_eq!(answer.body["token_type"], "Bearer");
    assert_eq!(answer.body["expires_in"], 3599);
    assert_eq!(answer.body["ext_expires_in"], 3599);
    assert!(answer.body.get("refresh_token").is_none());
    let token = answer.body["access_token"].as_str().unwrap();

    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwks = get_json(&client, &format!("{}/{CONTOSO}/discovery/v2.0/keys", sandbox.https_base())).await.body;
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == header.kid.clone().unwrap())
        .expect("kid published");
    let decoding = DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["https://graph.microsoft.com"]);
    validation.set_issuer(&[format!("https://sts.windows.net/{CONTOSO}/")]);
    let claims = jsonwebtoken::decode::<Value>(token, &decoding, &validation).expect("verifies").claims;
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["appid"], CONTOSO_APP);
    assert_eq!(claims["appidacr"], "1");
    assert_eq!(claims["tid"], CONTOSO);
    assert_eq!(claims["ver"], "1.0");
    assert_eq!(claims["oid"], claims["sub"]);
    assert!(claims["roles"].as_array().unwrap().contains(&json!("User.ReadWrite.All")), "{claims}");
    assert!(!claims["roles"].as_array().unwrap().contains(&json!("Exchange.ManageAsApp")), "{claims}");

    // HTTP Basic works as well as the body, and the Exchange resource has its own roles.
    let response = client
        .post(token_url(&sandbox, CONTOSO))
        .basic_auth(CONTOSO_APP, Some(CONTOSO_APP_SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", "https://outlook.office365.com/.default")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let exchange = jwt_payload(body["access_token"].as_str().unwrap());
    assert_eq!(exchange["aud"], "https://outlook.office365.com");
    assert_eq!(exchange["roles"], json!(["Exchange.ManageAsApp"]));
}

#[tokio::test]
async fn gcc_high_tokens_name_the_us_government_graph() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let url = format!("{}/login.microsoftonline.us/{FABRIKAM}/oauth2/v2.0/token", sandbox.https_base());
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", FABRIKAM_APP),
        ("client_secret", FABRIKAM_APP_SECRET),
        ("scope", "https://graph.microsoft.us/.default"),
    ];
    let answer = post_form(&client, &url, &form).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let claims = jwt_payload(answer.body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://graph.microsoft.us");
    assert_eq!(claims["tenant_region_scope"], "USGov");
    let wrong_cloud = [("scope", "https://graph.microsoft.com/.default"), form[0], form[1], form[2]];
    assert_aad_error(&post_form(&client, &url, &wrong_cloud).await, 400, "invalid_resource", 500011);
}

#[tokio::test]
async fn token_endpoint_errors_have_microsofts_codes_statuses_and_shape() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    let contoso = token_url(&sandbox, CONTOSO);
    let cc = |secret: &'static str, scope: &'static str| {
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", CONTOSO_APP),
            ("client_secret", secret),
            ("scope", scope),
        ]
    };
    let graph = "https://graph.microsoft.com/.default";

    assert_aad_error(&post_form(&client, &contoso, &cc("wrong", graph)).await, 401, "invalid_client", 7000215);
    let no_secret = [("grant_type", "client_credentials"), ("client_id", CONTOSO_APP), ("scope", graph)];
    assert_aad_error(&post_form(&client, &contoso, &no_secret).await, 401, "invalid_client", 7000218);
    let scoped = cc(CONTOSO_APP_SECRET, "https://graph.microsoft.com/User.Read.All");
    assert_aad_error(&post_form(&client, &contoso, &scoped).await, 400, "invalid_scope", 1002012);
    let two = cc(CONTOSO_APP_SECRET, "https://graph.microsoft.com/.default https://outlook.office365.com/.default");
    assert_aad_error(&post_form(&client, &contoso, &two).await, 400, "invalid_scope", 70011);
    let other_cloud = cc(CONTOSO_APP_SECRET, "https://graph.microsoft.us/.default");
    assert_aad_error(&post_form(&client, &contoso, &other_cloud).await, 400, "invalid_resource", 500011);
    let common = token_url(&sandbox, "common");
    assert_aad_error(
        &post_form(&client, &common, &cc(CONTOSO_APP_SECRET, graph)).await,
        400,
        "invalid_request",
        9001023,
    );
    let unknown_app = [
        ("grant_type", "client_credentials"),
        ("client_id", "11111111-2222-3333-4444-555555555555"),
        ("client_secret", "x"),
        ("scope", graph),
    ];
    assert_aad_error(&post_form(&client, &contoso, &unknown_app).await, 400, "unauthorized_client", 700016);
    // Tenure's multi-tenant app has not been consented in Contoso yet.
    let not_installed = [
        ("grant_type", "client_credentials"),
        ("client_id", TENURE_APP),
        ("client_secret", TENURE_SECRET),
        ("scope", graph),
    ];
    let answer = post_form(&client, &contoso, &not_installed).await;
    assert_aad_error(&answer, 400, "unauthorized_client", 700016);
    assert!(answer.body["error_description"].as_str().unwrap().contains("was not found in the directory 'Contoso'"));

    assert_aad_error(
        &post_form(&client, &contoso, &[("client_id", CONTOSO_APP)]).await,
        400,
        "invalid_request",
        900144,
    );
    let missing_scope =
        [("grant_type", "client_credentials"), ("client_id", CONTOSO_APP), ("client_secret", CONTOSO_APP_SECRET)];
    let answer = post_form(&client, &contoso, &missing_scope).await;
    assert_aad_error(&answer, 400, "invalid_request", 900144);
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS900144: The request body must contain the following parameter: 'scope'.\r\nTrace ID: ")
    );
    let password = [("grant_type", "password"), ("client_id", CONTOSO_APP)];
    assert_aad_error(&post_form(&client, &contoso, &password).await, 400, "unsupported_grant_type", 70003);
    let mut with_resource = cc(CONTOSO_APP_SECRET, graph);
    with_resource.push(("resource", "https://graph.microsoft.com"));
    assert_aad_error(&post_form(&client, &contoso, &with_resource).await, 400, "invalid_request", 901002);
    let mut bad_claims = cc(CONTOSO_APP_SECRET, graph);
    bad_claims.push(("claims", "{not json"));
    let answer = post_form(&client, &contoso, &bad_claims).await;
    assert_eq!((answer.status, answer.body["error"].as_str()), (400, Some("invalid_request")), "{}", answer.body);
    let mut cae = cc(CONTOSO_APP_SECRET, graph);
    cae.push(("claims", r#"{"access_token":{"xms_cc":{"values":["CP1"]}}}"#));
    let answer = post_form(&client, &contoso, &cae).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(jwt_payload(answer.body["access_token"].as_str().unwrap())["xms_cc"], json!(["CP1"]));
    let unknown_tenant = token_url(&sandbox, "00000000-1111-2222-3333-444444444444");
    assert_aad_error(
        &post_form(&client, &unknown_tenant, &cc(CONTOSO_APP_SECRET, graph)).await,
        400,
        "invalid_request",
        90002,
    );

    let response = client.get(&contoso).send().await.unwrap();
    let answer = Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.json().await.unwrap(),
    };
    assert_aad_error(&answer, 400, "invalid_request", 900561);

    // The client's correlation id comes back in the body and the headers.
    let correlation = "5f0e0a1c-1d2e-4f3a-8b9c-0d1e2f3a4b5c";
    let response =
        client.post(&contoso).header("client-request-id", correlation).form(&cc("wrong", graph)).send().await.unwrap();
    assert_eq!(response.headers()["client-request-id"], correlation);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["correlation_id"], correlation);

    // An expired secret, and a public client presenting one.
    let state = sandbox.state();
    let mut app = state.directory.app(CONTOSO_APP.parse().unwrap()).unwrap();
    app.secrets.push(sandbox::directory::app::ClientSecret {
        key_id: uuid::Uuid::new_v4(),
        hint: "old".into(),
        sha256_hex: sandbox::directory::app::secret_hash("old-expired-secret"),
        expires: state.clock.now() - chrono::Duration::days(1),
    });
    state.directory.insert_app(app.clone());
    assert_aad_error(
        &post_form(&client, &contoso, &cc("old-expired-secret", graph)).await,
        401,
        "invalid_client",
        7000222,
    );
    let public_id = "a1b2c3d4-0000-4000-8000-0000000000b1";
    let mut public = app;
    public.app_id = public_id.parse().unwrap();
    public.public_client = true;
    state.directory.insert_app(public);
    let public_form =
        [("grant_type", "client_credentials"), ("client_id", public_id), ("client_secret", "x"), ("scope", graph)];
    assert_aad_error(&post_form(&client, &contoso, &public_form).await, 401, "invalid_client", 700025);
}

/// A certificate and its private key, for client assertions.
struct TestCertificate {
    pem: String,
    der: Vec<u8>,
    key: EncodingKey,
}

fn make_certificate(not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> TestCertificate {
    let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "tenure-test");
    params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let certificate = params.self_signed(&key_pair).unwrap();
    TestCertificate {
        pem: certificate.pem(),
        der: certificate.der().to_vec(),
        key: EncodingKey::from_rsa_pem(key_pair.serialize_pem().as_bytes()).unwrap(),
    }
}

fn register(sandbox: &sandbox::RunningSandbox, certificate: &TestCertificate) {
    let state = sandbox.state();
    let mut app = state.directory.app(CONTOSO_APP.parse().unwrap()).unwrap();
    app.certificates.push(sandbox::seed::certificate_from_pem(&certificate.pem).unwrap());
    state.directory.insert_app(app);
}

enum Thumbprint {
    Sha256Padded,
    Sha1,
}

fn assertion(
    sandbox: &sandbox::RunningSandbox,
    certificate: &TestCertificate,
    thumbprint: Thumbprint,
    claims: Value,
) -> String {
    let (algorithm, mut header) = match thumbprint {
        Thumbprint::Sha256Padded => {
            let mut header = Header::new(Algorithm::PS256);
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &certificate.der);
            // MSAL sends the thumbprint base64url-encoded *with* padding, plus the certificate itself.
            header.x5t_s256 = Some(URL_SAFE.encode(digest.as_ref()));
            header.x5c = Some(vec![STANDARD.encode(&certificate.der)]);
            (Algorithm::PS256, header)
        }
        Thumbprint::Sha1 => {
            let mut header = Header::new(Algorithm::RS256);
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &certificate.der);
            header.x5t = Some(URL_SAFE_NO_PAD.encode(digest.as_ref()));
            (Algorithm::RS256, header)
        }
    };
    header.alg = algorithm;
    let now = sandbox.state().clock.now().timestamp_millis() as f64 / 1000.0;
    let mut body = json!({
        "aud": token_url(sandbox, CONTOSO),
        "iss": CONTOSO_APP,
        "sub": CONTOSO_APP,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now,
        "exp": now + 600.0,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), claims.as_object()) {
        for (name, value) in extra {
            body.insert(name.clone(), value.clone());
        }
    }
    jsonwebtoken::encode(&header, &body, &certificate.key).unwrap()
}

async fn with_assertion(sandbox: &sandbox::RunningSandbox, assertion: &str) -> Answer {
    let client = common::client(sandbox);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CONTOSO_APP),
        ("scope", "https://graph.microsoft.com/.default"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion),
    ];
    post_form(&client, &token_url(sandbox, CONTOSO), &form).await
}

#[tokio::test]
async fn certificate_assertions_authenticate_and_every_flaw_is_refused() {
    let sandbox = common::start().await;
    let certificate = make_certificate((2020, 1, 1), (2090, 1, 1));
    register(&sandbox, &certificate);

    let ps256 = assertion(&sandbox, &certificate, Thumbprint::Sha256Padded, json!({}));
    let answer = with_assertion(&sandbox, &ps256).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(jwt_payload(answer.body["access_token"].as_str().unwrap())["appidacr"], "2");
    let rs256 = assertion(&sandbox, &certificate, Thumbprint::Sha1, json!({}));
    assert_eq!(with_assertion(&sandbox, &rs256).await.status, 200);
    let canonical = assertion(
        &sandbox,
        &certificate,
        Thumbprint::Sha1,
        json!({"aud": "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"}),
    );
    assert_eq!(with_assertion(&sandbox, &canonical).await.status, 200);

    // Microsoft accepts one assertion several times within its lifetime (MSAL reuses it for ~9 minutes);
    // the strict replay check is opt-in.
    assert_eq!(with_assertion(&sandbox, &ps256).await.status, 200);
    sandbox.state().identity.set_reject_replayed_assertions(true);
    assert_aad_error(&with_assertion(&sandbox, &ps256).await, 401, "invalid_client", 50027);
    sandbox.state().identity.set_reject_replayed_assertions(false);

    let wrong_audience = assertion(
        &sandbox,
        &certificate,
        Thumbprint::Sha256Padded,
        json!({"aud": "https://login.microsoftonline.com/other.example/oauth2/v2.0/token"}),
    );
    assert_aad_error(&with_assertion(&sandbox, &wrong_audience).await, 401, "invalid_client", 50012);
    let now = sandbox.state().clock.now().timestamp() as f64;
    let expired =
        assertion(&sandbox, &certificate, Thumbprint::Sha256Padded, json!({"exp": now - 3600.0, "iat": now - 4200.0}));
    let answer = with_assertion(&sandbox, &expired).await;
    assert_aad_error(&answer, 401, "invalid_client", 700024);
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("assertion valid from 1970-01-01T00:00:00.0000000Z")
    );
    let not_yet =
        assertion(&sandbox, &certificate, Thumbprint::Sha1, json!({"nbf": now + 3600.0, "exp": now + 4200.0}));
    assert_aad_error(&with_assertion(&sandbox, &not_yet).await, 401, "invalid_client", 700024);
    let mismatched = assertion(&sandbox, &certificate, Thumbprint::Sha1, json!({"sub": "someone-else"}));
    assert_aad_error(&with_assertion(&sandbox, &mismatched).await, 401, "invalid_client", 50048);

    let unregistered = make_certificate((2020, 1, 1), (2090, 1, 1));
    let unknown = assertion(&sandbox, &unregistered, Thumbprint::Sha1, json!({}));
    let answer = with_assertion(&sandbox, &unknown).await;
    assert_aad_error(&answer, 401, "invalid_client", 700027);
    assert!(answer.body["error_description"].as_str().unwrap().contains("Reason - The key was not found."));
    // The registered certificate's thumbprint, signed with another key.
    let forged_key =
        TestCertificate { pem: certificate.pem.clone(), der: certificate.der.clone(), key: unregistered.key };
    let forged = assertion(&sandbox, &forged_key, Thumbprint::Sha256Padded, json!({}));
    let answer = with_assertion(&sandbox, &forged).await;
    assert_aad_error(&answer, 401, "invalid_client", 700027);
    assert!(answer.body["error_description"].as_str().unwrap().contains("did not match the expected signature value"));

    let stale = make_certificate((2019, 1, 1), (2020, 1, 1));
    register(&sandbox, &stale);
    let answer = with_assertion(&sandbox, &assertion(&sandbox, &stale, Thumbprint::Sha1, json!({}))).await;
    assert_aad_error(&answer, 401, "invalid_client", 700027);
    assert!(answer.body["error_description"].as_str().unwrap().contains("The key used is expired."));
}
