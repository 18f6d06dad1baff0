//! Graph's identity and access throttling (reference §3.7), plus the injected faults of the realism knobs, as
//! one middleware layer on the Graph router — inside the envelope layer, so a 429 or an injected 5xx gets
//! Graph's error envelope, and applied to every request inside a `$batch` one by one (the batch handler sends
//! its items through the same router).
//!
//! Throttling is a set of token buckets over *resource units* (RU) and writes, refilled continuously on the
//! sandbox clock:
//! - application + tenant: S 3,500 / M 5,000 / L 8,000 RU per 10 s; 3,000 writes per 150 s;
//! - application: 150,000 RU per 20 s; 70,000 writes per 5 min;
//! - tenant: 18,000 writes per 5 min.
//!
//! A request costs 1 RU (`GET users` 2, `GET groups/{id}/members` 3, `transitiveMembers` 5,
//! `subscribedSkus` 3, `memberOf` 2), adjusted by `$select` −1, `$expand` +1, `$top` below 20 −1, at least 1;
//! writes cost 1 RU and 1 write. Every Graph response carries `x-ms-resource-unit`, and
//! `x-ms-throttle-limit-percentage` once the app+tenant bucket is more than 80% used. Only requests with a
//! valid token are metered (the bucket key is the token's `appid` and `tid`).
//!
//! Reference: <https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits>.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use parking_lot::Mutex;

use super::error::GraphError;
use crate::dispatch::RequestContext;
use crate::knobs::faults::{dropped_response, graph_error};
use crate::knobs::{Knobs, TenantSize};
use crate::state::AppState;
use crate::tokens::verify;

/// Marks a request that the `$batch` handler sends on behalf of one batch item.
#[derive(Clone, Copy, Debug)]
pub struct InBatch;

/// The cost of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    /// Resource units.
    pub resource_units: u32,
    /// Write units (0 for reads).
    pub writes: u32,
}

/// Computes what a Graph request costs (`path` starts with `/v1.0` or `/beta`). Allocation-free: it runs on
/// every Graph request.
pub fn request_cost(method: &Method, path: &str, query: Option<&str>) -> Cost {
    let rest = path.strip_prefix("/v1.0").or_else(|| path.strip_prefix("/beta")).unwrap_or(path);
    let mut segments = rest.split('/').filter(|segment| !segment.is_empty());
    let (first, second, third) = (segments.next(), segments.next(), segments.next());
    let is = |segment: Option<&str>, name: &str| segment.is_some_and(|segment| segment.eq_ignore_ascii_case(name));
    let read = method == Method::GET || method == Method::HEAD;
    let (base, writes) = if read {
        let units = if is(first, "users") && (second.is_none() || is(second, "delta") || is(second, "delta()")) {
            2
        } else if is(first, "groups") && is(third, "members") {
            3
        } else if is(first, "groups") && is(third, "transitiveMembers") {
            5
        } else if is(first, "subscribedSkus") {
            3
        } else if (is(first, "me") && is(second, "memberOf")) || (is(first, "users") && is(third, "memberOf")) {
            2
        } else {
            1
        };
        (units, 0)
    } else if method == Method::POST && is(first, "directoryObjects") && is(second, "getByIds") && third.is_none() {
        (3, 0)
    } else {
        (1, 1)
    };
    let mut units = i64::from(base);
    for pair in query.unwrap_or("").split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_encoding::percent_decode_str(key).decode_utf8_lossy();
        let key = key.trim().trim_start_matches('$');
        if key.eq_ignore_ascii_case("select") {
            units -= 1;
        } else if key.eq_ignore_ascii_case("expand") {
            units += 1;
        } else if key.eq_ignore_ascii_case("top") && value.trim().parse::<u32>().is_ok_and(|top| top < 20) {
            units -= 1;
        }
    }
    Cost { resource_units: u32::try_from(units.max(1)).unwrap_or(1), writes }
}

/// One token bucket's quota: `capacity` units refilled evenly over `window_ms`.
#[derive(Clone, Copy, Debug)]
struct Limit {
    capacity: f64,
    window_ms: f64,
}

impl Limit {
    fn scaled(quota: u32, window_seconds: f64, time_scale: f64) -> Limit {
        Limit {
            capacity: (f64::from(quota) * time_scale).max(1.0),
            window_ms: (window_seconds * 1_000.0 * time_scale).max(1.0),
        }
    }
}

