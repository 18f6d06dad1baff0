//! Benchmark: N leavers (default 1,000) in one sync against the sandbox with Exchange's throttling on — the
//! request quota per app and tenant (30,000 per 10 minutes, scaled by `time_scale` like every other window) and
//! 10 concurrent requests per tenant — plus latency on every request. Reports the total time, the Exchange calls
//! per leaver (observation included), and their ratio to the fewest calls the leaver sequence needs; checks that the
//! sandbox's data-loss record is empty afterwards.
//!
//! `cargo bench -p engine --bench exchange_leavers -- [leavers] [time_scale] [latency_ms] [graph_writes_per_150s]`
//!
//! The fewest calls per leaver under the benchmark's policy (one list, FullAccess and SendAs for the manager, an
//! auto-reply, conversion): remove the list membership, hide, set the auto-reply, convert, confirm shared, grant
//! FullAccess, grant SendAs = 7.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use chrono::Duration;
use engine::config::ApplyConfig;
use engine::{RunTrigger, SilentProgress, SyncOptions};
use sandbox::knobs::Knobs;

const MANAGERS: usize = 10;
/// The leaver sequence's Exchange commands under [`POLICY`] (see the module docs).
const FEWEST_CALLS_PER_LEAVER: f64 = 7.0;

const POLICY: &str = r#"
[exchange]
enabled = true
default_list = "bench-everyone"

[[exchange.lists]]
id = "everyone"
name = "bench-everyone"
kind = "distribution"
create = true

[exchange.leaver]
convert_to_shared = true
hide_from_address_lists = true
grant_manager = ["FullAccess", "SendAs"]
[exchange.leaver.auto_reply]
internal = "{{ display_name }} has left. Please contact {{ manager_name | default('the service desk') }}."
"#;

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).filter(|argument| !argument.starts_with("--")).collect();
    let leavers: usize = arguments.first().and_then(|text| text.parse().ok()).unwrap_or(1_000);
    let time_scale: f64 = arguments.get(1).and_then(|text| text.parse().ok()).unwrap_or(0.02);
    let latency_ms: u64 = arguments.get(2).and_then(|text| text.parse().ok()).unwrap_or(20);
    let graph_writes: Option<u32> = arguments.get(3).and_then(|text| text.parse().ok());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(run(leavers, time_scale, latency_ms, graph_writes));
}

fn write_inputs(dir: &std::path::Path, rows: &[support::Row]) -> (std::path::PathBuf, std::path::PathBuf) {
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, format!("{}\n{POLICY}", support::POLICY)).expect("write policy");
    let hr = dir.join("hr.csv");
    std::fs::write(&hr, support::csv(rows)).expect("write hr");
    (policy, hr)
}

