//! Crash safety of the Exchange leaver sequence: the real `tenure` binary, reaching Exchange Online through a
//! stored app-only connection (sealed by the vault in its own store), is killed (SIGKILL) at thirty random points
//! — counted in `progress apply` lines — while it applies the leaver sequences of two hundred people (disable,
//! reset, revoke, leave the groups, then hide, auto-reply, convert to shared, confirm shared, hand to the manager,
//! and only then drop the licence), and restarted each time — with the sandbox's mailbox provisioning delay,
//! replication delay, throttling, injected 503s and dropped connections on. At the end no mailbox was marked for deletion or
//! purged, every leaver is disabled, unlicensed, shared, hidden and in their manager's hands, no run is left
//! unfinished, every journaled step is done, each sequence was planned once, and the tenant matches HR (an empty
//! plan). The journal, read after each kill, shows that most kills caught Exchange writes in flight.

#[path = "../../engine/tests/support/mod.rs"]
mod support;
mod tenure_process;

use tenure_process::run_sync;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use engine::connections::{ConnectionService, ConnectionSettings, NewConnectionRequest};
use model::NationalCloud;
use rand::{Rng, SeedableRng};
use sandbox::RunningSandbox;
use sandbox::knobs::Knobs;
use store::{StepStatus, Store};
use vault::MasterKeyRing;

const MANAGERS: usize = 10;
const LEAVERS: usize = 200;
const KILLS: usize = 30;
/// Each kill comes after 1 to `KILL_RANGE - 1` `progress apply` lines.
const KILL_RANGE: u64 = 110;
/// Kills that must land while an Exchange write of the leaver sequence was in flight.
const EXCHANGE_KILLS: usize = 20;
const PROVISIONING_DELAY_MS: i64 = 1000;
/// The stored Exchange connection's name.
const EXCHANGE_CONNECTION: &str = "contoso-exchange";

/// Stores the app-only Exchange connection the binary uses, on the binary's own store, sealed with a new master
/// key written (mode 0600) to `master.key`: Contoso's app with a generated certificate, uploaded to the app
/// registration as an admin would, then tested so that it is Connected.
async fn store_exchange_connection(sandbox: &RunningSandbox, dir: &Path) {
    let (keys, key_text) = MasterKeyRing::generate();
    MasterKeyRing::write_file(&dir.join("master.key"), &key_text).expect("write the master key");
    let store = Store::open(&format!("sqlite://{}", dir.join("tenure.db").display())).await.expect("store opens");
    let service = ConnectionService::new(
        store,
        Arc::new(keys),
        ConnectionSettings {
            public_base_url: "http://localhost:8080".to_string(),
            provider_app: None,
            sandbox_url: Some(sandbox.https_base()),
            ca_pem: Some(sandbox.ca_pem().as_bytes().to_vec()),
        },
    );
    let view = service
        .create(NewConnectionRequest::ExchangeApp {
            name: EXCHANGE_CONNECTION.into(),
            cloud: NationalCloud::Global,
            tenant_id: support::CONTOSO_TENANT.into(),
            client_id: support::CONTOSO_APP.into(),
        })
        .await
        .expect("connection created");
    let certificate = view.certificates.first().expect("a generated certificate");
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("CA")])
        .build()
        .expect("client");
    let uploaded = http
        .post(format!("{}/apps/{}/certificates", sandbox.admin_base(), support::CONTOSO_APP))
        .json(&serde_json::json!({ "pem": certificate.certificate_pem }))
        .send()
        .await
        .expect("admin API");
    assert_eq!(uploaded.status(), 201, "certificate uploaded");
    let report = service.test(view.connection.id).await.expect("tested");
    assert!(report.passed, "the Exchange connection works: {report:?}");
}

