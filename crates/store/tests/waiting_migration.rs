//! Migration 0005 on SQLite: a store written by the previous schema (0001–0004) keeps its runs, steps and audit
//! entries when `steps` (and, with it, `audit_entries`) is rebuilt to allow the `waiting` status, and the
//! rebuilt tables keep their foreign keys and the audit entries' id sequence.

use std::path::Path;

use model::{Plan, StepId};
use sqlx::migrate::Migrator;
use sqlx::{Connection, Row};
use store::{AuditQuery, NewAuditEntry, RunId, StepRecord, StepStatus, Store};

const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
const BEFORE_WAITING: [&str; 4] =
    ["0001_initial.sql", "0002_connections.sql", "0003_admin_accounts.sql", "0004_observation_states.sql"];

/// A SQLite file at `url` with the schema of migrations 0001–0004 and one run holding two steps, one of them
/// with an audit entry.
async fn store_before_waiting(dir: &Path, url: &str) {
    let old = dir.join("old-migrations");
    std::fs::create_dir(&old).unwrap();
    for file in BEFORE_WAITING {
        std::fs::copy(Path::new(MIGRATIONS).join(file), old.join(file)).unwrap();
    }
    let mut db = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc")).await.unwrap();
    Migrator::new(old.as_path()).await.unwrap().run(&mut db).await.unwrap();
    let plan = serde_json::to_string(&Plan::default()).unwrap();
    let at = "2026-01-02T03:04:05.000000Z";
    sqlx::query(
        "INSERT INTO runs (id, \"trigger\", status, policy_revision, dry_run, started_at, plan_json) \
         VALUES (7, 'cli', 'running', 'rev', false, $1, $2)",
    )
    .bind(at)
    .bind(&plan)
    .execute(&mut db)
    .await
    .unwrap();
    for (step, status) in [(0, "done"), (1, "pending")] {
        sqlx::query(
            "INSERT INTO steps (run_id, step_id, action_kind, worker, status, attempts, updated_at) \
             VALUES (7, $1, 'await mailbox', 'E1', $2, 1, $3)",
        )
        .bind(step)
        .bind(status)
        .bind(at)
        .execute(&mut db)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO audit_entries (id, run_id, step_id, worker, action, target, before_json, after_json, reason, \
         policy_revision, at) VALUES (41, 7, 0, 'E1', 'await mailbox', 'x@contoso.com', 'null', '{}', 'joiner', \
         'rev', $1)",
    )
    .bind(at)
    .execute(&mut db)
    .await
    .unwrap();
    db.close().await.unwrap();
}

#[tokio::test]
async fn the_waiting_status_migration_keeps_steps_audit_entries_and_their_links() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tenure.db").display());
    store_before_waiting(dir.path(), &url).await;

    let store = Store::open(&url).await.expect("migration 0005 applies to a store with data");
    let run = RunId(7);
    let detail = store.load_run(run).await.unwrap();
    let statuses: Vec<StepStatus> = detail.steps.iter().map(|step| step.status).collect();
    assert_eq!(statuses, [StepStatus::Done, StepStatus::Pending]);
    let audit = store.list_audit(&AuditQuery { run: Some(run), ..AuditQuery::default() }).await.unwrap();
    assert_eq!(audit.iter().map(|entry| entry.id).collect::<Vec<_>>(), [41]);

    let waiting = StepRecord {
        step: StepId(1),
        status: StepStatus::Waiting,
        attempts: 2,
        request_id: None,
        object_id: None,
        error: Some("the mailbox is not provisioned yet".into()),
        audit: Some(NewAuditEntry {
            worker: Some("E1".into()),
            action: "await mailbox".into(),
            target: "x@contoso.com".into(),
            before: serde_json::Value::Null,
            after: serde_json::json!({}),
            reason: "joiner".into(),
            policy_revision: "rev".into(),
            at: chrono::Utc::now(),
        }),
    };
    store.record_steps(run, &[waiting]).await.expect("the rebuilt table takes `waiting`");
    assert_eq!(store.load_run(run).await.unwrap().steps[1].status, StepStatus::Waiting);
    let audit = store.list_audit(&AuditQuery { run: Some(run), ..AuditQuery::default() }).await.unwrap();
    assert_eq!(audit.iter().map(|entry| entry.id).collect::<Vec<_>>(), [42, 41], "the id sequence carried over");
    store.close().await;

    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let references: Vec<String> = sqlx::query("SELECT \"table\" FROM pragma_foreign_key_list('audit_entries')")
        .fetch_all(&mut db)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>(0))
        .collect();
    assert_eq!(references, ["steps", "steps"], "audit entries refer to the rebuilt steps table");
    let dangling = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut db).await.unwrap();
    assert!(dangling.is_empty(), "{} rows break a foreign key", dangling.len());
    let refused = sqlx::query("UPDATE steps SET status = 'paused' WHERE step_id = 0").execute(&mut db).await;
    assert!(refused.is_err(), "the status check still holds");
    db.close().await.unwrap();
}
