//! Pure: desired vs observed → an ordered, dependency-aware, explained [`Plan`]; rendering and safety gates.
//!
//! [`plan`] matches every worker of the desired state to an account of the observed tenant (employee ID, earlier
//! IDs, soft-deleted accounts for rehires, optionally a secondary key), chooses names for new accounts and emits
//! the steps that close the gap, each with its reason and the earlier steps it depends on. [`render_text`] and
//! [`render_json`] show a plan to people and machines, [`check_limits`] is the safety gate's arithmetic, and
//! [`simulate::apply_plan`] models a perfect apply so tests can check that planning converges.
//!
//! Nothing here reads the clock, the environment or the network; the same inputs always give the same plan.

mod build;
mod exchange;
mod limits;
mod matching;
mod render;
pub mod simulate;

use chrono::{DateTime, Utc};
use model::{DesiredState, ObservedState, Plan};

pub use limits::{LimitBreach, ShareLimit, check_limits};
pub use render::{render_json, render_text, render_text_with_names};

/// Computes the steps that bring `observed` in line with `desired`.
///
/// Pure and deterministic: the result depends only on the contents of the inputs (not on the order of
/// `desired.accounts`), and odd input (duplicates, dangling references, unknown groups or licences) becomes
/// skipped workers and diagnostics rather than a panic. `now` is the planning instant; lifecycle stages are
/// already computed by the policy, so it only anchors the plan in time.
#[must_use]
pub fn plan(desired: &DesiredState, observed: &ObservedState, now: DateTime<Utc>) -> Plan {
    let _ = now;
    build::plan(desired, observed)
}
