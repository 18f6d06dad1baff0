//! The Exchange admin API's limits: a request quota per app and tenant per window, reported on every answer in
//! `Rate-Limit-Limit`, `Rate-Limit-Remaining` and `Rate-Limit-Reset` (as in the real capture, reference §4.2),
//! and a cap on concurrent requests per tenant answered with the plain-text 429 the module's clients know
//! ("You have reached the maximum number of concurrent requests per tenant. Please wait and try again").
//!
//! The quota (30,000, the value the service reports) applies per 10-minute window — the window the Outlook
//! REST APIs document for the same headers
//! (<https://learn.microsoft.com/archive/blogs/exchangedev/throttling-coming-to-outlook-api-and-microsoft-graph>).
//! Limits are enforced only when the `throttling` knob is on; `time_scale` shrinks the window and the quota
//! together, and `exchange_request_quota` / `exchange_max_concurrency` override them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderName, HeaderValue, StatusCode, header};
use parking_lot::Mutex;
use uuid::Uuid;

use super::error::ExchangeError;
use crate::knobs::Knobs;

/// The quota the service reports per window.
pub const DEFAULT_QUOTA: u32 = 30_000;
/// The window of the quota, in seconds.
pub const WINDOW_SECONDS: f64 = 600.0;
/// Concurrent requests per tenant unless the knob says otherwise.
pub const DEFAULT_MAX_CONCURRENCY: u32 = 10;
/// The plain-text body of the concurrency 429.
pub const CONCURRENCY_MESSAGE: &str =
    "You have reached the maximum number of concurrent requests per tenant. Please wait and try again";

#[derive(Debug)]
struct Window {
    started: Instant,
    used: u32,
}

/// Windows per (tenant, app) and in-flight counters per tenant.
#[derive(Debug, Default)]
pub struct ExchangeLimits {
    windows: Mutex<HashMap<(Uuid, String), Window>>,
    in_flight: Mutex<HashMap<Uuid, Arc<AtomicU32>>>,
}

/// The rate-limit state of one request, turned into its headers.
#[derive(Clone, Debug)]
pub struct RateLimit {
    /// Quota per window.
    pub limit: u32,
    /// What is left of it.
    pub remaining: u32,
    /// When the window resets (sandbox clock).
    pub reset: DateTime<Utc>,
    /// The sandbox clock when the request was counted: the answer's `Date`, so that a client can tell how far
    /// away the reset is on the service's own clock (the sandbox clock may be moved ahead of real time).
    pub now: DateTime<Utc>,
}

impl RateLimit {
    /// The three `Rate-Limit-*` headers.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let value = |text: String| HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("0"));
        vec![
            (HeaderName::from_static("rate-limit-limit"), value(self.limit.to_string())),
            (HeaderName::from_static("rate-limit-remaining"), value(self.remaining.to_string())),
            (
                HeaderName::from_static("rate-limit-reset"),
                value(self.reset.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
            ),
            (header::DATE, value(self.now.format("%a, %d %b %Y %H:%M:%S GMT").to_string())),
        ]
    }
}

/// The answer to a request over the tenant's concurrency cap.
#[derive(Debug)]
pub struct TooManyConcurrent;

impl IntoResponse for TooManyConcurrent {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::TOO_MANY_REQUESTS, CONCURRENCY_MESSAGE).into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        response
    }
}

/// Holds a tenant's concurrency slot until dropped.
#[derive(Debug)]
pub struct Slot(Option<Arc<AtomicU32>>);

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(counter) = &self.0 {
            counter.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl ExchangeLimits {
    /// Takes a concurrency slot for `tenant`; with throttling on and the tenant at its cap, the plain-text 429.
    pub fn enter(&self, tenant: Uuid, knobs: &Knobs) -> Result<Slot, TooManyConcurrent> {
        let counter = self.in_flight.lock().entry(tenant).or_default().clone();
        let now_in_flight = counter.fetch_add(1, Ordering::AcqRel) + 1;
        let slot = Slot(Some(counter));
        let cap = knobs.exchange_max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY);
        if knobs.throttling && now_in_flight > cap {
            return Err(TooManyConcurrent);
        }
        Ok(slot)
    }

    /// Counts one request of `app` in `tenant` against the quota; with throttling on and the quota spent, a
    /// 429 with `Retry-After` until the window resets.
    pub fn charge(
        &self,
        tenant: Uuid,
        app: &str,
        knobs: &Knobs,
        now: DateTime<Utc>,
    ) -> Result<RateLimit, (ExchangeError, RateLimit)> {
        let scale = knobs.time_scale;
        let limit =
            knobs.exchange_request_quota.unwrap_or_else(|| ((f64::from(DEFAULT_QUOTA) * scale).round() as u32).max(1));
        let window = Duration::from_secs_f64((WINDOW_SECONDS * scale).max(0.001));
        let mut windows = self.windows.lock();
        let entry =
            windows.entry((tenant, app.to_ascii_lowercase())).or_insert(Window { started: Instant::now(), used: 0 });
        if entry.started.elapsed() >= window {
            *entry = Window { started: Instant::now(), used: 0 };
        }
        let left = window.saturating_sub(entry.started.elapsed());
        let reset = now + chrono::Duration::from_std(left).unwrap_or_default();
        if knobs.throttling && entry.used >= limit {
            let state = RateLimit { limit, remaining: 0, reset, now };
            let mut error = ExchangeError::plain(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "The request was throttled: the application has used its request quota for this tenant. Retry after the time in the Retry-After header.",
            );
            let seconds = left.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                error.headers.push((header::RETRY_AFTER, value));
            }
            return Err((error, state));
        }
        entry.used = entry.used.saturating_add(1);
        Ok(RateLimit { limit, remaining: limit.saturating_sub(entry.used), reset, now })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_runs_out_only_with_throttling_on() {
        let limits = ExchangeLimits::default();
        let tenant = Uuid::nil();
        let mut knobs = Knobs { exchange_request_quota: Some(2), ..Knobs::default() };
        let now = Utc::now();
        for _ in 0..3 {
            assert!(limits.charge(tenant, "app", &knobs, now).is_ok());
        }
        knobs.throttling = true;
        let limits = ExchangeLimits::default();
        assert_eq!(limits.charge(tenant, "app", &knobs, now).unwrap().remaining, 1);
        assert_eq!(limits.charge(tenant, "app", &knobs, now).unwrap().remaining, 0);
        let (error, state) = limits.charge(tenant, "app", &knobs, now).unwrap_err();
        assert_eq!(error.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(state.remaining, 0);
        assert!(limits.charge(tenant, "other-app", &knobs, now).is_ok(), "the quota is per app");
    }

    #[test]
    fn concurrency_slots_are_given_back() {
        let limits = ExchangeLimits::default();
        let knobs = Knobs { throttling: true, exchange_max_concurrency: Some(1), ..Knobs::default() };
        let first = limits.enter(Uuid::nil(), &knobs).unwrap();
        assert!(limits.enter(Uuid::nil(), &knobs).is_err());
        drop(first);
        assert!(limits.enter(Uuid::nil(), &knobs).is_ok());
    }
}
