//! Crash safety: a large sync is killed (SIGKILL) at more than twenty random points — while batches are in flight,
//! between a write and its journal entry — and restarted each time. At the end there is no duplicate account, no
//! step left pending or running, every run's journal is complete, and the tenant matches HR (an empty plan).

#[path = "../../engine/tests/support/mod.rs"]
mod support;
mod tenure_process;

use tenure_process::run_sync;

use chrono::Duration;
use rand::{Rng, SeedableRng};
use sandbox::knobs::Knobs;

const KILLS: usize = 24;
const WORKERS: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_large_sync_at_random_points_loses_nothing_and_duplicates_nothing() {
    let knobs = Knobs { seed: 3, latency_ms: 2, jitter_ms: 4, replication_delay_ms: 400, ..Knobs::default() };
    let sandbox = support::start_sandbox(knobs).await;
    let dir = tempfile::tempdir().expect("temp dir");
    support::write_inputs(dir.path(), &support::workforce(WORKERS));
    let config = support::write_tenure_config(dir.path(), &sandbox, 4);

    let mut random = rand::rngs::StdRng::seed_from_u64(11);
    let mut kills = 0;
    while kills < KILLS {
        let kill_after = random.random_range(1..60);
        let finished = run_sync(&config, &[], Some(kill_after)).await.finished;
        assert!(!finished, "the sync finished before kill point {kills}; make the workload larger");
        kills += 1;
    }
    let status = run_sync(&config, &[], None).await.status;
    assert!(status.success(), "the final sync succeeds");

    // Replication catches up (sandbox clock), then nothing is left to do.
    sandbox.state().clock.advance(Duration::seconds(1));
    let status = run_sync(&config, &[], None).await.status;
    assert!(status.success());

    let tenant = sandbox.tenant("contoso.com").expect("tenant");
    let mut accounts_per_employee = std::collections::BTreeMap::<String, usize>::new();
    for user in tenant.read().users.values() {
        if let Some(id) = &user.employee_id {
            *accounts_per_employee.entry(id.clone()).or_default() += 1;
        }
    }
    let managed: Vec<_> = accounts_per_employee.iter().filter(|(id, _)| id.starts_with('E')).collect();
    assert_eq!(managed.len(), WORKERS, "every worker has an account");
    let duplicates: Vec<_> = managed.iter().filter(|(_, count)| **count > 1).collect();
    assert!(duplicates.is_empty(), "duplicate accounts: {duplicates:?}");

    let store =
        store::Store::open(&format!("sqlite://{}", dir.path().join("tenure.db").display())).await.expect("store");
    assert!(store.unfinished_runs().await.expect("runs").is_empty(), "no run is left unfinished");
    for run in store.list_runs(1000).await.expect("runs") {
        let detail = store.load_run(run.id).await.expect("run");
        for record in &detail.steps {
            assert!(
                matches!(record.status, store::StepStatus::Done),
                "run {} step {} ended {:?}: {:?}",
                run.id,
                record.step,
                record.status,
                record.error
            );
        }
    }
    // The kills did land mid-batch: some creates were settled by looking the employee up after a restart.
    let audit = store.list_audit(&store::AuditQuery { run: None, worker: None, limit: 100_000 }).await.expect("audit");
    let settled = audit
        .iter()
        .filter(|entry| entry.reason.contains("interrupted attempt") || entry.reason.contains("already existed"))
        .count();
    eprintln!("{settled} step(s) were settled after an interruption; {} audit entries", audit.len());
    assert!(settled > 0, "no kill interrupted a batch in flight");
    let last = store.list_runs(1).await.expect("runs").into_iter().next().expect("a run");
    assert_eq!(store.load_run(last.id).await.expect("run").plan.steps.len(), 0, "the tenant matches HR");
    sandbox.shutdown().await;
}
