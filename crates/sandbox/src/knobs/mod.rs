//! Realism knobs: latency, throttling, replication delay, injected failures — data set at start and at run
//! time, deterministic with a seed.

use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::dispatch::RequestContext;
use crate::state::AppState;

/// The knob settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Knobs {
    /// Seed of the random source behind jitter and injected faults.
    pub seed: u64,
}

/// Knob settings plus their runtime state (buckets, random source).
#[derive(Debug, Default)]
pub struct KnobState {
    /// Current settings.
    pub settings: parking_lot::RwLock<Knobs>,
}

impl KnobState {
    /// State for the given settings.
    pub fn new(knobs: Knobs) -> KnobState {
        KnobState { settings: parking_lot::RwLock::new(knobs) }
    }

    /// How long a newly created object stays invisible to reads (zero when the knob is off).
    pub fn replication_delay(&self) -> chrono::Duration {
        chrono::Duration::zero()
    }
}

/// Runs before a request reaches its service; a returned response (fault, drop) short-circuits it.
pub async fn before_request(
    _state: &AppState,
    _context: &RequestContext,
    _method: &http::Method,
    _uri: &http::Uri,
    _headers: &http::HeaderMap,
) -> Option<Response> {
    None
}
