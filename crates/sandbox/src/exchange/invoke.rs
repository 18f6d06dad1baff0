//! `POST /adminapi/beta/{tenant}/InvokeCommand`: authenticate, apply the limits, parse the `CmdletInput`, check
//! RBAC for the cmdlet and its parameters, bind the parameters, run the cmdlet under the tenant's lock (on a
//! copy for `-WhatIf`), then select, page and wrap the output — or answer Exchange's error shape.
//!
//! Order of checks, as the service applies them: token → limits → body → cmdlet exists → the caller's roles
//! grant it (401) → parameters bind (unknown / RBAC-hidden / wrong type / missing) → the cmdlet's own rules.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use serde_json::Value;

use super::caller::{ExchangeCaller, authenticate};
use super::cmdlets::{self, Invocation};
use super::error::{ExchangeError, ExchangeResult};
use super::output::{self, PageToken};
use super::params::{self, Params};
use super::rbac;
use super::throttle::RateLimit;
use crate::dispatch::RequestContext;
use crate::knobs::DeferredLatency;
use crate::state::AppState;

/// The `Content-Type` of the service's JSON answers.
pub const CONTENT_TYPE: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// Query options of `InvokeCommand`.
#[derive(Debug, Default)]
struct Query {
    select: Vec<String>,
    skip_token: Option<String>,
    raw_select: Option<String>,
}

fn parse_query(uri: &Uri) -> Query {
    let mut query = Query::default();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    for (name, value) in pairs {
        if name.eq_ignore_ascii_case("$select") {
            query.select =
                value.split(',').map(|item| item.trim().to_string()).filter(|item| !item.is_empty()).collect();
            query.raw_select = Some(value);
        } else if name.eq_ignore_ascii_case("$skiptoken") {
            query.skip_token = Some(value);
        }
    }
    query
}

/// The handler.
pub async fn invoke_command(
    State(state): State<Arc<AppState>>,
    Extension(context): Extension<RequestContext>,
    latency: Option<Extension<DeferredLatency>>,
    Path(tenant_in_url): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = state.clock.now();
    let authorization = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    let caller = match authenticate(&state, authorization, &tenant_in_url, context.cloud, now) {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let knobs = state.knobs.get();
    let tenant_id = caller.tenant.read().id;
    let _slot = match state.exchange_limits.enter(tenant_id, &knobs) {
        Ok(slot) => slot,
        Err(refused) => {
            state.knobs.count_exchange_throttled();
            return refused.into_response();
        }
    };
    if let Some(Extension(latency)) = latency {
        latency.spend().await;
    }
    let rate = match state.exchange_limits.charge(tenant_id, &caller.claims.appid, &knobs, now) {
        Ok(rate) => rate,
        Err((error, rate)) => {
            state.knobs.count_exchange_throttled();
            return with_headers(error.into_response(), &rate, &headers);
        }
    };
    let answer = run(&state, &context, &tenant_in_url, &caller, &uri, &headers, &body);
    let response = match answer {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    with_headers(response, &rate, &headers)
}

fn with_headers(mut response: Response, rate: &RateLimit, request: &HeaderMap) -> Response {
    let headers = response.headers_mut();
    for (name, value) in rate.headers() {
        headers.insert(name, value);
    }
    headers.insert(HeaderName::from_static("odata-version"), HeaderValue::from_static("4.0"));
    headers.insert(
        HeaderName::from_static("x-exchangeversion"),
        HeaderValue::from_static("Version 15.20 (Build 7587.36)"),
    );
    let request_id = uuid::Uuid::new_v4().to_string();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static("request-id"), value);
    }
    if let Some(client_request_id) = request.get("client-request-id") {
        headers.insert(HeaderName::from_static("client-request-id"), client_request_id.clone());
    }
    response
}

fn run(
    state: &AppState,
    context: &RequestContext,
    tenant_in_url: &str,
    caller: &ExchangeCaller,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> ExchangeResult<Response> {
    let input = params::parse_body(body)?;
    let cmdlet = cmdlets::find(&input.name).ok_or_else(|| ExchangeError::unknown_cmdlet(&input.name))?;
    if !rbac::may_run(&caller.roles, cmdlet.name) {
        return Err(ExchangeError::not_allowed(cmdlet.name));
    }
    let bound = Params::bind(cmdlet.parameters, &input.parameters, |parameter| {
        rbac::may_use_parameter(&caller.roles, cmdlet.name, parameter)
    })?;
    let query = parse_query(uri);
    let fingerprint = output::fingerprint(cmdlet.name, &input.parameters);
    let offset = match &query.skip_token {
        Some(token) => PageToken::decode(token, &fingerprint)?.offset,
        None => 0,
    };
    let now = state.clock.now();
    let delay = state.knobs.replication_delay();
    let mut invocation_output = {
        let mut guard = caller.tenant.write();
        let what_if = bound.switch("WhatIf");
        let mut copy = what_if.then(|| guard.clone());
        let tenant = match copy.as_mut() {
            Some(copy) => copy,
            None => &mut *guard,
        };
        let mut invocation = Invocation {
            tenant,
            caller,
            now,
            visible_from: (delay > chrono::Duration::zero()).then(|| now + delay),
            mailbox_delay: state.knobs.mailbox_provisioning_delay(),
            warnings: Vec::new(),
        };
        let objects = (cmdlet.run)(&mut invocation, &bound)?;
        if !what_if && !cmdlet.name.starts_with("Get-") {
            invocation.tenant.exchange.touch();
        }
        let mut warnings = invocation.warnings;
        if what_if {
            warnings
                .push(format!("What if: {} would run with the given parameters; nothing was changed.", cmdlet.name));
        }
        (objects, warnings)
    };
    invocation_output.0 = output::select(invocation_output.0, &query.select);
    let (objects, warnings) = invocation_output;
    let is_read = cmdlet.name.starts_with("Get-");
    if objects.is_empty() && warnings.is_empty() && !is_read {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let page_size = output::max_page_size(headers.get("prefer").and_then(|value| value.to_str().ok()));
    let total = objects.len();
    let page: Vec<_> = objects.into_iter().skip(offset).take(page_size).collect();
    let base = format!("{}/adminapi/beta/{tenant_in_url}", context.public_base);
    let next_link = (offset + page.len() < total).then(|| {
        let token = PageToken { offset: offset + page.len(), fingerprint: fingerprint.clone() }.encode();
        let mut link = format!("{base}/InvokeCommand?$skiptoken={token}");
        if let Some(select) = &query.raw_select {
            link.push_str("&$select=");
            link.push_str(
                &percent_encoding::utf8_percent_encode(select, percent_encoding::NON_ALPHANUMERIC).to_string(),
            );
        }
        link
    });
    let context_url = format!("{base}/$metadata#Collection(Exchange.GenericHashTable)");
    let body: Value = output::envelope(&context_url, &warnings, page, next_link);
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if headers.contains_key("prefer") {
        response.headers_mut().insert(
            HeaderName::from_static("preference-applied"),
            HeaderValue::from_str(&format!("odata.maxpagesize={page_size}")).unwrap_or(HeaderValue::from_static("")),
        );
    }
    Ok(response)
}
