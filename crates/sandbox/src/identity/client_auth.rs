//! Client authentication at the token endpoint: a `client_secret` in the body or HTTP Basic (RFC 6749
//! §2.3.1), a certificate assertion, or nothing for public clients — and finding the application at all
//! (AADSTS700016): in the login host's cloud, then in the tenant.
//!
//! An app registration belongs to the cloud of its home tenant. Each national cloud is a separate instance of
//! Entra ID, and an application must be registered in each one separately
//! (<https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud>), so a login host
//! does not know apps registered in another cloud — not at `/authorize`, `/adminconsent` or the token endpoint.
//! GCC High and DoD share one login host (`login.microsoftonline.us`) and count as one cloud here.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use uuid::Uuid;

use super::assertion;
use super::authority::Authority;
use super::endpoint::Form;
use super::error::{AadError, RequestMeta};
use crate::cloud::Cloud;
use crate::directory::app::{App, secret_hash};
use crate::directory::tenant::Tenant;
use crate::state::AppState;

/// The credential a client presented.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// None (public clients).
    None,
    /// A client secret.
    Secret(String),
    /// A signed client assertion.
    Assertion(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Credential::None => "None",
            Credential::Secret(_) => "Secret(…)",
            Credential::Assertion(_) => "Assertion(…)",
        })
    }
}

/// An authenticated (or public) client.
#[derive(Clone, Debug)]
pub struct Client {
    /// Its registration.
    pub app: App,
    /// `appidacr`: `0` public, `1` secret, `2` certificate.
    pub acr: &'static str,
}

/// Whether `app` exists in `tenant`: its home tenant, or any tenant holding its service principal.
pub fn app_present(tenant: &Tenant, app: &App) -> bool {
    app.home_tenant == tenant.id || tenant.service_principal(app.app_id).is_some()
}

/// AADSTS700016: the application is unknown, or not present in the directory.
pub fn app_not_found(client_id: &str, directory: &str) -> AadError {
    AadError::new(
        "unauthorized_client",
        700016,
        format!(
            "Application with identifier '{client_id}' was not found in the directory '{directory}'. This can happen \
             if the application has not been installed by the administrator of the tenant or consented to by any \
             user in the tenant. You may have sent your authentication request to the wrong tenant."
        ),
    )
}

/// The cloud `app` is registered in: its home tenant's (none when the home tenant is gone).
pub fn app_cloud(state: &AppState, app: &App) -> Option<Cloud> {
    state.directory.tenant(&app.home_tenant.to_string()).map(|tenant| tenant.read().cloud)
}

/// The registration of `client_id` as the login host of `host_cloud` knows it (an app registered in a cloud
/// that does not share the host is unknown there), or AADSTS700016 naming `directory`. That another cloud answers
/// exactly as for an application that exists nowhere is unconfirmed, but follows from the clouds being separate
/// directories.
pub fn registered_app(state: &AppState, host_cloud: Cloud, client_id: &str, directory: &str) -> Result<App, AadError> {
    Uuid::parse_str(client_id)
        .ok()
        .and_then(|id| state.directory.app(id))
        .filter(|app| app_cloud(state, app).is_some_and(|cloud| cloud.shares_login_with(host_cloud)))
        .ok_or_else(|| app_not_found(client_id, directory))
}

fn percent_decode(value: &str) -> String {
    percent_encoding::percent_decode_str(&value.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// Reads `client_id` (body, Basic user name, or the assertion's issuer) and the credential.
pub fn read(form: &Form, headers: &HeaderMap) -> Result<(Option<String>, Credential), AadError> {
    let basic = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")))
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|pair| pair.split_once(':').map(|(id, secret)| (percent_decode(id), percent_decode(secret))));
    let secret = form.get("client_secret").map(str::to_string).or_else(|| basic.as_ref().map(|(_, s)| s.clone()));
    let assertion = form.get("client_assertion").map(str::to_string);
    if let Some(assertion_value) = &assertion {
        match form.get("client_assertion_type") {
            None => return Err(AadError::missing_parameter("client_assertion_type")),
            Some(kind) if kind != assertion::JWT_BEARER => {
                return Err(AadError::new(
                    "invalid_request",
                    90014,
                    format!("The client_assertion_type '{kind}' is not supported."),
                ));
            }
            Some(_) => {}
        }
        if secret.is_some() {
            return Err(AadError::new(
                "invalid_request",
                90014,
                "Only one client credential may be presented: send either 'client_secret' or 'client_assertion'.",
            ));
        }
        let client_id = form
            .get("client_id")
            .map(str::to_string)
            .or_else(|| basic.as_ref().map(|(id, _)| id.clone()))
            .or_else(|| assertion::unverified_issuer(assertion_value));
        return Ok((client_id, Credential::Assertion(assertion_value.clone())));
    }
    let client_id = form.get("client_id").map(str::to_string).or_else(|| basic.as_ref().map(|(id, _)| id.clone()));
    Ok((client_id, secret.map_or(Credential::None, Credential::Secret)))
}

/// Finds the application and checks its credential. `directory_name` names the tenant in AADSTS700016.
pub fn authenticate(
    state: &AppState,
    meta: &RequestMeta,
    segment: &str,
    authority: &Authority,
    client_id: Option<&str>,
    credential: &Credential,
) -> Result<Client, AadError> {
    let client_id = client_id.filter(|id| !id.is_empty()).ok_or_else(|| AadError::missing_parameter("client_id"))?;
    let directory_name = authority.directory_name(segment);
    let app = registered_app(state, meta.context.cloud, client_id, &directory_name)?;
    if let Authority::Tenant { tenant, .. } = authority
        && !app_present(&tenant.read(), &app)
    {
        return Err(app_not_found(client_id, &directory_name));
    }
    if app.public_client {
        if *credential != Credential::None {
            return Err(AadError::new(
                "invalid_client",
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            ));
        }
        return Ok(Client { app, acr: "0" });
    }
    match credential {
        Credential::None => Err(AadError::new(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )),
        Credential::Secret(value) => {
            let hash = secret_hash(value);
            match app.secrets.iter().find(|secret| secret.sha256_hex == hash) {
                Some(secret) if secret.expires <= meta.now => Err(AadError::new(
                    "invalid_client",
                    7000222,
                    format!(
                        "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create \
                         new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate \
                         credentials for added security: https://aka.ms/certCreds.",
                        app.app_id
                    ),
                )),
                Some(_) => Ok(Client { app, acr: "1" }),
                None => Err(AadError::new(
                    "invalid_client",
                    7000215,
                    format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client \
                         secret value, not the client secret ID, for a secret added to app '{}'.",
                        app.app_id
                    ),
                )),
            }
        }
        Credential::Assertion(value) => {
            assertion::verify(state, meta, segment, authority, &app, value)?;
            Ok(Client { app, acr: "2" })
        }
    }
}
