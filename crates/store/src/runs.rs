//! Runs, their step journals and the audit log: the executor's crash-safe record of what it did.
//!
//! `create_run` journals every plan step as pending in one transaction; `record_steps` moves steps along and
//! appends audit entries in one transaction; a run still `running` when the process starts again was interrupted
//! (`unfinished_runs`) and `load_run` tells the executor where it stopped. Bulk writes are multi-row statements in
//! chunks, so a 30,000-step plan costs a few dozen round trips, not 30,000.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::Utc;
use model::{Plan, StepId};
use sqlx::AssertSqlSafe;

use crate::error::{Error, Result};
use crate::store::{Placeholders, Store};
use crate::time;
use crate::types::{
    AuditEntry, AuditQuery, NewAuditEntry, NewRun, RunDetail, RunId, RunStatus, RunSummary, RunTotals, StepJournal,
    StepRecord, StepStatus,
};

/// Plan steps inserted per statement (5 parameters each; SQLite allows 32,766 per statement, PostgreSQL 65,535).
const STEP_INSERT_CHUNK: usize = 2_000;
/// Step records applied per statement (8 parameters each).
const STEP_UPDATE_CHUNK: usize = 1_000;
/// Audit entries inserted per statement (10 parameters each).
const AUDIT_INSERT_CHUNK: usize = 1_000;

const RUN_COLUMNS: &str = r#"id, "trigger", status, policy_revision, dry_run, started_at, finished_at, totals_json"#;

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    trigger: String,
    status: String,
    policy_revision: String,
    dry_run: bool,
    started_at: String,
    finished_at: Option<String>,
    totals_json: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RunWithPlan {
    #[sqlx(flatten)]
    run: RunRow,
    plan_json: String,
}

#[derive(sqlx::FromRow)]
struct StepRow {
    step_id: i64,
    action_kind: String,
    worker: Option<String>,
    status: String,
    attempts: i64,
    request_id: Option<String>,
    object_id: Option<String>,
    error: Option<String>,
    updated_at: String,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    run_id: i64,
    step_id: i64,
    worker: Option<String>,
    action: String,
    target: String,
    before_json: String,
    after_json: String,
    reason: String,
    policy_revision: String,
    at: String,
}

