//! The connection pages: the list, one connection's detail (status, who linked it, granted permissions,
//! certificates, the last test report) and its actions — Link Account / Re-link, admin consent, Test connection,
//! certificate renewal, activation and download, and Remove behind a confirmation page.
//!
//! Every action is a CSRF-checked POST that redirects back with a flash message (post/redirect/get). All work is
//! done by `engine::connections::ConnectionService`; this module only renders and maps its errors to pages.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use engine::connections::{ConnectionError, ConnectionView};
use maud::{Markup, html};
use serde::Deserialize;
use store::{CertificateRecord, ConnectionAuth, ConnectionId, ConnectionStatus};

use crate::auth::form::CsrfForm;
use crate::auth::session::SignedIn;
use crate::error_page::PageError;
use crate::flash::{Flash, flash_cookie};
use crate::pages::labels::{cloud_label, status_badge};
use crate::pages::layout::{self, csrf_field};
use crate::pages::login::NoFields;
use crate::state::AppState;

/// Maps a connection service error to the page that explains it.
#[must_use]
pub fn connection_error_page(error: &ConnectionError) -> PageError {
    let message = error.to_string();
    match error {
        ConnectionError::NotFound(_) => PageError::new(StatusCode::NOT_FOUND, "Connection not found", &message),
        ConnectionError::Invalid(_) | ConnectionError::InvalidState(_) => {
            PageError::new(StatusCode::BAD_REQUEST, "Not possible", &message)
        }
        ConnectionError::NotConfigured(_) | ConnectionError::NeedsRelink { .. } => {
            PageError::new(StatusCode::CONFLICT, "Not ready", &message)
        }
        ConnectionError::Provider(_) => PageError::new(StatusCode::BAD_GATEWAY, "Microsoft refused", &message),
        ConnectionError::Store(_) | ConnectionError::Vault(_) => PageError::internal(error),
    }
}

/// The connection id in a path, or a 404 page.
///
/// # Errors
/// The text is not a connection id.
pub fn parse_id(text: &str) -> Result<ConnectionId, PageError> {
    text.parse::<ConnectionId>()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, "Connection not found", "There is no such connection."))
}

/// A redirect to `target` that shows `message` there.
#[must_use]
pub fn redirect_with_flash(state: &AppState, target: &str, message: &str, error: bool) -> Response {
    (AppendHeaders([(header::SET_COOKIE, flash_cookie(state, message, error))]), Redirect::to(target)).into_response()
}

/// `GET /connections`.
pub async fn list(State(state): State<AppState>, admin: SignedIn, flash: Flash) -> Result<Markup, PageError> {
    let views = state.connections().list().await.map_err(|error| connection_error_page(&error))?;
    Ok(layout::page(
        "Connections",
        &admin,
        &flash,
        html! {
            h1 { "Connections" }
            @if views.is_empty() {
                div.card { p.muted #no-connections { "No connections yet. Add one below to link your Microsoft tenant." } }
            } @else {
                table #connections {
                    thead { tr { th { "Name" } th { "Type" } th { "National cloud" } th { "Status" } th { "Linked by" } } }
                    tbody {
                        @for view in &views {
                            tr {
                                td { a href={ "/connections/" (view.connection.id) } { (view.connection.name) } }
                                td { (view.kind_label()) }
                                td { (cloud_label(view.connection.cloud)) }
                                td { (status_badge(view)) }
                                td { (view.connection.linked_by.as_deref().unwrap_or("—")) }
                            }
                        }
                    }
                }
            }
            h2 { "Add a connection" }
            div.kinds {
                div.card {
                    h2 { "Entra ID — Service provider application" }
                    p.muted { "Link your tenant by signing in as an administrator. Tenure's own application is \
                               granted the permissions; nothing to register in your tenant." }
                    a.button.primary #new-service-provider href="/connections/new/service-provider" { "New connection" }
                }
                div.card {
                    h2 { "Entra ID — Customer owned application" }
                    p.muted { "Use your own app registration (client ID and tenant ID) with a certificate Tenure \
                               generates or a client secret." }
                    a.button.primary #new-customer-app href="/connections/new/customer-app" { "New connection" }
                }
                div.card {
                    h2 { "Exchange Online" }
                    p.muted { "A service account that signs in with Link Account, or app-only access with a \
                               certificate, for distribution groups and mail recipients." }
                    a.button.primary #new-exchange href="/connections/new/exchange" { "New connection" }
                }
            }
        },
    ))
}

