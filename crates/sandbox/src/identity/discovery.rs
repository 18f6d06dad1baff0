//! Discovery: the v2.0 and v1.0 OpenID configuration documents, the signing keys (JWKS) and instance
//! discovery, shaped like the real captures in reference §1.7. Endpoints are built on the base URL the client
//! used, so a client pointed at the sandbox stays on it; issuers keep Microsoft's host names, because they are
//! identifiers, not addresses.

use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde_json::{Value, json};

use super::authority::{self, Authority};
use super::endpoint::EndpointRequest;
use super::error::{AadError, RequestMeta};
use crate::cloud::{Cloud, Service, classify_host};
use crate::state::AppState;

/// Facts of a cloud that only the discovery documents carry.
///
/// `rbac_url` and `cloud_graph_host_name` of the sovereign clouds are inferred from Azure's national-cloud
/// endpoint tables, not from a captured document.
fn cloud_document_facts(cloud: Cloud) -> (&'static str, &'static str) {
    match cloud {
        Cloud::Global => ("graph.windows.net", "https://pas.windows.net"),
        Cloud::UsGovHigh | Cloud::UsGovDod => ("graph.windows.net", "https://pasff.usgovcloudapi.net"),
        Cloud::China => ("graph.chinacloudapi.cn", "https://pas.chinacloudapi.cn"),
    }
}

fn json_with_cache(body: Value) -> Response {
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("max-age=86400, private"));
    headers.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

