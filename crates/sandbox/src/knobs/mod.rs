//! Realism knobs: latency, Graph identity throttling, replication delay and injected failures — data set at
//! start ([`Knobs`], from TOML or JSON) and at run time ([`KnobState::set`], the admin API's
//! `PUT /_sandbox/knobs`), deterministic with a seed.
//!
//! Where each knob acts:
//! - latency and jitter: [`before_request`], called by the dispatcher for every request (a real sleep: that
//!   *is* the emulated latency);
//! - injected errors, dropped connections and throttling of Graph requests: the Graph throttling layer
//!   ([`crate::graph::throttle`]), inside Graph's envelope, so every fault has Graph's error shape and the
//!   requests inside a `$batch` are affected one by one; for Exchange (and the login host when
//!   `include_login` is set) [`before_request`] answers the fault itself;
//! - replication delay: read by the users and groups handlers at create time
//!   ([`KnobState::replication_delay`]).
//!
//! When every knob is off the hot path is one atomic load in [`before_request`] and one in the Graph layer.

pub mod faults;
pub mod settings;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::response::Response;
use chrono::{DateTime, Utc};
use parking_lot::{Mutex, RwLock};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub use self::faults::Fault;
use self::faults::{FaultScope, FaultState};
pub use self::settings::{FaultRule, Knobs, KnobsError, TenantSize};
use crate::cloud::Service;
use crate::dispatch::RequestContext;
use crate::graph::throttle::ThrottleBuckets;
use crate::state::AppState;

/// Counters of what the knobs did, for tests and benchmarks (`KnobState::stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KnobStats {
    /// Requests that were delayed by `latency_ms`/`jitter_ms`.
    pub delayed_requests: u64,
    /// The sum of those delays, in milliseconds.
    pub total_delay_ms: u64,
    /// Requests answered with an injected error status (including planned 429s).
    pub injected_errors: u64,
    /// Connections dropped on purpose.
    pub dropped_connections: u64,
    /// Requests refused by the Graph identity throttling buckets.
    pub throttled_requests: u64,
    /// Exchange admin API requests refused by its rate limit or its concurrency limit.
    pub exchange_throttled_requests: u64,
}

#[derive(Debug, Default)]
struct StatCounters {
    delayed_requests: AtomicU64,
    total_delay_ms: AtomicU64,
    injected_errors: AtomicU64,
    dropped_connections: AtomicU64,
    throttled_requests: AtomicU64,
    exchange_throttled_requests: AtomicU64,
}

/// Knob settings plus their runtime state: the random source, fault-plan counters, throttling buckets and
/// statistics.
#[derive(Debug)]
pub struct KnobState {
    settings: RwLock<Knobs>,
    /// Latency, or any fault knob, is on (checked first by [`before_request`]).
    dispatch_active: AtomicBool,
    /// Any fault knob is on (checked first by the Graph layer).
    faults_active: AtomicBool,
    /// Graph identity throttling is on.
    throttling: AtomicBool,
    replication_delay_ms: AtomicU64,
    faults: Mutex<FaultState>,
    /// The throttling token buckets (used by [`crate::graph::throttle`]).
    pub(crate) buckets: ThrottleBuckets,
    stats: StatCounters,
}

impl Default for KnobState {
    fn default() -> KnobState {
        KnobState::new(Knobs::default())
    }
}

impl KnobState {
    /// State for the given settings (out-of-range values are clamped; see [`Knobs::validate`]).
    pub fn new(knobs: Knobs) -> KnobState {
        let state = KnobState {
            settings: RwLock::new(Knobs::default()),
            dispatch_active: AtomicBool::new(false),
            faults_active: AtomicBool::new(false),
            throttling: AtomicBool::new(false),
            replication_delay_ms: AtomicU64::new(0),
            faults: Mutex::new(FaultState { rng: ChaCha8Rng::seed_from_u64(0), counters: Vec::new(), epoch: None }),
            buckets: ThrottleBuckets::default(),
            stats: StatCounters::default(),
        };
        state.apply(knobs, None);
        state
    }