/// `GET /connections/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    admin: SignedIn,
    flash: Flash,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let id = parse_id(&id)?;
    let view = state.connections().get(id).await.map_err(|error| connection_error_page(&error))?;
    Ok(layout::page(&view.connection.name, &admin, &flash, detail_markup(&admin, &view, Utc::now())))
}

fn detail_markup(admin: &SignedIn, view: &ConnectionView, now: DateTime<Utc>) -> Markup {
    let connection = &view.connection;
    let id = connection.id;
    let delegated = connection.auth == ConnectionAuth::Delegated;
    let linked = matches!(connection.status, ConnectionStatus::Connected | ConnectionStatus::NeedsRelink);
    html! {
        p.muted { a href="/connections" { "← Connections" } }
        h1 { (connection.name) " " (status_badge(view)) }
        div.card {
            dl.facts #facts {
                dt { "Type" } dd { (view.kind_label()) }
                dt { "National cloud" } dd { (cloud_label(connection.cloud)) }
                dt { "Status" } dd #status { (view.status_label())
                    @if let Some(reason) = &connection.status_reason { br; span.muted { (reason) } } }
                @if let Some(tenant) = &connection.tenant_id { dt { "Tenant ID" } dd.mono { (tenant) } }
                @if let Some(client) = &connection.client_id { dt { "Client ID" } dd.mono { (client) } }
                dt { "Credential" } dd { (credential_label(connection.auth)) }
                @if let Some(user) = &connection.linked_by { dt { "Linked by" } dd #linked-by { (user) } }
                @if let Some(at) = connection.linked_at { dt { "Linked at" } dd { (when(at)) } }
                dt { "Created" } dd { (when(connection.created_at)) }
            }
            @if !connection.granted_permissions.is_empty() {
                h2 { "Granted permissions" }
                ul.tags #granted { @for permission in &connection.granted_permissions { li { (permission) } } }
            }
            div.actions {
                @if delegated {
                    form method="post" action={ "/connections/" (id) "/link" } {
                        (csrf_field(admin))
                        button.primary #link type="submit" { @if linked { "Re-link" } @else { "Link Account" } }
                    }
                }
                form method="post" action={ "/connections/" (id) "/test" } {
                    (csrf_field(admin))
                    button #test .primary[!delegated] type="submit" { "Test connection" }
                }
                a.button #remove href={ "/connections/" (id) "/remove" } { "Remove" }
            }
        }
        @if delegated { (admin_consent_card(admin, view)) }
        @if !view.certificates.is_empty() || connection.auth == ConnectionAuth::Certificate {
            (certificates_card(admin, view, now))
        }
        (last_test_card(view))
    }
}

fn credential_label(auth: ConnectionAuth) -> &'static str {
    match auth {
        ConnectionAuth::Delegated => "Delegated sign-in (refresh token, sealed)",
        ConnectionAuth::ClientSecret => "Client secret (sealed)",
        ConnectionAuth::Certificate => "Certificate generated by Tenure (private key sealed)",
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn admin_consent_card(admin: &SignedIn, view: &ConnectionView) -> Markup {
    let connection = &view.connection;
    let waiting = connection.status == ConnectionStatus::WaitingAdminApproval;
    html! {
        div.card #admin-consent {
            h2 { "Admin consent" }
            @if waiting {
                p { "The account that signed in may not consent to these permissions. An administrator of the \
                     tenant has been asked to approve; once they have, click Link Account again. An administrator \
                     can also grant consent for the whole organisation directly:" }
            } @else {
                p.muted { "An administrator can grant Tenure's permissions for the whole organisation, so that \
                           other accounts can link without being asked." }
            }
            form method="post" action={ "/connections/" (connection.id) "/admin-consent" } {
                (csrf_field(admin))
                label for="consent-tenant" { "Tenant ID or domain"
                    span.hint { "The directory (tenant) ID, or a verified domain such as contoso.onmicrosoft.com." } }
                input type="text" id="consent-tenant" name="tenant" required maxlength="256"
                    value=(connection.tenant_id.as_deref().unwrap_or(""));
                div.actions { button type="submit" { "Grant admin consent" } }
            }
        }
    }
}

