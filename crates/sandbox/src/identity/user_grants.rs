//! The grants that act for a user: `authorization_code` (single use, ten minutes, bound to client, redirect
//! URI and PKCE challenge) and `refresh_token` (a new refresh token on every use; the old one stays valid;
//! dead after 90 days unused; revoked when the user's sessions or password change after the sign-in the
//! chain started from).
//!
//! Facts: reference §1.3 and the AADSTS table of §1.6. Texts of AADSTS50173 and AADSTS700082 follow
//! observed responses (e.g. <https://github.com/microsoft/azuredatastudio/issues/13953>).

use std::collections::BTreeSet;

use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::authority::Authority;
use super::client_auth::{self, Client};
use super::consent;
use super::error::AadError;
use super::mint;
use super::scopes::{self, ScopeRequest};
use super::state::{CodeProblem, REFRESH_INACTIVITY};
use super::token::{TokenRequest, token_response};
use crate::directory::TenantRef;
use crate::directory::tenant::Tenant;
use crate::directory::user::User;

/// Seven-digit fractional timestamps, as in Microsoft's error texts.
pub fn precise(at: DateTime<Utc>) -> String {
    format!("{}.{:07}Z", at.format("%Y-%m-%dT%H:%M:%S"), at.timestamp_subsec_nanos() / 100)
}

fn invalid_grant(code: u32, text: impl Into<String>) -> AadError {
    AadError::new("invalid_grant", code, text)
}

/// AADSTS65001: the client lacks consent for what it asks.
pub fn consent_missing(client: &Client) -> AadError {
    invalid_grant(
        65001,
        format!(
            "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an \
             interactive authorization request for this user and resource.",
            client.app.app_id, client.app.display_name
        ),
    )
    .with_suberror("consent_required")
}

fn authenticate(request: &TokenRequest<'_>) -> Result<Client, AadError> {
    let (client_id, credential) = client_auth::read(request.form, request.headers)?;
    request.authenticate(client_id.as_deref(), &credential)
}

/// The live user a grant acts for, or the error Microsoft gives for a user who is gone or disabled.
fn live_user(tenant: &Tenant, user_id: Uuid) -> Result<User, AadError> {
    let user = tenant.users.get(&user_id).filter(|user| !user.is_deleted()).ok_or_else(|| {
        invalid_grant(
            50034,
            format!(
                "The user account {{EUII Hidden}} does not exist in the {} directory. To sign into this application, \
                 the account must be added to the directory.",
                tenant.id
            ),
        )
    })?;
    if !user.account_enabled {
        return Err(invalid_grant(50057, "The user account is disabled."));
    }
    Ok(user.clone())
}

fn tenant_of(request: &TokenRequest<'_>, tenant_id: Uuid) -> Result<TenantRef, AadError> {
    request
        .state
        .directory
        .tenant(&tenant_id.to_string())
        .ok_or_else(|| super::authority::tenant_not_found(&tenant_id.to_string()))
}

/// The `scope` a grant asks for, read in `tenant`'s cloud.
fn parse_scopes(tenant: &Tenant, raw: &str) -> Result<ScopeRequest, AadError> {
    scopes::parse(raw, tenant.cloud).map_err(|problem| scopes::token_error(&problem, &tenant.display_name, raw))
}

/// What a token response takes from the grant that asks for it.
struct Grant<'a> {
    scopes: &'a ScopeRequest,
    nonce: Option<&'a str>,
    signed_in: DateTime<Utc>,
    /// Mints the refresh token, once consent has been checked.
    refresh_token: Option<Box<dyn FnOnce() -> String + 'a>>,
}

/// Checks consent for the token's resource and builds the response for `user` of `tenant` and `client`.
fn issue(
    request: &TokenRequest<'_>,
    tenant: &Tenant,
    user: &User,
    client: &Client,
    grant: Grant<'_>,
) -> Result<Response, AadError> {
    let resource = grant.scopes.token_resource();
    let granted = consent::granted_scopes(tenant, client.app.app_id, resource, user.id);
    let held = |name: &str| granted.iter().any(|scope| scope.eq_ignore_ascii_case(name));
    if let Some(asked) = grant.scopes.for_resource(resource) {
        if asked.names.iter().any(|name| !held(name)) {
            return Err(consent_missing(client));
        }
        if asked.default && granted.iter().all(|scope| crate::permissions::is_oidc_scope(scope)) {
            return Err(consent_missing(client));
        }
    }
    if granted.is_empty() {
        return Err(consent_missing(client));
    }
    let token_scopes: BTreeSet<String> =
        granted.iter().filter(|scope| !scope.eq_ignore_ascii_case("offline_access")).cloned().collect();
    let now = request.meta.now;
    let access_token = mint::user_access_token(
        request.state,
        &mint::UserToken {
            tenant,
            user,
            app: &client.app,
            resource,
            scopes: &token_scopes,
            appidacr: client.acr,
            capabilities: request.capabilities.as_deref(),
            now,
        },
    );
    let mut scope_list = scopes::render(resource, tenant.cloud, &token_scopes);
    if resource != crate::permissions::Resource::Graph {
        scope_list.retain(|scope| !crate::permissions::is_oidc_scope(scope));
    }
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scope_list.join(" "),
        "expires_in": mint::ACCESS_TOKEN_SECONDS,
        "ext_expires_in": mint::ACCESS_TOKEN_SECONDS,
        "access_token": access_token,
    });
    if let Some(mint_refresh_token) = grant.refresh_token {
        body["refresh_token"] = json!(mint_refresh_token());
    }
    if grant.scopes.has_openid() {
        body["id_token"] = json!(mint::id_token(
            request.state,
            &mint::IdToken {
                tenant,
                user,
                app: &client.app,
                nonce: grant.nonce,
                code: None,
                email: grant.scopes.oidc.contains("email"),
                signed_in: grant.signed_in,
                now,
            },
        ));
    }
    if request.form.get("client_info") == Some("1") {
        body["client_info"] = Value::String(mint::client_info(user.id, tenant.id));
    }
    Ok(token_response(body))
}

