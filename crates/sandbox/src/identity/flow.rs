//! A sign-in in progress, from a validated `/authorize` or `/adminconsent` request to the redirect back to the
//! client: sign-in page → (account picker) → consent, admin consent, or "Need admin approval" → result.
//!
//! The pages post back to the endpoint that started the flow with a hidden `ctx` naming the flow and an
//! `action` (`signin`, `use_session`, `other_account`, `accept`, `cancel`, `request_approval`). A flow is
//! known only at the login host (cloud) that started it.

use std::collections::BTreeSet;

use axum::response::Response;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::authority::Authority;
use super::client_auth::app_present;
use super::consent::{self, PermissionSet};
use super::endpoint::{EndpointRequest, Form};
use super::error::{AadError, RequestMeta};
use super::mint;
use super::pages::{self, PermissionLine, SignInProblem};
use super::redirect::{self, ResponseMode};
use super::scopes::{self, ScopeRequest};
use super::session;
use super::state::{AuthorizationCode, CODE_LIFETIME, CodeChallenge, FLOW_LIFETIME, Session};
use crate::cloud::Cloud;
use crate::directory::app::App;
use crate::permissions;
use crate::state::AppState;

/// The `prompt` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// Not given.
    Unspecified,
    /// `none`: never show a page.
    None,
    /// `login`: always ask for credentials.
    Login,
    /// `consent`: always show the consent page.
    Consent,
    /// `select_account`: show the account picker.
    SelectAccount,
}

/// A validated `/authorize` request.
#[derive(Clone, Debug)]
pub struct AuthorizeRequest {
    /// The client.
    pub app: App,
    /// Registered redirect URI.
    pub redirect_uri: String,
    /// How to answer.
    pub response_mode: ResponseMode,
    /// `response_type=code id_token`.
    pub hybrid: bool,
    /// `scope`.
    pub scopes: ScopeRequest,
    /// `state`.
    pub state: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// PKCE.
    pub challenge: Option<CodeChallenge>,
    /// `prompt`.
    pub prompt: Prompt,
    /// `login_hint`.
    pub login_hint: Option<String>,
}

/// A validated `/adminconsent` request.
#[derive(Clone, Debug)]
pub struct AdminConsentRequest {
    /// The client.
    pub app: App,
    /// Registered redirect URI.
    pub redirect_uri: String,
    /// Delegated permissions to grant for all principals.
    pub delegated: PermissionSet,
    /// Application permissions to grant to the service principal.
    pub app_roles: PermissionSet,
    /// `state`.
    pub state: Option<String>,
    /// The older `/{tenant}/adminconsent` (v1-style answer).
    pub v1: bool,
}

/// What the flow is for.
#[derive(Clone, Debug)]
pub enum FlowKind {
    /// `/oauth2/v2.0/authorize`.
    Authorize(Box<AuthorizeRequest>),
    /// `/v2.0/adminconsent` or `/adminconsent`.
    AdminConsent(Box<AdminConsentRequest>),
}

/// The user the flow signed in.
#[derive(Clone, Copy, Debug)]
pub struct SignedIn {
    /// Their tenant.
    pub tenant_id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// When they entered their password.
    pub at: DateTime<Utc>,
}

impl SignedIn {
    /// The user of a sign-in session the browser already holds.
    pub fn by_session(session: &Session) -> SignedIn {
        SignedIn { tenant_id: session.tenant_id, user_id: session.user_id, at: session.signed_in }
    }
}

/// A sign-in in progress.
#[derive(Clone, Debug)]
pub struct PendingFlow {
    /// What it is for.
    pub kind: FlowKind,
    /// The tenant of the URL, when it named one (users of other tenants cannot sign in there).
    pub fixed_tenant: Option<Uuid>,
    /// The cloud of the login host.
    pub host_cloud: Cloud,
    /// The base URL the client used (cookie path, page links).
    pub public_base: String,
    /// Where the pages post to.
    pub form_action: String,
    /// When the flow is abandoned.
    pub expires: DateTime<Utc>,
    /// Set once the user signed in.
    pub signed_in: Option<SignedIn>,
}

impl PendingFlow {
    /// A new flow.
    pub fn new(kind: FlowKind, fixed_tenant: Option<Uuid>, meta: &RequestMeta, form_action: String) -> PendingFlow {
        PendingFlow {
            kind,
            fixed_tenant,
            host_cloud: meta.context.cloud,
            public_base: meta.context.public_base.clone(),
            form_action,
            expires: meta.now + FLOW_LIFETIME,
            signed_in: None,
        }
    }

