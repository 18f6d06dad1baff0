//! The knob settings as data: what a `--knobs FILE.toml`, `Sandbox::builder().knobs(...)` or
//! `PUT /_sandbox/knobs` provides. Every knob defaults to "off" (Microsoft's behaviour without any
//! emulated trouble), so an empty file is a quiet sandbox.
//!
//! ```toml
//! seed = 42
//! latency_ms = 20
//! jitter_ms = 10
//! replication_delay_ms = 3000
//! throttling = true
//! time_scale = 0.1
//! error_rate = 0.01
//!
//! [[fault_plan]]
//! method = "POST"
//! path_prefix = "/v1.0/users"
//! nth = 3
//! status = 503
//! ```

use serde::{Deserialize, Serialize};

/// Tenant size classes of Graph's identity throttling (reference §3.7): S < 50 users, M 50–500, L > 500.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TenantSize {
    /// Fewer than 50 users: 3,500 resource units per 10 s.
    #[serde(rename = "S")]
    Small,
    /// 50–500 users: 5,000 resource units per 10 s.
    #[serde(rename = "M")]
    Medium,
    /// More than 500 users: 8,000 resource units per 10 s.
    #[serde(rename = "L")]
    Large,
}

impl TenantSize {
    /// The class of a tenant as [`crate::directory::tenant::Tenant::size_class`] reports it.
    pub fn from_class(class: char) -> TenantSize {
        match class {
            'L' => TenantSize::Large,
            'M' => TenantSize::Medium,
            _ => TenantSize::Small,
        }
    }

    /// Resource units per 10 seconds for an application in a tenant of this size.
    pub fn resource_units(self) -> u32 {
        match self {
            TenantSize::Small => 3_500,
            TenantSize::Medium => 5_000,
            TenantSize::Large => 8_000,
        }
    }
}

/// The realism knobs. Unknown keys are refused, so a typo does not silently switch nothing on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Knobs {
    /// Seed of the random source behind jitter and injected faults: the same seed and the same order of
    /// requests give the same delays and the same faults.
    pub seed: u64,
    /// Fixed latency added to every affected request, in milliseconds.
    pub latency_ms: u64,
    /// Extra latency drawn uniformly from `0..=jitter_ms` per request, in milliseconds.
    pub jitter_ms: u64,
    /// How long a newly created user or group stays invisible to reads (404, left out of lists and delta),
    /// in milliseconds of the sandbox clock. Zero = visible at once.
    pub replication_delay_ms: u64,
    /// Graph identity throttling: token buckets over resource units and writes per app+tenant, app and
    /// tenant, answering 429 with `Retry-After` when a bucket runs dry.
    pub throttling: bool,
    /// Overrides the tenant size class that picks the resource-unit quota (`"S"`, `"M"` or `"L"`);
    /// absent = derived from the number of users.
    pub tenant_size: Option<TenantSize>,
    /// Multiplies every throttling window and, proportionally, every quota (rates stay Microsoft's; bursts
    /// shrink), so tests and benchmarks reach a limit quickly. `1.0` = Microsoft's windows.
    pub time_scale: f64,
    /// Overrides the app+tenant resource-unit quota per (scaled) 10-second window.
    pub resource_unit_quota: Option<u32>,
    /// Overrides the app+tenant write quota per (scaled) 150-second window (Microsoft: 3,000).
    pub app_tenant_write_quota: Option<u32>,
    /// Overrides the per-tenant write quota per (scaled) 5-minute window (Microsoft: 18,000).
    pub tenant_write_quota: Option<u32>,
    /// Share (0.0–1.0) of affected requests that answer an injected server error.
    pub error_rate: f64,
    /// The statuses injected errors are drawn from (uniformly).
    pub error_statuses: Vec<u16>,
    /// Share (0.0–1.0) of affected requests whose connection is dropped mid-response.
    pub drop_rate: f64,
    /// `Retry-After` (seconds) on injected 503 and 429 answers unless a fault rule says otherwise.
    pub retry_after_seconds: u64,
    /// Explicit fault rules, checked in order before the random faults; the first rule that fires wins.
    pub fault_plan: Vec<FaultRule>,
    /// How long after a user first holds a licence with an Exchange plan its mailbox exists for Exchange
    /// cmdlets, in milliseconds of the sandbox clock. Zero = at once.
    pub mailbox_provisioning_delay_ms: u64,
    /// Overrides the Exchange admin API's request quota per app and tenant per (scaled) 10-minute window
    /// (the service reports 30,000 in `Rate-Limit-Limit`). Enforced only with `throttling` on.
    pub exchange_request_quota: Option<u32>,
    /// Requests the Exchange admin API serves at once per tenant; more answer 429 "maximum number of
    /// concurrent requests". Enforced only with `throttling` on. Default 10.
    pub exchange_max_concurrency: Option<u32>,
    /// Also apply latency, drops and injected errors to the login host (by default only Graph and Exchange
    /// requests are affected; the sandbox admin API never is).
    pub include_login: bool,
}