/// `tenure.toml`: the Graph side as the inline `[connection]` table, Exchange through the stored connection.
fn write_config(dir: &Path, sandbox: &RunningSandbox) -> std::path::PathBuf {
    let path = support::write_tenure_config(dir, sandbox, 4);
    let mut text = std::fs::read_to_string(&path).expect("read config");
    let _ = write!(
        text,
        "[connections]\nexchange = \"{EXCHANGE_CONNECTION}\"\n[vault]\nmaster_key_file = \"master.key\"\n\
         [sandbox]\nurl = \"{}\"\nca_file = \"ca.pem\"\n",
        sandbox.https_base()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

fn write_inputs(dir: &Path, rows: &[support::Row]) {
    std::fs::write(dir.join("policy.toml"), format!("{}\n{}", support::POLICY, support::exchange::LEAVER_ONLY_POLICY))
        .expect("write policy");
    std::fs::write(dir.join("hr.csv"), support::csv(rows)).expect("write hr");
}

/// The Exchange writes an unfinished run's journal shows `running` since `since` (journaled by the process started
/// then): sent, or about to be, with no answer recorded when the process died. Mailbox reads are never journaled
/// as running (they change nothing), and a write left `running` by an earlier kill that this process did not send
/// again is not counted.
async fn exchange_writes_in_flight(store_url: &str, since: DateTime<Utc>) -> Vec<String> {
    let store = Store::open(store_url).await.expect("store opens");
    let mut in_flight = Vec::new();
    for run in store.unfinished_runs().await.expect("runs") {
        let detail = store.load_run(run.id).await.expect("run");
        let steps: BTreeMap<_, _> = detail.plan.steps.iter().map(|step| (step.id, step)).collect();
        let running =
            detail.steps.iter().filter(|record| record.status == StepStatus::Running && record.updated_at >= since);
        for record in running {
            if steps.get(&record.step).is_some_and(|step| step.action.is_exchange()) {
                in_flight.push(record.action_kind.clone());
            }
        }
    }
    store.close().await;
    in_flight
}

/// Every leaver (the rows after the managers) is disabled and unlicensed, and keeps a shared, hidden mailbox,
/// not marked for deletion, on which their manager holds FullAccess.
fn check_leavers(sandbox: &RunningSandbox, rows: &[support::Row]) {
    let tenant = sandbox.tenant("contoso.com").expect("tenant");
    let tenant = tenant.read();
    let by_employee: BTreeMap<&str, &sandbox::directory::user::User> = tenant
        .users
        .values()
        .filter(|user| !user.is_deleted())
        .filter_map(|user| Some((user.employee_id.as_deref()?, user)))
        .collect();
    for row in rows.iter().skip(MANAGERS) {
        let user = by_employee.get(row.id.as_str()).unwrap_or_else(|| panic!("{} has an account", row.id));
        let upn = &user.user_principal_name;
        assert!(!user.account_enabled, "{upn} is disabled");
        assert!(user.assigned_licenses.is_empty(), "{upn} has no licence left");
        let mailbox = tenant.exchange.mailboxes.get(&user.id).unwrap_or_else(|| panic!("{upn} keeps a mailbox"));
        assert_eq!(mailbox.kind.recipient_type_details(), "SharedMailbox", "{upn}'s mailbox is shared");
        assert!(mailbox.hidden_from_address_lists, "{upn}'s mailbox is hidden");
        assert!(mailbox.marked_for_deletion.is_none(), "{upn}'s mailbox is not marked for deletion");
        let manager = by_employee.get(row.manager.as_str()).unwrap_or_else(|| panic!("{upn}'s manager"));
        assert!(
            mailbox.full_access.iter().any(|grant| grant.user == manager.id),
            "{upn}'s manager {} holds FullAccess",
            manager.user_principal_name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_exchange_leaver_sequences_at_random_points_loses_no_mail() {
    let knobs = Knobs {
        seed: 9,
        latency_ms: 2,
        jitter_ms: 4,
        replication_delay_ms: 400,
        mailbox_provisioning_delay_ms: PROVISIONING_DELAY_MS as u64,
        throttling: true,
        error_rate: 0.02,
        error_statuses: vec![503],
        drop_rate: 0.01,
        ..Knobs::default()
    };
    let sandbox = support::start_sandbox(knobs).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store_url = format!("sqlite://{}", dir.path().join("tenure.db").display());
    // Everyone an employee, so everyone has an Exchange licence and a mailbox.
    let mut rows = support::workforce(MANAGERS + LEAVERS);
    for row in &mut rows {
        row.employee_type = "Employee".into();
    }
    write_inputs(dir.path(), &rows);
    let config = write_config(dir.path(), &sandbox);
    store_exchange_connection(&sandbox, dir.path()).await;

    // Everyone joins; their mailboxes are provisioned a moment later (the sandbox clock, not a sleep).
    let joined = run_sync(&config, &[], None).await;
    assert!(joined.status.success(), "the joiners' sync succeeds:\n{}", joined.stderr);
    sandbox.state().clock.advance(Duration::milliseconds(PROVISIONING_DELAY_MS + 2000));

    // Everyone but the managers leaves: more than half the tenant is disabled, past the policy's safety limit.
    for row in rows.iter_mut().skip(MANAGERS) {
        row.last_day = "2024-06-30".into();
        row.status = "terminated".into();
    }
    write_inputs(dir.path(), &rows);
    let override_limits = ["--override-limits"];
    let mut random = rand::rngs::StdRng::seed_from_u64(17);
    let mut kills_in_exchange = 0;
    let mut interrupted = BTreeMap::<String, usize>::new();
    for kill in 0..KILLS {
        let kill_after = random.random_range(1..KILL_RANGE);
        let started = Utc::now();
        let ended = run_sync(&config, &override_limits, Some(kill_after)).await;
        assert!(!ended.finished, "the sync finished before kill {kill}; make the workload larger");
        let in_flight = exchange_writes_in_flight(&store_url, started).await;
        eprintln!("kill {kill} after {} apply line(s): {} Exchange write(s) in flight", ended.applied, in_flight.len());
        kills_in_exchange += usize::from(!in_flight.is_empty());
        for kind in in_flight {
            *interrupted.entry(kind).or_default() += 1;
        }
    }
    let ended = run_sync(&config, &override_limits, None).await;
    assert!(ended.status.success(), "the final sync succeeds:\n{}", ended.stderr);

    // Provisioning and replication catch up (sandbox clock); then nothing is left to do.
    sandbox.state().clock.advance(Duration::seconds(2));
    let ended = run_sync(&config, &override_limits, None).await;
    assert!(ended.status.success(), "the last sync succeeds:\n{}", ended.stderr);

    let (marked, purged, record) = support::exchange::data_loss(&sandbox).await;
    assert_eq!((marked, purged), (0, 0), "no mailbox was marked for deletion or purged: {record}");

    check_leavers(&sandbox, &rows);

    let store = Store::open(&store_url).await.expect("store");
    assert!(store.unfinished_runs().await.expect("runs").is_empty(), "no run is left unfinished");
    let mut planned = BTreeMap::<&str, usize>::new();
    for run in store.list_runs(1000).await.expect("runs") {
        let detail = store.load_run(run.id).await.expect("run");
        for step in &detail.plan.steps {
            *planned.entry(step.action.kind()).or_default() += 1;
        }
        for record in &detail.steps {
            assert_eq!(
                record.status,
                StepStatus::Done,
                "run {} step {} ({}) ended {:?}: {:?}",
                run.id,
                record.step,
                record.action_kind,
                record.status,
                record.error
            );
        }
    }
    // One leaver sequence each, planned once: the restarts finished the interrupted run instead of re-planning.
    for kind in ["hide mailbox", "set auto-reply", "convert to shared", "confirm shared", "grant mailbox right"] {
        assert_eq!(planned.get(kind).copied(), Some(LEAVERS), "{kind} steps planned: {planned:?}");
    }
    let last = store.list_runs(1).await.expect("runs").into_iter().next().expect("a run");
    assert_eq!(store.load_run(last.id).await.expect("run").plan.steps.len(), 0, "the tenant matches HR");

    // The kills did land in the Exchange steps. Proved from the journal, read after each kill: the unfinished run
    // showed Exchange writes `running` that the killed process had journaled — sent, or about to be, with no
    // answer recorded when it died. And writes that had reached Exchange were sent again (after a restart, or after
    // a dropped answer) and found already done.
    let audit = store.list_audit(&store::AuditQuery { run: None, worker: None, limit: 100_000 }).await.expect("audit");
    let found_done = audit.iter().filter(|entry| entry.reason.contains("already so in Exchange")).count();
    let licences_settled =
        audit.iter().filter(|entry| entry.reason.contains("licences were already as planned")).count();
    eprintln!(
        "{kills_in_exchange} of {KILLS} kills landed while Exchange writes were in flight ({interrupted:?}); \
         {found_done} Exchange write(s) sent again were found already done; {licences_settled} licence removal(s) \
         repeated after a lost answer were found done"
    );
    assert!(
        kills_in_exchange >= EXCHANGE_KILLS,
        "only {kills_in_exchange} of {KILLS} kills landed while Exchange writes were in flight"
    );
    assert!(
        interrupted.contains_key("convert to shared") || interrupted.contains_key("grant mailbox right"),
        "no kill landed in a conversion or a hand-over, the steps right before the licence goes: {interrupted:?}"
    );
    assert!(found_done > 0, "no Exchange write was sent again after it had taken effect");
    store.close().await;
    sandbox.shutdown().await;
}
