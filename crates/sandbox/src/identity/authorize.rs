//! `GET /{tenant}/oauth2/v2.0/authorize` (and `POST`, for form-encoded requests and the sign-in pages' own
//! submissions): validates the request the way Microsoft does, then starts a sign-in flow.
//!
//! Before the client and its redirect URI are known to be right, problems are shown on an error page —
//! Microsoft never redirects to an unregistered URI. After that, problems go back to the client as an error
//! redirect. Facts: reference §1.1.

use axum::response::Response;

use super::authority::{self, Authority};
use super::client_auth::{app_not_found, app_present, registered_app};
use super::endpoint::{EndpointRequest, Form};
use super::error::AadError;
use super::flow::{self, AuthorizeRequest, FlowKind, PendingFlow, Prompt};
use super::pages;
use super::redirect::{self, ResponseMode};
use super::scopes;
use super::state::{ChallengeMethod, CodeChallenge};
use crate::directory::app::App;

/// `GET /{tenant}/oauth2/v2.0/authorize`.
pub async fn authorize_get(request: EndpointRequest) -> Response {
    start(&request)
}

/// `POST /{tenant}/oauth2/v2.0/authorize`: a page submission (`ctx`) or a form-encoded authorize request.
pub async fn authorize_post(request: EndpointRequest) -> Response {
    if request.form.has("ctx") {
        return flow::continue_flow(&request);
    }
    start(&request)
}

/// Resolves the authority and the client application of an `/authorize` or `/adminconsent` request (problems
/// are shown on error pages: the redirect URI is not trusted yet).
pub fn find_app(request: &EndpointRequest) -> Result<(Authority, App), AadError> {
    let EndpointRequest { state, meta, segment, form: params, .. } = request;
    let authority = authority::resolve(state, meta.context.cloud, segment)?;
    let client_id = params.get("client_id").ok_or_else(|| AadError::missing_parameter("client_id"))?;
    let directory = authority.directory_name(segment);
    let app = registered_app(state, meta.context.cloud, client_id, &directory)?;
    if let Authority::Tenant { tenant, .. } = &authority
        && !app.multi_tenant
        && !app_present(&tenant.read(), &app)
    {
        return Err(app_not_found(client_id, &directory));
    }
    if authority.is_multi_tenant() && !app.multi_tenant {
        return Err(AadError::new(
            "invalid_request",
            50194,
            format!(
                "Application '{}'({}) is not configured as a multi-tenant application. Usage of the /common endpoint \
                 is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint \
                 or configure the application to be multi-tenant.",
                app.app_id, app.display_name
            ),
        ));
    }
    Ok((authority, app))
}

/// The registered redirect URI the request names (exact match), or its first one when it names none.
pub fn find_redirect_uri(app: &App, params: &Form) -> Result<String, AadError> {
    match params.get("redirect_uri") {
        Some(uri) if app.redirect_uris.iter().any(|registered| registered == uri) => Ok(uri.to_string()),
        Some(uri) => Err(AadError::new(
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{uri}' specified in the request does not match the redirect URIs configured for \
                 the application '{}'. Make sure the redirect URI sent in the request matches one added to your \
                 application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more \
                 about how to fix this.",
                app.app_id
            ),
        )),
        None => app.redirect_uris.first().cloned().ok_or_else(|| {
            AadError::new("invalid_request", 500113, "No reply address is registered for the application.")
        }),
    }
}

fn parse_prompt(value: Option<&str>) -> Result<Prompt, AadError> {
    match value {
        None => Ok(Prompt::Unspecified),
        Some("none") => Ok(Prompt::None),
        Some("login") => Ok(Prompt::Login),
        Some("consent") => Ok(Prompt::Consent),
        Some("select_account") => Ok(Prompt::SelectAccount),
        Some(other) => {
            Err(AadError::new("invalid_request", 90023, format!("Invalid value '{other}' for the 'prompt' parameter.")))
        }
    }
}

fn parse_challenge(params: &Form) -> Result<Option<CodeChallenge>, AadError> {
    let method = params.get("code_challenge_method");
    let Some(value) = params.get("code_challenge") else {
        return match method {
            Some(_) => Err(AadError::missing_parameter("code_challenge")),
            None => Ok(None),
        };
    };
    let method = match method {
        None | Some("plain") => ChallengeMethod::Plain,
        Some("S256") => ChallengeMethod::S256,
        Some(_) => return Err(AadError::new("invalid_request", 50149, "Invalid Code_Challenge_method parameter.")),
    };
    if !(43..=128).contains(&value.len()) {
        return Err(AadError::new("invalid_request", 501491, "Invalid size of Code_Challenge parameter."));
    }
    Ok(Some(CodeChallenge { value: value.to_string(), method }))
}

/// `response_type` → hybrid or not (`code` must be present; `token` is not enabled for the sandbox's apps).
fn parse_response_type(value: &str) -> Result<bool, AadError> {
    let parts: Vec<&str> = value.split(' ').filter(|part| !part.is_empty()).collect();
    if parts.contains(&"token") {
        return Err(AadError::new(
            "unsupported_response_type",
            700051,
            "response_type 'token' is not enabled for the application.",
        ));
    }
    if !parts.contains(&"code") {
        if parts == ["id_token"] {
            return Err(AadError::new(
                "unsupported_response_type",
                700054,
                "response_type 'id_token' is not enabled for the application.",
            ));
        }
        return Err(AadError::new(
            "unsupported_response_type",
            70005,
            format!("The response_type '{value}' is not supported."),
        ));
    }
    if parts.iter().any(|part| !matches!(*part, "code" | "id_token")) {
        return Err(AadError::new(
            "unsupported_response_type",
            70005,
            format!("The response_type '{value}' is not supported."),
        ));
    }
    Ok(parts.contains(&"id_token"))
}