/// Which bucket, for which principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum BucketKind {
    AppTenantUnits,
    AppTenantWrites,
    TenantWrites,
    AppUnits,
    AppWrites,
}

impl BucketKind {
    fn scope(self, app: &str, tenant: &str) -> String {
        match self {
            BucketKind::AppTenantUnits => format!("Tenant_Application/ReadWrite/{app}/{tenant}"),
            BucketKind::AppTenantWrites => format!("Tenant_Application/Write/{app}/{tenant}"),
            BucketKind::TenantWrites => format!("Tenant/Write/{app}/{tenant}"),
            BucketKind::AppUnits => format!("Application/ReadWrite/{app}/{tenant}"),
            BucketKind::AppWrites => format!("Application/Write/{app}/{tenant}"),
        }
    }

    fn information(self) -> &'static str {
        match self {
            BucketKind::AppTenantUnits | BucketKind::AppUnits => "ResourceUnitLimitExceeded",
            BucketKind::AppTenantWrites | BucketKind::TenantWrites | BucketKind::AppWrites => "WriteLimitExceeded",
        }
    }

    fn limit(self, knobs: &Knobs, size: TenantSize) -> Limit {
        let scale = knobs.time_scale;
        match self {
            BucketKind::AppTenantUnits => {
                Limit::scaled(knobs.resource_unit_quota.unwrap_or(size.resource_units()), 10.0, scale)
            }
            BucketKind::AppTenantWrites => Limit::scaled(knobs.app_tenant_write_quota.unwrap_or(3_000), 150.0, scale),
            BucketKind::TenantWrites => Limit::scaled(knobs.tenant_write_quota.unwrap_or(18_000), 300.0, scale),
            BucketKind::AppUnits => Limit::scaled(150_000, 20.0, scale),
            BucketKind::AppWrites => Limit::scaled(70_000, 300.0, scale),
        }
    }
}

/// Tokens left in one bucket at a time (ms on the sandbox clock).
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated_ms: i64,
}

/// Why a request was refused.
#[derive(Clone, Debug)]
struct Throttled {
    kind: BucketKind,
    retry_after_seconds: u64,
}

/// The buckets of every app and tenant seen so far.
#[derive(Debug, Default)]
pub struct ThrottleBuckets {
    buckets: Mutex<HashMap<(BucketKind, String, String), Bucket>>,
}

impl ThrottleBuckets {
    /// Forgets every bucket (new knobs: every bucket starts full again).
    pub fn clear(&self) {
        self.buckets.lock().clear();
    }

    /// Takes `cost` from the buckets of `app` in `tenant` if all of them hold enough; returns the usage of the
    /// app+tenant resource-unit bucket afterwards (0.0–1.0).
    fn charge(
        &self,
        knobs: &Knobs,
        size: TenantSize,
        app: &str,
        tenant: &str,
        cost: Cost,
        now_ms: i64,
    ) -> Result<f64, Throttled> {
        let mut kinds =
            vec![(BucketKind::AppTenantUnits, cost.resource_units), (BucketKind::AppUnits, cost.resource_units)];
        if cost.writes > 0 {
            kinds.extend([
                (BucketKind::AppTenantWrites, cost.writes),
                (BucketKind::TenantWrites, cost.writes),
                (BucketKind::AppWrites, cost.writes),
            ]);
        }
        let mut buckets = self.buckets.lock();
        let mut refilled = Vec::with_capacity(kinds.len());
        for (kind, units) in kinds {
            let limit = kind.limit(knobs, size);
            let key = match kind {
                BucketKind::TenantWrites => (kind, String::new(), tenant.to_string()),
                BucketKind::AppUnits | BucketKind::AppWrites => (kind, app.to_string(), String::new()),
                _ => (kind, app.to_string(), tenant.to_string()),
            };
            let bucket = buckets.get(&key).copied().unwrap_or(Bucket { tokens: limit.capacity, updated_ms: now_ms });
            let elapsed = f64::from(u32::try_from((now_ms - bucket.updated_ms).max(0)).unwrap_or(u32::MAX));
            let tokens = (bucket.tokens + elapsed * limit.capacity / limit.window_ms).min(limit.capacity);
            // A request dearer than a whole (scaled) bucket passes once the bucket is full.
            let wanted = f64::from(units).min(limit.capacity);
            if tokens + 1e-9 < wanted {
                let wait_ms = (wanted - tokens) * limit.window_ms / limit.capacity;
                let retry_after_seconds = ((wait_ms / 1_000.0).ceil() as u64).max(1);
                return Err(Throttled { kind, retry_after_seconds });
            }
            refilled.push((key, Bucket { tokens: tokens - wanted, updated_ms: now_ms }, limit));
        }
        let mut usage = 0.0;
        for (key, bucket, limit) in refilled {
            if key.0 == BucketKind::AppTenantUnits {
                usage = (limit.capacity - bucket.tokens) / limit.capacity;
            }
            buckets.insert(key, bucket);
        }
        Ok(usage)
    }
}