    fn app(&self) -> &App {
        match &self.kind {
            FlowKind::Authorize(request) => &request.app,
            FlowKind::AdminConsent(request) => &request.app,
        }
    }

    fn login_hint(&self) -> &str {
        match &self.kind {
            FlowKind::Authorize(request) => request.login_hint.as_deref().unwrap_or(""),
            FlowKind::AdminConsent(_) => "",
        }
    }
}

/// Shows the sign-in page for a flow.
pub fn sign_in_page(flow_id: &str, flow: &PendingFlow, username: &str, problem: Option<&SignInProblem>) -> Response {
    let username = if username.is_empty() { flow.login_hint() } else { username };
    pages::sign_in(&flow.form_action, flow_id, &flow.app().display_name, username, problem)
}

/// The sign-in session the browser holds at this login host that may serve a new flow at `authority` (one of
/// any tenant for `common` and `organizations`).
pub fn usable_session(request: &EndpointRequest, authority: &Authority) -> Option<Session> {
    session::current(&request.state, &request.headers, request.meta.context.cloud, request.meta.now)
        .filter(|current| authority.tenant_id().is_none_or(|tenant| tenant == current.tenant_id))
}

/// Stores a new flow and shows its sign-in page.
pub fn ask_to_sign_in(state: &AppState, meta: &RequestMeta, pending: &PendingFlow) -> Response {
    let flow_id = state.identity.put_flow(pending.clone(), meta.now);
    sign_in_page(&flow_id, pending, "", None)
}

/// Stores a new flow for the user of `session`, who is signed in already, and goes on with it.
pub fn proceed_as(
    state: &AppState,
    meta: &RequestMeta,
    mut pending: PendingFlow,
    session: &Session,
    interactive: bool,
    force_consent: bool,
) -> Response {
    pending.signed_in = Some(SignedIn::by_session(session));
    let flow_id = state.identity.put_flow(pending.clone(), meta.now);
    proceed(state, meta, &flow_id, &pending, interactive, force_consent)
}

/// Handles a page's form post (`ctx` names the flow).
pub fn continue_flow(request: &EndpointRequest) -> Response {
    let EndpointRequest { state, meta, headers, form, .. } = request;
    let Some(flow_id) = form.get("ctx") else { return expired(meta) };
    // A flow lives at the login host that started it; another cloud's host does not know it.
    let Some(mut flow) =
        state.identity.flow(flow_id, meta.now).filter(|flow| flow.host_cloud.shares_login_with(meta.context.cloud))
    else {
        return expired(meta);
    };
    match form.get("action").unwrap_or("") {
        "signin" => {
            let login = form.get("login").unwrap_or("").trim();
            let password = form.get("passwd").unwrap_or("");
            match check_password(state, &flow, login, password) {
                Err(problem) => sign_in_page(flow_id, &flow, login, Some(&problem)),
                Ok((tenant_id, user_id)) => {
                    flow.signed_in = Some(SignedIn { tenant_id, user_id, at: meta.now });
                    state.identity.update_flow(flow_id, flow.clone());
                    let force_consent =
                        matches!(&flow.kind, FlowKind::Authorize(request) if request.prompt == Prompt::Consent);
                    let mut response = proceed(state, meta, flow_id, &flow, true, force_consent);
                    session::start(
                        state,
                        &mut response,
                        &flow.public_base,
                        flow.host_cloud,
                        user_id,
                        tenant_id,
                        meta.now,
                    );
                    response
                }
            }
        }
        "use_session" => match session::current(state, headers, flow.host_cloud, meta.now) {
            Some(current) if flow.fixed_tenant.is_none_or(|tenant| tenant == current.tenant_id) => {
                flow.signed_in = Some(SignedIn::by_session(&current));
                state.identity.update_flow(flow_id, flow.clone());
                proceed(state, meta, flow_id, &flow, true, false)
            }
            _ => sign_in_page(flow_id, &flow, "", None),
        },
        "other_account" => {
            flow.signed_in = None;
            state.identity.update_flow(flow_id, flow.clone());
            sign_in_page(flow_id, &flow, "", None)
        }
        "accept" if flow.signed_in.is_some() => {
            accept(state, meta, flow_id, &flow, form.get("org_consent") == Some("on"))
        }
        "cancel" => {
            state.identity.finish_flow(flow_id);
            declined(meta, &flow)
        }
        "request_approval" if flow.signed_in.is_some() => request_approval(state, meta, flow_id, &flow, form),
        _ => expired(meta),
    }
}

