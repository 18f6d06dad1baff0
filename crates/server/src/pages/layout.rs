//! The page frame every HTML response shares: document head, the top bar (with the signed-in admin and a
//! sign-out form), the flash message, and the embedded stylesheet served at [`STYLESHEET_PATH`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::auth::form::CSRF_FIELD;
use crate::auth::session::SignedIn;
use crate::flash::Flash;

/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/assets/style.css";

/// The stylesheet, embedded at build time.
const STYLESHEET: &str = include_str!("../../assets/style.css");

/// Serves the embedded stylesheet.
pub async fn stylesheet() -> Response {
    let mut response = STYLESHEET.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

/// The hidden CSRF field of a form posted by `admin`.
#[must_use]
pub fn csrf_field(admin: &SignedIn) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(admin.csrf_token); }
}

/// A page for a signed-in admin.
#[must_use]
pub fn page(title: &str, admin: &SignedIn, flash: &Flash, content: Markup) -> Markup {
    document(
        title,
        html! {
            header.top {
                div.bar {
                    a.brand href="/" { "Tenure" }
                    nav {
                        a href="/" { "Dashboard" }
                        a href="/connections" { "Connections" }
                    }
                    div.who {
                        span { "Signed in as " strong { (admin.username) } }
                        form method="post" action="/logout" {
                            (csrf_field(admin))
                            button type="submit" { "Sign out" }
                        }
                    }
                }
            }
            main {
                (flash_markup(flash))
                (content)
            }
        },
    )
}

/// A page for someone not signed in (the sign-in page, error pages).
#[must_use]
pub fn public_page(title: &str, flash: &Flash, content: Markup) -> Markup {
    document(
        title,
        html! {
            header.top { div.bar { a.brand href="/" { "Tenure" } } }
            main.narrow {
                (flash_markup(flash))
                (content)
            }
        },
    )
}

/// The page for an error.
#[must_use]
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Markup {
    public_page(
        title,
        &Flash::none(),
        html! {
            h1 { (title) }
            div.card {
                p { (message) }
                p.muted { "HTTP " (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
                p { a href="/" { "Back to Tenure" } }
            }
        },
    )
}

fn flash_markup(flash: &Flash) -> Markup {
    html! {
        @if let Some(message) = flash.message() {
            div.flash.error[flash.is_error()] role="status" id="flash" { (message) }
        }
    }
}

fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Tenure" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body { (body) }
        }
    }
}
