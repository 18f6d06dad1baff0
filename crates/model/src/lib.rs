//! Tenure's pure vocabulary: the identities, HR records and diagnostics every other crate speaks in.
//!
//! Nothing here does I/O or reads the clock; the crate is a leaf that the pure core (`policy`, `planner`) and the
//! I/O crates (`hr-source`, `graph`, …) share. Types are plain structs and enums; they derive `Serialize` only
//! where we persist them on purpose.

#![warn(missing_docs)]

mod country;
mod diagnostic;
mod snapshot;
mod worker;
mod worker_id;

pub use country::{CountryCode, InvalidCountryCode};
pub use diagnostic::{Diagnostic, Severity, SourceLocation};
pub use snapshot::HrSnapshot;
pub use worker::{Worker, WorkerStatus};
pub use worker_id::{InvalidWorkerId, WorkerId};
