//! Exchange Online end to end, over real HTTPS against the sandbox with its realism knobs on (mailbox
//! provisioning delay, replication delay, latency, Exchange throttling, injected server errors): joiners get their
//! lists and shared-mailbox rights once their mailbox exists, movers change lists, leavers go through the whole
//! mailbox sequence (converted to shared and confirmed before the licences go, shared with the manager and the
//! delegate), a leave hides the mailbox and the return shows it again, and a rehire gets a regular mailbox back.
//! After every sync re-planning is empty, and the sandbox's data-loss record stays empty.

mod support;

use std::collections::BTreeMap;

use chrono::Duration;
use engine::config::ApplyConfig;
use engine::{RunTrigger, SilentProgress, SyncOptions};
use sandbox::knobs::Knobs;
use store::RunStatus;

use support::exchange::{
    DELEGATE, KEPT_LIST, SUPPORT_MAILBOX, connection_for, data_loss, full_access_holders, list_members, mailbox_state,
    write_inputs,
};
use support::{Row, context, start_sandbox, workforce};

const REPLICATION_DELAY_MS: u64 = 1500;
const PROVISIONING_DELAY_MS: u64 = 3000;

fn realistic_knobs() -> Knobs {
    Knobs {
        seed: 11,
        latency_ms: 3,
        jitter_ms: 5,
        replication_delay_ms: REPLICATION_DELAY_MS,
        mailbox_provisioning_delay_ms: PROVISIONING_DELAY_MS,
        throttling: true,
        time_scale: 0.02,
        error_rate: 0.03,
        error_statuses: vec![500, 503],
        ..Knobs::default()
    }
}

/// Syncs `rows` and checks the run: no failed step, and (after the clock has let replication and mailbox
/// provisioning catch up) an empty re-plan. Returns the applied plan and the observation after it.
async fn sync_and_converge(
    sandbox: &sandbox::RunningSandbox,
    ctx: &engine::Context,
    dir: &std::path::Path,
    rows: &[Row],
) -> (model::Plan, model::ObservedState) {
    let (policy, hr) = write_inputs(dir, rows);
    let progress = SilentProgress;
    let now = sandbox.state().clock.now();
    let prepared = engine::prepare(ctx, &policy, &hr, now, &progress).await.expect("prepare");
    assert!(prepared.desired.diagnostics.is_empty(), "{:?}", prepared.desired.diagnostics);
    let options = SyncOptions { dry_run: false, override_limits: true, trigger: RunTrigger::Cli };
    let report = engine::sync(ctx, &prepared, options, now, &progress).await.expect("sync");
    let apply = report.apply.as_ref().expect("applied");
    assert!(apply.failed.is_empty(), "failed steps: {:?}", apply.failed);
    assert_eq!(report.status, RunStatus::Succeeded);

    sandbox.state().clock.advance(Duration::milliseconds((REPLICATION_DELAY_MS + PROVISIONING_DELAY_MS) as i64));
    let now = sandbox.state().clock.now();
    let again = engine::prepare(ctx, &policy, &hr, now, &progress).await.expect("re-plan");
    assert!(again.plan.is_empty(), "re-planning after apply is not empty:\n{}", planner::render_text(&again.plan));
    assert!(again.observed.exchange.is_some(), "Exchange was observed");
    (prepared.plan, again.observed)
}

fn upns(observed: &model::ObservedState) -> BTreeMap<String, String> {
    observed
        .users
        .values()
        .filter_map(|user| user.employee_id().map(|id| (id.to_string(), user.user_principal_name.to_lowercase())))
        .collect()
}

