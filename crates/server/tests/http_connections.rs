//! The connection pages answered in-process over a real SQLite store and the real connection service: creating
//! each kind from its form, refusals re-rendered with the reason, CSRF and sign-in on every action, certificates
//! (download, renewal, activation), removal, and the OAuth callback refusing forged or foreign answers.

mod support;

use axum::Router;
use axum::http::{StatusCode, header};
use support::http::{Answer, encode, get, post_form, send, sign_in};
use support::{CONTOSO_APP, CONTOSO_TENANT, PASSWORD, TestStore};

const SECRET_VALUE: &str = "very-secret-client-secret-value-1234";

async fn signed_in(db: &TestStore) -> (Router, String, String) {
    let router = server::router(db.state("http://127.0.0.1:8080"));
    let (_, session) = sign_in(&router, PASSWORD).await;
    let session = session.expect("signed in");
    let csrf = send(&router, get("/connections", Some(&session))).await.csrf();
    (router, session, csrf)
}

fn customer_app_form(csrf: &str, name: &str, credential: &str) -> String {
    format!(
        "_csrf={csrf}&name={}&cloud=us-gov-high&client_id={CONTOSO_APP}&tenant_id={CONTOSO_TENANT}\
         &credential={credential}&client_secret={SECRET_VALUE}",
        encode(name)
    )
}

/// Follows a redirect's flash to the page it names.
async fn follow(router: &Router, answer: &Answer, session: &str) -> Answer {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let mut cookies = session.to_owned();
    if let Some(flash) = answer.cookie("tenure_flash") {
        cookies = format!("{cookies}; {flash}");
    }
    send(router, get(answer.header(header::LOCATION), Some(&cookies))).await
}

#[tokio::test]
async fn a_customer_app_with_a_client_secret_is_created_and_shown_without_its_secret() {
    let db = TestStore::new().await;
    let (router, session, csrf) = signed_in(&db).await;

    let empty = send(&router, get("/connections", Some(&session))).await;
    assert!(empty.body.contains("No connections yet."));
    for kind in ["service-provider", "customer-app", "exchange"] {
        let form = send(&router, get(&format!("/connections/new/{kind}"), Some(&session))).await;
        assert_eq!(form.status, StatusCode::OK, "{kind}");
        for option in ["Global", "US Government GCC High", "US Government DoD", "China operated by 21Vianet"] {
            assert!(form.body.contains(option), "{kind}: {option}");
        }
    }

    let created = send(
        &router,
        post_form(
            "/connections/new/customer-app",
            Some(&session),
            &customer_app_form(&csrf, "Fabrikam", "client-secret"),
        ),
    )
    .await;
    let page = follow(&router, &created, &session).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Connection created. Click Test connection"), "{}", page.body);
    assert!(page.body.contains("Entra ID — Customer owned application"));
    assert!(page.body.contains("US Government GCC High"));
    assert!(page.body.contains("Client secret (sealed)"));
    assert!(page.body.contains(CONTOSO_APP) && page.body.contains(CONTOSO_TENANT));
    assert!(page.body.contains("Not tested"));
    let list = send(&router, get("/connections", Some(&session))).await;
    assert!(list.body.contains("Fabrikam"));
    for answer in [&page, &list, &created] {
        assert!(!answer.body.contains(SECRET_VALUE), "the client secret leaked into a page");
        assert!(
            answer
                .headers
                .iter()
                .all(|(_, value)| !value.as_bytes().windows(10).any(|w| w == &SECRET_VALUE.as_bytes()[..10]))
        );
    }
    let stored = db.store.list_connections().await.unwrap();
    let sealed = db.store.secret(stored[0].id, "client_secret").await.unwrap().expect("a sealed secret");
    assert!(!sealed.ciphertext.contains(SECRET_VALUE));
}

