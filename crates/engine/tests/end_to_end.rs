//! End to end over real HTTPS against the sandbox with its realism knobs on (latency, throttling, replication
//! delay, 5 % injected server errors): a first sync of a workforce, then movers and leavers; after each sync the
//! tenant must match HR — re-planning gives an empty plan — with no failed step and no duplicate account.

mod support;

use chrono::Duration;
use engine::config::ApplyConfig;
use engine::{RunTrigger, SilentProgress, SyncOptions};
use sandbox::knobs::Knobs;
use store::RunStatus;

use support::{Row, context, duplicate_employee_ids, start_sandbox, workforce, write_inputs};

const REPLICATION_DELAY_MS: u64 = 1500;

fn realistic_knobs() -> Knobs {
    Knobs {
        seed: 7,
        latency_ms: 5,
        jitter_ms: 10,
        replication_delay_ms: REPLICATION_DELAY_MS,
        throttling: true,
        time_scale: 0.02,
        error_rate: 0.05,
        error_statuses: vec![500, 503, 504],
        ..Knobs::default()
    }
}

async fn sync_and_check(
    sandbox: &sandbox::RunningSandbox,
    ctx: &engine::Context,
    dir: &std::path::Path,
    rows: &[Row],
) -> model::Plan {
    let (policy, hr) = write_inputs(dir, rows);
    let progress = SilentProgress;
    let now = sandbox.state().clock.now();
    let prepared = engine::prepare(ctx, &policy, &hr, now, &progress).await.expect("prepare");
    assert!(prepared.inputs.hr.diagnostics.is_empty(), "{:?}", prepared.inputs.hr.diagnostics);
    assert!(prepared.desired.diagnostics.is_empty(), "{:?}", prepared.desired.diagnostics);
    let options = SyncOptions { dry_run: false, override_limits: false, trigger: RunTrigger::Cli };
    let report = engine::sync(ctx, &prepared, options, now, &progress).await.expect("sync");
    let apply = report.apply.as_ref().expect("applied");
    assert!(apply.failed.is_empty(), "failed steps: {:?}", apply.failed);
    assert_eq!(report.status, RunStatus::Succeeded);

    // Let Entra's replication catch up (the sandbox clock, not a sleep), then the tenant must match HR.
    sandbox.state().clock.advance(Duration::milliseconds(REPLICATION_DELAY_MS as i64 + 1));
    let now = sandbox.state().clock.now();
    let again = engine::prepare(ctx, &policy, &hr, now, &progress).await.expect("re-plan");
    assert!(again.plan.is_empty(), "re-planning after apply is not empty:\n{}", planner::render_text(&again.plan));
    assert_eq!(duplicate_employee_ids(&again.observed), Vec::<String>::new());
    prepared.plan
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joiners_movers_and_leavers_converge_under_faults_and_throttling() {
    let sandbox = start_sandbox(realistic_knobs()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store_url = format!("sqlite://{}", dir.path().join("tenure.db").display());
    let ctx = context(
        &sandbox,
        &store_url,
        ApplyConfig { max_concurrency: 4, max_attempts: 12, full_reconcile_hours: 24, ..ApplyConfig::default() },
    )
    .await;

    let mut rows = workforce(60);
    let first = sync_and_check(&sandbox, &ctx, dir.path(), &rows).await;
    let creates = first.steps.iter().filter(|step| step.action.kind() == "create user").count();
    assert_eq!(creates, 60, "every worker gets exactly one account");

    // Movers: new departments and a new manager; leavers: three workers' last day has passed.
    for row in rows.iter_mut().skip(20).take(5) {
        row.department = "Finance".into();
        row.title = "Controller".into();
        row.manager = "E1003".into();
    }
    for row in rows.iter_mut().skip(40).take(3) {
        row.last_day = "2024-06-30".into();
        row.status = "terminated".into();
    }
    let second = sync_and_check(&sandbox, &ctx, dir.path(), &rows).await;
    let kinds: Vec<&str> = second.steps.iter().map(|step| step.action.kind()).collect();
    assert_eq!(kinds.iter().filter(|kind| **kind == "disable account").count(), 3);
    assert_eq!(kinds.iter().filter(|kind| **kind == "reset password").count(), 3);
    assert_eq!(kinds.iter().filter(|kind| **kind == "revoke sessions").count(), 3);
    assert!(kinds.contains(&"update user") && kinds.contains(&"set manager"));

    let stats = sandbox.state().knobs.stats();
    let client = ctx.graph.stats();
    eprintln!("sandbox knobs: {stats:?}; client: {client:?}");
    assert!(stats.injected_errors > 0, "the run met injected server errors");
    assert!(stats.throttled_requests > 0 && client.throttled > 0, "the run met Graph's throttling");
    assert!(stats.delayed_requests > 0, "the run met latency");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_over_a_safety_limit_stops_before_its_first_step() {
    let sandbox = start_sandbox(Knobs::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store_url = format!("sqlite://{}", dir.path().join("tenure.db").display());
    let ctx = context(&sandbox, &store_url, ApplyConfig::default()).await;
    let mut rows = workforce(20);
    sync_and_check(&sandbox, &ctx, dir.path(), &rows).await;

    // HR sends an export where most people have left: a mass termination is usually a mistake.
    for row in rows.iter_mut().skip(5) {
        row.last_day = "2024-06-30".into();
        row.status = "terminated".into();
    }
    let (policy, hr) = write_inputs(dir.path(), &rows);
    let now = sandbox.state().clock.now();
    let prepared = engine::prepare(&ctx, &policy, &hr, now, &SilentProgress).await.expect("prepare");
    let options = SyncOptions { dry_run: false, override_limits: false, trigger: RunTrigger::Cli };
    let report = engine::sync(&ctx, &prepared, options, now, &SilentProgress).await.expect("sync");
    assert_eq!(report.status, RunStatus::Blocked);
    assert!(report.apply.is_none());
    let breach = report.breaches.first().expect("a breach").to_string();
    assert!(breach.contains("disables") && breach.contains("E1005"), "{breach}");
    let enabled = prepared.observed.users.values().filter(|user| user.account_enabled).count();
    let observed_after = engine::prepare(&ctx, &policy, &hr, now, &SilentProgress).await.expect("prepare");
    assert_eq!(observed_after.observed.users.values().filter(|user| user.account_enabled).count(), enabled);

    // With the explicit override, it goes ahead.
    let options = SyncOptions { dry_run: false, override_limits: true, trigger: RunTrigger::Cli };
    let report = engine::sync(&ctx, &observed_after, options, now, &SilentProgress).await.expect("sync");
    assert_eq!(report.status, RunStatus::Succeeded);
    assert!(!report.breaches.is_empty());
    sandbox.shutdown().await;
}