impl Store {
    /// Records a new run (status `planned`) and journals every step of its plan as pending, in one transaction.
    ///
    /// # Errors
    /// A database error (nothing is recorded then).
    pub async fn create_run(&self, new: &NewRun<'_>) -> Result<RunId> {
        let operation = format!("creating a run with {} steps", new.plan.steps.len());
        let plan_json = serde_json::to_string(new.plan).map_err(|source| Error::Serialize {
            operation: operation.clone(),
            what: "the plan",
            source,
        })?;
        let started_at = time::to_text(new.started_at);
        let now = time::to_text(Utc::now());
        let insert_run = "INSERT INTO runs (\"trigger\", status, policy_revision, dry_run, started_at, plan_json) \
                          VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        let style = self.placeholders();
        let id = in_transaction!(self, operation, |tx| {
            let id: i64 = sqlx::query_scalar(insert_run)
                .bind(new.trigger)
                .bind(RunStatus::Planned.as_str())
                .bind(new.policy_revision)
                .bind(new.dry_run)
                .bind(&started_at)
                .bind(&plan_json)
                .fetch_one(&mut *tx)
                .await
                .map_err(Error::database(operation.clone()))?;
            for chunk in new.plan.steps.chunks(STEP_INSERT_CHUNK) {
                let sql = values_sql(
                    style,
                    "INSERT INTO steps (run_id, step_id, action_kind, worker, updated_at, status, attempts) VALUES ",
                    chunk.len(),
                    5,
                    ", 'pending', 0",
                    "",
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
                for step in chunk {
                    query = query
                        .bind(id)
                        .bind(i64::from(step.id.0))
                        .bind(step.action.kind())
                        .bind(step.worker.as_ref().map(model::WorkerId::as_str))
                        .bind(&now);
                }
                query.execute(&mut *tx).await.map_err(Error::database(operation.clone()))?;
            }
            id
        });
        Ok(RunId(id))
    }

    /// Marks a run as being applied (status `running`); if the process dies, `unfinished_runs` lists it.
    ///
    /// # Errors
    /// A database error, or no such run.
    pub async fn mark_run_running(&self, run: RunId) -> Result<()> {
        let operation = format!("marking run {run} as running");
        let updated = on_pool!(self, |pool| {
            sqlx::query("UPDATE runs SET status = $1 WHERE id = $2")
                .bind(RunStatus::Running.as_str())
                .bind(run.0)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(Error::database(operation.clone()))?;
        if updated == 0 {
            return Err(Error::RunNotFound { operation, run });
        }
        Ok(())
    }

    /// Records the final status and totals of a run, and when it finished (now).
    ///
    /// # Errors
    /// A database error, or no such run.
    pub async fn finish_run(&self, run: RunId, status: RunStatus, totals: &RunTotals) -> Result<()> {
        let operation = format!("finishing run {run}");
        let totals_json = serde_json::to_string(totals).map_err(|source| Error::Serialize {
            operation: operation.clone(),
            what: "the totals",
            source,
        })?;
        let now = time::to_text(Utc::now());
        let updated = on_pool!(self, |pool| {
            sqlx::query("UPDATE runs SET status = $1, finished_at = $2, totals_json = $3 WHERE id = $4")
                .bind(status.as_str())
                .bind(&now)
                .bind(&totals_json)
                .bind(run.0)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(Error::database(operation.clone()))?;
        if updated == 0 {
            return Err(Error::RunNotFound { operation, run });
        }
        Ok(())
    }

    /// Records what happened to steps of a run and appends their audit entries, in one transaction. When a step
    /// appears more than once, its last record wins (every audit entry is kept).
    ///
    /// # Errors
    /// A database error, or steps (or a run) that do not exist; nothing is recorded then.
    pub async fn record_steps(&self, run: RunId, records: &[StepRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let operation = format!("saving the steps of run {run}");
        let mut latest: BTreeMap<StepId, &StepRecord> = BTreeMap::new();
        for record in records {
            latest.insert(record.step, record);
        }
        let updates: Vec<&StepRecord> = latest.into_values().collect();
        let audits: Vec<(StepId, &NewAuditEntry, String, String, String)> = records
            .iter()
            .filter_map(|record| record.audit.as_ref().map(|audit| (record.step, audit)))
            .map(|(step, audit)| {
                Ok((
                    step,
                    audit,
                    json_text(&audit.before, &operation)?,
                    json_text(&audit.after, &operation)?,
                    time::to_text(audit.at),
                ))
            })
            .collect::<Result<_>>()?;
        let now = time::to_text(Utc::now());
        let style = self.placeholders();
        in_transaction!(self, operation, |tx| {
            let mut updated = 0;
            for chunk in updates.chunks(STEP_UPDATE_CHUNK) {
                let sql = values_sql(
                    style,
                    "WITH v (run_id, step_id, status, attempts, request_id, object_id, error, updated_at) AS (VALUES ",
                    chunk.len(),
                    8,
                    "",
                    ") UPDATE steps SET status = v.status, attempts = v.attempts, request_id = v.request_id, \
                     object_id = v.object_id, error = v.error, updated_at = v.updated_at \
                     FROM v WHERE steps.run_id = v.run_id AND steps.step_id = v.step_id",
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
                for record in chunk {
                    query = query
                        .bind(run.0)
                        .bind(i64::from(record.step.0))
                        .bind(record.status.as_str())
                        .bind(i64::from(record.attempts))
                        .bind(record.request_id.as_deref())
                        .bind(record.object_id.as_deref())
                        .bind(record.error.as_deref())
                        .bind(&now);
                }
                let done = query.execute(&mut *tx).await.map_err(Error::database(operation.clone()))?;
                updated += done.rows_affected();
            }
            if updated != updates.len() as u64 {
                let known: Vec<i64> = sqlx::query_scalar("SELECT step_id FROM steps WHERE run_id = $1")
                    .bind(run.0)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(Error::database(operation.clone()))?;
                if known.is_empty() {
                    return Err(Error::RunNotFound { operation, run });
                }
                let known: std::collections::BTreeSet<i64> = known.into_iter().collect();
                let missing: Vec<String> = updates
                    .iter()
                    .filter(|record| !known.contains(&i64::from(record.step.0)))
                    .map(|record| record.step.to_string())
                    .collect();
                return Err(Error::UnknownSteps { operation, run, steps: missing.join(", ") });
            }
            for chunk in audits.chunks(AUDIT_INSERT_CHUNK) {
                let sql = values_sql(
                    style,
                    "INSERT INTO audit_entries (run_id, step_id, worker, action, target, before_json, after_json, \
                     reason, policy_revision, at) VALUES ",
                    chunk.len(),
                    10,
                    "",
                    "",
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
                for (step, audit, before, after, at) in chunk {
                    query = query
                        .bind(run.0)
                        .bind(i64::from(step.0))
                        .bind(audit.worker.as_deref())
                        .bind(audit.action.as_str())
                        .bind(audit.target.as_str())
                        .bind(before.as_str())
                        .bind(after.as_str())
                        .bind(audit.reason.as_str())
                        .bind(audit.policy_revision.as_str())
                        .bind(at.as_str());
                }
                query.execute(&mut *tx).await.map_err(Error::database(operation.clone()))?;
            }
        });
        Ok(())
    }

    /// A run with its plan and the journal record of every step.
    ///
    /// # Errors
    /// A database error, no such run, or a stored plan this version cannot read.
    pub async fn load_run(&self, run: RunId) -> Result<RunDetail> {
        let operation = format!("loading run {run}");
        let select_run = format!("SELECT {RUN_COLUMNS}, plan_json FROM runs WHERE id = $1");
        let select_steps = "SELECT step_id, action_kind, worker, status, attempts, request_id, object_id, error, \
                            updated_at FROM steps WHERE run_id = $1 ORDER BY step_id";
        let (row, steps) = on_pool!(self, |pool| {
            let row =
                sqlx::query_as::<_, RunWithPlan>(AssertSqlSafe(select_run)).bind(run.0).fetch_optional(pool).await;
            match row {
                Ok(Some(row)) => {
                    sqlx::query_as::<_, StepRow>(select_steps).bind(run.0).fetch_all(pool).await.map(|s| (Some(row), s))
                }
                Ok(None) => Ok((None, Vec::new())),
                Err(error) => Err(error),
            }
        })
        .map_err(Error::database(operation.clone()))?;
        let Some(RunWithPlan { run: summary, plan_json }) = row else {
            return Err(Error::RunNotFound { operation, run });
        };
        let plan: Plan = serde_json::from_str(&plan_json)
            .map_err(|e| Error::corrupt(&operation, format!("plan_json of run {run}"), e))?;
        let steps = steps.into_iter().map(|row| step_journal(row, &operation)).collect::<Result<_>>()?;
        Ok(RunDetail { summary: run_summary(summary, &operation)?, plan, steps })
    }

    /// Runs left `running`: the process applying them ended before they finished (a crash, a kill).
    ///
    /// # Errors
    /// A database error.
    pub async fn unfinished_runs(&self) -> Result<Vec<RunSummary>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE status = $1 ORDER BY id");
        self.select_runs("listing unfinished runs", sql, RunStatus::Running.as_str().to_owned()).await
    }

    /// The latest runs, newest (last created) first.
    ///
    /// # Errors
    /// A database error.
    pub async fn list_runs(&self, limit: u32) -> Result<Vec<RunSummary>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT $1");
        self.select_runs("listing runs", sql, i64::from(limit)).await
    }

    /// Audit entries, newest first, optionally only those of one run and/or one worker.
    ///
    /// # Errors
    /// A database error, or unreadable stored values.
    pub async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let operation = "listing audit entries".to_owned();
        let mut sql = "SELECT id, run_id, step_id, worker, action, target, before_json, after_json, reason, \
                       policy_revision, at FROM audit_entries WHERE 1 = 1"
            .to_owned();
        let mut next = 1;
        if query.run.is_some() {
            let _ = write!(sql, " AND run_id = ${next}");
            next += 1;
        }
        if query.worker.is_some() {
            let _ = write!(sql, " AND worker = ${next}");
            next += 1;
        }
        let _ = write!(sql, " ORDER BY id DESC LIMIT ${next}");
        let rows = on_pool!(self, |pool| {
            let mut select = sqlx::query_as::<_, AuditRow>(AssertSqlSafe(sql.clone()));
            if let Some(run) = query.run {
                select = select.bind(run.0);
            }
            if let Some(worker) = &query.worker {
                select = select.bind(worker.as_str());
            }
            select.bind(i64::from(query.limit)).fetch_all(pool).await
        })
        .map_err(Error::database(operation.clone()))?;
        rows.into_iter().map(|row| audit_entry(row, &operation)).collect()
    }

    async fn select_runs<T>(&self, operation: &str, sql: String, parameter: T) -> Result<Vec<RunSummary>>
    where
        T: Clone + Send + for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
        T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, RunRow>(AssertSqlSafe(sql.clone())).bind(parameter.clone()).fetch_all(pool).await
        })
        .map_err(Error::database(operation))?;
        rows.into_iter().map(|row| run_summary(row, operation)).collect()
    }
}

/// Builds `prefix (row 0), (row 1), … suffix` for a multi-row statement: each row is `columns` placeholders
/// followed by `row_literals` (constant SQL such as `, 'pending', 0`), and every value is bound per row, in order.
///
/// SQLite gets anonymous `?` placeholders: numbered or named ones make SQLite look each one up in a list, which
/// is quadratic in the number of parameters of such large statements. PostgreSQL needs `$1`, `$2`, ….
fn values_sql(
    style: Placeholders,
    prefix: &str,
    rows: usize,
    columns: usize,
    row_literals: &str,
    suffix: &str,
) -> String {
    let mut sql = String::with_capacity(prefix.len() + suffix.len() + rows * (columns * 8 + row_literals.len() + 4));
    sql.push_str(prefix);
    let mut next = 1;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match style {
                Placeholders::Anonymous => sql.push('?'),
                Placeholders::Numbered => {
                    let _ = write!(sql, "${next}");
                }
            }
            next += 1;
        }
        sql.push_str(row_literals);
        sql.push(')');
    }
    sql.push_str(suffix);
    sql
}

