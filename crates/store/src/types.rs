//! The values the store takes and gives back: run identifiers, statuses, step journal records and audit entries.
//!
//! These are plain data; `Store` (in `store.rs`) turns them into rows and back. Statuses are stored as the
//! lower-case words returned by `as_str`, timestamps as RFC 3339 text in UTC (see `time.rs`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use model::{Plan, StepId};
use serde::{Deserialize, Serialize};

/// A run's identifier, assigned by the store when the run is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for RunId {
    type Err = InvalidRunId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().parse::<i64>() {
            Ok(id) if id > 0 => Ok(Self(id)),
            _ => Err(InvalidRunId(text.to_owned())),
        }
    }
}

/// A text that is not a run identifier (a positive whole number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a run id: run ids are positive whole numbers, as `tenure runs` lists them")]
pub struct InvalidRunId(pub String);

/// A status word read from the database that this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status `{0}`")]
pub struct UnknownStatus(pub String);

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Planned, not (yet) applied: a dry run, or a run waiting to start.
    Planned,
    /// Being applied; a run still in this status after the process ended was interrupted (a crash).
    Running,
    /// Applied; every step done.
    Succeeded,
    /// Applied with failures, or aborted.
    Failed,
    /// Not applied because the plan breaches a safety limit.
    Blocked,
}

impl RunStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [Self::Planned, Self::Running, Self::Succeeded, Self::Failed, Self::Blocked];

    /// The word stored in the database and shown to admins.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Blocked => "blocked",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|status| status.as_str() == text).ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

/// Where a step of a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Not started.
    Pending,
    /// Sent (or about to be); the outcome is not known yet.
    Running,
    /// Finished successfully.
    Done,
    /// Finished with an error (after retries).
    Failed,
    /// Waiting for Exchange (a mailbox not provisioned yet, a conversion not visible yet) beyond the run's wait
    /// budget, or not attempted because a step it depends on is waiting: the run still finishes, and the next
    /// run plans it again from what it observes. A resumed run checks it again, as if pending.
    Waiting,
}

impl StepStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [Self::Pending, Self::Running, Self::Done, Self::Failed, Self::Waiting];

    /// The word stored in the database and shown to admins.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Waiting => "waiting",
        }
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StepStatus {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|status| status.as_str() == text).ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

/// What `Store::create_run` records.
#[derive(Debug, Clone, Copy)]
pub struct NewRun<'a> {
    /// What started the run (`"schedule"`, `"cli"`, `"webhook"`, …).
    pub trigger: &'a str,
    /// The policy revision (sha256 hex) the plan was made with.
    pub policy_revision: &'a str,
    /// The plan; every step is journalled as pending.
    pub plan: &'a Plan,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// Whether the run only plans (nothing is applied).
    pub dry_run: bool,
}

/// Counts recorded when a run finishes. Stored as JSON, so fields can be added later.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunTotals {
    /// Steps in the plan.
    pub planned: u32,
    /// Steps done.
    pub done: u32,
    /// Steps failed.
    pub failed: u32,
    /// Steps not attempted (a dependency failed, the run was blocked or aborted).
    pub skipped: u32,
    /// Workers the planner left alone.
    pub skipped_workers: u32,
    /// Steps left waiting for Exchange (and the steps that depend on them) when the run ended.
    pub waiting: u32,
}

/// A run without its plan: what lists show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// The run's id.
    pub id: RunId,
    /// What started it.
    pub trigger: String,
    /// Its status.
    pub status: RunStatus,
    /// The policy revision its plan was made with.
    pub policy_revision: String,
    /// Whether it only planned.
    pub dry_run: bool,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished, once it has.
    pub finished_at: Option<DateTime<Utc>>,
    /// The totals recorded when it finished.
    pub totals: Option<RunTotals>,
}

/// One step's journal record: the latest status the executor recorded for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepJournal {
    /// The step.
    pub step: StepId,
    /// `Action::kind` of the step (`"create user"`, …).
    pub action_kind: String,
    /// The worker the step is for, when it is for one.
    pub worker: Option<String>,
    /// The latest status.
    pub status: StepStatus,
    /// How many times it was attempted.
    pub attempts: u32,
    /// Microsoft's `request-id` of the last attempt.
    pub request_id: Option<String>,
    /// The object the step created or acted on, once known (the new user's id for a create).
    pub object_id: Option<String>,
    /// The last error.
    pub error: Option<String>,
    /// When the record last changed.
    pub updated_at: DateTime<Utc>,
}

/// A run with its plan and every step's journal record (in step order).
#[derive(Debug, Clone, PartialEq)]
pub struct RunDetail {
    /// The run.
    pub summary: RunSummary,
    /// The plan, as stored when the run was created.
    pub plan: Plan,
    /// One record per plan step, ordered by step id.
    pub steps: Vec<StepJournal>,
}

/// What the executor reports about one step (`Store::record_steps`).
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    /// The step.
    pub step: StepId,
    /// Its new status.
    pub status: StepStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// Microsoft's `request-id` of the last attempt.
    pub request_id: Option<String>,
    /// The object created or acted on.
    pub object_id: Option<String>,
    /// The error, when it failed.
    pub error: Option<String>,
    /// An audit entry to append (for a change made in the tenant).
    pub audit: Option<NewAuditEntry>,
}

/// An audit entry to append: one change made in the tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// The worker (employee ID) the change was for.
    pub worker: Option<String>,
    /// What was done (`Action::kind`).
    pub action: String,
    /// The object changed (UPN, group name or object id).
    pub target: String,
    /// The values before the change.
    pub before: serde_json::Value,
    /// The values after the change (never a password).
    pub after: serde_json::Value,
    /// Why (the step's reason).
    pub reason: String,
    /// The policy revision in force.
    pub policy_revision: String,
    /// When the change was made.
    pub at: DateTime<Utc>,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Its id; later entries have higher ids.
    pub id: i64,
    /// The run that made the change.
    pub run: RunId,
    /// The step that made it.
    pub step: StepId,
    /// The worker it was for.
    pub worker: Option<String>,
    /// What was done.
    pub action: String,
    /// The object changed.
    pub target: String,
    /// The values before.
    pub before: serde_json::Value,
    /// The values after.
    pub after: serde_json::Value,
    /// Why.
    pub reason: String,
    /// The policy revision in force.
    pub policy_revision: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Which audit entries `Store::list_audit` returns, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries made by this run.
    pub run: Option<RunId>,
    /// Only entries for this worker (employee ID).
    pub worker: Option<String>,
    /// At most this many entries.
    pub limit: u32,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self { run: None, worker: None, limit: 100 }
    }
}

/// A cached observation of a tenant (`Store::save_observation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedObservation {
    /// The tenant.
    pub tenant: String,
    /// The observed state, as JSON.
    pub observed_json: String,
    /// The delta links to continue from, as JSON.
    pub delta_links_json: String,
    /// When the last full observation was made.
    pub full_at: DateTime<Utc>,
    /// When the cache was last written.
    pub updated_at: DateTime<Utc>,
}
