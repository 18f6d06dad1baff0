//! The forms that create connections, one per kind, with the product's fields: connection name, national cloud,
//! client ID, tenant ID, the credential (generate a certificate or a client secret), and Link Account for the
//! kinds an admin links by signing in.
//!
//! A refused form is shown again with what was typed (never the client secret) and the reason above it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use engine::connections::{ConnectionError, NewAppCredential, NewConnectionRequest};
use maud::{Markup, html};
use model::{NationalCloud, Secret};
use serde::Deserialize;
use store::ConnectionAuth;

use crate::auth::form::CsrfForm;
use crate::auth::session::SignedIn;
use crate::error_page::PageError;
use crate::flash::Flash;
use crate::pages::connections::{connection_error_page, redirect_with_flash};
use crate::pages::labels::cloud_select;
use crate::pages::layout::{self, csrf_field};
use crate::state::AppState;

/// The kinds of connection form, by their path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    /// `service-provider`: Entra ID — Service provider application.
    ServiceProvider,
    /// `customer-app`: Entra ID — Customer owned application.
    CustomerApp,
    /// `exchange`: Exchange Online (service account or app-only certificate).
    Exchange,
}

impl FormKind {
    fn parse(segment: &str) -> Result<Self, PageError> {
        match segment {
            "service-provider" => Ok(Self::ServiceProvider),
            "customer-app" => Ok(Self::CustomerApp),
            "exchange" => Ok(Self::Exchange),
            _ => Err(PageError::not_found()),
        }
    }

    fn segment(self) -> &'static str {
        match self {
            Self::ServiceProvider => "service-provider",
            Self::CustomerApp => "customer-app",
            Self::Exchange => "exchange",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::ServiceProvider => "Entra ID — Service provider application",
            Self::CustomerApp => "Entra ID — Customer owned application",
            Self::Exchange => "Exchange Online",
        }
    }
}

/// What a connection form sends (every field optional; the kind decides which count).
#[derive(Default, Deserialize)]
pub struct ConnectionForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    cloud: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    tenant_id: String,
    /// `generate-certificate` or `client-secret` (customer-owned app).
    #[serde(default)]
    credential: String,
    #[serde(default)]
    client_secret: String,
    /// `service-account` or `app-certificate` (Exchange).
    #[serde(default)]
    method: String,
}

impl Drop for ConnectionForm {
    fn drop(&mut self) {
        // The secret's bytes are overwritten before the allocation is freed (as `model::Secret` does).
        let secret = std::mem::take(&mut self.client_secret);
        drop(Secret::new(secret));
    }
}

/// `GET /connections/new/{kind}`.
pub async fn new_form(
    State(_state): State<AppState>,
    admin: SignedIn,
    flash: Flash,
    Path(kind): Path<String>,
) -> Result<Markup, PageError> {
    let kind = FormKind::parse(&kind)?;
    Ok(render(kind, &admin, &flash, &ConnectionForm::default(), None))
}

/// `POST /connections/new/{kind}`: creates the connection; the kinds linked by sign-in go straight on to Link
/// Account.
pub async fn create(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    form: CsrfForm<ConnectionForm>,
) -> Result<Response, PageError> {
    let kind = FormKind::parse(&kind)?;
    let CsrfForm { admin, form } = form;
    let request = match request_from(kind, &form) {
        Ok(request) => request,
        Err(problem) => return Ok(refused(kind, &admin, &form, &problem, StatusCode::BAD_REQUEST)),
    };
    let view = match state.connections().create(request).await {
        Ok(view) => view,
        Err(error @ (ConnectionError::Invalid(_) | ConnectionError::NotConfigured(_))) => {
            return Ok(refused(kind, &admin, &form, &error.to_string(), StatusCode::BAD_REQUEST));
        }
        Err(ConnectionError::Store(error @ store::Error::DuplicateConnectionName { .. })) => {
            return Ok(refused(kind, &admin, &form, &error.to_string(), StatusCode::CONFLICT));
        }
        Err(error) => return Err(connection_error_page(&error)),
    };
    let id = view.connection.id;
    let target = format!("/connections/{id}");
    if view.connection.auth == ConnectionAuth::Delegated {
        return Ok(match state.connections().begin_link(id, &admin.oauth_binding).await {
            Ok(url) => crate::pages::connections::link_redirect(&url),
            Err(error) => {
                let message = format!("Connection created, but Link Account could not start: {error}");
                redirect_with_flash(&state, &target, &message, true)
            }
        });
    }
    let message = match view.connection.auth {
        ConnectionAuth::Certificate => {
            "Connection created with a new certificate. Download it below, upload it to the app registration \
             (Certificates & secrets), then click Test connection."
        }
        _ => "Connection created. Click Test connection to check its permissions.",
    };
    Ok(redirect_with_flash(&state, &target, message, false))
}

