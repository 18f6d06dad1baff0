//! Orchestration of a run — the one flow, read top to bottom in [`run`]: read HR → desire → observe → plan →
//! gate → apply → record.
//!
//! `engine` wires the pure core (`policy`, `planner`) to the I/O leaves (`hr-source`, `graph`, `store`, `vault`).
//! It owns the executor that applies a plan through Graph with a journal in the store, so that a run killed at
//! any point resumes without duplicates.

pub mod config;
pub mod connections;
pub mod exchange_gate;
pub mod exchange_observe;
pub mod executor;
pub mod gate;
pub mod inputs;
pub mod observe;
pub mod permission_gate;
pub mod progress;
pub mod run;

pub use config::{ConnectionConfig, EngineConfig, HrConfig, StoreConfig};
pub use exchange_observe::observe_exchange;
pub use executor::{ApplyReport, apply_plan};
pub use gate::{GateDecision, gate};
pub use inputs::{Inputs, load_inputs};
pub use progress::{Progress, SilentProgress};
pub use run::{
    Context, Prepared, RunReport, RunTrigger, SyncOptions, connect, connect_stored, connect_with, endpoints, prepare,
    resume_unfinished, sync,
};
