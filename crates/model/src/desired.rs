//! The desired side of the vocabulary: what every worker's account *should* be now, as the policy computes it
//! from HR (`policy::desired_state`), plus the policy settings the planner needs (scope, limits, matching).
//!
//! Names are given as ordered candidate lists rather than final values: only the planner, which sees the
//! observed tenant, can tell which candidate is still free.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{
    AttributeMap, DesiredExchange, Diagnostic, DirectoryUser, GroupKind, SourceLocation, UserAttribute, VecMap,
    WorkerId,
};

/// Where a worker is in their lifecycle on the planning day, as the policy derives it from status and dates in the
/// worker's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LifecycleStage {
    /// Too early to create the account (it will be created on `create_on`); an existing account is left alone.
    NotYet {
        /// The first day the account may be created.
        create_on: NaiveDate,
    },
    /// Created ahead of the start date and kept disabled until it.
    PreHire {
        /// The start date (in the worker's time zone).
        start_date: NaiveDate,
    },
    /// Working: the account is enabled.
    Active,
    /// On a leave of absence.
    OnLeave {
        /// The leave type as HR names it.
        leave_type: Option<String>,
        /// Whether the policy keeps the account enabled for this type of leave.
        keep_enabled: bool,
    },
    /// Left: disabled, password reset, sessions revoked, memberships and licences removed.
    Terminated {
        /// The last working day.
        last_day: NaiveDate,
    },
    /// Left long enough ago that the policy deletes the account (soft delete, restorable for 30 days).
    Delete {
        /// The last working day.
        last_day: NaiveDate,
    },
}

impl LifecycleStage {
    /// Whether an account should exist (in the live directory) at this stage.
    #[must_use]
    pub fn account_exists(&self) -> bool {
        !matches!(self, Self::NotYet { .. } | Self::Delete { .. })
    }

    /// Whether the account should be enabled (able to sign in) at this stage.
    #[must_use]
    pub fn account_enabled(&self) -> bool {
        match self {
            Self::Active => true,
            Self::OnLeave { keep_enabled, .. } => *keep_enabled,
            Self::NotYet { .. } | Self::PreHire { .. } | Self::Terminated { .. } | Self::Delete { .. } => false,
        }
    }

    /// A short name for plans and logs (`active`, `pre-hire`, `leave`, `terminated`, …).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::NotYet { .. } => "not yet",
            Self::PreHire { .. } => "pre-hire",
            Self::Active => "active",
            Self::OnLeave { .. } => "leave",
            Self::Terminated { .. } => "terminated",
            Self::Delete { .. } => "delete",
        }
    }
}

/// One naming choice for a new account: UPN, `mailNickname` and `mail` rendered together from one candidate
/// template (and counter), tried in order until all three are free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameCandidate {
    /// `userPrincipalName` (`ada.lovelace@contoso.com`).
    pub user_principal_name: String,
    /// `mailNickname` (`ada.lovelace`).
    pub mail_nickname: String,
    /// `mail`, when the policy sets one.
    pub mail: Option<String>,
}

/// A value that identifies an existing account when the employee ID does not (for adopting accounts that
/// predate Tenure); used only when [`MatchingOptions::adopt_by_secondary_key`] is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecondaryKey {
    /// Match `userPrincipalName`, ignoring case.
    UserPrincipalName(String),
    /// Match `mail` or any proxy address, ignoring case.
    Mail(String),
}

/// What one worker's account should be now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredAccount {
    /// The HR employee ID (the matching key, written to `employeeId`).
    pub worker_id: WorkerId,
    /// Where the HR record came from.
    pub origin: SourceLocation,
    /// The lifecycle stage on the planning day.
    pub stage: LifecycleStage,
    /// Naming candidates for a new account, in order of preference (counters already expanded).
    pub name_candidates: Vec<NameCandidate>,
    /// Desired values of the managed attributes; a managed attribute missing here should be empty.
    pub attributes: AttributeMap,
    /// The manager's employee ID.
    pub manager: Option<WorkerId>,
    /// Groups (by `mailNickname`) the worker should be a member of → the rule that puts them there.
    pub groups: VecMap<String, String>,
    /// Licences (by SKU part number) the worker should hold → the rule that assigns them.
    pub licenses: VecMap<String, String>,
    /// Earlier employee IDs of the same person (a contractor converted to an employee): their account is kept.
    pub previous_ids: Vec<WorkerId>,
    /// A secondary key for adopting an account that has no employee ID yet.
    pub secondary_key: Option<SecondaryKey>,
    /// Never delete this account (its mailbox must be kept).
    pub keep_account: bool,
}

