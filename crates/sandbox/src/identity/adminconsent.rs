//! The admin-consent endpoints: `/{tenant}/v2.0/adminconsent` and the older `/{tenant}/adminconsent`. An
//! administrator signs in and grants the app's permissions for the whole organisation — with `/.default` every
//! permission its registration requires (delegated ones as grants for all principals, application ones as app
//! roles of its service principal), otherwise the named delegated scopes.
//!
//! Facts: reference §1.2. `common` is not accepted; the sandbox answers it with AADSTS90130.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use http::HeaderMap;

use super::authority::{self, Authority};
use super::authorize::{find_app, find_redirect_uri};
use super::consent::PermissionSet;
use super::error::{AadError, RequestMeta};
use super::flow::{self, AdminConsentRequest, FlowKind, PendingFlow, SignedIn};
use super::pages;
use super::redirect::{self, ResponseMode};
use super::session;
use super::token::Form;
use crate::cloud::Cloud;
use crate::directory::app::App;
use crate::permissions::{self, Resource};
use crate::state::AppState;

/// `GET /{tenant}/v2.0/adminconsent`.
pub async fn adminconsent_v2_get(
    State(state): State<Arc<AppState>>,
    meta: RequestMeta,
    Path(segment): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    start(&state, &meta, &segment, &headers, &Form::from_query(query.as_deref()), false)
}

/// `GET /{tenant}/adminconsent` (v1-style answer).
pub async fn adminconsent_v1_get(
    State(state): State<Arc<AppState>>,
    meta: RequestMeta,
    Path(segment): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    start(&state, &meta, &segment, &headers, &Form::from_query(query.as_deref()), true)
}

/// `POST` on either admin-consent endpoint: a submission of the sign-in or consent page.
pub async fn adminconsent_post(
    State(state): State<Arc<AppState>>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&headers, &body);
    flow::continue_flow(&state, &meta, &headers, &form)
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

fn start(
    state: &AppState,
    meta: &RequestMeta,
    segment: &str,
    headers: &HeaderMap,
    params: &Form,
    v1: bool,
) -> Response {
    let authority = match authority::resolve(state, meta.context.cloud, segment) {
        Ok(authority) => authority,
        Err(error) => return pages::error_page(meta, &error),
    };
    let app = match find_app(state, &authority, segment, params) {
        Ok(app) => app,
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
    let (cloud, tenant_name) = match &authority {
        Authority::Tenant { tenant, cloud, .. } => (*cloud, tenant.read().display_name.clone()),
        _ => (meta.context.cloud, segment.to_string()),
    };
    let (delegated, app_roles) = match expand(&app, raw_scope, cloud, &tenant_name) {
        Ok(expanded) => expanded,
        Err(error) => return error_back(error),
    };
    let request = AdminConsentRequest { app, redirect_uri, delegated, app_roles, state: state_param.clone(), v1 };
    let path = if v1 { "adminconsent" } else { "v2.0/adminconsent" };
    let form_action = format!("{}/{segment}/{path}", meta.context.public_base.trim_end_matches('/'));
    let mut pending =
        PendingFlow::new(FlowKind::AdminConsent(Box::new(request)), authority.tenant_id(), meta, form_action);
    let current = session::current(state, headers, meta.context.cloud, meta.now)
        .filter(|current| authority.tenant_id().is_none_or(|tenant| tenant == current.tenant_id));
    match current {
        Some(current) => {
            pending.signed_in =
                Some(SignedIn { tenant_id: current.tenant_id, user_id: current.user_id, at: current.signed_in });
            let flow_id = state.identity.put_flow(pending.clone(), meta.now);
            flow::proceed(state, meta, &flow_id, &pending, true, false)
        }
        None => {
            let flow_id = state.identity.put_flow(pending.clone(), meta.now);
            flow::sign_in_page(&flow_id, &pending, "", None)
        }
    }
}
