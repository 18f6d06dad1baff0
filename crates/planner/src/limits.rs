//! The safety gate's arithmetic: how many destructive steps of each kind a plan holds, against the per-run limits.
//!
//! A limit is a count, a share of the managed accounts, or both (the smaller wins). [`check_limits`] lists every
//! limit a plan exceeds with the accounts affected, and [`LimitBreach`]'s `Display` is what an operator reads
//! when a run is blocked.

use std::collections::BTreeSet;
use std::fmt;

use model::{Action, Limit, Plan, SafetyLimits, Step};

/// How many entries of `affected` the `Display` form lists before summarising the rest.
const SHOWN: usize = 10;

/// The share part of a limit, when it is the binding one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShareLimit {
    /// The configured share (0.0–1.0).
    pub share: f64,
    /// The managed accounts it is a share of.
    pub managed_accounts: usize,
}

/// One per-run limit a plan exceeds.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitBreach {
    /// Which limit: `disables`, `deletes`, `license_removals` or `membership_removals`.
    pub limit: &'static str,
    /// How many the plan would do.
    pub count: usize,
    /// How many the limit allows.
    pub allowed: usize,
    /// The affected accounts (employee ID, else object ID), each once, in plan order.
    pub affected: Vec<String>,
    /// Set when the share (rather than the count) gave `allowed`.
    pub share: Option<ShareLimit>,
}

impl fmt::Display for LimitBreach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.limit {
            "disables" => "accounts would be disabled",
            "deletes" => "accounts would be deleted",
            "license_removals" => "licences would be removed",
            _ => "group, list or shared-mailbox memberships would be removed",
        };
        write!(f, "safety limit \"{}\" exceeded: {} {what}, the limit is {}", self.limit, self.count, self.allowed)?;
        if let Some(share) = self.share {
            let percent = format!("{:.2}", share.share * 100.0);
            let percent = percent.trim_end_matches('0').trim_end_matches('.');
            write!(f, " ({percent}% of {} managed accounts)", share.managed_accounts)?;
        }
        if !self.affected.is_empty() {
            let shown: Vec<&str> = self.affected.iter().take(SHOWN).map(String::as_str).collect();
            write!(f, ": {}", shown.join(", "))?;
            if self.affected.len() > SHOWN {
                write!(f, ", … (and {} more)", self.affected.len() - SHOWN)?;
            }
        }
        Ok(())
    }
}

/// A limit's name, its setting and how many units one step counts for.
type Check<'a> = (&'static str, &'a Limit, fn(&Action) -> usize);

/// Who a step affects, for the breach listing.
fn affected(step: &Step) -> String {
    if let Some(worker) = &step.worker {
        return worker.to_string();
    }
    match &step.action {
        Action::DeleteUser { user } | Action::RemoveMember { member: user, .. } => user.to_string(),
        _ => format!("step {}", step.id),
    }
}

/// The number allowed by `limit` for `managed` accounts (the smaller of count and share), and whether the share
/// was the binding part; `None` when the limit sets neither.
fn allowed(limit: &Limit, managed: usize) -> Option<(usize, bool)> {
    let by_count = limit.max_count.map(|count| usize::try_from(count).unwrap_or(usize::MAX));
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    // A share of a small base rounds down to nothing; a share limit always lets one through, so that a tenant of
    // five accounts can still lose one leaver without an override.
    let by_share = limit.max_share.map(|share| ((share.clamp(0.0, 1.0) * managed as f64).floor() as usize).max(1));
    match (by_count, by_share) {
        (Some(count), Some(share)) if share <= count => Some((share, true)),
        (Some(count), _) => Some((count, false)),
        (None, Some(share)) => Some((share, true)),
        (None, None) => None,
    }
}

/// Every limit in `limits` that `plan` exceeds (a count over the smaller of the limit's count and share of
/// `plan.managed_accounts`), in the order disables, deletes, licence removals, membership removals.
#[must_use]
pub fn check_limits(plan: &Plan, limits: &SafetyLimits) -> Vec<LimitBreach> {
    let checks: [Check<'_>; 4] = [
        ("disables", &limits.disables, |action| usize::from(matches!(action, Action::DisableAccount { .. }))),
        ("deletes", &limits.deletes, |action| usize::from(matches!(action, Action::DeleteUser { .. }))),
        ("license_removals", &limits.license_removals, |action| match action {
            Action::AssignLicenses { remove, .. } => remove.len(),
            _ => 0,
        }),
        // Exchange's lists and shared-mailbox rights count with the groups: a wave of removals is as suspect there.
        ("membership_removals", &limits.membership_removals, |action| {
            usize::from(matches!(
                action,
                Action::RemoveMember { .. } | Action::RemoveMailListMember { .. } | Action::RevokeMailboxRight { .. }
            ))
        }),
    ];
    let mut breaches = Vec::new();
    for (name, limit, weight) in checks {
        let Some((allowed, by_share)) = allowed(limit, plan.managed_accounts) else { continue };
        let mut count = 0;
        let mut seen = BTreeSet::new();
        let mut who = Vec::new();
        for step in &plan.steps {
            let n = weight(&step.action);
            if n == 0 {
                continue;
            }
            count += n;
            let name = affected(step);
            if seen.insert(name.clone()) {
                who.push(name);
            }
        }
        if count > allowed {
            let share = by_share.then(|| ShareLimit {
                share: limit.max_share.unwrap_or_default(),
                managed_accounts: plan.managed_accounts,
            });
            breaches.push(LimitBreach { limit: name, count, allowed, affected: who, share });
        }
    }
    breaches
}