    /// A copy of the current settings (the admin API's `GET /_sandbox/knobs`).
    pub fn get(&self) -> Knobs {
        self.settings.read().clone()
    }

    /// Replaces the settings at run time (the admin API's `PUT /_sandbox/knobs`). Out-of-range values are
    /// clamped (call [`Knobs::validate`] first to refuse them instead). The random source is re-seeded, the
    /// fault-plan counters and throttling buckets start afresh, and fault windows are measured from the next
    /// affected request.
    pub fn set(&self, knobs: Knobs) {
        self.apply(knobs, None);
    }

    /// Like [`KnobState::set`], with fault windows measured from `now` (the sandbox clock).
    pub fn set_at(&self, knobs: Knobs, now: DateTime<Utc>) {
        self.apply(knobs, Some(now));
    }

    fn apply(&self, knobs: Knobs, epoch: Option<DateTime<Utc>>) {
        let knobs = knobs.clamped();
        let faults_on = knobs.error_rate > 0.0 || knobs.drop_rate > 0.0 || !knobs.fault_plan.is_empty();
        let mut settings = self.settings.write();
        {
            let mut faults = self.faults.lock();
            *faults = FaultState {
                rng: ChaCha8Rng::seed_from_u64(knobs.seed),
                counters: vec![0; knobs.fault_plan.len()],
                epoch,
            };
        }
        self.buckets.clear();
        self.replication_delay_ms.store(knobs.replication_delay_ms, Ordering::Relaxed);
        self.throttling.store(knobs.throttling, Ordering::Relaxed);
        self.faults_active.store(faults_on, Ordering::Relaxed);
        self.dispatch_active.store(faults_on || knobs.latency_ms > 0 || knobs.jitter_ms > 0, Ordering::Relaxed);
        *settings = knobs;
    }

    /// How long a newly created object stays invisible to reads (zero when the knob is off).
    pub fn replication_delay(&self) -> chrono::Duration {
        let ms = self.replication_delay_ms.load(Ordering::Relaxed);
        chrono::Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX / 1_000))
    }

    /// How long a new mailbox takes to provision (the `mailbox_provisioning_delay_ms` knob).
    pub fn mailbox_provisioning_delay(&self) -> chrono::Duration {
        let ms = self.settings.read().mailbox_provisioning_delay_ms;
        chrono::Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX / 1_000))
    }

    /// Whether Graph identity throttling is on.
    pub fn throttling(&self) -> bool {
        self.throttling.load(Ordering::Relaxed)
    }

    /// Counts one Exchange request refused by its rate or concurrency limit.
    pub fn count_exchange_throttled(&self) {
        self.stats.exchange_throttled_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// What the knobs have done so far.
    pub fn stats(&self) -> KnobStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        KnobStats {
            delayed_requests: load(&self.stats.delayed_requests),
            total_delay_ms: load(&self.stats.total_delay_ms),
            injected_errors: load(&self.stats.injected_errors),
            dropped_connections: load(&self.stats.dropped_connections),
            throttled_requests: load(&self.stats.throttled_requests),
            exchange_throttled_requests: load(&self.stats.exchange_throttled_requests),
        }
    }

    /// The fault (if any) for a Graph request, checked by the Graph layer. `in_batch` requests are never
    /// dropped (they have no connection of their own).
    pub fn graph_fault(&self, method: &http::Method, path: &str, in_batch: bool, now: DateTime<Utc>) -> Option<Fault> {
        if !self.faults_active.load(Ordering::Relaxed) {
            return None;
        }
        let settings = self.settings.read();
        let scope = if in_batch { FaultScope::NoDrops } else { FaultScope::All };
        let fault = self.faults.lock().decide(&settings, scope, method, path, now);
        if let Some(fault) = fault {
            self.count_fault(fault);
        }
        fault
    }

    /// Records a request refused by the throttling buckets.
    pub(crate) fn count_throttled(&self) {
        self.stats.throttled_requests.fetch_add(1, Ordering::Relaxed);
    }

    fn count_fault(&self, fault: Fault) {
        let counter = match fault {
            Fault::Drop => &self.stats.dropped_connections,
            Fault::Status { .. } | Fault::Throttle { .. } => &self.stats.injected_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The delay and (for services other than Graph) the fault for a request at the dispatcher.
    fn dispatch_decision(
        &self,
        service: Service,
        method: &http::Method,
        path: &str,
        now: DateTime<Utc>,
    ) -> Option<(u64, Option<Fault>)> {
        let settings = self.settings.read();
        let affected = match service {
            Service::Graph | Service::Exchange => true,
            Service::Login => settings.include_login,
            Service::SandboxAdmin => false,
        };
        if !affected {
            return None;
        }
        let mut faults = self.faults.lock();
        let jitter = if settings.jitter_ms > 0 { faults.rng.random_range(0..=settings.jitter_ms) } else { 0 };
        let delay = settings.latency_ms.saturating_add(jitter);
        let fault =
            if service == Service::Graph { None } else { faults.decide(&settings, FaultScope::All, method, path, now) };
        Some((delay, fault))
    }
}

/// Latency the dispatcher left for the service to spend itself (Exchange spends it while holding its
/// concurrency slot, as a slow server does), carried in the request's extensions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeferredLatency(pub u64);

impl DeferredLatency {
    /// Sleeps for the deferred latency.
    pub async fn spend(self) {
        if self.0 > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(self.0)).await;
        }
    }
}

