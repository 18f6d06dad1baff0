//! In-process requests to the router (`tower::ServiceExt::oneshot`) and what tests read from the answers.

#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::ADMIN;

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
    }

    pub fn cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().map(|value| value.to_str().unwrap().to_owned()).collect()
    }

    /// `name=value` of the cookie `name` this answer sets.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies()
            .into_iter()
            .find(|cookie| cookie.starts_with(&format!("{name}=")))
            .map(|cookie| cookie.split(';').next().unwrap().to_owned())
    }

    /// The value of the hidden `_csrf` field of the first form.
    pub fn csrf(&self) -> String {
        let start = self.body.find("name=\"_csrf\" value=\"").expect("a CSRF field") + 20;
        self.body[start..start + self.body[start..].find('"').unwrap()].to_owned()
    }
}

pub async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("reading the body").to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

pub fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).unwrap()
}

pub fn post_form(path: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

pub fn encode(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)]).unwrap()[2..].to_owned()
}

/// Opens the sign-in page and signs in; returns the session cookie (`name=value`).
pub async fn sign_in(router: &Router, password: &str) -> (Answer, Option<String>) {
    let page = send(router, get("/login", None)).await;
    let login_cookie = page.cookie("tenure_login_csrf").expect("the sign-in page sets its CSRF cookie");
    let body = format!("_csrf={}&username={ADMIN}&password={}&next=%2Fconnections", page.csrf(), encode(password));
    let answer = send(router, post_form("/login", Some(&login_cookie), &body)).await;
    let session = answer.cookie("tenure_session");
    (answer, session)
}