fn certificates_card(admin: &SignedIn, view: &ConnectionView, now: DateTime<Utc>) -> Markup {
    let id = view.connection.id;
    html! {
        div.card #certificates {
            h2 { "Certificates" }
            p.muted { "Upload the active certificate to the app registration (Certificates & secrets → Certificates \
                       → Upload certificate). Renew before it expires: the new certificate stays inactive until you \
                       have uploaded it and activate it here." }
            @if view.certificates.is_empty() { p { "No certificate yet." } } @else {
                table {
                    thead { tr { th { "State" } th { "Thumbprints" } th { "Valid" } th { "" } } }
                    tbody { @for certificate in &view.certificates { (certificate_row(admin, id, certificate, now)) } }
                }
            }
            form method="post" action={ "/connections/" (id) "/certificates/renew" } {
                (csrf_field(admin))
                div.actions { button #renew type="submit" { "Renew certificate" } }
            }
        }
    }
}

fn certificate_row(admin: &SignedIn, id: ConnectionId, certificate: &CertificateRecord, now: DateTime<Utc>) -> Markup {
    let days_left = (certificate.not_after - now).num_days();
    let sha1 = &certificate.sha1_thumbprint;
    html! {
        tr {
            td { @if certificate.active { span.status.connected { "Active" } } @else { span.status { "Inactive" } } }
            td {
                span.muted { "SHA-1 " } span.mono.thumbprint { (sha1) } br;
                span.muted { "SHA-256 " } span.mono { (certificate.sha256_thumbprint) }
            }
            td {
                (certificate.not_before.format("%Y-%m-%d")) " – " (certificate.not_after.format("%Y-%m-%d")) br;
                @if days_left < 0 { span.status.needs-relink { "Expired" } }
                @else if days_left <= 30 { span.status.waiting { "Expires in " (days_left) " days" } }
                @else { span.muted { "Expires in " (days_left) " days" } }
            }
            td {
                a.button href={ "/connections/" (id) "/certificates/" (sha1) } download { "Download" }
                @if !certificate.active {
                    form method="post" action={ "/connections/" (id) "/certificates/" (sha1) "/activate" } {
                        (csrf_field(admin))
                        button type="submit" { "Activate" }
                    }
                }
            }
        }
    }
}