fn refused(kind: FormKind, admin: &SignedIn, form: &ConnectionForm, problem: &str, status: StatusCode) -> Response {
    (status, render(kind, admin, &Flash::none(), form, Some(problem))).into_response()
}

/// The engine's request for a form of `kind`, or the reason it cannot be one.
fn request_from(kind: FormKind, form: &ConnectionForm) -> Result<NewConnectionRequest, String> {
    let name = form.name.trim().to_owned();
    if name.is_empty() {
        return Err("Enter a connection name.".to_owned());
    }
    let cloud: NationalCloud = form.cloud.parse().map_err(|error: model::UnknownCloud| error.to_string())?;
    let ids = || -> Result<(String, String), String> {
        let (tenant_id, client_id) = (form.tenant_id.trim(), form.client_id.trim());
        if client_id.is_empty() || tenant_id.is_empty() {
            return Err("Enter the app registration's client ID and tenant ID.".to_owned());
        }
        Ok((tenant_id.to_owned(), client_id.to_owned()))
    };
    Ok(match kind {
        FormKind::ServiceProvider => NewConnectionRequest::ServiceProvider { name, cloud },
        FormKind::CustomerApp => {
            let (tenant_id, client_id) = ids()?;
            let credential = match form.credential.as_str() {
                "generate-certificate" => NewAppCredential::GenerateCertificate,
                "client-secret" if form.client_secret.trim().is_empty() => {
                    return Err("Enter the client secret's value, or choose Generate a certificate.".to_owned());
                }
                "client-secret" => NewAppCredential::ClientSecret(Secret::new(form.client_secret.trim())),
                _ => return Err("Choose a credential: generate a certificate or a client secret.".to_owned()),
            };
            NewConnectionRequest::CustomerApp { name, cloud, tenant_id, client_id, credential }
        }
        FormKind::Exchange => match form.method.as_str() {
            "service-account" => NewConnectionRequest::ExchangeDelegated { name, cloud },
            "app-certificate" => {
                let (tenant_id, client_id) = ids()?;
                NewConnectionRequest::ExchangeApp { name, cloud, tenant_id, client_id }
            }
            _ => return Err("Choose how Tenure signs in: a service account or an app-only certificate.".to_owned()),
        },
    })
}

