//! The safety gate between plan and apply: a plan over a per-run limit (mass disables, deletes, licence or
//! membership removals) stops before its first step, says which limit and who is affected, and goes ahead only
//! with an explicit override.

use model::{Plan, SafetyLimits};
use planner::LimitBreach;

/// What the gate decided.
#[derive(Debug)]
pub enum GateDecision {
    /// Within every limit.
    Pass,
    /// Over a limit, but the operator overrode the limits for this run.
    Overridden(Vec<LimitBreach>),
    /// Over a limit: the run must not start.
    Blocked(Vec<LimitBreach>),
}

/// Checks `plan` against `limits`; `override_limits` lets an over-limit plan through (and says so).
#[must_use]
pub fn gate(plan: &Plan, limits: &SafetyLimits, override_limits: bool) -> GateDecision {
    let breaches = planner::check_limits(plan, limits);
    if breaches.is_empty() {
        GateDecision::Pass
    } else if override_limits {
        GateDecision::Overridden(breaches)
    } else {
        GateDecision::Blocked(breaches)
    }
}
