//! A thousand leavers in one sync, against the sandbox with Exchange's throttling, mailbox provisioning delay and
//! injected server errors on: every leaver's mailbox ends shared, hidden and shared with the manager, every
//! licence is gone, re-planning is empty — and the sandbox's data-loss record shows no mailbox marked for deletion
//! or purged.

mod support;

use chrono::Duration;
use engine::config::ApplyConfig;
use engine::{RunTrigger, SilentProgress, SyncOptions};
use sandbox::knobs::Knobs;
use store::RunStatus;

use support::exchange::{connection_for, data_loss};
use support::{Row, context, csv, start_sandbox, workforce};

const LEAVERS: usize = 1000;
const MANAGERS: usize = 10;
const PROVISIONING_DELAY_MS: u64 = 2000;

fn knobs() -> Knobs {
    Knobs {
        seed: 5,
        mailbox_provisioning_delay_ms: PROVISIONING_DELAY_MS,
        throttling: true,
        time_scale: 0.01,
        exchange_request_quota: Some(4000),
        // Graph's write quota (20 writes/s) would make this a test of Graph's throttling for minutes; the
        // initial-sync benchmark covers that. Exchange's quota stays tight.
        app_tenant_write_quota: Some(300_000),
        tenant_write_quota: Some(1_800_000),
        error_rate: 0.02,
        error_statuses: vec![503],
        ..Knobs::default()
    }
}

async fn sync(
    sandbox: &sandbox::RunningSandbox,
    ctx: &engine::Context,
    dir: &std::path::Path,
    rows: &[Row],
) -> model::Plan {
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, format!("{}\n{}", support::POLICY, support::exchange::LEAVER_ONLY_POLICY))
        .expect("write policy");
    let hr = dir.join("hr.csv");
    std::fs::write(&hr, csv(rows)).expect("write hr");
    let now = sandbox.state().clock.now();
    let prepared = engine::prepare(ctx, &policy, &hr, now, &SilentProgress).await.expect("prepare");
    let options = SyncOptions { dry_run: false, override_limits: true, trigger: RunTrigger::Cli };
    let report = engine::sync(ctx, &prepared, options, now, &SilentProgress).await.expect("sync");
    let apply = report.apply.as_ref().expect("applied");
    assert!(apply.failed.is_empty(), "failed steps: {:?}", &apply.failed[..apply.failed.len().min(5)]);
    assert_eq!(report.status, RunStatus::Succeeded);
    // Let provisioning and replication catch up (the sandbox clock, not a sleep); then nothing is left to do.
    sandbox.state().clock.advance(Duration::milliseconds(PROVISIONING_DELAY_MS as i64 + 2000));
    let again =
        engine::prepare(ctx, &policy, &hr, sandbox.state().clock.now(), &SilentProgress).await.expect("re-plan");
    assert!(again.plan.is_empty(), "re-planning is not empty: {} steps", again.plan.steps.len());
    prepared.plan
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_leavers_lose_no_mail() {
    let sandbox = start_sandbox(knobs()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store_url = format!("sqlite://{}", dir.path().join("tenure.db").display());
    let apply = ApplyConfig { max_concurrency: 4, max_attempts: 12, ..ApplyConfig::default() };
    let mut ctx = context(&sandbox, &store_url, apply).await;
    ctx.exchange = Some(connection_for(&sandbox));

    // Everyone an employee (so everyone has an Exchange licence and a mailbox).
    let mut rows = workforce(MANAGERS + LEAVERS);
    for row in &mut rows {
        row.employee_type = "Employee".into();
    }
    sync(&sandbox, &ctx, dir.path(), &rows).await;

    for row in rows.iter_mut().skip(MANAGERS) {
        row.last_day = "2024-06-30".into();
        row.status = "terminated".into();
    }
    let plan = sync(&sandbox, &ctx, dir.path(), &rows).await;
    let converted = plan.steps.iter().filter(|step| step.action.kind() == "convert to shared").count();
    let confirmed = plan.steps.iter().filter(|step| step.action.kind() == "confirm shared").count();
    assert_eq!((converted, confirmed), (LEAVERS, LEAVERS));

    let prepared = {
        let policy = dir.path().join("policy.toml");
        let hr = dir.path().join("hr.csv");
        engine::prepare(&ctx, &policy, &hr, sandbox.state().clock.now(), &SilentProgress).await.expect("observe")
    };
    let exchange = prepared.observed.exchange.as_ref().expect("Exchange observed");
    let leavers: Vec<&model::DirectoryUser> =
        prepared.observed.users.values().filter(|user| user.employee_id().is_some() && !user.account_enabled).collect();
    assert_eq!(leavers.len(), LEAVERS);
    for user in &leavers {
        assert!(user.licenses.is_empty(), "{} still licensed", user.user_principal_name);
        let mailbox = exchange.mailbox(&user.id).expect("the leaver's mailbox is kept");
        assert!(mailbox.shared && mailbox.hidden, "{}: {mailbox:?}", user.user_principal_name);
    }
    let (marked, purged, record) = data_loss(&sandbox).await;
    assert_eq!((marked, purged), (0, 0), "no mailbox lost across {LEAVERS} leavers: {record}");
    sandbox.shutdown().await;
}