impl Default for Knobs {
    fn default() -> Knobs {
        Knobs {
            seed: 0,
            latency_ms: 0,
            jitter_ms: 0,
            replication_delay_ms: 0,
            throttling: false,
            tenant_size: None,
            time_scale: 1.0,
            resource_unit_quota: None,
            app_tenant_write_quota: None,
            tenant_write_quota: None,
            error_rate: 0.0,
            error_statuses: vec![503, 500, 504],
            drop_rate: 0.0,
            retry_after_seconds: 1,
            fault_plan: Vec::new(),
            mailbox_provisioning_delay_ms: 0,
            exchange_request_quota: None,
            exchange_max_concurrency: None,
            include_login: false,
        }
    }
}

/// One explicit fault: which requests it matches and what they get instead of an answer.
///
/// Examples: "the 3rd `POST /v1.0/users` answers 503" is `{method = "POST", path_prefix = "/v1.0/users",
/// nth = 3, status = 503}`; "throttle group writes for 2 s" is `{method = "POST", path_prefix =
/// "/v1.0/groups", from_ms = 0, to_ms = 2000, throttle = true}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultRule {
    /// HTTP method to match, case-insensitive; absent = any method.
    pub method: Option<String>,
    /// Path prefix to match, case-insensitive, as the service sees it (`/v1.0/users`; a national-cloud host
    /// prefix such as `/graph.microsoft.us` is removed first). Empty = any path. Requests inside a `$batch`
    /// are matched by their own method and `/v1.0{url}` path.
    pub path_prefix: String,
    /// Fire only on the nth request (1-based) that matches method, path and window; absent = every one.
    pub nth: Option<u64>,
    /// Start of the active window, in milliseconds of the sandbox clock after the knobs took effect
    /// (the first affected request after start or after a change of knobs); absent = from the start.
    pub from_ms: Option<u64>,
    /// End (exclusive) of the active window, same reference; absent = no end.
    pub to_ms: Option<u64>,
    /// The status to answer (in the service's error envelope); absent = 503 unless `throttle` or `drop`.
    pub status: Option<u16>,
    /// Answer Graph's 429 `TooManyRequests` with `Retry-After` instead.
    pub throttle: bool,
    /// Drop the connection mid-response instead (not applied to requests inside a `$batch`).
    pub drop: bool,
    /// `Retry-After` seconds for 429 and 503 answers of this rule; absent = the global knob.
    pub retry_after_seconds: Option<u64>,
}

/// A knob value out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid knob {knob}: {problem}")]
pub struct KnobsError {
    /// The offending knob.
    pub knob: String,
    /// What is wrong with it.
    pub problem: String,
}

fn knob_error(knob: impl Into<String>, problem: impl Into<String>) -> KnobsError {
    KnobsError { knob: knob.into(), problem: problem.into() }
}