fn start(endpoint: &EndpointRequest) -> Response {
    let EndpointRequest { state, meta, segment, form: params, .. } = endpoint;
    let (authority, app) = match find_app(endpoint) {
        Ok(found) => found,
        Err(error) => return pages::error_page(meta, &error),
    };
    let redirect_uri = match find_redirect_uri(&app, params) {
        Ok(uri) => uri,
        Err(error) => return pages::error_page(meta, &error),
    };
    let state_param = params.get("state").map(str::to_string);
    // Until response_type and response_mode are known, errors go back in the query.
    let early_error = |error: AadError| {
        redirect::deliver(
            &redirect_uri,
            ResponseMode::Query,
            &redirect::error_params(&error, meta, state_param.as_deref()),
        )
    };
    let Some(response_type) = params.get("response_type") else {
        return early_error(AadError::missing_parameter("response_type"));
    };
    let hybrid = match parse_response_type(response_type) {
        Ok(hybrid) => hybrid,
        Err(error) => return early_error(error),
    };
    let default_mode = if hybrid { ResponseMode::Fragment } else { ResponseMode::Query };
    let response_mode = match params.get("response_mode").map(ResponseMode::parse) {
        None => default_mode,
        Some(Some(ResponseMode::Query)) if hybrid => {
            return early_error(AadError::new(
                "invalid_request",
                70007,
                "The response_mode 'query' is not supported for a response_type that includes 'id_token'.",
            ));
        }
        Some(Some(mode)) => mode,
        Some(None) => {
            return early_error(AadError::new(
                "invalid_request",
                70007,
                "The provided value for the input parameter 'response_mode' is not valid.",
            ));
        }
    };
    let error_back = |error: AadError| {
        redirect::deliver(&redirect_uri, response_mode, &redirect::error_params(&error, meta, state_param.as_deref()))
    };
    let Some(raw_scope) = params.get("scope") else { return error_back(AadError::missing_parameter("scope")) };
    let tenant_name = authority.directory_name(segment);
    let scopes = match scopes::parse(raw_scope, authority.cloud_or(meta.context.cloud)) {
        Ok(scopes) => scopes,
        Err(problem) => return error_back(scopes::authorize_error(&problem, &app, &tenant_name, raw_scope)),
    };
    if hybrid && !scopes.has_openid() {
        return error_back(AadError::new(
            "invalid_request",
            700020,
            "The 'openid' scope is required when response_type includes 'id_token'.",
        ));
    }
    let nonce = params.get("nonce").map(str::to_string);
    if hybrid && nonce.is_none() {
        return error_back(AadError::missing_parameter("nonce"));
    }
    let challenge = match parse_challenge(params) {
        Ok(challenge) => challenge,
        Err(error) => return error_back(error),
    };
    let prompt = match parse_prompt(params.get("prompt")) {
        Ok(prompt) => prompt,
        Err(error) => return error_back(error),
    };
    let request = AuthorizeRequest {
        app,
        redirect_uri: redirect_uri.clone(),
        response_mode,
        hybrid,
        scopes,
        state: state_param.clone(),
        nonce,
        challenge,
        prompt,
        login_hint: params.get("login_hint").map(str::to_string),
    };
    let form_action = format!("{}/{segment}/oauth2/v2.0/authorize", meta.context.public_base.trim_end_matches('/'));
    let pending =
        PendingFlow::new(FlowKind::Authorize(Box::new(request.clone())), authority.tenant_id(), meta, form_action);
    let current = flow::usable_session(endpoint, &authority);
    let hint_matches = |upn: &str| request.login_hint.as_deref().is_none_or(|hint| hint.eq_ignore_ascii_case(upn));
    let current_upn = current.as_ref().and_then(|current| {
        let tenant = state.directory.tenant(&current.tenant_id.to_string())?;
        let upn = tenant.read().users.get(&current.user_id)?.user_principal_name.clone();
        Some(upn)
    });
    match (prompt, &current) {
        (Prompt::None, None) => error_back(AadError::new(
            "login_required",
            50058,
            "A silent sign-in request was sent but no user is signed in. The cookies used to represent the user's \
             session were not sent in the request to Azure AD. This can happen if the user is using Internet \
             Explorer or Edge, and the web app sending the silent sign-in request is in different IE security zone \
             than the Azure AD endpoint (login.microsoftonline.com).",
        )),
        (Prompt::None, Some(_)) if !current_upn.as_deref().is_some_and(hint_matches) => error_back(AadError::new(
            "interaction_required",
            16000,
            "Either multiple user identities are available for the current request or selected account is not \
             supported for the scenario.",
        )),
        (Prompt::Login, _) | (_, None) => flow::ask_to_sign_in(state, meta, &pending),
        (Prompt::SelectAccount, Some(_)) => {
            let flow_id = state.identity.put_flow(pending, meta.now);
            pages::account_picker(
                &format!("{}/{segment}/oauth2/v2.0/authorize", meta.context.public_base.trim_end_matches('/')),
                &flow_id,
                current_upn.as_deref().unwrap_or(""),
            )
        }
        (_, Some(current)) => {
            if !current_upn.as_deref().is_some_and(hint_matches) {
                return flow::ask_to_sign_in(state, meta, &pending);
            }
            flow::proceed_as(state, meta, pending, current, prompt != Prompt::None, prompt == Prompt::Consent)
        }
    }
}
