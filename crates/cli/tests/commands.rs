//! The engine's commands as an admin uses them, through the real binary against an in-process sandbox:
//! `check` (and its errors), `plan` (stores a dry run), `apply` (applies that stored plan), `runs`, `audit`,
//! and a `sync` over a safety limit that stops until `--override-limits`.

#[path = "../../engine/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Output;

use sandbox::knobs::Knobs;
use tokio::process::Command;

async fn tenure(config: &Path, arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenure"))
        .args(arguments)
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("tenure runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_plan_apply_runs_audit_and_the_safety_gate() {
    let sandbox = support::start_sandbox(Knobs::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rows = support::workforce(12);
    support::write_inputs(dir.path(), &rows);
    let config = support::write_tenure_config(dir.path(), &sandbox, 4);

    let check = tenure(&config, &["check"]).await;
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("12 valid worker(s)"), "{}", text(&check));

    let plan = tenure(&config, &["plan"]).await;
    assert!(plan.status.success(), "{}", text(&plan));
    let plan_text = text(&plan);
    assert!(plan_text.contains("create user anna.mueller@contoso.com (worker E1000)"), "{plan_text}");
    assert!(plan_text.contains("planned (dry run, nothing applied)"), "{plan_text}");
    let users_before = sandbox.tenant("contoso.com").expect("tenant").read().users.len();

    let apply = tenure(&config, &["apply"]).await;
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(text(&apply).contains("succeeded"), "{}", text(&apply));
    let users_after = sandbox.tenant("contoso.com").expect("tenant").read().users.len();
    assert_eq!(users_after, users_before + 12, "the stored plan was applied");

    // Nothing is left to plan, so there is no stored plan to apply.
    let plan_again = tenure(&config, &["plan", "--json"]).await;
    let json: serde_json::Value = serde_json::from_slice(&plan_again.stdout).expect("plan --json prints JSON");
    assert_eq!(json["steps"], serde_json::json!([]));

    let runs = tenure(&config, &["runs"]).await;
    let runs_text = text(&runs);
    assert!(runs_text.contains("succeeded") && runs_text.contains("planned"), "{runs_text}");

    let audit = tenure(&config, &["audit", "--worker", "E1000"]).await;
    let audit_text = text(&audit);
    assert!(audit_text.contains("create user") && audit_text.contains("new hire"), "{audit_text}");
    assert!(!audit_text.contains("E1001 "), "only E1000's entries: {audit_text}");

    // A mass termination in HR: the sync stops before its first step and says who, until overridden.
    for row in rows.iter_mut().skip(2) {
        row.last_day = "2024-06-30".into();
        row.status = "terminated".into();
    }
    support::write_inputs(dir.path(), &rows);
    let blocked = tenure(&config, &["sync"]).await;
    assert!(!blocked.status.success());
    let blocked_text = text(&blocked);
    assert!(
        blocked_text.contains("safety limit \"disables\" exceeded") && blocked_text.contains("E1002"),
        "{blocked_text}"
    );
    let enabled = |sandbox: &sandbox::RunningSandbox| {
        let tenant = sandbox.tenant("contoso.com").expect("tenant");
        let tenant = tenant.read();
        tenant.users.values().filter(|user| user.deleted.is_none() && user.account_enabled).count()
    };
    let enabled_before = enabled(&sandbox);
    assert_eq!(enabled_before, users_after - tenant_disabled_at_start(&sandbox));
    let overridden = tenure(&config, &["sync", "--override-limits"]).await;
    assert!(overridden.status.success(), "{}", text(&overridden));
    assert_eq!(enabled(&sandbox), enabled_before - 10);

    // A broken policy: every problem at once, and a non-zero exit.
    std::fs::write(
        dir.path().join("policy.toml"),
        support::POLICY.replace("| ascii |", "| asci |").replace("security", "secret"),
    )
    .expect("write policy");
    let broken = tenure(&config, &["check"]).await;
    assert!(!broken.status.success());
    let broken_text = text(&broken);
    assert!(broken_text.contains("unknown filter") && broken_text.contains("groups[0].kind"), "{broken_text}");
    sandbox.shutdown().await;
}

/// Accounts of the seed that are disabled from the start.
fn tenant_disabled_at_start(sandbox: &sandbox::RunningSandbox) -> usize {
    let tenant = sandbox.tenant("contoso.com").expect("tenant");
    let tenant = tenant.read();
    tenant
        .users
        .values()
        .filter(|user| {
            user.deleted.is_none()
                && !user.account_enabled
                && user.employee_id.as_deref().is_none_or(|id| !id.starts_with('E'))
        })
        .count()
}
