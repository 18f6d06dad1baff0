//! The router answered in-process (`tower::ServiceExt::oneshot`) over a real SQLite store: sign-in, sessions,
//! CSRF refusals, security headers, and error pages for malformed requests.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use support::http::{Answer, encode, get, post_form, send, sign_in};
use support::{ADMIN, PASSWORD, TestStore};

fn assert_security_headers(answer: &Answer) {
    assert_eq!(answer.header(header::X_FRAME_OPTIONS), "DENY");
    assert_eq!(answer.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(answer.header(header::CACHE_CONTROL), "no-store");
    assert_eq!(answer.header(header::REFERRER_POLICY), "no-referrer");
    let policy = answer.header(header::CONTENT_SECURITY_POLICY);
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"), "{policy}");
}

#[tokio::test]
async fn pages_need_sign_in_and_a_session_opens_them() {
    let db = TestStore::new().await;
    let router = server::router(db.state("http://127.0.0.1:8080"));

    let answer = send(&router, get("/", None)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.header(header::LOCATION), "/login?next=/");
    assert_security_headers(&answer);

    let (answer, session) = sign_in(&router, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.header(header::LOCATION), "/connections", "sign-in goes on to `next`");
    let set = answer.cookies().into_iter().find(|c| c.starts_with("tenure_session=")).unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Secure"), "plain http: no Secure flag: {set}");
    assert!(set.contains("Max-Age=43200"), "{set}");
    let session = session.unwrap();

    let answer = send(&router, get("/", Some(&session))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("Signed in as <strong>alice</strong>"), "{}", answer.body);
    assert_security_headers(&answer);

    // The database keeps only the id's hash: the cookie's value is nowhere in it.
    let id = session.split_once('=').unwrap().1;
    let stored = db.store.admin_session(id, chrono::Utc::now()).await.unwrap();
    assert!(stored.is_none(), "the raw id must not be a key");

    // A signed-in admin opening /login goes straight on.
    let answer = send(&router, get("/login?next=/connections", Some(&session))).await;
    assert_eq!(answer.header(header::LOCATION), "/connections");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_refused_alike() {
    let db = TestStore::new().await;
    let router = server::router(db.state("http://127.0.0.1:8080"));
    let (wrong, session) = sign_in(&router, "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(session.is_none());
    assert!(wrong.body.contains("The user name or password is incorrect."), "{}", wrong.body);

    let page = send(&router, get("/login", None)).await;
    let login_cookie = page.cookie("tenure_login_csrf").unwrap();
    let body = format!("_csrf={}&username=mallory&password={}", page.csrf(), encode(PASSWORD));
    let unknown = send(&router, post_form("/login", Some(&login_cookie), &body)).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.cookie("tenure_session").is_none());
    let message = |answer: &Answer| answer.body.contains("The user name or password is incorrect.");
    assert!(message(&unknown) && message(&wrong));
    assert!(!unknown.body.contains("no such") && !unknown.body.contains("unknown user"));
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_user_name_even_for_the_right_one() {
    let db = TestStore::new().await;
    let router = server::router(db.state("http://127.0.0.1:8080"));
    for _ in 0..5 {
        let (wrong, _) = sign_in(&router, "not the password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let (locked, session) = sign_in(&router, PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", locked.body);
    assert!(session.is_none(), "a locked name does not sign in, even with its password");
    assert!(
        locked.body.contains("Too many failed sign-ins for this user name. Try again in 15 minutes."),
        "{}",
        locked.body
    );
    let wait: u64 = locked.header(header::RETRY_AFTER).parse().unwrap();
    assert!((1..=900).contains(&wait), "Retry-After {wait}");

    // Another name is not locked: unknown names count alike, so the lock tells nothing about accounts.
    let page = send(&router, get("/login", None)).await;
    let login_cookie = page.cookie("tenure_login_csrf").unwrap();
    let body = format!("_csrf={}&username=mallory&password=x", page.csrf());
    assert_eq!(send(&router, post_form("/login", Some(&login_cookie), &body)).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let db = TestStore::new().await;
    let router = server::router(db.state("http://127.0.0.1:8080"));

    // Sign-in without the double-submit cookie, or with a token that does not match it.
    let page = send(&router, get("/login", None)).await;
    let body = format!("_csrf={}&username={ADMIN}&password={}", page.csrf(), encode(PASSWORD));
    let answer = send(&router, post_form("/login", None, &body)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("Form refused"), "{}", answer.body);
    let other = "tenure_login_csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let answer = send(&router, post_form("/login", Some(other), &body)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    // Sign-out (a form of a signed-in admin) without, with a wrong, and with the right token.
    let (_, session) = sign_in(&router, PASSWORD).await;
    let session = session.unwrap();
    for body in ["", "_csrf=", "_csrf=forged-token-value"] {
        let answer = send(&router, post_form("/logout", Some(&session), body)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "body {body:?}");
        assert!(answer.body.contains("security token is missing or out of date"), "{}", answer.body);
        assert_security_headers(&answer);
    }
    assert_eq!(send(&router, get("/", Some(&session))).await.status, StatusCode::OK, "still signed in");

    let dashboard = send(&router, get("/", Some(&session))).await;
    let answer = send(&router, post_form("/logout", Some(&session), &format!("_csrf={}", dashboard.csrf()))).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.header(header::LOCATION), "/login");
    assert!(answer.cookies().iter().any(|c| c.starts_with("tenure_session=;") && c.contains("Max-Age=0")));
    let flash = answer.cookie("tenure_flash").expect("a flash for the next page");

    // The old cookie no longer opens anything; the sign-in page shows the flash once and clears it.
    assert_eq!(send(&router, get("/", Some(&session))).await.status, StatusCode::SEE_OTHER);
    let page = send(&router, get("/login", Some(&flash))).await;
    assert!(page.body.contains("You have signed out."), "{}", page.body);
    assert!(page.cookies().iter().any(|c| c.starts_with("tenure_flash=;") && c.contains("Max-Age=0")));

    // A POST without a session is refused, not redirected.
    let answer = send(&router, post_form("/logout", None, "_csrf=x")).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn malformed_requests_get_error_pages() {
    let db = TestStore::new().await;
    let router = server::router(db.state("http://127.0.0.1:8080"));
    let (_, session) = sign_in(&router, PASSWORD).await;
    let session = session.unwrap();
    let page = send(&router, get("/", Some(&session))).await;
    let csrf = page.csrf();

    let answer = send(&router, get("/no/such/page", Some(&session))).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.body.contains("There is no page at this address."));
    assert_eq!(answer.header(header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_security_headers(&answer);

    let answer = send(&router, get("/logout", Some(&session))).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(answer.body.contains("Method not allowed"));

    let json = Request::post("/logout")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, &session)
        .body(Body::from(format!("{{\"_csrf\":\"{csrf}\"}}")))
        .unwrap();
    assert_eq!(send(&router, json).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let answer = send(&router, post_form("/logout", Some(&session), "_csrf=%ZZ%&&==")).await;
    assert!(answer.status == StatusCode::BAD_REQUEST || answer.status == StatusCode::FORBIDDEN, "{}", answer.status);

    let huge = format!("_csrf={csrf}&pad={}", "x".repeat(200_000));
    let answer = send(&router, post_form("/logout", Some(&session), &huge)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer.body.contains("Bad form"), "{}", answer.body);

    // A sign-in with a missing password field or garbage bytes is a refusal or a 400, never a panic.
    let login = send(&router, get("/login", None)).await;
    let cookie = login.cookie("tenure_login_csrf").unwrap();
    let answer =
        send(&router, post_form("/login", Some(&cookie), &format!("_csrf={}&username=alice", login.csrf()))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = send(&router, post_form("/login", Some(&cookie), "\u{0}\u{1}%FF%FE")).await;
    assert!(answer.status.is_client_error(), "{}", answer.status);

    // A cookie with junk is simply not a session.
    for junk in ["tenure_session=%00junk; other=1", "tenure_session=", &format!("tenure_session={}", "a".repeat(4000))]
    {
        let answer = send(&router, get("/", Some(junk))).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{junk}");
    }
}

#[tokio::test]
async fn https_public_url_makes_cookies_secure_and_adds_hsts() {
    let db = TestStore::new().await;
    let router = server::router(db.state("https://tenure.example.com/"));
    let page = send(&router, get("/login", None)).await;
    assert_eq!(page.header(header::STRICT_TRANSPORT_SECURITY), "max-age=31536000");
    let login_cookie = page.cookie("tenure_login_csrf").unwrap();
    assert!(page.cookies()[0].contains("; Secure"));
    let body = format!("_csrf={}&username={ADMIN}&password={}", page.csrf(), encode(PASSWORD));
    let answer = send(&router, post_form("/login", Some(&login_cookie), &body)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let set = answer.cookies().into_iter().find(|c| c.starts_with("__Host-tenure_session=")).expect("prefixed cookie");
    assert!(set.contains("; Secure") && set.contains("HttpOnly"), "{set}");
    let session = answer.cookie("__Host-tenure_session").unwrap();
    assert_eq!(send(&router, get("/", Some(&session))).await.status, StatusCode::OK);
    // The unprefixed name is not accepted over https.
    let plain = session.replacen("__Host-", "", 1);
    assert_eq!(send(&router, get("/", Some(&plain))).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn stylesheet_is_served_and_cacheable() {
    let db = TestStore::new().await;
    let router = server::router(db.state("http://127.0.0.1:8080"));
    let answer = send(&router, get("/assets/style.css", None)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(header::CONTENT_TYPE), "text/css; charset=utf-8");
    assert_eq!(answer.header(header::CACHE_CONTROL), "public, max-age=300");
    assert!(answer.body.contains(".status.connected"));
}
