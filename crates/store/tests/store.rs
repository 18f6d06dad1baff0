//! The store's behaviour, each test written once and run on SQLite and on PostgreSQL (see `common::store_tests!`).

mod common;

use chrono::{Duration, Utc};
use common::{TestDb, at, bulk_plan, small_plan};
use model::StepId;
use serde_json::json;
use store::{AuditQuery, Error, NewAuditEntry, NewRun, RunId, RunStatus, RunTotals, StepRecord, StepStatus, Store};

const REVISION: &str = "5f3c0a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddee";

fn new_run<'a>(plan: &'a model::Plan, started_at: chrono::DateTime<Utc>) -> NewRun<'a> {
    NewRun { trigger: "cli", policy_revision: REVISION, plan, started_at, dry_run: false }
}

fn running(step: u32) -> StepRecord {
    StepRecord {
        step: StepId(step),
        status: StepStatus::Running,
        attempts: 1,
        request_id: None,
        object_id: None,
        error: None,
        audit: None,
    }
}

fn done(step: u32, worker: &str, object_id: &str) -> StepRecord {
    StepRecord {
        step: StepId(step),
        status: StepStatus::Done,
        attempts: 1,
        request_id: Some(format!("req-{step}")),
        object_id: Some(object_id.to_owned()),
        error: None,
        audit: Some(NewAuditEntry {
            worker: Some(worker.to_owned()),
            action: "disable account".to_owned(),
            target: format!("{worker}@contoso.com"),
            before: json!({ "accountEnabled": true }),
            after: json!({ "accountEnabled": false, "note": "äöü ß \"quoted\"" }),
            reason: format!("last working day of {worker} passed"),
            policy_revision: REVISION.to_owned(),
            at: at(9, 0) + Duration::seconds(i64::from(step)),
        }),
    }
}

async fn run_round_trip(db: TestDb) {
    let store = &db.store;
    let plan = small_plan();
    let started = at(8, 0) + Duration::microseconds(123_456);
    let run = store.create_run(&new_run(&plan, started)).await.unwrap();

    let detail = store.load_run(run).await.unwrap();
    assert_eq!(detail.plan, plan);
    assert_eq!(detail.summary.id, run);
    assert_eq!(detail.summary.status, RunStatus::Planned);
    assert_eq!(detail.summary.trigger, "cli");
    assert_eq!(detail.summary.policy_revision, REVISION);
    assert!(!detail.summary.dry_run);
    assert_eq!(detail.summary.started_at, started);
    assert_eq!(detail.summary.finished_at, None);
    assert_eq!(detail.steps.len(), 5);
    let kinds: Vec<&str> = detail.steps.iter().map(|s| s.action_kind.as_str()).collect();
    assert_eq!(kinds, ["create group", "create user", "add members", "update user", "disable account"]);
    assert_eq!(detail.steps[0].worker, None);
    assert_eq!(detail.steps[1].worker.as_deref(), Some("E100"));
    assert!(detail.steps.iter().all(|s| s.status == StepStatus::Pending && s.attempts == 0));
    assert!(detail.steps.iter().enumerate().all(|(i, s)| s.step == StepId(i as u32)));

    store.mark_run_running(run).await.unwrap();
    store.record_steps(run, &[running(1), running(4)]).await.unwrap();
    let failed = StepRecord {
        step: StepId(3),
        status: StepStatus::Failed,
        attempts: 3,
        request_id: Some("req-3".into()),
        object_id: None,
        error: Some("403 Authorization_RequestDenied".into()),
        audit: None,
    };
    store.record_steps(run, &[done(1, "E100", "new-user-id"), done(4, "E300", "obj-4"), failed]).await.unwrap();

    let detail = store.load_run(run).await.unwrap();
    assert_eq!(detail.summary.status, RunStatus::Running);
    let statuses: Vec<StepStatus> = detail.steps.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [StepStatus::Pending, StepStatus::Done, StepStatus::Pending, StepStatus::Failed, StepStatus::Done]
    );
    assert_eq!(detail.steps[1].object_id.as_deref(), Some("new-user-id"));
    assert_eq!(detail.steps[1].request_id.as_deref(), Some("req-1"));
    assert_eq!(detail.steps[3].attempts, 3);
    assert_eq!(detail.steps[3].error.as_deref(), Some("403 Authorization_RequestDenied"));
    assert!(detail.steps[1].updated_at >= detail.steps[0].updated_at);

    let audit = store.list_audit(&AuditQuery { run: Some(run), worker: None, limit: 10 }).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].step, StepId(4), "newest first");
    assert_eq!(audit[1].step, StepId(1));
    assert_eq!(audit[1].run, run);
    assert_eq!(audit[1].worker.as_deref(), Some("E100"));
    assert_eq!(audit[1].before, json!({ "accountEnabled": true }));
    assert_eq!(audit[1].after["note"], "äöü ß \"quoted\"");
    assert_eq!(audit[1].at, at(9, 0) + Duration::seconds(1));
    assert_eq!(audit[1].policy_revision, REVISION);

    // A step left waiting for Exchange (its mailbox was not provisioned within the run's budget).
    let waiting = StepRecord {
        step: StepId(2),
        status: StepStatus::Waiting,
        attempts: 1,
        request_id: None,
        object_id: None,
        error: Some("the mailbox of x@contoso.com is not provisioned yet".into()),
        audit: None,
    };
    store.record_steps(run, &[waiting]).await.unwrap();
    let step = &store.load_run(run).await.unwrap().steps[2];
    assert_eq!(
        (step.status, step.error.as_deref()),
        (StepStatus::Waiting, Some("the mailbox of x@contoso.com is not provisioned yet"))
    );

    let totals = RunTotals { planned: 5, done: 2, failed: 1, skipped: 1, skipped_workers: 0, waiting: 1 };
    store.finish_run(run, RunStatus::Failed, &totals).await.unwrap();
    let summary = store.load_run(run).await.unwrap().summary;
    assert_eq!(summary.status, RunStatus::Failed);
    assert_eq!(summary.totals, Some(totals));
    assert!(summary.finished_at.is_some());

    // list_runs: newest first, limited.
    let second = store.create_run(&new_run(&plan, at(10, 0))).await.unwrap();
    let dry = NewRun { dry_run: true, trigger: "schedule", ..new_run(&plan, at(11, 0)) };
    let third = store.create_run(&dry).await.unwrap();
    let runs = store.list_runs(10).await.unwrap();
    assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [third, second, run]);
    assert!(runs[0].dry_run && runs[0].trigger == "schedule");
    assert_eq!(store.list_runs(2).await.unwrap().len(), 2);
    assert!(store.unfinished_runs().await.unwrap().is_empty(), "finished and planned runs are not unfinished");
}