fn expired(meta: &RequestMeta) -> Response {
    pages::error_page(
        meta,
        &AadError::new(
            "invalid_request",
            90023,
            "The sign-in request has expired or is not valid. Start the sign-in again from the application.",
        ),
    )
}

/// Checks a username and password against the directory (AADSTS50034, 50126, 50057).
fn check_password(
    state: &AppState,
    flow: &PendingFlow,
    login: &str,
    password: &str,
) -> Result<(Uuid, Uuid), SignInProblem> {
    let not_found = |directory: &str| SignInProblem {
        message: "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin."
            .into(),
        code_line: format!(
            "AADSTS50034: The user account {{EUII Hidden}} does not exist in the {directory} directory. To sign into \
             this application, the account must be added to the directory."
        ),
    };
    let tenant = match flow.fixed_tenant {
        Some(id) => state.directory.tenant(&id.to_string()),
        None => login
            .rsplit_once('@')
            .and_then(|(_, domain)| state.directory.tenant(domain))
            .filter(|tenant| tenant.read().cloud.shares_login_with(flow.host_cloud)),
    };
    let Some(tenant) = tenant else {
        return Err(not_found(login.rsplit_once('@').map_or("", |(_, domain)| domain)));
    };
    let tenant = tenant.read();
    let Some(user) = tenant.live_user(login).filter(|_| login.contains('@')) else {
        return Err(not_found(&tenant.id.to_string()));
    };
    if !user.password_matches(password) {
        return Err(SignInProblem {
            message: "Your account or password is incorrect. If you don't remember your password, reset it now.".into(),
            code_line: "AADSTS50126: Error validating credentials due to invalid username or password.".into(),
        });
    }
    if !user.account_enabled {
        return Err(SignInProblem {
            message: "Your account has been locked. Contact your support person to unlock it, then try again.".into(),
            code_line: "AADSTS50057: The user account is disabled.".into(),
        });
    }
    Ok((tenant.id, user.id))
}

fn permission_lines(set: &PermissionSet) -> Vec<PermissionLine> {
    set.iter()
        .map(|(resource, name)| PermissionLine {
            api: resource.display_name().to_string(),
            name: name.clone(),
            description: permissions::find(*resource, name)
                .map_or_else(|| name.clone(), |permission| permission.description.to_string()),
        })
        .collect()
}

/// After sign-in: issue the code, or show the page the missing consent calls for.
pub fn proceed(
    state: &AppState,
    meta: &RequestMeta,
    flow_id: &str,
    flow: &PendingFlow,
    interactive: bool,
    force_consent: bool,
) -> Response {
    let Some(signed_in) = flow.signed_in else { return sign_in_page(flow_id, flow, "", None) };
    let Some(tenant) = state.directory.tenant(&signed_in.tenant_id.to_string()) else { return expired(meta) };
    let guard = tenant.read();
    let Some(user) = guard.users.get(&signed_in.user_id).cloned() else { return expired(meta) };
    let app = flow.app().clone();
    if !app_present(&guard, &app) && !app.multi_tenant {
        state.identity.finish_flow(flow_id);
        return pages::error_page(
            meta,
            &super::client_auth::app_not_found(&app.app_id.to_string(), &guard.display_name),
        );
    }
    match &flow.kind {
        FlowKind::Authorize(request) => {
            let wanted = match scopes::delegated_permissions(&request.scopes, &app) {
                Ok(wanted) => wanted,
                Err(error) => {
                    state.identity.finish_flow(flow_id);
                    return authorize_error(meta, request, &error);
                }
            };
            let missing = consent::missing(&guard, app.app_id, user.id, &wanted);
            let may_consent = consent::user_consentable(&missing) || consent::may_grant_tenant_wide(&user);
            drop(guard);
            if missing.is_empty()
                && !(force_consent && (consent::user_consentable(&wanted) || consent::may_grant_tenant_wide(&user)))
            {
                return issue_code(state, meta, flow_id, request, signed_in);
            }
            if !interactive {
                state.identity.finish_flow(flow_id);
                return authorize_error(meta, request, &consent_required(&app));
            }
            let shown = if missing.is_empty() { &wanted } else { &missing };
            if may_consent {
                pages::consent(
                    &flow.form_action,
                    flow_id,
                    &app.display_name,
                    &user.user_principal_name,
                    &permission_lines(shown),
                    consent::may_grant_tenant_wide(&user),
                )
            } else {
                pages::need_admin_approval(&flow.form_action, flow_id, &app.display_name, &permission_lines(shown))
            }
        }
        FlowKind::AdminConsent(request) => {
            drop(guard);
            if !consent::may_grant_tenant_wide(&user) || !consent::may_grant_app_roles(&user, &request.app_roles) {
                state.identity.finish_flow(flow_id);
                return admin_consent_error(
                    meta,
                    request,
                    &AadError::new("access_denied", 90094, "The grant requires admin permission."),
                );
            }
            let all: PermissionSet = request.delegated.union(&request.app_roles).cloned().collect();
            pages::admin_consent(
                &flow.form_action,
                flow_id,
                &app.display_name,
                &user.user_principal_name,
                &permission_lines(&all),
            )
        }
    }
}