fn is_batch_path(path: &str) -> bool {
    let rest = path.strip_prefix("/v1.0").or_else(|| path.strip_prefix("/beta")).unwrap_or(path);
    rest.trim_end_matches('/').eq_ignore_ascii_case("/$batch")
}

/// The app and tenant of a request's token, if it carries a valid one for this cloud's Graph.
fn metered_identity(state: &AppState, request: &Request) -> Option<(String, String)> {
    let header = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer "))?.trim();
    if token.is_empty() {
        return None;
    }
    let claims = match state.token_cache.get(token) {
        Some(claims) => claims,
        None => {
            let cloud = request.extensions().get::<RequestContext>().map(|context| context.cloud).unwrap_or_default();
            let claims = verify(&state.keys, token, &cloud.graph_resource(), state.clock.now().timestamp()).ok()?;
            state.token_cache.insert(token, claims.clone());
            claims
        }
    };
    if claims.exp <= state.clock.now().timestamp() {
        return None;
    }
    Some((claims.appid, claims.tid))
}

fn throttled_response(throttled: &Throttled, app: &str, tenant: &str, cost: Cost) -> Response {
    let value = |text: String| HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static(""));
    GraphError::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Too many requests.")
        .with_header(header::RETRY_AFTER, value(throttled.retry_after_seconds.to_string()))
        .with_header(http::HeaderName::from_static("x-ms-throttle-scope"), value(throttled.kind.scope(app, tenant)))
        .with_header(
            http::HeaderName::from_static("x-ms-throttle-information"),
            HeaderValue::from_static(throttled.kind.information()),
        )
        .with_header(http::HeaderName::from_static("x-ms-resource-unit"), value(cost.resource_units.to_string()))
        .into_response()
}