async fn unfinished_runs_after_crash(db: TestDb) {
    let plan = small_plan();
    let finished = db.store.create_run(&new_run(&plan, at(7, 0))).await.unwrap();
    db.store.mark_run_running(finished).await.unwrap();
    db.store.finish_run(finished, RunStatus::Succeeded, &RunTotals::default()).await.unwrap();
    let run = db.store.create_run(&new_run(&plan, at(8, 0))).await.unwrap();
    db.store.mark_run_running(run).await.unwrap();
    db.store.record_steps(run, &[done(0, "E1", "group-id"), running(1)]).await.unwrap();
    // The process dies here: no finish_run. A new process opens the same database.
    db.store.close().await;

    let reopened = db.reopen().await;
    let unfinished = reopened.unfinished_runs().await.unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].id, run);
    assert_eq!(unfinished[0].status, RunStatus::Running);
    assert_eq!(unfinished[0].finished_at, None);
    let detail = reopened.load_run(run).await.unwrap();
    assert_eq!(detail.plan, plan);
    let statuses: Vec<StepStatus> = detail.steps.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [StepStatus::Done, StepStatus::Running, StepStatus::Pending, StepStatus::Pending, StepStatus::Pending]
    );
    assert_eq!(detail.steps[0].object_id.as_deref(), Some("group-id"));
    reopened.close().await;
}