/// AADSTS65001 as `/authorize` reports it to `prompt=none` requests.
pub fn consent_required(app: &App) -> AadError {
    AadError::new(
        "consent_required",
        65001,
        format!(
            "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an \
             interactive authorization request for this user and resource.",
            app.app_id, app.display_name
        ),
    )
}

/// Redirects an `/authorize` error to the client.
pub fn authorize_error(meta: &RequestMeta, request: &AuthorizeRequest, error: &AadError) -> Response {
    redirect::deliver(
        &request.redirect_uri,
        request.response_mode,
        &redirect::error_params(error, meta, request.state.as_deref()),
    )
}

fn admin_consent_error(meta: &RequestMeta, request: &AdminConsentRequest, error: &AadError) -> Response {
    let mut params = Vec::new();
    if request.v1 {
        params.push(("error".to_string(), error.error.to_string()));
        params.push(("error_description".to_string(), error.description(meta)));
    } else {
        params.push(("admin_consent".to_string(), "True".to_string()));
        params.push(("error".to_string(), error.error.to_string()));
        params.push(("error_description".to_string(), error.description(meta)));
    }
    if let Some(state) = &request.state {
        params.push(("state".to_string(), state.clone()));
    }
    redirect::deliver(&request.redirect_uri, ResponseMode::Query, &params)
}

fn issue_code(
    state: &AppState,
    meta: &RequestMeta,
    flow_id: &str,
    request: &AuthorizeRequest,
    signed_in: SignedIn,
) -> Response {
    let code = state.identity.issue_code(
        AuthorizationCode {
            client_id: request.app.app_id,
            redirect_uri: request.redirect_uri.clone(),
            tenant_id: signed_in.tenant_id,
            user_id: signed_in.user_id,
            scopes: request.scopes.clone(),
            nonce: request.nonce.clone(),
            challenge: request.challenge.clone(),
            expires: meta.now + CODE_LIFETIME,
            signed_in: signed_in.at,
            redeemed: false,
        },
        meta.now,
    );
    let mut params = vec![("code".to_string(), code.clone())];
    if request.hybrid
        && let Some(tenant) = state.directory.tenant(&signed_in.tenant_id.to_string())
    {
        let guard = tenant.read();
        if let Some(user) = guard.users.get(&signed_in.user_id) {
            let id_token = mint::id_token(
                state,
                &mint::IdToken {
                    tenant: &guard,
                    user,
                    app: &request.app,
                    nonce: request.nonce.as_deref(),
                    code: Some(&code),
                    email: request.scopes.oidc.contains("email"),
                    signed_in: signed_in.at,
                    now: meta.now,
                },
            );
            params.push(("id_token".to_string(), id_token));
        }
    }
    if let Some(value) = &request.state {
        params.push(("state".to_string(), value.clone()));
    }
    params.push(("session_state".to_string(), Uuid::new_v4().to_string()));
    state.identity.finish_flow(flow_id);
    redirect::deliver(&request.redirect_uri, request.response_mode, &params)
}

