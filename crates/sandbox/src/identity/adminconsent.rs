//! The admin-consent endpoints: `/{tenant}/v2.0/adminconsent` and the older `/{tenant}/adminconsent`. An
//! administrator signs in and grants the app's permissions for the whole organisation — with `/.default` every
//! permission its registration requires (delegated ones as grants for all principals, application ones as app
//! roles of its service principal), otherwise the named delegated scopes.
//!
//! Facts: reference §1.2. `common` is not accepted; the sandbox answers it with AADSTS90130.

use axum::response::Response;

use super::authority::Authority;
use super::authorize::{find_app, find_redirect_uri};
use super::consent::PermissionSet;
use super::endpoint::EndpointRequest;
use super::error::AadError;
use super::flow::{self, AdminConsentRequest, FlowKind, PendingFlow};
use super::pages;
use super::redirect::{self, ResponseMode};
use crate::cloud::Cloud;
use crate::directory::app::App;
use crate::permissions::{self, Resource};

/// `GET /{tenant}/v2.0/adminconsent`.
pub async fn adminconsent_v2_get(request: EndpointRequest) -> Response {
    start(&request, false)
}

/// `GET /{tenant}/adminconsent` (v1-style answer).
pub async fn adminconsent_v1_get(request: EndpointRequest) -> Response {
    start(&request, true)
}

/// `POST` on either admin-consent endpoint: a submission of the sign-in or consent page.
pub async fn adminconsent_post(request: EndpointRequest) -> Response {
    flow::continue_flow(&request)
}

/// Expands the `scope` of an admin-consent request into delegated permissions and app roles.
fn expand(
    app: &App,
    raw: Option<&str>,
    cloud: Cloud,
    tenant_name: &str,
) -> Result<(PermissionSet, PermissionSet), AadError> {
    let mut delegated = PermissionSet::new();
    let mut app_roles = PermissionSet::new();
    let add_required = |delegated: &mut PermissionSet, app_roles: &mut PermissionSet| {
        for required in &app.required_permissions {
            let entry = (required.resource, required.name.clone());
            if required.application {
                app_roles.insert(entry);
            } else {
                delegated.insert(entry);
            }
        }
    };
    let entries: Vec<&str> = raw.unwrap_or("").split(' ').filter(|entry| !entry.is_empty()).collect();
    if entries.is_empty() {
        add_required(&mut delegated, &mut app_roles);
    }
    for entry in entries {
        if permissions::is_oidc_scope(entry) {
            if let Some(permission) = permissions::find(Resource::Graph, entry) {
                delegated.insert((Resource::Graph, permission.name.to_string()));
            }
            continue;
        }
        let (identifier, name) = entry.rsplit_once('/').unwrap_or(("https://graph.microsoft.com", entry));
        let resource = Resource::from_identifier(identifier, cloud)
            .ok_or_else(|| super::scopes::resource_not_found(identifier, tenant_name))?;
        if name == ".default" {
            add_required(&mut delegated, &mut app_roles);
            continue;
        }
        let permission = permissions::find(resource, name).filter(|permission| permission.delegated).ok_or_else(|| {
            AadError::new(
                "invalid_client",
                650053,
                format!(
                    "The application '{}' asked for scope '{name}' that doesn't exist on the resource '{}'. Contact \
                     the app vendor.",
                    app.display_name,
                    resource.app_id()
                ),
            )
        })?;
        delegated.insert((resource, permission.name.to_string()));
    }
    Ok((delegated, app_roles))
}

fn start(endpoint: &EndpointRequest, v1: bool) -> Response {
    let EndpointRequest { state, meta, segment, form: params, .. } = endpoint;
    let (authority, app) = match find_app(endpoint) {
        Ok(found) => found,
        Err(error) => return pages::error_page(meta, &error),
    };
    if matches!(authority, Authority::Common) {
        return pages::error_page(
            meta,
            &AadError::new(
                "invalid_request",
                90130,
                format!(
                    "Application '{}' ({}) is not supported over the /common or /consumers endpoints. Please use the \
                     /organizations or tenant-specific endpoint.",
                    app.app_id, app.display_name
                ),
            ),
        );
    }
    let redirect_uri = match find_redirect_uri(&app, params) {
        Ok(uri) => uri,
        Err(error) => return pages::error_page(meta, &error),
    };
    let state_param = params.get("state").map(str::to_string);
    let error_back = |error: AadError| {
        let mut query = redirect::error_params(&error, meta, state_param.as_deref());
        if !v1 {
            query.insert(0, ("admin_consent".to_string(), "True".to_string()));
        }
        redirect::deliver(&redirect_uri, ResponseMode::Query, &query)
    };
    let raw_scope = params.get("scope");
    if !v1 && raw_scope.is_none() {
        return error_back(AadError::missing_parameter("scope"));
    }
    let tenant_name = authority.directory_name(segment);
    let (delegated, app_roles) = match expand(&app, raw_scope, authority.cloud_or(meta.context.cloud), &tenant_name) {
        Ok(expanded) => expanded,
        Err(error) => return error_back(error),
    };
    let request = AdminConsentRequest { app, redirect_uri, delegated, app_roles, state: state_param.clone(), v1 };
    let path = if v1 { "adminconsent" } else { "v2.0/adminconsent" };
    let form_action = format!("{}/{segment}/{path}", meta.context.public_base.trim_end_matches('/'));
    let pending = PendingFlow::new(FlowKind::AdminConsent(Box::new(request)), authority.tenant_id(), meta, form_action);
    match flow::usable_session(endpoint, &authority) {
        Some(current) => flow::proceed_as(state, meta, pending, &current, true, false),
        None => flow::ask_to_sign_in(state, meta, &pending),
    }
}