/// `grant_type=authorization_code`.
pub fn authorization_code(request: &TokenRequest<'_>) -> Result<Response, AadError> {
    let code = request.form.get("code").ok_or_else(|| AadError::missing_parameter("code"))?;
    let redirect_uri = request.form.get("redirect_uri").ok_or_else(|| AadError::missing_parameter("redirect_uri"))?;
    let client = authenticate(request)?;
    let record = request.state.identity.redeem_code(code, request.meta.now).map_err(|problem| match problem {
        CodeProblem::Unknown => invalid_grant(70000, "The provided value for the 'code' parameter is not valid."),
        CodeProblem::Redeemed => invalid_grant(
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing \
             refresh token.",
        ),
        CodeProblem::Expired => invalid_grant(
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive \
             authorization request for this user and resource.",
        ),
    })?;
    if record.client_id != client.app.app_id {
        return Err(invalid_grant(70000, "The provided value for the 'code' parameter is not valid."));
    }
    if let Authority::Tenant { id, .. } = request.authority
        && *id != record.tenant_id
    {
        return Err(invalid_grant(
            700005,
            "Provided Authorization Code is intended to use against other tenant, thus rejected.",
        ));
    }
    if record.redirect_uri != redirect_uri {
        return Err(invalid_grant(
            500112,
            format!(
                "The reply address '{redirect_uri}' does not match the reply address '{}' provided when requesting \
                 Authorization code.",
                record.redirect_uri
            ),
        ));
    }
    if let Some(challenge) = &record.challenge {
        let verifier = request.form.get("code_verifier").ok_or_else(|| AadError::missing_parameter("code_verifier"))?;
        if !challenge.verifies(verifier) {
            return Err(invalid_grant(
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            ));
        }
    }
    let tenant = tenant_of(request, record.tenant_id)?;
    let tenant = tenant.read();
    let user = live_user(&tenant, record.user_id)?;
    let mut scopes = match request.form.get("scope") {
        Some(raw) => parse_scopes(&tenant, raw)?,
        None => record.scopes.clone(),
    };
    // The id_token and refresh token follow what the user was asked on /authorize.
    scopes.oidc.extend(record.scopes.oidc.iter().cloned());
    let refresh_token: Option<Box<dyn FnOnce() -> String + '_>> = if record.scopes.has_offline_access() {
        let (identity, app_id, user_id, now) = (&request.state.identity, client.app.app_id, user.id, request.meta.now);
        let record = &record;
        Some(Box::new(move || {
            identity.start_refresh_chain(app_id, record.tenant_id, user_id, record.signed_in, &record.scopes.raw, now)
        }))
    } else {
        None
    };
    let grant = Grant { scopes: &scopes, nonce: record.nonce.as_deref(), signed_in: record.signed_in, refresh_token };
    issue(request, &tenant, &user, &client, grant)
}

/// `grant_type=refresh_token`.
pub fn refresh_token(request: &TokenRequest<'_>) -> Result<Response, AadError> {
    let presented = request.form.get("refresh_token").ok_or_else(|| AadError::missing_parameter("refresh_token"))?;
    let client = authenticate(request)?;
    let malformed = || invalid_grant(9002313, "Invalid request. Request is malformed or invalid.");
    let (record, chain) = request.state.identity.refresh_token(presented).ok_or_else(malformed)?;
    if chain.client_id != client.app.app_id {
        return Err(invalid_grant(70000, "Provided grant is invalid or malformed."));
    }
    if let Authority::Tenant { id, .. } = request.authority
        && *id != chain.tenant_id
    {
        return Err(invalid_grant(70000, "Provided grant is invalid or malformed."));
    }
    if request.meta.now - record.issued > REFRESH_INACTIVITY {
        return Err(invalid_grant(
            700082,
            format!(
                "The refresh token has expired due to inactivity. The token was issued on {} and was inactive for \
                 90.00:00:00.",
                precise(record.issued)
            ),
        )
        .with_suberror("bad_token"));
    }
    let tenant = tenant_of(request, chain.tenant_id)?;
    let tenant = tenant.read();
    let user = live_user(&tenant, chain.user_id)?;
    let valid_from = user.sign_in_sessions_valid_from.max(user.last_password_change);
    if valid_from > chain.signed_in {
        return Err(invalid_grant(
            50173,
            format!(
                "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might \
                 have changed or reset their password. The grant was issued on '{}' and the TokensValidFrom date \
                 (before which tokens are not valid) for this user is '{}'.",
                precise(chain.signed_in),
                precise(valid_from)
            ),
        ));
    }
    let scopes = parse_scopes(&tenant, request.form.get("scope").unwrap_or(&chain.scopes))?;
    let (identity, now) = (&request.state.identity, request.meta.now);
    let refresh_token: Option<Box<dyn FnOnce() -> String + '_>> =
        Some(Box::new(move || identity.continue_refresh_chain(chain.id, now)));
    let grant = Grant { scopes: &scopes, nonce: None, signed_in: chain.signed_in, refresh_token };
    issue(request, &tenant, &user, &client, grant)
}
