//! The executor's Exchange lane against the sandbox over HTTPS, with plans built by hand (the executor's
//! contract, not the planner's): a joiner's mailbox steps wait for the mailbox Exchange provisions after the
//! licence; a leaver's mailbox is converted, confirmed shared and shared with the manager before the licence goes,
//! so nothing is lost; repeating a plan changes nothing; a mailbox that never comes leaves its steps `waiting`
//! without failing the run, and a later resume finishes them; throttling and injected 503s are absorbed.

mod exchange_support;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use chrono::Utc;
use engine::config::ApplyConfig;
use engine::executor::{ApplyContext, ApplyReport, apply_plan};
use exchange::MailboxType;
use exchange_support::{
    ADELE, ALEX, ALEX_ID, ENTERPRISEPACK, RETAIL_ANNOUNCEMENTS, admin, admin_mailbox, object_id, user,
};
use model::{
    Action, AutoReplyText, MailGroupKind, MembershipRestriction, ObjectId, Plan, SharedMailboxRight, Step, StepId,
    UserRef,
};
use sandbox::knobs::Knobs;
use serde_json::json;
use store::{NewRun, RunId, RunStatus, StepJournal, StepStatus};

const INFO: &str = "info@contoso.com";
const NORA: &str = "nora.new@contoso.com";
const WANDA: &str = "wanda.waiting@contoso.com";

/// Contoso plus `info@` (licensed; made shared by [`make_info_shared`]), and Nora and Wanda, who have no licence
/// yet.
fn extra_seed() -> String {
    format!("{}{}{}", user(1, INFO, None, true), user(10, NORA, Some("3001"), false), user(11, WANDA, None, false))
}

async fn make_info_shared(ctx: &engine::Context) {
    let client = &ctx.exchange.as_ref().expect("exchange").client;
    client.set_mailbox_type(INFO, MailboxType::Shared).await.expect("info@ becomes a shared mailbox");
}

fn step(id: u32, action: Action, depends_on: &[u32]) -> Step {
    Step {
        id: StepId(id),
        worker: None,
        action,
        depends_on: depends_on.iter().copied().map(StepId).collect(),
        reason: "test plan".into(),
    }
}

fn plan(steps: Vec<Step>) -> Plan {
    Plan { steps, ..Plan::default() }
}

fn grant(mailbox: &str, trustee: &str, right: SharedMailboxRight) -> Action {
    Action::GrantMailboxRight { mailbox: mailbox.into(), trustee: trustee.into(), right, auto_mapping: false }
}

fn licences(user: &str, add: &[&str], remove: &[&str]) -> Action {
    Action::AssignLicenses {
        user: UserRef::Existing(ObjectId(user.into())),
        add: add.iter().map(ToString::to_string).collect(),
        remove: remove.iter().map(ToString::to_string).collect(),
    }
}

/// Records what the executor says it waits for.
#[derive(Default)]
struct RecordingProgress {
    statuses: Mutex<Vec<String>>,
}

impl engine::Progress for RecordingProgress {
    fn begin(&self, _phase: &str, _total: u64) {}
    fn advance(&self, _done: u64) {}
    fn finish(&self) {}
    fn status(&self, message: &str) {
        self.statuses.lock().expect("lock").push(message.to_string());
    }
}

/// Stores `plan` as a new run, marked running.
async fn new_run(ctx: &engine::Context, plan: &Plan) -> RunId {
    let new_run = NewRun { trigger: "cli", policy_revision: "test", plan, started_at: Utc::now(), dry_run: false };
    let run = ctx.store.create_run(&new_run).await.expect("create run");
    ctx.store.mark_run_running(run).await.expect("mark running");
    run
}

/// Applies `plan` as run `run` from `journal`, waiting at most `mailbox_wait` for mailboxes.
async fn apply(
    ctx: &engine::Context,
    run: RunId,
    plan: &Plan,
    journal: &BTreeMap<StepId, StepJournal>,
    mailbox_wait: Duration,
    progress: &dyn engine::Progress,
) -> ApplyReport {
    let apply_context = ApplyContext {
        graph: &ctx.graph,
        exchange: ctx.exchange.as_ref().map(|exchange| &exchange.client),
        store: &ctx.store,
        run,
        max_concurrency: 4,
        mailbox_wait,
        policy_revision: "test",
        graph_base: &ctx.graph_base,
        progress,
    };
    apply_plan(&apply_context, plan, journal).await.expect("apply")
}