#[tokio::test]
async fn refused_forms_are_shown_again_with_the_reason() {
    let db = TestStore::new().await;
    let (router, session, csrf) = signed_in(&db).await;
    let post = |path: &'static str, body: String| {
        let router = router.clone();
        let session = session.clone();
        async move { send(&router, post_form(path, Some(&session), &body)).await }
    };

    let answer = post("/connections/new/customer-app", customer_app_form(&csrf, "", "generate-certificate")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("Enter a connection name."), "{}", answer.body);
    assert!(answer.body.contains(CONTOSO_APP), "typed values are kept");
    assert!(!answer.body.contains(SECRET_VALUE), "the secret is never echoed");

    let bad_client = customer_app_form(&csrf, "Contoso", "generate-certificate").replace(CONTOSO_APP, "not-a-guid");
    let answer = post("/connections/new/customer-app", bad_client).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.body.contains("client ID &quot;not-a-guid&quot; is not an application (client) ID"),
        "{}",
        answer.body
    );

    let answer = post("/connections/new/service-provider", format!("_csrf={csrf}&name=Contoso&cloud=global")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("no service provider application is configured"), "{}", answer.body);

    let answer =
        post("/connections/new/exchange", format!("_csrf={csrf}&name=Contoso&cloud=mars&method=app-certificate")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("unknown national cloud"), "{}", answer.body);

    let first = post("/connections/new/customer-app", customer_app_form(&csrf, "Contoso", "client-secret")).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let again = post("/connections/new/customer-app", customer_app_form(&csrf, "Contoso", "client-secret")).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already exists"), "{}", again.body);

    for path in ["/connections/new/other-kind", "/connections/abc", "/connections/999", "/connections/-1/remove"] {
        let answer = send(&router, get(path, Some(&session))).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(db.store.list_connections().await.unwrap().len(), 1);
}

