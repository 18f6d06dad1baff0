//! The token endpoint, `POST /{tenant}/oauth2/v2.0/token`: form parsing, the checks every grant shares
//! (`resource` is a v1 parameter, `claims` must be JSON, `grant_type` must be one the sandbox knows) and the
//! client-credentials grant. The user grants live in [`super::user_grants`].
//!
//! Facts: reference §1.3 and §1.6; multiple resources in a client-credentials scope answer AADSTS70011 and
//! a non-`.default` scope AADSTS1002012 (both observed in issue threads, e.g.
//! <https://github.com/Azure/azure-sdk-for-net/issues/9076>,
//! <https://github.com/MicrosoftDocs/azure-docs/issues/99862>).

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Value, json};

use super::authority::{self, Authority};
use super::client_auth::{self, Client, Credential};
use super::endpoint::{EndpointRequest, Form};
use super::error::{AadError, RequestMeta, set_json_no_store};
use super::mint;
use super::scopes;
use super::user_grants;
use crate::permissions::Resource;
use crate::state::AppState;

/// `GET` on the token endpoint (AADSTS900561).
pub async fn token_get(meta: RequestMeta) -> Response {
    AadError::new("invalid_request", 900561, "The endpoint only accepts POST requests. Received a GET request.")
        .to_response(&meta)
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub async fn token_post(request: EndpointRequest) -> Response {
    let mut response = match handle(&request) {
        Ok(response) => response,
        Err(error) => error.to_response(&request.meta),
    };
    if request.headers.contains_key("x-client-sku") {
        response.headers_mut().insert(HeaderName::from_static("x-ms-clitelem"), HeaderValue::from_static("1,0,0,,"));
    }
    response
}

fn handle(endpoint: &EndpointRequest) -> Result<Response, AadError> {
    let EndpointRequest { state, meta, segment, headers, form } = endpoint;
    let authority = authority::resolve(state, meta.context.cloud, segment)?;
    let grant_type = form.get("grant_type").ok_or_else(|| AadError::missing_parameter("grant_type"))?;
    if form.has("resource") {
        return Err(AadError::new("invalid_request", 901002, "The 'resource' request parameter is not supported."));
    }
    let capabilities = client_capabilities(form.get("claims"))?;
    let request = TokenRequest { state, meta, segment, authority: &authority, headers, form, capabilities };
    match grant_type {
        "client_credentials" => client_credentials(&request),
        "authorization_code" => user_grants::authorization_code(&request),
        "refresh_token" => user_grants::refresh_token(&request),
        other => Err(AadError::new(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// Everything a grant handler needs about the request.
#[derive(Debug)]
pub struct TokenRequest<'a> {
    /// The sandbox.
    pub state: &'a AppState,
    /// Ids and time.
    pub meta: &'a RequestMeta,
    /// The `{tenant}` path segment as sent.
    pub segment: &'a str,
    /// What it resolved to.
    pub authority: &'a Authority,
    /// Request headers (HTTP Basic client authentication).
    pub headers: &'a HeaderMap,
    /// The form body.
    pub form: &'a Form,
    /// CAE client capabilities from the `claims` parameter (`xms_cc`).
    pub capabilities: Option<Vec<String>>,
}

impl TokenRequest<'_> {
    /// Finds the client application `client_id` names and checks the credential it presented.
    pub fn authenticate(&self, client_id: Option<&str>, credential: &Credential) -> Result<Client, AadError> {
        client_auth::authenticate(self.state, self.meta, self.segment, self.authority, client_id, credential)
    }
}

/// Reads `{"access_token":{"xms_cc":{"values":["CP1"]}}}`; malformed JSON is an invalid request.
fn client_capabilities(claims: Option<&str>) -> Result<Option<Vec<String>>, AadError> {
    let Some(claims) = claims else { return Ok(None) };
    let parsed: Value = serde_json::from_str(claims)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| AadError::new("invalid_request", 90014, "The 'claims' parameter is not a valid JSON object."))?;
    let values = parsed
        .pointer("/access_token/xms_cc/values")
        .and_then(Value::as_array)
        .map(|values| values.iter().filter_map(Value::as_str).map(str::to_string).collect::<Vec<_>>());
    Ok(values.filter(|values| !values.is_empty()))
}

/// A successful token response with the endpoint's cache headers.
pub fn token_response(body: Value) -> Response {
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    set_json_no_store(response.headers_mut());
    response
}

fn client_credentials(request: &TokenRequest<'_>) -> Result<Response, AadError> {
    let Authority::Tenant { tenant, id: tenant_id, cloud } = request.authority else {
        return Err(AadError::new(
            "invalid_request",
            9001023,
            "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations \
             or tenant-specific endpoint.",
        ));
    };
    let (client_id, credential) = client_auth::read(request.form, request.headers)?;
    let scope = request.form.get("scope").ok_or_else(|| AadError::missing_parameter("scope"))?;
    let client = request.authenticate(client_id.as_deref(), &credential)?;
    let entries: Vec<&str> = scope.split(' ').filter(|entry| !entry.is_empty()).collect();
    if let Some(entry) = entries.iter().find(|entry| !entry.ends_with("/.default")) {
        return Err(AadError::new(
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {entry} is not valid. Client credential flows must have a scope value \
                 with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    }
    if entries.len() != 1 {
        return Err(AadError::new(
            "invalid_scope",
            70011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input \
                 parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        ));
    }
    let identifier = entries[0].trim_end_matches("/.default");
    let tenant_name = tenant.read().display_name.clone();
    let resource = Resource::from_identifier(identifier, *cloud)
        .ok_or_else(|| scopes::resource_not_found(identifier.trim_end_matches('/'), &tenant_name))?;
    let (principal, roles) = {
        let mut guard = tenant.write();
        let principal = super::consent::ensure_service_principal(&mut guard, client.app.app_id);
        let roles: Vec<String> = guard
            .service_principal(client.app.app_id)
            .map(|principal| {
                principal
                    .app_roles
                    .iter()
                    .filter(|(role_resource, _)| *role_resource == resource)
                    .map(|(_, name)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        (principal, roles)
    };
    let _ = tenant_id;
    let access_token = {
        let guard = tenant.read();
        mint::app_access_token(
            request.state,
            &guard,
            &client.app,
            principal,
            resource,
            roles,
            client.acr,
            request.capabilities.as_deref(),
            request.meta.now,
        )
    };
    Ok(token_response(json!({
        "token_type": "Bearer",
        "expires_in": mint::ACCESS_TOKEN_SECONDS,
        "ext_expires_in": mint::ACCESS_TOKEN_SECONDS,
        "access_token": access_token,
    })))
}