fn last_test_card(view: &ConnectionView) -> Markup {
    html! {
        div.card #last-test {
            h2 { "Last test" }
            @match &view.last_test {
                None => p.muted { "Not tested yet. Test connection gets a token, compares the granted permissions \
                                   with what Tenure needs and reads once through each API." },
                Some(report) => {
                    p { @if report.passed { span.status.connected { "Passed" } } @else { span.status.needs-relink { "Failed" } }
                        " " span.muted { (when(report.tested_at)) } }
                    ul.report {
                        @for line in &report.lines {
                            li class=(if line.ok { "ok" } else { "bad" }) { (line.text) }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /connections/{id}/link`: Link Account or Re-link — off to the cloud's sign-in page.
pub async fn link(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let url = state
        .connections()
        .begin_link(id, &form.admin.oauth_binding)
        .await
        .map_err(|error| connection_error_page(&error))?;
    Ok(link_redirect(&url))
}

/// The admin-consent form.
#[derive(Debug, Deserialize)]
pub struct AdminConsentForm {
    #[serde(default)]
    tenant: String,
}

/// `POST /connections/{id}/admin-consent`.
pub async fn admin_consent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: CsrfForm<AdminConsentForm>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    match state.connections().begin_admin_consent(id, &form.form.tenant, &form.admin.oauth_binding).await {
        Ok(url) => Ok(link_redirect(&url)),
        Err(error @ ConnectionError::Invalid(_)) => {
            Ok(redirect_with_flash(&state, &format!("/connections/{id}"), &error.to_string(), true))
        }
        Err(error) => Err(connection_error_page(&error)),
    }
}

/// A 303 to a sign-in page of the identity platform.
pub fn link_redirect(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => PageError::internal("the sign-in address is not a valid URL").into_response(),
    }
}

/// `POST /connections/{id}/test`.
pub async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let target = format!("/connections/{id}");
    Ok(match state.connections().test(id).await {
        Ok(report) if report.passed => redirect_with_flash(&state, &target, "Test passed.", false),
        Ok(_) => redirect_with_flash(&state, &target, "Test failed: see the report below.", true),
        Err(error @ (ConnectionError::NotFound(_) | ConnectionError::Store(_) | ConnectionError::Vault(_))) => {
            return Err(connection_error_page(&error));
        }
        Err(error) => redirect_with_flash(&state, &target, &format!("Test failed: {error}"), true),
    })
}

/// `GET /connections/{id}/remove`: the confirmation page.
pub async fn confirm_remove(
    State(state): State<AppState>,
    admin: SignedIn,
    flash: Flash,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let id = parse_id(&id)?;
    let view = state.connections().get(id).await.map_err(|error| connection_error_page(&error))?;
    let name = &view.connection.name;
    Ok(layout::page(
        &format!("Remove {name}"),
        &admin,
        &flash,
        html! {
            h1 { "Remove connection “" (name) "”?" }
            div.card {
                p { "Tenure deletes the connection with its stored credentials (refresh token, client secret, \
                     private keys) and certificates. Runs that use it stop until another connection is configured. \
                     Nothing changes in your Microsoft tenant: remove the app's consent or registration there \
                     yourself if you no longer need it." }
                p { strong { "This cannot be undone." } }
                form method="post" action={ "/connections/" (id) "/remove" } {
                    (csrf_field(&admin))
                    div.actions {
                        button.danger #confirm-remove type="submit" { "Remove connection" }
                        a.button href={ "/connections/" (id) } { "Cancel" }
                    }
                }
            }
        },
    ))
}

/// `POST /connections/{id}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let view = state.connections().get(id).await.map_err(|error| connection_error_page(&error))?;
    state.connections().remove(id).await.map_err(|error| connection_error_page(&error))?;
    let message = format!("Connection “{}” removed.", view.connection.name);
    Ok(redirect_with_flash(&state, "/connections", &message, false))
}

/// `POST /connections/{id}/certificates/renew`.
pub async fn renew_certificate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let target = format!("/connections/{id}");
    Ok(match state.connections().renew_certificate(id).await {
        Ok(_) => redirect_with_flash(
            &state,
            &target,
            "New certificate generated. Download it, upload it to the app registration, then activate it.",
            false,
        ),
        Err(error @ ConnectionError::Invalid(_)) => redirect_with_flash(&state, &target, &error.to_string(), true),
        Err(error) => return Err(connection_error_page(&error)),
    })
}

/// `POST /connections/{id}/certificates/{sha1}/activate`.
pub async fn activate_certificate(
    State(state): State<AppState>,
    Path((id, sha1)): Path<(String, String)>,
    _form: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    state.connections().activate_certificate(id, &sha1).await.map_err(|error| connection_error_page(&error))?;
    let message = format!("Certificate {sha1} is now the active one.");
    Ok(redirect_with_flash(&state, &format!("/connections/{id}"), &message, false))
}

/// `GET /connections/{id}/certificates/{sha1}`: the public certificate as a PEM download.
pub async fn download_certificate(
    State(state): State<AppState>,
    _admin: SignedIn,
    Path((id, sha1)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    if sha1.is_empty() || sha1.len() > 64 || !sha1.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(PageError::new(StatusCode::NOT_FOUND, "Certificate not found", "There is no such certificate."));
    }
    let pem = state.connections().public_certificate(id, &sha1).await.map_err(|error| connection_error_page(&error))?;
    let disposition = format!("attachment; filename=\"tenure-connection-{id}-{}.pem\"", sha1.to_ascii_uppercase());
    let disposition = HeaderValue::from_str(&disposition).map_err(PageError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        pem,
    )
        .into_response())
}