#[tokio::test]
async fn every_connection_action_needs_the_session_and_its_csrf_token() {
    let db = TestStore::new().await;
    let (router, session, csrf) = signed_in(&db).await;
    let created = send(
        &router,
        post_form(
            "/connections/new/customer-app",
            Some(&session),
            &customer_app_form(&csrf, "Contoso", "generate-certificate"),
        ),
    )
    .await;
    let target = created.header(header::LOCATION).to_owned();
    let sha1 = db.store.certificates(db.store.list_connections().await.unwrap()[0].id).await.unwrap()[0]
        .sha1_thumbprint
        .clone();

    let actions = [
        "/connections/new/customer-app".to_owned(),
        format!("{target}/link"),
        format!("{target}/admin-consent"),
        format!("{target}/test"),
        format!("{target}/remove"),
        format!("{target}/certificates/renew"),
        format!("{target}/certificates/{sha1}/activate"),
        "/logout".to_owned(),
    ];
    for action in &actions {
        let forged = send(&router, post_form(action, Some(&session), "_csrf=forged&name=x&tenant=contoso.com")).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{action}: {}", forged.body);
        assert!(forged.body.contains("Form refused"), "{action}");
        let missing = send(&router, post_form(action, Some(&session), "name=x")).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN, "{action}");
        let signed_out = send(&router, post_form(action, None, &format!("_csrf={csrf}"))).await;
        assert_eq!(signed_out.status, StatusCode::FORBIDDEN, "{action}");
    }
    for page in ["/connections", target.as_str(), &format!("{target}/remove"), &format!("{target}/certificates/{sha1}")]
    {
        let answer = send(&router, get(page, None)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{page}");
        assert!(answer.header(header::LOCATION).starts_with("/login?next="), "{page}");
    }
    assert_eq!(db.store.list_connections().await.unwrap().len(), 1, "nothing was created or removed");
    assert_eq!(db.store.certificates(db.store.list_connections().await.unwrap()[0].id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn certificates_are_downloaded_renewed_and_activated_and_connections_removed() {
    let db = TestStore::new().await;
    let (router, session, csrf) = signed_in(&db).await;
    let created = send(
        &router,
        post_form(
            "/connections/new/customer-app",
            Some(&session),
            &customer_app_form(&csrf, "Contoso", "generate-certificate"),
        ),
    )
    .await;
    let target = created.header(header::LOCATION).to_owned();
    let page = follow(&router, &created, &session).await;
    assert!(page.body.contains("Connection created with a new certificate."), "{}", page.body);
    let id = db.store.list_connections().await.unwrap()[0].id;
    let first = db.store.certificates(id).await.unwrap()[0].clone();
    assert!(page.body.contains(&first.sha1_thumbprint) && page.body.contains(&first.sha256_thumbprint));
    assert!(page.body.contains("Active") && page.body.contains("Expires in"));

    let download =
        send(&router, get(&format!("{target}/certificates/{}", first.sha1_thumbprint), Some(&session))).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.header(header::CONTENT_TYPE), "application/x-pem-file");
    assert!(download.header(header::CONTENT_DISPOSITION).starts_with("attachment; filename=\"tenure-connection-"));
    assert!(download.body.starts_with("-----BEGIN CERTIFICATE-----"), "{}", download.body);
    assert!(!download.body.contains("PRIVATE KEY"));
    let unknown = send(&router, get(&format!("{target}/certificates/ABCDEF"), Some(&session))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let odd = send(&router, get(&format!("{target}/certificates/..%2F..%2Fetc"), Some(&session))).await;
    assert_eq!(odd.status, StatusCode::NOT_FOUND);

    let renewed =
        send(&router, post_form(&format!("{target}/certificates/renew"), Some(&session), &format!("_csrf={csrf}")))
            .await;
    let page = follow(&router, &renewed, &session).await;
    assert!(page.body.contains("New certificate generated."), "{}", page.body);
    let certificates = db.store.certificates(id).await.unwrap();
    assert_eq!(certificates.len(), 2);
    let new = certificates.iter().find(|c| c.sha1_thumbprint != first.sha1_thumbprint).unwrap().clone();
    assert!(!new.active);
    let activated = send(
        &router,
        post_form(
            &format!("{target}/certificates/{}/activate", new.sha1_thumbprint),
            Some(&session),
            &format!("_csrf={csrf}"),
        ),
    )
    .await;
    let page = follow(&router, &activated, &session).await;
    assert!(page.body.contains("is now the active one."), "{}", page.body);
    assert!(
        db.store.certificates(id).await.unwrap().iter().all(|c| c.active == (c.sha1_thumbprint == new.sha1_thumbprint))
    );

    let confirm = send(&router, get(&format!("{target}/remove"), Some(&session))).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("This cannot be undone."));
    assert_eq!(db.store.list_connections().await.unwrap().len(), 1, "the confirmation page removes nothing");
    let removed = send(&router, post_form(&format!("{target}/remove"), Some(&session), &format!("_csrf={csrf}"))).await;
    let list = follow(&router, &removed, &session).await;
    assert!(list.body.contains("Connection “Contoso” removed."), "{}", list.body);
    assert!(db.store.list_connections().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_oauth_callback_refuses_forged_and_sessionless_answers() {
    let db = TestStore::new().await;
    let (router, session, _) = signed_in(&db).await;

    let forged = send(&router, get("/oauth/callback?code=abc&state=forged-state", Some(&session))).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    assert!(forged.body.contains("Linking failed"), "{}", forged.body);
    assert!(forged.body.contains("never issued by Tenure"), "{}", forged.body);
    assert!(!forged.body.contains("abc&amp;"), "the code is not echoed");

    let stateless = send(&router, get("/oauth/callback?error=access_denied", Some(&session))).await;
    assert_eq!(stateless.status, StatusCode::BAD_REQUEST);
    let empty = send(&router, get("/oauth/callback", Some(&session))).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);

    let signed_out = send(&router, get("/oauth/callback?code=abc&state=s", None)).await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);
    assert!(signed_out.body.contains("your Tenure session has ended"), "{}", signed_out.body);
    assert_eq!(signed_out.header(header::CACHE_CONTROL), "no-store");
}