async fn run(leavers: usize, time_scale: f64, latency_ms: u64, graph_writes: Option<u32>) {
    // Graph's own write quota (3,000 per 150 s per app and tenant = 20 writes/s) applies too unless raised: the
    // leavers' four Graph writes each (disable, reset, revoke, licences) then take longer than Exchange's part.
    let knobs = Knobs {
        latency_ms,
        throttling: true,
        time_scale,
        app_tenant_write_quota: graph_writes,
        tenant_write_quota: graph_writes.map(|writes| writes.saturating_mul(6)),
        ..Knobs::default()
    };
    let sandbox = support::start_sandbox(knobs).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store_url = format!("sqlite://{}", dir.path().join("tenure.db").display());
    let apply = ApplyConfig { max_concurrency: 8, max_attempts: 20, ..ApplyConfig::default() };
    let mut ctx = support::context(&sandbox, &store_url, apply).await;
    let exchange = support::exchange::connection_for(&sandbox);
    ctx.exchange = Some(exchange.clone());

    // Set-up (not measured): everyone joins, gets a licence, a mailbox and the list.
    let mut rows = support::workforce(MANAGERS + leavers);
    for row in &mut rows {
        row.employee_type = "Employee".into();
    }
    let (policy, hr) = write_inputs(dir.path(), &rows);
    let setup_started = Instant::now();
    let prepared =
        engine::prepare(&ctx, &policy, &hr, sandbox.state().clock.now(), &SilentProgress).await.expect("prepare");
    let options = SyncOptions { dry_run: false, override_limits: true, trigger: RunTrigger::Cli };
    let report =
        engine::sync(&ctx, &prepared, options, sandbox.state().clock.now(), &SilentProgress).await.expect("sync");
    assert!(report.apply.as_ref().is_some_and(|apply| apply.failed.is_empty()), "set-up failed");
    sandbox.state().clock.advance(Duration::seconds(5));
    let setup = setup_started.elapsed().as_secs_f64();

    // The measured sync: every worker but the managers leaves.
    for row in rows.iter_mut().skip(MANAGERS) {
        row.last_day = "2024-06-30".into();
        row.status = "terminated".into();
    }
    let (policy, hr) = write_inputs(dir.path(), &rows);
    let before = exchange.client.stats();
    let graph_before = ctx.graph.stats().http_requests;
    let started = Instant::now();
    // A line every 10 s: where the time goes (Exchange calls and Graph requests so far).
    let timeline = {
        let (exchange_client, graph_client) = (exchange.client.clone(), ctx.graph.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
            tick.tick().await;
            loop {
                tick.tick().await;
                let (exchange_stats, graph_stats) = (exchange_client.stats(), graph_client.stats());
                eprintln!(
                    "  {:>5.0} s: {} Exchange calls ({} throttled, {} quota pauses), {} Graph requests",
                    started.elapsed().as_secs_f64(),
                    exchange_stats.requests - before.requests,
                    exchange_stats.throttled - before.throttled,
                    exchange_stats.quota_pauses - before.quota_pauses,
                    graph_stats.http_requests - graph_before
                );
            }
        })
    };
    let now = sandbox.state().clock.now();
    let prepared = engine::prepare(&ctx, &policy, &hr, now, &SilentProgress).await.expect("prepare");
    let observed_at = started.elapsed().as_secs_f64();
    let report = engine::sync(&ctx, &prepared, options, now, &SilentProgress).await.expect("sync");
    let elapsed = started.elapsed().as_secs_f64();
    timeline.abort();
    let after = exchange.client.stats();
    let apply = report.apply.expect("applied");
    let exchange_steps = prepared.plan.steps.iter().filter(|step| step.action.is_exchange()).count();
    let calls = after.requests - before.requests;
    let per_leaver = calls as f64 / leavers as f64;

    // Exchange's quota is a fixed window (30,000 requests per 10 minutes per app and tenant, both scaled): the
    // fewest calls pass through ⌊calls / quota⌋ full windows at best.
    let quota = (30_000.0 * time_scale).round().max(1.0);
    let window = 600.0 * time_scale;
    let fewest = FEWEST_CALLS_PER_LEAVER * leavers as f64;
    let ideal = (fewest / quota).floor() * window;
    let data_loss = support::exchange::data_loss(&sandbox).await;
    println!(
        "{leavers} leavers in one sync (throttling on, time_scale {time_scale}, {latency_ms} ms latency, Graph \
         write quota {} per 150 s)",
        graph_writes.map_or("3,000 (Microsoft's)".to_string(), |writes| writes.to_string())
    );
    println!("  set-up (joiners, not measured)   {setup:.1} s");
    println!("  total time                       {elapsed:.1} s  (observe + plan {observed_at:.1} s)");
    println!(
        "  Exchange quota                   {quota:.0} requests per {window:.1} s window (50/s); the fewest calls \
         ({fewest:.0}) need {ideal:.1} s at least"
    );
    println!("  plan                             {} steps, {exchange_steps} Exchange", prepared.plan.steps.len());
    println!("  done / failed                    {} / {}", apply.done, apply.failed.len());
    println!(
        "  Exchange HTTP calls              {calls} = {per_leaver:.2} per leaver (fewest the sequence needs: \
         {FEWEST_CALLS_PER_LEAVER}; ratio {:.3})",
        per_leaver / FEWEST_CALLS_PER_LEAVER
    );
    println!(
        "  of which                         {} retries, {} throttled (429), {} pages read, {} quota pauses",
        after.retries - before.retries,
        after.throttled - before.throttled,
        after.pages - before.pages,
        after.quota_pauses - before.quota_pauses
    );
    println!("  data-loss record                 {} marked for deletion, {} purged", data_loss.0, data_loss.1);
    assert_eq!((data_loss.0, data_loss.1), (0, 0), "mail was lost: {}", data_loss.2);
    sandbox.shutdown().await;
}