fn discovery_error(meta: &RequestMeta, error: AadError) -> Response {
    let mut response = authority::tenant_not_found_for_discovery(error).to_response(meta);
    response.headers_mut().insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// What the documents say about the authority: the path segment, issuer tenant, cloud, region.
struct Described {
    segment: String,
    issuer_tenant: String,
    cloud: Cloud,
    region: Value,
}

fn describe(state: &AppState, meta: &RequestMeta, segment: &str) -> Result<Described, AadError> {
    Ok(match authority::resolve(state, meta.context.cloud, segment)? {
        Authority::Tenant { id, cloud, .. } => Described {
            segment: id.to_string(),
            issuer_tenant: id.to_string(),
            cloud,
            region: json!(cloud.hosts().region_scope),
        },
        Authority::Common => Described {
            segment: "common".into(),
            issuer_tenant: "{tenantid}".into(),
            cloud: meta.context.cloud,
            region: Value::Null,
        },
        Authority::Organizations => Described {
            segment: "organizations".into(),
            issuer_tenant: "{tenantid}".into(),
            cloud: meta.context.cloud,
            region: Value::Null,
        },
    })
}

/// Which generation of the documents: v2.0 (`/v2.0/.well-known/…`, `/discovery/v2.0/keys`) or v1.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// A discovery answer: `document` of the authority the request names, or the discovery error.
fn answer(request: &EndpointRequest, document: impl FnOnce(&Described) -> Value) -> Response {
    match describe(&request.state, &request.meta, &request.segment) {
        Ok(described) => json_with_cache(document(&described)),
        Err(error) => discovery_error(&request.meta, error),
    }
}

/// The OpenID configuration document of `version`.
fn openid_configuration(request: &EndpointRequest, described: &Described, version: Version) -> Value {
    let root = request.meta.context.public_base.trim_end_matches('/');
    let base = format!("{root}/{}", described.segment);
    let oauth2 = match version {
        Version::V2 => format!("{base}/oauth2/v2.0"),
        Version::V1 => format!("{base}/oauth2"),
    };
    let hosts = described.cloud.hosts();
    let (graph_host_name, rbac_url) = cloud_document_facts(described.cloud);
    let mut document = json!({
        "token_endpoint": format!("{oauth2}/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "authorization_endpoint": format!("{oauth2}/authorize"),
        "device_authorization_endpoint": format!("{oauth2}/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{oauth2}/logout"),
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": described.region,
        "cloud_instance_name": hosts.instance_name,
        "cloud_graph_host_name": graph_host_name,
        "msgraph_host": hosts.graph,
        "rbac_url": rbac_url,
    });
    let specific = match version {
        Version::V2 => json!({
            "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("https://{}/{}/v2.0", hosts.login[0], described.issuer_tenant),
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": format!("https://{}/oidc/userinfo", hosts.graph),
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce",
                "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        }),
        Version::V1 => json!({
            "jwks_uri": format!("{root}/common/discovery/keys"),
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "scopes_supported": ["openid"],
            "issuer": described.cloud.issuer_v1(&described.issuer_tenant),
            "microsoft_multi_refresh_token": true,
            "check_session_iframe": format!("{oauth2}/checksession"),
            "userinfo_endpoint": format!("{base}/openid/userinfo"),
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce",
                "email", "given_name", "family_name", "nickname"],
        }),
    };
    if let (Some(document), Value::Object(specific)) = (document.as_object_mut(), specific) {
        document.extend(specific);
    }
    document
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub async fn openid_configuration_v2(request: EndpointRequest) -> Response {
    answer(&request, |described| openid_configuration(&request, described, Version::V2))
}

/// `GET /{tenant}/.well-known/openid-configuration` (the v1.0 document: issuer `https://sts.windows.net/{tid}/`).
pub async fn openid_configuration_v1(request: EndpointRequest) -> Response {
    answer(&request, |described| openid_configuration(&request, described, Version::V1))
}

/// The signing keys, with the cloud's instance name (and, in v2.0, the issuer template) on each.
fn keys(state: &AppState, described: &Described, version: Version) -> Value {
    let mut jwks = state.keys.jwks.clone();
    if let Some(keys) = jwks.get_mut("keys").and_then(Value::as_array_mut) {
        for key in keys {
            if let Some(key) = key.as_object_mut() {
                key.insert("cloud_instance_name".into(), json!(described.cloud.hosts().instance_name));
                if version == Version::V2 {
                    let issuer = format!("https://{}/{{tenantid}}/v2.0", described.cloud.hosts().login[0]);
                    key.insert("issuer".into(), json!(issuer));
                } else {
                    key.remove("issuer");
                }
            }
        }
    }
    jwks
}

/// `GET /{tenant}/discovery/v2.0/keys`.
pub async fn keys_v2(request: EndpointRequest) -> Response {
    answer(&request, |described| keys(&request.state, described, Version::V2))
}

/// `GET /{tenant}/discovery/keys`.
pub async fn keys_v1(request: EndpointRequest) -> Response {
    answer(&request, |described| keys(&request.state, described, Version::V1))
}

/// The alias groups of the real instance-discovery answer.
fn metadata() -> Value {
    json!([
        {"preferred_network": "login.microsoftonline.com", "preferred_cache": "login.windows.net",
         "aliases": ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"]},
        {"preferred_network": "login.partner.microsoftonline.cn", "preferred_cache": "login.partner.microsoftonline.cn",
         "aliases": ["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"]},
        {"preferred_network": "login.microsoftonline.de", "preferred_cache": "login.microsoftonline.de",
         "aliases": ["login.microsoftonline.de"]},
        {"preferred_network": "login.microsoftonline.us", "preferred_cache": "login.microsoftonline.us",
         "aliases": ["login.microsoftonline.us", "login.usgovcloudapi.net"]},
        {"preferred_network": "login-us.microsoftonline.com", "preferred_cache": "login-us.microsoftonline.com",
         "aliases": ["login-us.microsoftonline.com"]},
    ])
}

/// The `scheme://authority` of a base URL, without any path prefix.
fn origin(base: &str) -> &str {
    let after_scheme = base.find("://").map_or(0, |index| index + 3);
    match base[after_scheme..].find('/') {
        Some(index) => &base[..after_scheme + index],
        None => base,
    }
}

/// `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=…`.
pub async fn instance_discovery(
    meta: RequestMeta,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let api_version = query.get("api-version").cloned().unwrap_or_else(|| "1.1".into());
    let mut answer = json!({"api-version": api_version, "metadata": metadata()});
    let Some(endpoint) = query.get("authorization_endpoint") else {
        return with_methods(json_with_cache(answer));
    };
    let invalid = || {
        let mut response = AadError::new("invalid_instance", 50049, "Unknown or invalid instance.").to_response(&meta);
        response.headers_mut().insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        response
    };
    let Some(rest) = endpoint.strip_prefix("https://").or_else(|| endpoint.strip_prefix("http://")) else {
        return invalid();
    };
    let (authority_part, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority_part.rsplit_once(':').map_or(authority_part, |(host, _)| host).to_ascii_lowercase();
    let sandbox_origin = origin(&meta.context.public_base);
    let own_authority = sandbox_origin.split("://").nth(1).unwrap_or("").to_ascii_lowercase();
    let is_microsoft = matches!(classify_host(&host), Some((Service::Login, _)));
    let is_sandbox = authority_part.eq_ignore_ascii_case(&own_authority);
    let Some((before, _)) = path.split_once("/oauth2/") else { return invalid() };
    if !(is_microsoft || is_sandbox) || before.is_empty() {
        return invalid();
    }
    let scheme = if endpoint.starts_with("https://") { "https" } else { "http" };
    let v2 = path.contains("/v2.0/");
    let document = if v2 { "v2.0/.well-known/openid-configuration" } else { ".well-known/openid-configuration" };
    answer["tenant_discovery_endpoint"] = json!(format!("{scheme}://{authority_part}/{before}/{document}"));
    if is_sandbox
        && !is_microsoft
        && let Some(groups) = answer["metadata"].as_array_mut()
    {
        groups.push(json!({"preferred_network": authority_part, "preferred_cache": authority_part,
            "aliases": [authority_part]}));
    }
    with_methods(json_with_cache(answer))
}

fn with_methods(mut response: Response) -> Response {
    response.headers_mut().insert(http::header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, OPTIONS"));
    response
}