async fn statuses(ctx: &engine::Context, run: RunId) -> Vec<StepStatus> {
    ctx.store.load_run(run).await.expect("load run").steps.iter().map(|step| step.status).collect()
}

async fn audit_reasons(ctx: &engine::Context, run: RunId) -> Vec<String> {
    let query = store::AuditQuery { run: Some(run), worker: None, limit: 1000 };
    ctx.store.list_audit(&query).await.expect("audit").into_iter().map(|entry| entry.reason).collect()
}

/// The UPNs (lower case) of the members of `list`.
async fn members(ctx: &engine::Context, list: &str) -> BTreeSet<String> {
    let client = &ctx.exchange.as_ref().expect("exchange").client;
    let members = client.list_group_members(list).await.expect("members");
    members.into_iter().filter_map(|member| member.primary_smtp_address).map(|address| address.to_lowercase()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joiners_mailbox_steps_run_once_exchange_has_provisioned_the_mailbox() {
    let knobs = Knobs { mailbox_provisioning_delay_ms: 1200, ..Knobs::default() };
    let sandbox = exchange_support::start(&extra_seed(), knobs).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = exchange_support::engine_context(&sandbox, dir.path(), ApplyConfig::default()).await;
    make_info_shared(&ctx).await;
    let team = "Nora's Team — Ünïcode";
    let joiner = plan(vec![
        step(0, licences(&object_id(10), &[ENTERPRISEPACK], &[]), &[]),
        step(1, Action::AwaitMailbox { mailbox: NORA.into() }, &[0]),
        step(2, Action::AddMailListMember { list: RETAIL_ANNOUNCEMENTS.into(), member: NORA.into() }, &[1]),
        step(3, grant(INFO, NORA, SharedMailboxRight::FullAccess), &[1]),
        step(4, grant(INFO, NORA, SharedMailboxRight::SendAs), &[1]),
        step(
            5,
            Action::CreateMailList {
                name: team.into(),
                kind: MailGroupKind::Security,
                owner: Some(ADELE.into()),
                join_restriction: MembershipRestriction::Closed,
                depart_restriction: MembershipRestriction::Closed,
            },
            &[],
        ),
        step(6, Action::AddMailListMember { list: team.into(), member: NORA.into() }, &[1, 5]),
    ]);
    let run = new_run(&ctx, &joiner).await;
    let progress = RecordingProgress::default();

    let report = apply(&ctx, run, &joiner, &BTreeMap::new(), Duration::from_secs(60), &progress).await;

    assert!(report.failed.is_empty() && report.waiting.is_empty(), "{report:?}");
    assert_eq!(report.done, 7);
    assert_eq!(statuses(&ctx, run).await, [StepStatus::Done; 7]);
    let said = progress.statuses.lock().expect("lock").clone();
    assert!(
        said.iter().any(|status| status.contains("step #2 waits") && status.contains("not provisioned yet")),
        "the executor waited for the mailbox and said so: {said:?}"
    );
    assert!(members(&ctx, RETAIL_ANNOUNCEMENTS).await.contains(NORA));
    assert!(members(&ctx, team).await.contains(NORA));
    let info = admin_mailbox(&sandbox, INFO).await;
    assert_eq!(info["full_access"][0]["user"], NORA, "{info}");
    assert_eq!(info["full_access"][0]["auto_mapping"], false, "{info}");
    assert_eq!(info["send_as"], json!([NORA]), "{info}");
    let client = &ctx.exchange.as_ref().expect("exchange").client;
    let created = client.get_distribution_group(team).await.expect("read").expect("the list was created");
    assert_eq!(created.alias, "noras-team-unicode");
    assert_eq!((created.kind, created.managed_by.len()), (MailGroupKind::Security, 1));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leavers_mailbox_is_kept_shared_before_the_licence_goes_and_repeating_changes_nothing() {
    let sandbox = exchange_support::start(&extra_seed(), Knobs::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = exchange_support::engine_context(&sandbox, dir.path(), ApplyConfig::default()).await;
    let client = &ctx.exchange.as_ref().expect("exchange").client;
    client.add_group_member(RETAIL_ANNOUNCEMENTS, ALEX).await.expect("Alex is on the list");
    let reply = AutoReplyText { internal: "Alex has left; please write to Adele.".into(), external: None };
    let leaver = plan(vec![
        step(0, Action::RemoveMailListMember { list: RETAIL_ANNOUNCEMENTS.into(), member: ALEX.into() }, &[]),
        step(1, Action::SetMailboxHidden { mailbox: ALEX.into(), hidden: true }, &[0]),
        step(2, Action::SetAutoReply { mailbox: ALEX.into(), reply: Some(reply) }, &[1]),
        step(3, Action::ConvertMailbox { mailbox: ALEX.into(), shared: true }, &[2]),
        step(4, Action::ConfirmMailboxShared { mailbox: ALEX.into() }, &[3]),
        step(
            5,
            Action::GrantMailboxRight {
                mailbox: ALEX.into(),
                trustee: ADELE.into(),
                right: SharedMailboxRight::FullAccess,
                auto_mapping: true,
            },
            &[4],
        ),
        step(6, grant(ALEX, ADELE, SharedMailboxRight::SendOnBehalf), &[4]),
        step(7, licences(ALEX_ID, &[], &[ENTERPRISEPACK]), &[4, 5, 6]),
    ]);
    let run = new_run(&ctx, &leaver).await;
    let progress = RecordingProgress::default();

    let report = apply(&ctx, run, &leaver, &BTreeMap::new(), Duration::from_secs(60), &progress).await;

    assert!(report.failed.is_empty() && report.waiting.is_empty(), "{report:?}");
    assert_eq!(statuses(&ctx, run).await, [StepStatus::Done; 8]);
    let record = admin(&sandbox, "data-loss").await;
    assert_eq!(record["entries"], json!([]), "no mailbox was marked or purged: {record}");
    let alex = admin_mailbox(&sandbox, ALEX).await;
    assert_eq!((alex["kind"].as_str(), alex["hidden"].as_bool()), (Some("Shared"), Some(true)), "{alex}");
    assert_eq!(alex["full_access"][0]["user"], ADELE, "{alex}");
    assert_eq!(alex["send_on_behalf"], json!([ADELE]), "{alex}");
    assert!(!members(&ctx, RETAIL_ANNOUNCEMENTS).await.contains(ALEX));

    // The same plan again, as a resume after a crash that left every step "running": nothing fails and nothing
    // changes; Exchange says each write was already so, and the licence step finds the licence gone.
    let crashed: BTreeMap<StepId, StepJournal> = ctx
        .store
        .load_run(run)
        .await
        .expect("load run")
        .steps
        .into_iter()
        .map(|record| (record.step, StepJournal { status: StepStatus::Running, ..record }))
        .collect();
    let again = apply(&ctx, run, &leaver, &crashed, Duration::from_secs(60), &progress).await;
    assert!(again.failed.is_empty() && again.waiting.is_empty(), "{again:?}");
    assert_eq!(again.done, 8);
    let reasons = audit_reasons(&ctx, run).await;
    let already = reasons.iter().filter(|reason| reason.contains("already so in Exchange")).count();
    assert!(already >= 4, "the repeated writes were recognised as already done: {reasons:?}");
    assert!(reasons.iter().any(|reason| reason.contains("found done after an interrupted attempt")), "{reasons:?}");
    assert_eq!(admin(&sandbox, "data-loss").await["entries"], json!([]));
    let alex_again = admin_mailbox(&sandbox, ALEX).await;
    assert_eq!(alex_again["full_access"], alex["full_access"], "no second grant");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_that_does_not_come_leaves_its_steps_waiting_and_the_run_succeeds() {
    let knobs = Knobs { mailbox_provisioning_delay_ms: 300, ..Knobs::default() };
    let sandbox = exchange_support::start(&extra_seed(), knobs).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let apply_config = ApplyConfig { mailbox_wait_seconds: 1, ..ApplyConfig::default() };
    let ctx = exchange_support::engine_context(&sandbox, dir.path(), apply_config).await;
    // Wanda holds no licence, so no mailbox is coming for her.
    let waiting = plan(vec![
        step(0, Action::AwaitMailbox { mailbox: WANDA.into() }, &[]),
        step(1, Action::AddMailListMember { list: RETAIL_ANNOUNCEMENTS.into(), member: WANDA.into() }, &[0]),
        step(2, grant(ADELE, WANDA, SharedMailboxRight::SendAs), &[0]),
        step(3, Action::AddMailListMember { list: RETAIL_ANNOUNCEMENTS.into(), member: ALEX.into() }, &[]),
        step(4, grant(ALEX, WANDA, SharedMailboxRight::FullAccess), &[1, 3]),
        // A Graph step behind the wait is held back too (as a leaver's licence removal is behind the confirmation).
        step(5, licences(&object_id(11), &[ENTERPRISEPACK], &[]), &[0]),
    ]);
    let run = new_run(&ctx, &waiting).await;
    let progress = RecordingProgress::default();

    // Through the engine's own run path (a run found unfinished), which passes the Exchange connection and the
    // configured wait, and records the run's outcome.
    let reports = engine::resume_unfinished(&ctx, &progress).await.expect("resume");
    let report = reports.first().expect("the run was applied");
    assert_eq!(report.status, RunStatus::Succeeded, "waiting steps do not fail the run");
    let applied = report.apply.as_ref().expect("applied");
    assert!(applied.failed.is_empty(), "{applied:?}");
    assert_eq!(applied.done, 1, "the independent step ran");
    let waiting_steps: Vec<StepId> = applied.waiting.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        BTreeSet::from_iter(waiting_steps),
        BTreeSet::from([StepId(0), StepId(1), StepId(2), StepId(4), StepId(5)])
    );
    let detail = ctx.store.load_run(run).await.expect("load run");
    assert_eq!(detail.summary.status, RunStatus::Succeeded);
    assert_eq!(detail.summary.totals.map(|totals| (totals.waiting, totals.failed)), Some((5, 0)));
    let journal: Vec<(StepStatus, String)> =
        detail.steps.iter().map(|step| (step.status, step.error.clone().unwrap_or_default())).collect();
    assert_eq!(journal[0].0, StepStatus::Waiting);
    assert!(journal[0].1.contains("the mailbox of wanda.waiting@contoso.com is not provisioned yet"), "{journal:?}");
    assert_eq!(journal[3], (StepStatus::Done, String::new()));
    for dependent in [1, 2, 4, 5] {
        assert_eq!(journal[dependent].0, StepStatus::Waiting, "{journal:?}");
        assert!(journal[dependent].1.starts_with("not attempted: step #"), "{journal:?}");
    }
    assert!(!members(&ctx, RETAIL_ANNOUNCEMENTS).await.contains(WANDA));
    let (observed, _) = ctx.graph.observe_full().await.expect("graph observation");
    let wanda = observed.users.get(&ObjectId(object_id(11))).expect("Wanda");
    assert!(wanda.licenses.is_empty(), "the Graph step behind the wait was not sent");
    assert!(
        progress.statuses.lock().expect("lock").iter().any(|status| status.contains("left waiting")),
        "progress said the step is left waiting"
    );

    // Wanda gets her licence; resumed from its journal, the run checks the waiting steps again and finishes them.
    exchange_support::assign_licenses(&ctx.graph, &object_id(11), &[ENTERPRISEPACK], &[]).await;
    let journal: BTreeMap<StepId, StepJournal> = detail.steps.into_iter().map(|step| (step.step, step)).collect();
    let resumed = apply(&ctx, run, &waiting, &journal, Duration::from_secs(60), &progress).await;
    assert!(resumed.failed.is_empty() && resumed.waiting.is_empty(), "{resumed:?}");
    assert_eq!((resumed.done, resumed.resumed_done), (6, 1));
    assert_eq!(statuses(&ctx, run).await, [StepStatus::Done; 6]);
    assert!(members(&ctx, RETAIL_ANNOUNCEMENTS).await.contains(WANDA));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_steps_without_an_exchange_connection_fail_saying_so() {
    let sandbox = exchange_support::start("", Knobs::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ctx = exchange_support::engine_context(&sandbox, dir.path(), ApplyConfig::default()).await;
    ctx.exchange = None;
    let hide = plan(vec![
        step(0, Action::SetMailboxHidden { mailbox: ALEX.into(), hidden: true }, &[]),
        step(1, grant(ALEX, ADELE, SharedMailboxRight::SendAs), &[0]),
    ]);
    let run = new_run(&ctx, &hide).await;
    let report = apply(&ctx, run, &hide, &BTreeMap::new(), Duration::from_secs(1), &RecordingProgress::default()).await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(report.failed[0].1.contains("Exchange Online connection"), "{report:?}");
    assert_eq!(report.not_attempted, 1);
    assert_eq!(admin_mailbox(&sandbox, ALEX).await["hidden"], false);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_steps_get_through_throttling_and_injected_server_errors() {
    const USERS: u64 = 10;
    let mut seed = extra_seed();
    for index in 0..USERS {
        seed.push_str(&user(100 + index, &format!("user{index:02}@contoso.com"), None, true));
    }
    let knobs = Knobs {
        seed: 11,
        throttling: true,
        exchange_max_concurrency: Some(2),
        latency_ms: 20,
        jitter_ms: 20,
        error_rate: 0.1,
        error_statuses: vec![503],
        mailbox_provisioning_delay_ms: 800,
        ..Knobs::default()
    };
    let sandbox = exchange_support::start(&seed, knobs).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = exchange_support::engine_context(&sandbox, dir.path(), ApplyConfig::default()).await;
    make_info_shared(&ctx).await;
    let mut steps = vec![
        step(0, licences(&object_id(10), &[ENTERPRISEPACK], &[]), &[]),
        step(1, Action::AwaitMailbox { mailbox: NORA.into() }, &[0]),
        step(2, grant(INFO, NORA, SharedMailboxRight::SendOnBehalf), &[1]),
    ];
    let upns: Vec<String> = (0..USERS).map(|index| format!("user{index:02}@contoso.com")).collect();
    for upn in &upns {
        let next = steps.len() as u32;
        steps.push(step(
            next,
            Action::AddMailListMember { list: RETAIL_ANNOUNCEMENTS.into(), member: upn.clone() },
            &[],
        ));
        steps.push(step(next + 1, grant(INFO, upn, SharedMailboxRight::FullAccess), &[]));
        steps.push(step(next + 2, grant(INFO, upn, SharedMailboxRight::SendOnBehalf), &[]));
    }
    let busy = plan(steps);
    let run = new_run(&ctx, &busy).await;

    let report =
        apply(&ctx, run, &busy, &BTreeMap::new(), Duration::from_secs(60), &RecordingProgress::default()).await;

    assert!(report.failed.is_empty() && report.waiting.is_empty(), "{report:?}");
    assert_eq!(report.done, busy.steps.len());
    let info = admin_mailbox(&sandbox, INFO).await;
    let holders = |key: &str| -> BTreeSet<String> {
        info[key].as_array().into_iter().flatten().filter_map(|value| value.as_str().map(str::to_string)).collect()
    };
    let full_access: BTreeSet<String> = info["full_access"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["user"].as_str().map(str::to_string))
        .collect();
    assert_eq!(full_access, upns.iter().cloned().collect::<BTreeSet<_>>());
    let mut on_behalf = upns.iter().cloned().collect::<BTreeSet<_>>();
    on_behalf.insert(NORA.to_string());
    assert_eq!(holders("send_on_behalf"), on_behalf, "no concurrent Send on Behalf change was lost");
    assert!(members(&ctx, RETAIL_ANNOUNCEMENTS).await.is_superset(&upns.iter().cloned().collect()));
    let knob_stats = sandbox.state().knobs.stats();
    let client_stats = ctx.exchange.as_ref().expect("exchange").client.stats();
    assert!(knob_stats.injected_errors > 0, "the run met injected 503s: {knob_stats:?}");
    assert!(knob_stats.exchange_throttled_requests > 0, "the run met Exchange's throttling: {knob_stats:?}");
    assert!(client_stats.retries > 0, "{client_stats:?}");
    sandbox.shutdown().await;
}