fn json_text(value: &serde_json::Value, operation: &str) -> Result<String> {
    serde_json::to_string(value).map_err(|source| Error::Serialize {
        operation: operation.to_owned(),
        what: "an audit value",
        source,
    })
}

fn run_summary(row: RunRow, operation: &str) -> Result<RunSummary> {
    let run = RunId(row.id);
    let totals = match row.totals_json {
        None => None,
        Some(json) => Some(
            serde_json::from_str(&json).map_err(|e| Error::corrupt(operation, format!("totals of run {run}"), e))?,
        ),
    };
    Ok(RunSummary {
        id: run,
        trigger: row.trigger,
        status: row.status.parse().map_err(|e| Error::corrupt(operation, format!("status of run {run}"), e))?,
        policy_revision: row.policy_revision,
        dry_run: row.dry_run,
        started_at: time::from_text(&row.started_at)
            .map_err(|e| Error::corrupt(operation, format!("started_at of run {run}"), e))?,
        finished_at: row
            .finished_at
            .map(|at| time::from_text(&at))
            .transpose()
            .map_err(|e| Error::corrupt(operation, format!("finished_at of run {run}"), e))?,
        totals,
    })
}

fn step_journal(row: StepRow, operation: &str) -> Result<StepJournal> {
    let step = step_id(row.step_id, operation)?;
    let status: StepStatus =
        row.status.parse().map_err(|e| Error::corrupt(operation, format!("status of step {step}"), e))?;
    Ok(StepJournal {
        step,
        action_kind: row.action_kind,
        worker: row.worker,
        status,
        attempts: u32::try_from(row.attempts)
            .map_err(|e| Error::corrupt(operation, format!("attempts of step {step}"), e))?,
        request_id: row.request_id,
        object_id: row.object_id,
        error: row.error,
        updated_at: time::from_text(&row.updated_at)
            .map_err(|e| Error::corrupt(operation, format!("updated_at of step {step}"), e))?,
    })
}

fn audit_entry(row: AuditRow, operation: &str) -> Result<AuditEntry> {
    let what = |field: &str| format!("{field} of audit entry {}", row.id);
    Ok(AuditEntry {
        id: row.id,
        run: RunId(row.run_id),
        step: step_id(row.step_id, operation)?,
        before: serde_json::from_str(&row.before_json).map_err(|e| Error::corrupt(operation, what("before"), e))?,
        after: serde_json::from_str(&row.after_json).map_err(|e| Error::corrupt(operation, what("after"), e))?,
        at: time::from_text(&row.at).map_err(|e| Error::corrupt(operation, what("at"), e))?,
        worker: row.worker,
        action: row.action,
        target: row.target,
        reason: row.reason,
        policy_revision: row.policy_revision,
    })
}

fn step_id(value: i64, operation: &str) -> Result<StepId> {
    u32::try_from(value).map(StepId).map_err(|e| Error::corrupt(operation, format!("step id {value}"), e))
}
