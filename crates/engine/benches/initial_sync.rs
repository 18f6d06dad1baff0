//! Benchmark: the initial sync of N workers (default 10,000) against the sandbox at the L-tenant throttling limits
//! with 20 ms latency. Reports the wall time, the writes per worker, and the ratio to the ideal time — the fewest
//! writes those changes need, at the configured write quota, after the quota's initial burst.
//!
//! `cargo bench -p engine --bench initial_sync -- [workers] [time_scale] [writes_per_150s]`
//!
//! The sandbox's `time_scale` shrinks every throttling window and quota alike, so rates stay Microsoft's (3,000
//! writes per 150 s per app and tenant = 20 writes/s) and only the bursts shrink. To keep a 10,000-worker run to
//! minutes, pass a higher app+tenant write quota (per unscaled 150 s window; the tenant-wide quota is raised to
//! match); the ideal is computed at that configured quota.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use engine::config::ApplyConfig;
use engine::{RunTrigger, SilentProgress, SyncOptions};
use model::Action;
use sandbox::knobs::{Knobs, TenantSize};

/// Microsoft's app+tenant write window (150 s), before scaling.
const WRITE_WINDOW_SECONDS: f64 = 150.0;

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).filter(|argument| !argument.starts_with("--")).collect();
    let workers: usize = arguments.first().and_then(|text| text.parse().ok()).unwrap_or(10_000);
    let time_scale: f64 = arguments.get(1).and_then(|text| text.parse().ok()).unwrap_or(0.1);
    let writes_per_window: u32 = arguments.get(2).and_then(|text| text.parse().ok()).unwrap_or(3_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(run(workers, time_scale, writes_per_window));
}

async fn run(workers: usize, time_scale: f64, writes_per_window: u32) {
    let knobs = Knobs {
        latency_ms: 20,
        throttling: true,
        tenant_size: Some(TenantSize::Large),
        time_scale,
        app_tenant_write_quota: Some(writes_per_window),
        tenant_write_quota: Some(writes_per_window * 6),
        ..Knobs::default()
    };
    let sandbox = support::start_sandbox(knobs).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store_url = format!("sqlite://{}", dir.path().join("tenure.db").display());
    let apply =
        ApplyConfig { max_concurrency: 8, max_attempts: 20, full_reconcile_hours: 24, ..ApplyConfig::default() };
    let ctx = support::context(&sandbox, &store_url, apply).await;
    let (policy, hr) = support::write_inputs(dir.path(), &support::workforce(workers));
    let now = sandbox.state().clock.now();

    let prepared = engine::prepare(&ctx, &policy, &hr, now, &SilentProgress).await.expect("prepare");
    let writes: usize = prepared.plan.steps.len();
    let members: usize = prepared
        .plan
        .steps
        .iter()
        .map(|step| match &step.action {
            Action::AddMembers { members, .. } => members.len(),
            _ => 0,
        })
        .sum();
    let before = ctx.graph.stats();
    let started = Instant::now();
    let options = SyncOptions { dry_run: false, override_limits: false, trigger: RunTrigger::Cli };
    let report = engine::sync(&ctx, &prepared, options, now, &SilentProgress).await.expect("sync");
    let elapsed = started.elapsed().as_secs_f64();
    let after = ctx.graph.stats();
    let apply = report.apply.expect("applied");

    // The sandbox scales the window and the quota alike: the rate is the quota per unscaled window, the burst
    // (the bucket's capacity at the start) is the scaled quota.
    let window = WRITE_WINDOW_SECONDS * time_scale;
    let burst = f64::from(writes_per_window) * time_scale;
    let rate = burst / window;
    let ideal = ((writes as f64 - burst).max(0.0)) / rate;
    println!("initial sync of {workers} workers");
    println!(
        "  steps (writes)        {writes}  ({:.2} per worker; {members} memberships in AddMembers of ≤20)",
        writes as f64 / workers as f64
    );
    println!(
        "  write quota           {writes_per_window} per {window:.1} s window = {rate:.0} writes/s, burst {burst:.0}"
    );
    println!("  ideal time            {ideal:.1} s");
    println!("  wall time             {elapsed:.1} s  (ratio {:.3})", elapsed / ideal.max(0.001));
    println!("  done / failed         {} / {}", apply.done, apply.failed.len());
    println!(
        "  graph                 {} HTTP requests, {} batched sub-requests, {} throttled (429), {} retries, {:.1} s waited on Retry-After",
        after.http_requests - before.http_requests,
        after.sub_requests - before.sub_requests,
        after.throttled - before.throttled,
        after.retries - before.retries,
        (after.retry_after_waited_ms - before.retry_after_waited_ms) as f64 / 1000.0
    );
    sandbox.shutdown().await;
}
