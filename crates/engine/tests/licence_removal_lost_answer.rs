//! A licence removal whose answer is lost: the sandbox removes the licence, then drops the connection before the
//! `$batch` answer arrives, and the Graph client sends the batch again. Graph refuses the repeat ("User does not
//! have a corresponding license"); the step must still end done — the licence is gone, as planned — not failed.

mod support;

use engine::config::ApplyConfig;
use engine::{RunTrigger, SilentProgress, SyncOptions};
use sandbox::knobs::{FaultRule, Knobs};
use store::RunStatus;

use support::{context, start_sandbox, workforce, write_inputs};

async fn sync(sandbox: &sandbox::RunningSandbox, ctx: &engine::Context, dir: &std::path::Path) -> engine::RunReport {
    let (policy, hr) = (dir.join("policy.toml"), dir.join("hr.csv"));
    let now = sandbox.state().clock.now();
    let prepared = engine::prepare(ctx, &policy, &hr, now, &SilentProgress).await.expect("prepare");
    let options = SyncOptions { dry_run: false, override_limits: false, trigger: RunTrigger::Cli };
    engine::sync(ctx, &prepared, options, now, &SilentProgress).await.expect("sync")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_removal_sent_again_after_its_answer_was_lost_is_done() {
    let sandbox = start_sandbox(Knobs::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store_url = format!("sqlite://{}", dir.path().join("tenure.db").display());
    let ctx = context(&sandbox, &store_url, ApplyConfig::default()).await;
    let mut rows = workforce(3);
    for row in &mut rows {
        row.employee_type = "Employee".into();
    }
    write_inputs(dir.path(), &rows);
    assert_eq!(sync(&sandbox, &ctx, dir.path()).await.status, RunStatus::Succeeded);

    // A mover becomes a contractor: the licence rule no longer applies. The first `$batch` of the run is
    // applied by the sandbox, but its answer is dropped.
    rows[2].employee_type = "Contractor".into();
    write_inputs(dir.path(), &rows);
    sandbox.state().knobs.set(Knobs {
        fault_plan: vec![FaultRule {
            method: Some("POST".into()),
            path_prefix: "/v1.0/$batch".into(),
            nth: Some(1),
            drop: true,
            ..FaultRule::default()
        }],
        ..Knobs::default()
    });
    let report = sync(&sandbox, &ctx, dir.path()).await;
    assert_eq!(sandbox.state().knobs.stats().dropped_connections, 1, "the batch's answer was dropped");
    let apply = report.apply.as_ref().expect("applied");
    assert!(apply.failed.is_empty(), "failed steps: {:?}", apply.failed);
    assert_eq!(report.status, RunStatus::Succeeded);

    let audit = ctx.store.list_audit(&store::AuditQuery { run: Some(report.run), worker: None, limit: 100 }).await;
    let audit = audit.expect("audit");
    let licence = audit.iter().find(|entry| entry.action == "assign licences").expect("the licence step is audited");
    assert!(licence.reason.contains("already as planned"), "{}", licence.reason);
    {
        let tenant = sandbox.tenant("contoso.com").expect("tenant");
        let tenant = tenant.read();
        let mover = tenant.users.values().find(|user| user.employee_id.as_deref() == Some("E1002")).expect("the mover");
        assert!(mover.assigned_licenses.is_empty(), "the mover's licence is gone");
    }
    sandbox.shutdown().await;
}