fn render(kind: FormKind, admin: &SignedIn, flash: &Flash, form: &ConnectionForm, problem: Option<&str>) -> Markup {
    let cloud = form.cloud.parse().unwrap_or(NationalCloud::Global);
    let title = format!("New connection: {}", kind.title());
    layout::page(
        &title,
        admin,
        flash,
        html! {
            p.muted { a href="/connections" { "← Connections" } }
            h1 { (kind.title()) }
            div.card {
                @if let Some(problem) = problem { p.alert role="alert" id="form-error" { (problem) } }
                (introduction(kind))
                form method="post" action={ "/connections/new/" (kind.segment()) } autocomplete="off" {
                    (csrf_field(admin))
                    label for="name" { "Connection name" span.hint { "How this connection is shown in Tenure." } }
                    input type="text" id="name" name="name" value=(form.name) required maxlength="100";
                    (cloud_select(cloud))
                    @match kind {
                        FormKind::ServiceProvider => {
                            div.actions { button.primary #submit type="submit" { "Link Account" } }
                        }
                        FormKind::CustomerApp => {
                            (app_ids(form))
                            (credential_choice(form))
                            div.actions { button.primary #submit type="submit" { "Create connection" } }
                        }
                        FormKind::Exchange => {
                            (exchange_method(form))
                            (app_ids(form))
                            div.actions { button.primary #submit type="submit" { "Create connection" } }
                        }
                    }
                }
            }
        },
    )
}

fn introduction(kind: FormKind) -> Markup {
    html! {
        @match kind {
            FormKind::ServiceProvider => p.muted {
                "Link Account takes you to Microsoft's sign-in page. Sign in as an administrator of the tenant and \
                 accept the permissions Tenure asks for (User.ReadWrite.All, Group.ReadWrite.All, \
                 Directory.AccessAsUser.All). If your account may not consent, an administrator is asked to approve."
            },
            FormKind::CustomerApp => p.muted {
                "Register an application in your tenant (Entra ID → App registrations), grant it the application \
                 permissions User.ReadWrite.All, Group.ReadWrite.All, Directory.ReadWrite.All and \
                 User.EnableDisableAccount.All with admin consent, and enter its IDs here."
            },
            FormKind::Exchange => p.muted {
                "A service account in a role group with Distribution Groups, Security Group Creation and Membership \
                 and Mail Recipients signs in with Link Account; or your app registration uses a certificate Tenure \
                 generates (app-only)."
            },
        }
    }
}

fn app_ids(form: &ConnectionForm) -> Markup {
    html! {
        label for="client_id" { "Client ID" span.hint { "The application (client) ID from the app registration's Overview." } }
        input type="text" id="client_id" name="client_id" value=(form.client_id) maxlength="64"
            placeholder="00000000-0000-0000-0000-000000000000";
        label for="tenant_id" { "Tenant ID" span.hint { "The directory (tenant) ID, or a verified domain." } }
        input type="text" id="tenant_id" name="tenant_id" value=(form.tenant_id) maxlength="256"
            placeholder="00000000-0000-0000-0000-000000000000";
    }
}

fn credential_choice(form: &ConnectionForm) -> Markup {
    let secret = form.credential == "client-secret";
    html! {
        fieldset {
            legend { "Credential" }
            label { input type="radio" name="credential" value="generate-certificate" checked[!secret];
                " Generate a certificate " span.hint { "Tenure creates a key pair; you upload the public certificate." } }
            label { input type="radio" name="credential" value="client-secret" checked[secret];
                " Client secret" }
            label for="client_secret" { "Client secret value" span.hint { "Only for Client secret. Stored encrypted; never shown again." } }
            input type="password" id="client_secret" name="client_secret" autocomplete="new-password" maxlength="1024";
        }
    }
}

fn exchange_method(form: &ConnectionForm) -> Markup {
    let app = form.method == "app-certificate";
    html! {
        fieldset {
            legend { "Sign-in method" }
            label { input type="radio" name="method" value="service-account" checked[!app];
                " Service account " span.hint { "Link Account after creating; client ID and tenant ID are not needed." } }
            label { input type="radio" name="method" value="app-certificate" checked[app];
                " App-only certificate " span.hint { "Your app registration with a certificate Tenure generates." } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> ConnectionForm {
        let body = serde_urlencoded::to_string(fields).unwrap();
        serde_urlencoded::from_str(&body).unwrap()
    }

    #[test]
    fn forms_become_requests_or_say_what_is_missing() {
        let request = request_from(FormKind::ServiceProvider, &form(&[("name", " Contoso "), ("cloud", "us-gov-dod")]));
        assert!(
            matches!(request, Ok(NewConnectionRequest::ServiceProvider { name, cloud: NationalCloud::UsGovDod }) if name == "Contoso")
        );
        let missing = request_from(FormKind::ServiceProvider, &form(&[("cloud", "global")])).err().unwrap();
        assert_eq!(missing, "Enter a connection name.");
        let bad_cloud =
            request_from(FormKind::ServiceProvider, &form(&[("name", "x"), ("cloud", "mars")])).err().unwrap();
        assert!(bad_cloud.contains("unknown national cloud \"mars\""), "{bad_cloud}");
        let no_secret = request_from(
            FormKind::CustomerApp,
            &form(&[
                ("name", "x"),
                ("cloud", "global"),
                ("client_id", "a"),
                ("tenant_id", "b"),
                ("credential", "client-secret"),
            ]),
        )
        .err()
        .unwrap();
        assert!(no_secret.contains("client secret"), "{no_secret}");
        let ids = request_from(
            FormKind::Exchange,
            &form(&[("name", "x"), ("cloud", "china"), ("method", "app-certificate")]),
        );
        assert!(ids.err().unwrap().contains("client ID and tenant ID"));
        assert!(matches!(
            request_from(
                FormKind::Exchange,
                &form(&[("name", "x"), ("cloud", "china"), ("method", "service-account")])
            ),
            Ok(NewConnectionRequest::ExchangeDelegated { cloud: NationalCloud::China, .. })
        ));
    }
}