impl Knobs {
    /// Checks ranges: rates within 0.0–1.0, a positive finite `time_scale`, non-empty quotas, and fault
    /// statuses that are HTTP error statuses. [`super::KnobState::set`] clamps instead of failing; callers
    /// that can answer a client (the admin API) should call this first.
    pub fn validate(&self) -> Result<(), KnobsError> {
        for (name, rate) in [("error_rate", self.error_rate), ("drop_rate", self.drop_rate)] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(knob_error(name, "must be between 0.0 and 1.0"));
            }
        }
        if !self.time_scale.is_finite() || self.time_scale <= 0.0 {
            return Err(knob_error("time_scale", "must be a positive number"));
        }
        for (name, quota) in [
            ("resource_unit_quota", self.resource_unit_quota),
            ("app_tenant_write_quota", self.app_tenant_write_quota),
            ("tenant_write_quota", self.tenant_write_quota),
            ("exchange_request_quota", self.exchange_request_quota),
            ("exchange_max_concurrency", self.exchange_max_concurrency),
        ] {
            if quota == Some(0) {
                return Err(knob_error(name, "must be at least 1"));
            }
        }
        if self.error_rate > 0.0 && self.error_statuses.is_empty() {
            return Err(knob_error("error_statuses", "must not be empty when error_rate is above zero"));
        }
        for status in &self.error_statuses {
            if !(400..=599).contains(status) {
                return Err(knob_error("error_statuses", format!("{status} is not an HTTP error status")));
            }
        }
        for (index, rule) in self.fault_plan.iter().enumerate() {
            let name = format!("fault_plan[{index}]");
            if let Some(status) = rule.status
                && !(400..=599).contains(&status)
            {
                return Err(knob_error(name, format!("status {status} is not an HTTP error status")));
            }
            if rule.nth == Some(0) {
                return Err(knob_error(name, "nth counts from 1"));
            }
            if usize::from(rule.throttle) + usize::from(rule.drop) + usize::from(rule.status.is_some()) > 1 {
                return Err(knob_error(name, "choose one of status, throttle and drop"));
            }
            if let (Some(from), Some(to)) = (rule.from_ms, rule.to_ms)
                && to <= from
            {
                return Err(knob_error(name, "to_ms must be after from_ms"));
            }
            if let Some(method) = &rule.method
                && http::Method::from_bytes(method.as_bytes()).is_err()
            {
                return Err(knob_error(name, format!("{method:?} is not an HTTP method")));
            }
        }
        Ok(())
    }

    /// A copy with out-of-range values brought into range (used when settings are applied unchecked).
    pub(crate) fn clamped(mut self) -> Knobs {
        self.error_rate = if self.error_rate.is_finite() { self.error_rate.clamp(0.0, 1.0) } else { 0.0 };
        self.drop_rate = if self.drop_rate.is_finite() { self.drop_rate.clamp(0.0, 1.0) } else { 0.0 };
        if !self.time_scale.is_finite() || self.time_scale <= 0.0 {
            self.time_scale = 1.0;
        }
        self.error_statuses.retain(|status| (400..=599).contains(status));
        if self.error_statuses.is_empty() {
            self.error_statuses = Knobs::default().error_statuses;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_toml_file_is_all_knobs_off() {
        let knobs: Knobs = toml::from_str("").expect("empty knobs parse");
        assert_eq!(knobs, Knobs::default());
        assert!(knobs.validate().is_ok());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let result = toml::from_str::<Knobs>("latency = 5");
        assert!(result.is_err());
    }

    #[test]
    fn a_fault_plan_parses_from_toml() {
        let knobs: Knobs = toml::from_str(
            r#"
seed = 7
tenant_size = "L"

[[fault_plan]]
method = "POST"
path_prefix = "/v1.0/users"
nth = 3
status = 503
"#,
        )
        .expect("knobs parse");
        assert_eq!(knobs.tenant_size, Some(TenantSize::Large));
        assert_eq!(knobs.fault_plan[0].nth, Some(3));
        assert!(knobs.validate().is_ok());
    }

    #[test]
    fn out_of_range_values_are_reported_and_clamped() {
        let knobs = Knobs { error_rate: 1.5, time_scale: 0.0, ..Knobs::default() };
        assert_eq!(knobs.validate().map_err(|error| error.knob), Err("error_rate".to_string()));
        let clamped = knobs.clamped();
        assert!((clamped.error_rate - 1.0).abs() < f64::EPSILON);
        assert!((clamped.time_scale - 1.0).abs() < f64::EPSILON);
    }
}