/// The middleware function (use with `axum::middleware::from_fn_with_state`), placed inside the envelope.
pub async fn throttle(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let in_batch = request.extensions().get::<InBatch>().is_some();
    let mut drop_connection = false;
    if let Some(fault) = state.knobs.graph_fault(request.method(), request.uri().path(), in_batch, state.clock.now()) {
        match graph_error(fault) {
            Some(error) => return error.into_response(),
            None => drop_connection = true,
        }
    }
    // The batch itself is not metered; each of its requests is, when the handler sends it through here.
    if is_batch_path(request.uri().path()) {
        let response = next.run(request).await;
        return if drop_connection { dropped_response(response) } else { response };
    }
    let cost = request_cost(request.method(), request.uri().path(), request.uri().query());
    let mut usage = 0.0;
    if state.knobs.throttling()
        && let Some((app, tenant)) = metered_identity(&state, &request)
    {
        let size = state.directory.tenant(&tenant).map(|tenant| TenantSize::from_class(tenant.read().size_class()));
        if let Some(size) = size {
            let knobs = state.knobs.get();
            let size = knobs.tenant_size.unwrap_or(size);
            let now_ms = state.clock.now().timestamp_millis();
            match state.knobs.buckets.charge(&knobs, size, &app, &tenant, cost, now_ms) {
                Ok(used) => usage = used,
                Err(throttled) => {
                    state.knobs.count_throttled();
                    return throttled_response(&throttled, &app, &tenant, cost);
                }
            }
        }
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(http::HeaderName::from_static("x-ms-resource-unit"), HeaderValue::from(cost.resource_units));
    if usage > 0.8
        && let Ok(value) = HeaderValue::from_str(&format!("{:.2}", usage))
    {
        headers.insert(http::HeaderName::from_static("x-ms-throttle-limit-percentage"), value);
    }
    if drop_connection { dropped_response(response) } else { response }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(method: Method, path: &str, query: Option<&str>) -> u32 {
        request_cost(&method, path, query).resource_units
    }

    #[test]
    fn costs_follow_microsofts_table() {
        assert_eq!(cost(Method::GET, "/v1.0/users", None), 2);
        assert_eq!(cost(Method::GET, "/v1.0/users/abc", None), 1);
        assert_eq!(cost(Method::GET, "/v1.0/groups/g/members", None), 3);
        assert_eq!(cost(Method::GET, "/v1.0/groups/g/transitiveMembers", None), 5);
        assert_eq!(cost(Method::GET, "/v1.0/subscribedSkus", None), 3);
        assert_eq!(cost(Method::GET, "/v1.0/users/u/memberOf", None), 2);
        assert_eq!(request_cost(&Method::PATCH, "/v1.0/users/u", None), Cost { resource_units: 1, writes: 1 });
        assert_eq!(request_cost(&Method::POST, "/v1.0/directoryObjects/getByIds", None).writes, 0);
    }

    #[test]
    fn query_options_adjust_the_cost_but_never_below_one() {
        assert_eq!(cost(Method::GET, "/v1.0/users", Some("$select=id")), 1);
        assert_eq!(cost(Method::GET, "/v1.0/users", Some("%24select=id&%24top=5")), 1);
        assert_eq!(cost(Method::GET, "/v1.0/users", Some("$expand=manager")), 3);
        assert_eq!(cost(Method::GET, "/v1.0/users", Some("$top=50")), 2);
    }

    #[test]
    fn a_dry_bucket_refuses_and_refills_with_time() {
        let knobs = Knobs { throttling: true, resource_unit_quota: Some(4), ..Knobs::default() };
        let buckets = ThrottleBuckets::default();
        let get_users = Cost { resource_units: 2, writes: 0 };
        assert!(buckets.charge(&knobs, TenantSize::Small, "app", "t", get_users, 0).is_ok());
        let usage = buckets.charge(&knobs, TenantSize::Small, "app", "t", get_users, 0).expect("second fits");
        assert!((usage - 1.0).abs() < 1e-9);
        let refused = buckets.charge(&knobs, TenantSize::Small, "app", "t", get_users, 0).expect_err("dry");
        assert_eq!(refused.kind, BucketKind::AppTenantUnits);
        // 4 RU per 10 s: 2 RU take 5 s.
        assert_eq!(refused.retry_after_seconds, 5);
        assert!(buckets.charge(&knobs, TenantSize::Small, "app", "t", get_users, 5_000).is_ok());
        // Another app has its own bucket.
        assert!(buckets.charge(&knobs, TenantSize::Small, "other", "t", get_users, 5_000).is_ok());
    }

    #[test]
    fn writes_are_limited_separately() {
        let knobs = Knobs { throttling: true, app_tenant_write_quota: Some(1), ..Knobs::default() };
        let buckets = ThrottleBuckets::default();
        let write = Cost { resource_units: 1, writes: 1 };
        assert!(buckets.charge(&knobs, TenantSize::Small, "app", "t", write, 0).is_ok());
        let refused = buckets.charge(&knobs, TenantSize::Small, "app", "t", write, 0).expect_err("no writes left");
        assert_eq!(refused.kind.information(), "WriteLimitExceeded");
        assert_eq!(refused.kind.scope("app", "t"), "Tenant_Application/Write/app/t");
    }

    #[test]
    fn time_scale_shrinks_windows_and_quotas_together() {
        let knobs = Knobs { throttling: true, time_scale: 0.01, ..Knobs::default() };
        let limit = BucketKind::AppTenantUnits.limit(&knobs, TenantSize::Small);
        assert!((limit.capacity - 35.0).abs() < 1e-9);
        assert!((limit.window_ms - 100.0).abs() < 1e-9);
        let limit = BucketKind::TenantWrites.limit(&knobs, TenantSize::Large);
        assert!((limit.capacity - 180.0).abs() < 1e-9);
        assert!((limit.window_ms - 3_000.0).abs() < 1e-9);
    }
}