/// A group the policy's rules refer to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredGroup {
    /// `mailNickname`: the key rules use.
    pub mail_nickname: String,
    /// `displayName` to give the group if Tenure creates it.
    pub display_name: String,
    /// Security group or Microsoft 365 group.
    pub kind: GroupKind,
    /// Whether Tenure may create the group when it does not exist (otherwise: a diagnostic, memberships skipped).
    pub create_if_missing: bool,
}

/// The accounts Tenure may touch; anything outside is never read into a plan step, let alone written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedScope {
    /// UPN domains (lower-case, without `@`) of managed accounts; empty = any domain.
    pub upn_domains: Vec<String>,
    /// UPNs (lower-case) that are never managed (break-glass and service accounts).
    pub exclude_upns: BTreeSet<String>,
    /// Manage only accounts that carry an employee ID (plus those adopted by secondary key in this plan).
    pub require_employee_id: bool,
}

impl ManagedScope {
    /// Whether `user` is inside the managed scope.
    #[must_use]
    pub fn contains(&self, user: &DirectoryUser) -> bool {
        let upn = user.user_principal_name.to_ascii_lowercase();
        if self.exclude_upns.contains(&upn) {
            return false;
        }
        if !self.upn_domains.is_empty() {
            let domain = upn.rsplit_once('@').map_or("", |(_, domain)| domain);
            if !self.upn_domains.iter().any(|allowed| allowed == domain) {
                return false;
            }
        }
        !self.require_employee_id || user.employee_id().is_some()
    }
}

/// A limit on one kind of destructive step per run, as a count and as a share of managed accounts; a run over
/// either stops before its first step unless explicitly overridden.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    /// At most this many.
    pub max_count: Option<u32>,
    /// At most this share (0.0–1.0) of the managed accounts.
    pub max_share: Option<f64>,
}

/// The per-run safety limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SafetyLimits {
    /// Accounts disabled.
    pub disables: Limit,
    /// Accounts deleted.
    pub deletes: Limit,
    /// Licence removals (one per user and SKU).
    pub license_removals: Limit,
    /// Group membership removals (one per user and group).
    pub membership_removals: Limit,
}

/// How workers are matched to existing accounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchingOptions {
    /// Adopt an account without an employee ID when the worker's secondary key matches it.
    pub adopt_by_secondary_key: bool,
    /// A leaver is removed from every assigned security and Microsoft 365 group, not only the groups rules name.
    pub leaver_removes_all_memberships: bool,
}

/// Everything the planner needs to know about what should be.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DesiredState {
    /// One entry per valid worker, ordered by employee ID.
    pub accounts: Vec<DesiredAccount>,
    /// The groups rules refer to, by `mailNickname`.
    pub groups: BTreeMap<String, DesiredGroup>,
    /// The attributes Tenure writes; others are never touched.
    pub managed_attributes: BTreeSet<UserAttribute>,
    /// The licences (SKU part numbers) Tenure assigns and removes; others are never touched.
    pub managed_skus: BTreeSet<String>,
    /// Which accounts Tenure may touch.
    pub scope: ManagedScope,
    /// Per-run safety limits.
    pub limits: SafetyLimits,
    /// Matching options.
    pub matching: MatchingOptions,
    /// Problems found while computing the desired state (bad expressions, unknown time zones, …).
    pub diagnostics: Vec<Diagnostic>,
    /// The hash of the policy revision this was computed with.
    pub policy_revision: String,
    /// Exchange Online: lists, shared mailboxes and leavers' mailboxes (empty when `[exchange]` is off).
    pub exchange: DesiredExchange,
}