fn accept(state: &AppState, meta: &RequestMeta, flow_id: &str, flow: &PendingFlow, organization: bool) -> Response {
    let Some(signed_in) = flow.signed_in else { return expired(meta) };
    let Some(tenant) = state.directory.tenant(&signed_in.tenant_id.to_string()) else { return expired(meta) };
    let mut guard = tenant.write();
    let Some(user) = guard.users.get(&signed_in.user_id).cloned() else { return expired(meta) };
    match &flow.kind {
        FlowKind::Authorize(request) => {
            let Ok(wanted) = scopes::delegated_permissions(&request.scopes, &request.app) else { return expired(meta) };
            let admin = consent::may_grant_tenant_wide(&user);
            if !admin && !consent::user_consentable(&consent::missing(&guard, request.app.app_id, user.id, &wanted)) {
                drop(guard);
                return pages::need_admin_approval(
                    &flow.form_action,
                    flow_id,
                    &request.app.display_name,
                    &permission_lines(&wanted),
                );
            }
            let principal = if admin && organization { None } else { Some(user.id) };
            consent::record_delegated(&mut guard, request.app.app_id, principal, &wanted);
            drop(guard);
            issue_code(state, meta, flow_id, request, signed_in)
        }
        FlowKind::AdminConsent(request) => {
            if !consent::may_grant_tenant_wide(&user) || !consent::may_grant_app_roles(&user, &request.app_roles) {
                return expired(meta);
            }
            consent::record_delegated(&mut guard, request.app.app_id, None, &request.delegated);
            if !request.app_roles.is_empty() {
                consent::record_app_roles(&mut guard, request.app.app_id, &request.app_roles);
            }
            let cloud = guard.cloud;
            let tenant_id = guard.id;
            drop(guard);
            state.identity.finish_flow(flow_id);
            let mut params = Vec::new();
            if request.v1 {
                params.push(("tenant".to_string(), tenant_id.to_string()));
                if let Some(value) = &request.state {
                    params.push(("state".to_string(), value.clone()));
                }
                params.push(("admin_consent".to_string(), "True".to_string()));
            } else {
                let granted: BTreeSet<String> = request
                    .delegated
                    .union(&request.app_roles)
                    .map(|(resource, name)| format!("{}/{name}", resource.uri(cloud)))
                    .collect();
                params.push(("admin_consent".to_string(), "True".to_string()));
                params.push(("tenant".to_string(), tenant_id.to_string()));
                params.push(("scope".to_string(), granted.into_iter().collect::<Vec<_>>().join(" ")));
                if let Some(value) = &request.state {
                    params.push(("state".to_string(), value.clone()));
                }
            }
            redirect::deliver(&request.redirect_uri, ResponseMode::Query, &params)
        }
    }
}

fn declined(meta: &RequestMeta, flow: &PendingFlow) -> Response {
    match &flow.kind {
        FlowKind::Authorize(request) => {
            let error = AadError::new("access_denied", 65004, "User declined to consent to access the app.");
            let mut params = redirect::error_params(&error, meta, None);
            params.insert(1, ("error_subcode".to_string(), "cancel".to_string()));
            if let Some(value) = &request.state {
                params.push(("state".to_string(), value.clone()));
            }
            redirect::deliver(&request.redirect_uri, request.response_mode, &params)
        }
        FlowKind::AdminConsent(request) if request.v1 => {
            let mut params = vec![
                ("error".to_string(), "permission_denied".to_string()),
                ("error_description".to_string(), "The admin canceled the request".to_string()),
            ];
            if let Some(value) = &request.state {
                params.push(("state".to_string(), value.clone()));
            }
            redirect::deliver(&request.redirect_uri, ResponseMode::Query, &params)
        }
        FlowKind::AdminConsent(request) => admin_consent_error(
            meta,
            request,
            &AadError::new("consent_required", 65004, "The resource owner or authorization server denied the request."),
        ),
    }
}

fn request_approval(state: &AppState, meta: &RequestMeta, flow_id: &str, flow: &PendingFlow, form: &Form) -> Response {
    let (Some(signed_in), FlowKind::Authorize(request)) = (flow.signed_in, &flow.kind) else { return expired(meta) };
    let Some(tenant) = state.directory.tenant(&signed_in.tenant_id.to_string()) else { return expired(meta) };
    let Ok(wanted) = scopes::delegated_permissions(&request.scopes, &request.app) else { return expired(meta) };
    {
        let mut guard = tenant.write();
        let missing = consent::missing(&guard, request.app.app_id, signed_in.user_id, &wanted);
        consent::file_request(
            &mut guard,
            request.app.app_id,
            signed_in.user_id,
            form.get("justification").unwrap_or(""),
            &missing,
            meta.now,
        );
    }
    state.identity.finish_flow(flow_id);
    pages::request_sent(&request.app.display_name)
}