fn count(plan: &model::Plan, kind: &str) -> usize {
    plan.steps.iter().filter(|step| step.action.kind() == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joiners_movers_leavers_leaves_and_rehires_converge_in_exchange_without_losing_mail() {
    let sandbox = start_sandbox(realistic_knobs()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store_url = format!("sqlite://{}", dir.path().join("tenure.db").display());
    let apply = ApplyConfig { max_concurrency: 4, max_attempts: 12, ..ApplyConfig::default() };
    let mut ctx = context(&sandbox, &store_url, apply).await;
    let exchange = connection_for(&sandbox);
    ctx.exchange = Some(exchange.clone());
    let client = &exchange.client;

    // Joiners: accounts, licences, then (once each mailbox exists) lists and shared-mailbox rights.
    let mut rows = workforce(36);
    let (first, observed) = sync_and_converge(&sandbox, &ctx, dir.path(), &rows).await;
    assert_eq!(count(&first, "create user"), 36);
    assert!(count(&first, "await mailbox") > 0, "mailbox steps waited for the mailboxes");
    let upn = upns(&observed);
    let employees: Vec<&Row> = rows.iter().filter(|row| row.employee_type != "Contractor").collect();
    assert_eq!(list_members(client, "e2e-everyone").await.len(), employees.len(), "licensed workers have mailboxes");
    let sales: Vec<String> =
        employees.iter().filter(|row| row.department == "Sales").map(|row| upn[&row.id].clone()).collect();
    let sales_list = list_members(client, "e2e-list-sales").await;
    assert!(sales.iter().all(|member| sales_list.contains(member)), "{sales:?} in {sales_list:?}");
    let support_worker = employees.iter().find(|row| row.department == "Customer Support").expect("support");
    assert!(full_access_holders(client, SUPPORT_MAILBOX).await.contains(&upn[&support_worker.id]));

    // Leavers (one a manager, one a contractor without a mailbox), movers (Sales → Finance), a leave of absence.
    let leavers = ["E1004", "E1010", "E1013", "E1014", "E1022"];
    let on_leave = "E1023";
    let movers: Vec<String> = rows
        .iter()
        .filter(|row| row.department == "Sales" && row.employee_type != "Contractor")
        .filter(|row| row.id != "E1000" && !leavers.contains(&row.id.as_str()))
        .take(2)
        .map(|row| row.id.clone())
        .collect();
    for row in &mut rows {
        if movers.contains(&row.id) {
            row.department = "Finance".into();
        }
        if leavers.contains(&row.id.as_str()) {
            row.last_day = "2024-06-30".into();
            row.status = "terminated".into();
        }
        if row.id == on_leave {
            row.status = "leave".into();
        }
    }
    let (second, observed) = sync_and_converge(&sandbox, &ctx, dir.path(), &rows).await;
    assert!(count(&second, "convert to shared") >= 3, "{}", planner::render_text(&second));
    let finance_list = list_members(client, "e2e-list-finance").await;
    let sales_list = list_members(client, "e2e-list-sales").await;
    for mover in &movers {
        assert!(finance_list.contains(&upn[mover]) && !sales_list.contains(&upn[mover]), "{mover} moved lists");
    }
    for leaver in leavers {
        let row = rows.iter().find(|row| row.id == leaver).expect("row");
        let user = observed.users.values().find(|user| user.employee_id() == Some(leaver)).expect("account");
        assert!(!user.account_enabled && user.licenses.is_empty(), "{leaver} disabled and unlicensed");
        if row.employee_type == "Contractor" {
            continue;
        }
        assert_eq!(mailbox_state(client, &upn[leaver]).await, (true, true), "{leaver}: shared and hidden");
        let holders = full_access_holders(client, &upn[leaver]).await;
        assert!(holders.contains(&upn[&row.manager]) && holders.contains(DELEGATE), "{leaver}: {holders:?}");
        assert!(!list_members(client, "e2e-everyone").await.contains(&upn[leaver]), "{leaver} left the lists");
    }
    // The manager who left keeps the kept list.
    assert!(list_members(client, KEPT_LIST).await.contains(&upn["E1004"]), "kept membership stays");
    assert_eq!(mailbox_state(client, &upn[on_leave]).await, (false, true), "on leave: hidden, not shared");

    // The leave ends, and one leaver is rehired.
    for row in &mut rows {
        if row.id == on_leave {
            row.status = "active".into();
        }
        if row.id == "E1013" {
            row.last_day = String::new();
            row.status = "active".into();
        }
    }
    let (third, observed) = sync_and_converge(&sandbox, &ctx, dir.path(), &rows).await;
    assert_eq!(count(&third, "convert to regular"), 1, "{}", planner::render_text(&third));
    assert_eq!(mailbox_state(client, &upn[on_leave]).await, (false, false), "back from leave: shown");
    assert_eq!(mailbox_state(client, &upn["E1013"]).await, (false, false), "rehired: a regular mailbox again");
    let rehired = observed.users.values().find(|user| user.employee_id() == Some("E1013")).expect("account");
    assert!(rehired.account_enabled && !rehired.licenses.is_empty(), "rehired: enabled and licensed");
    assert!(list_members(client, "e2e-everyone").await.contains(&upn["E1013"]), "rehired: memberships restored");

    let (marked, purged, record) = data_loss(&sandbox).await;
    assert_eq!((marked, purged), (0, 0), "no mailbox lost: {record}");
    let stats = sandbox.state().knobs.stats();
    let exchange_stats = client.stats();
    eprintln!("sandbox knobs: {stats:?}; exchange client: {exchange_stats:?}");
    assert!(stats.injected_errors > 0, "the runs met injected server errors");
    sandbox.shutdown().await;
}