/// Runs before a request reaches its service: sleeps for the emulated latency (for Exchange, leaves it in the
/// request as [`DeferredLatency`] for the service to spend) and, for Exchange (and the login host when
/// `include_login` is set), answers an injected fault or drops the connection. Graph faults are answered inside
/// Graph's envelope by [`crate::graph::throttle`].
pub async fn before_request(
    state: &AppState,
    context: &RequestContext,
    request: &mut axum::extract::Request,
) -> Option<Response> {
    let knobs = &state.knobs;
    if !knobs.dispatch_active.load(Ordering::Relaxed) {
        return None;
    }
    let (delay_ms, fault) =
        knobs.dispatch_decision(context.service, request.method(), request.uri().path(), state.clock.now())?;
    if delay_ms > 0 {
        knobs.stats.delayed_requests.fetch_add(1, Ordering::Relaxed);
        knobs.stats.total_delay_ms.fetch_add(delay_ms, Ordering::Relaxed);
        if context.service == Service::Exchange && fault.is_none() {
            request.extensions_mut().insert(DeferredLatency(delay_ms));
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        }
    }
    let fault = fault?;
    knobs.count_fault(fault);
    Some(faults::plain_response(fault, context.service == Service::Exchange))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_knobs_off_means_nothing_is_active() {
        let state = KnobState::new(Knobs::default());
        assert!(!state.dispatch_active.load(Ordering::Relaxed));
        assert!(!state.faults_active.load(Ordering::Relaxed));
        assert!(!state.throttling());
        assert_eq!(state.replication_delay(), chrono::Duration::zero());
    }

    #[test]
    fn set_replaces_the_settings_and_get_returns_them() {
        let state = KnobState::default();
        let knobs = Knobs { replication_delay_ms: 1_500, latency_ms: 3, ..Knobs::default() };
        state.set(knobs.clone());
        assert_eq!(state.get(), knobs);
        assert_eq!(state.replication_delay(), chrono::Duration::milliseconds(1_500));
        assert!(state.dispatch_active.load(Ordering::Relaxed));
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let knobs = Knobs { seed: 9, error_rate: 0.5, ..Knobs::default() };
        let run = || {
            let state = KnobState::new(knobs.clone());
            let now = Utc::now();
            (0..64).map(|_| state.graph_fault(&http::Method::GET, "/v1.0/users", false, now)).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.iter().any(Option::is_some) && first.iter().any(Option::is_none));
    }
}