async fn record_steps_is_all_or_nothing(db: TestDb) {
    let store = &db.store;
    let run = store.create_run(&new_run(&small_plan(), at(8, 0))).await.unwrap();
    let error =
        store.record_steps(run, &[done(0, "E1", "x"), done(7, "E7", "y"), done(9, "E9", "z")]).await.unwrap_err();
    assert!(matches!(error, Error::UnknownSteps { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("saving the steps of run {run}: run {run} has no step #8, #10 (the plan has fewer steps)")
    );
    let detail = store.load_run(run).await.unwrap();
    assert_eq!(detail.steps[0].status, StepStatus::Pending, "the valid record was rolled back too");
    assert!(store.list_audit(&AuditQuery::default()).await.unwrap().is_empty());

    // The same step twice in one batch: the last record wins, both audit entries are kept.
    store.record_steps(run, &[running(2), done(2, "E100", "g"), running(2)]).await.unwrap();
    assert_eq!(store.load_run(run).await.unwrap().steps[2].status, StepStatus::Running);
    assert_eq!(store.list_audit(&AuditQuery::default()).await.unwrap().len(), 1);

    let missing = RunId(run.0 + 1000);
    let error = store.load_run(missing).await.unwrap_err();
    assert_eq!(error.to_string(), format!("loading run {missing}: run {missing} does not exist"));
    assert!(matches!(
        store.finish_run(missing, RunStatus::Failed, &RunTotals::default()).await,
        Err(Error::RunNotFound { .. })
    ));
    assert!(matches!(store.mark_run_running(missing).await, Err(Error::RunNotFound { .. })));
    assert!(matches!(store.record_steps(missing, &[running(0)]).await, Err(Error::RunNotFound { .. })));
}

async fn policy_revision_is_idempotent(db: TestDb) {
    let store = &db.store;
    assert_eq!(store.load_policy_revision(REVISION).await.unwrap(), None);
    store.save_policy_revision(REVISION, "[scope]\nupn_domains = [\"contoso.com\"]\n").await.unwrap();
    store.save_policy_revision(REVISION, "[scope]\nupn_domains = [\"contoso.com\"]\n").await.unwrap();
    store.save_policy_revision("other", "# other\n").await.unwrap();
    assert_eq!(
        store.load_policy_revision(REVISION).await.unwrap().as_deref(),
        Some("[scope]\nupn_domains = [\"contoso.com\"]\n")
    );
    assert_eq!(store.load_policy_revision("other").await.unwrap().as_deref(), Some("# other\n"));
}

async fn observation_upsert(db: TestDb) {
    let store = &db.store;
    assert_eq!(store.load_observation("contoso").await.unwrap(), None);
    store.save_observation("contoso", r#"{"users":[]}"#, r#"{"users":"link-1"}"#, at(6, 0)).await.unwrap();
    store.save_observation("fabrikam", "{}", "{}", at(6, 30)).await.unwrap();
    let first = store.load_observation("contoso").await.unwrap().unwrap();
    assert_eq!(first.observed_json, r#"{"users":[]}"#);
    assert_eq!(first.delta_links_json, r#"{"users":"link-1"}"#);
    assert_eq!(first.full_at, at(6, 0));

    store.save_observation("contoso", r#"{"users":[1]}"#, r#"{"users":"link-2"}"#, at(7, 0)).await.unwrap();
    let second = store.load_observation("contoso").await.unwrap().unwrap();
    assert_eq!(second.tenant, "contoso");
    assert_eq!(second.observed_json, r#"{"users":[1]}"#);
    assert_eq!(second.delta_links_json, r#"{"users":"link-2"}"#);
    assert_eq!(second.full_at, at(7, 0));
    assert!(second.updated_at >= first.updated_at);
    assert_eq!(store.load_observation("fabrikam").await.unwrap().unwrap().full_at, at(6, 30));

    // Moving the delta links on keeps the state (stored apart from them) and the time of the full read.
    store.save_delta_links("contoso", r#"{"users":"link-3"}"#).await.unwrap();
    let third = store.load_observation("contoso").await.unwrap().unwrap();
    assert_eq!(third.observed_json, r#"{"users":[1]}"#);
    assert_eq!(third.delta_links_json, r#"{"users":"link-3"}"#);
    assert_eq!(third.full_at, at(7, 0));
    assert!(third.updated_at >= second.updated_at);
    store.save_delta_links("unknown", "{}").await.unwrap();
    assert_eq!(store.load_observation("unknown").await.unwrap(), None);
}

async fn audit_query_by_worker(db: TestDb) {
    let store = &db.store;
    let plan = bulk_plan(6);
    let first = store.create_run(&new_run(&plan, at(8, 0))).await.unwrap();
    let second = store.create_run(&new_run(&plan, at(9, 0))).await.unwrap();
    let workers = ["A", "B", "A", "C", "A", "B"];
    let records: Vec<StepRecord> = workers.iter().enumerate().map(|(i, w)| done(i as u32, w, "o")).collect();
    store.record_steps(first, &records).await.unwrap();
    store.record_steps(second, &records[..2]).await.unwrap();

    let query =
        |run: Option<RunId>, worker: Option<&str>, limit| AuditQuery { run, worker: worker.map(str::to_owned), limit };
    let a = store.list_audit(&query(None, Some("A"), 100)).await.unwrap();
    let steps: Vec<(RunId, StepId)> = a.iter().map(|e| (e.run, e.step)).collect();
    assert_eq!(steps, [(second, StepId(0)), (first, StepId(4)), (first, StepId(2)), (first, StepId(0))]);
    assert!(a.iter().all(|e| e.worker.as_deref() == Some("A") && e.target == "A@contoso.com"));
    assert!(a.windows(2).all(|w| w[0].id > w[1].id));

    assert_eq!(store.list_audit(&query(None, Some("A"), 2)).await.unwrap().len(), 2);
    assert_eq!(store.list_audit(&query(Some(first), Some("B"), 100)).await.unwrap().len(), 2);
    assert_eq!(store.list_audit(&query(Some(second), None, 100)).await.unwrap().len(), 2);
    assert_eq!(store.list_audit(&query(None, None, 100)).await.unwrap().len(), 8);
    assert!(store.list_audit(&query(None, Some("nobody"), 100)).await.unwrap().is_empty());
}

async fn bulk_plan_of_30000_steps(db: TestDb) {
    const STEPS: u32 = 30_000;
    let store = &db.store;
    let plan = bulk_plan(STEPS);
    let run = store.create_run(&new_run(&plan, at(8, 0))).await.unwrap();
    store.mark_run_running(run).await.unwrap();
    let records: Vec<StepRecord> = (0..STEPS).map(|i| done(i, &format!("W{i:05}"), &format!("obj-{i}"))).collect();
    store.record_steps(run, &records).await.unwrap();
    store
        .finish_run(run, RunStatus::Succeeded, &RunTotals { planned: STEPS, done: STEPS, ..RunTotals::default() })
        .await
        .unwrap();

    let detail = store.load_run(run).await.unwrap();
    assert_eq!(detail.plan.steps.len(), STEPS as usize);
    assert_eq!(detail.steps.len(), STEPS as usize);
    assert!(detail.steps.iter().all(|s| s.status == StepStatus::Done));
    assert_eq!(detail.steps[29_999].object_id.as_deref(), Some("obj-29999"));
    assert_eq!(detail.steps[29_999].worker.as_deref(), Some("W29999"));
    let all = store.list_audit(&AuditQuery { run: Some(run), worker: None, limit: 100_000 }).await.unwrap();
    assert_eq!(all.len(), STEPS as usize);
    let one = store.list_audit(&AuditQuery { run: None, worker: Some("W12345".into()), limit: 10 }).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].step, StepId(12_345));
}

store_tests!(
    run_round_trip,
    unfinished_runs_after_crash,
    record_steps_is_all_or_nothing,
    policy_revision_is_idempotent,
    observation_upsert,
    audit_query_by_worker,
    bulk_plan_of_30000_steps,
);

#[tokio::test]
async fn in_memory_sqlite_keeps_data_for_the_life_of_the_store() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    let plan = small_plan();
    let run = store.create_run(&new_run(&plan, at(8, 0))).await.unwrap();
    // Several concurrent readers share the one connection.
    let loads = futures_join(&store, run).await;
    assert!(loads.iter().all(|steps| *steps == 5));
    assert_eq!(store.list_runs(5).await.unwrap().len(), 1);
    // A second in-memory store is a different database.
    let other = Store::open("sqlite::memory:").await.unwrap();
    assert!(other.list_runs(5).await.unwrap().is_empty());
}

async fn futures_join(store: &Store, run: RunId) -> Vec<usize> {
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.load_run(run).await.unwrap().steps.len() })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap());
    }
    counts
}

#[tokio::test]
async fn unsupported_urls_are_rejected_without_echoing_them() {
    let error = Store::open("mysql://admin:hunter2@db/tenure").await.unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with("unsupported store url scheme `mysql`"), "{message}");
    assert!(!message.contains("hunter2") && !format!("{error:?}").contains("hunter2"));
}

#[test]
fn run_ids_parse_and_display() {
    let id: RunId = "12".parse().unwrap();
    assert_eq!(id, RunId(12));
    assert_eq!(id.to_string(), "12");
    assert!("0".parse::<RunId>().is_err());
    assert!("twelve".parse::<RunId>().is_err());
    assert_eq!("running".parse::<RunStatus>().unwrap(), RunStatus::Running);
    assert_eq!(StepStatus::Done.to_string(), "done");
    assert_eq!("waiting".parse::<StepStatus>().unwrap(), StepStatus::Waiting);
    assert!("finished".parse::<StepStatus>().is_err());
}
