//! `tenure check`, `plan`, `apply`, `sync`, `runs` and `audit`: the engine's commands, each reading `tenure.toml`
//! (`--config`), printing a human summary (or JSON with `--json`) and exiting non-zero when something needs a human.

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::Utc;
use clap::Args;
use engine::{EngineConfig, RunTrigger, SyncOptions};
use store::{AuditQuery, RunId, RunStatus};

use crate::progress_bar::TerminalProgress;
use crate::report::{render_diagnostics, render_run, status_text};

/// Options shared by the commands that read the configuration.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "tenure.toml", env = "TENURE_CONFIG")]
    pub config: PathBuf,
}

/// `tenure check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    config: ConfigArgs,
}

/// `tenure plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Print the plan as JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// `tenure apply` and `tenure sync`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Go ahead even when the plan exceeds a safety limit (mass disables, deletes, removals).
    #[arg(long)]
    override_limits: bool,
}

/// `tenure runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// How many runs to list, newest first.
    #[arg(long, default_value_t = 20)]
    limit: u32,
}

/// `tenure audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Only this run's entries.
    #[arg(long)]
    run: Option<RunId>,
    /// Only this employee's entries.
    #[arg(long)]
    worker: Option<String>,
    /// At most this many entries.
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

/// Validates the policy and the HR file; exits non-zero when either has an error.
pub async fn check(arguments: CheckArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&arguments.config.config)?;
    let inputs = engine::load_inputs(&config.policy, &config.hr.file)?;
    let desired = policy::desired_state(&inputs.hr, &inputs.policy, Utc::now());
    print!("{}", render_diagnostics("HR records", &inputs.hr.diagnostics));
    print!("{}", render_diagnostics("Policy applied to HR", &desired.diagnostics));
    println!(
        "Policy revision {}; {} valid worker(s) in {}.",
        &inputs.policy.revision()[..12],
        inputs.hr.workers.len(),
        config.hr.file.display()
    );
    let errors = inputs.hr.has_errors() || desired.diagnostics.iter().any(|d| d.severity == model::Severity::Error);
    anyhow::ensure!(!errors, "check found errors (records with errors are skipped by a sync)");
    Ok(())
}

/// Computes and stores the plan without applying it.
pub async fn plan(arguments: PlanArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&arguments.config.config)?;
    let ctx = engine::connect(&config).await?;
    let progress = TerminalProgress::default();
    let now = Utc::now();
    let prepared = engine::prepare(&ctx, &config.policy, &config.hr.file, now, &progress).await?;
    let options = SyncOptions { dry_run: true, override_limits: false, trigger: RunTrigger::Cli };
    let report = engine::sync(&ctx, &prepared, options, now, &progress).await?;
    if arguments.json {
        println!("{}", planner::render_json(&prepared.plan));
    } else {
        eprint!("{}", render_diagnostics("HR records", &prepared.inputs.hr.diagnostics));
        print!("{}", planner::render_text_with_names(&prepared.plan, &prepared.observed));
        print!("{}", render_run(&report));
    }
    Ok(())
}

/// `tenure sync`: resumes interrupted runs, then plans, gates and applies.
pub async fn sync(arguments: ApplyArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&arguments.config.config)?;
    let ctx = engine::connect(&config).await?;
    let progress = TerminalProgress::default();
    for report in engine::resume_unfinished(&ctx, &progress).await? {
        print!("Resumed an interrupted run. {}", render_run(&report));
    }
    let now = Utc::now();
    let prepared = engine::prepare(&ctx, &config.policy, &config.hr.file, now, &progress).await?;
    eprint!("{}", render_diagnostics("HR records", &prepared.inputs.hr.diagnostics));
    print!("{}", planner::render_text_with_names(&prepared.plan, &prepared.observed));
    let options = SyncOptions { dry_run: false, override_limits: arguments.override_limits, trigger: RunTrigger::Cli };
    let report = engine::sync(&ctx, &prepared, options, now, &progress).await?;
    print!("{}", render_run(&report));
    print_resources(&ctx, &prepared);
    match report.status {
        RunStatus::Blocked => anyhow::bail!("the run was blocked by a safety limit"),
        RunStatus::Failed => anyhow::bail!("some steps failed; a new sync retries them"),
        _ => Ok(()),
    }
}

/// With `TENURE_REPORT_RESOURCES=1`, one line on standard error with what the run cost: Graph requests,
/// planning CPU time and the process's peak memory (Linux: `VmHWM`). Used by the benchmarks.
fn print_resources(ctx: &engine::Context, prepared: &engine::Prepared) {
    if std::env::var("TENURE_REPORT_RESOURCES").is_err() {
        return;
    }
    let stats = ctx.graph.stats();
    let peak_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmHWM:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .unwrap_or(0);
    eprintln!(
        "resources: graph_http_requests={} graph_sub_requests={} planning_cpu_ms={} peak_rss_mib={} steps={}",
        stats.http_requests,
        stats.sub_requests,
        prepared.planning_cpu.as_millis(),
        peak_kib / 1024,
        prepared.plan.steps.len()
    );
}

/// `tenure apply`: applies the most recent stored plan (from `tenure plan`) if it is still the current one —
/// re-planning now must give the same steps — otherwise says so; interrupted runs are resumed first.
pub async fn apply(arguments: ApplyArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&arguments.config.config)?;
    let ctx = engine::connect(&config).await?;
    let progress = TerminalProgress::default();
    let resumed = engine::resume_unfinished(&ctx, &progress).await?;
    for report in &resumed {
        print!("Resumed an interrupted run. {}", render_run(report));
    }
    let latest = ctx.store.list_runs(1).await?.into_iter().next();
    let Some(latest) = latest.filter(|run| run.status == RunStatus::Planned) else {
        anyhow::ensure!(!resumed.is_empty(), "there is no stored plan to apply: run `tenure plan` first");
        return Ok(());
    };
    let stored = ctx.store.load_run(latest.id).await?;
    let now = Utc::now();
    let prepared = engine::prepare(&ctx, &config.policy, &config.hr.file, now, &progress).await?;
    anyhow::ensure!(
        planner::render_json(&prepared.plan) == planner::render_json(&stored.plan),
        "the tenant or the HR data changed since run {} was planned; review the new plan with `tenure plan`",
        latest.id
    );
    let options = SyncOptions { dry_run: false, override_limits: arguments.override_limits, trigger: RunTrigger::Cli };
    let report = engine::sync(&ctx, &prepared, options, now, &progress).await?;
    print!("{}", render_run(&report));
    match report.status {
        RunStatus::Blocked => anyhow::bail!("the run was blocked by a safety limit"),
        RunStatus::Failed => anyhow::bail!("some steps failed; a new sync retries them"),
        _ => Ok(()),
    }
}

/// Lists recent runs.
pub async fn runs(arguments: RunsArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&arguments.config.config)?;
    let store = store::Store::open(&config.store.url).await.context("opening the store")?;
    for run in store.list_runs(arguments.limit).await? {
        println!(
            "run {:>5}  {}  {:<8} {}  {}",
            run.id,
            run.started_at.format("%Y-%m-%d %H:%M:%S"),
            run.trigger,
            status_text(run.status),
            serde_json::to_string(&run.totals).unwrap_or_default()
        );
    }
    Ok(())
}

/// Prints audit entries.
pub async fn audit(arguments: AuditArgs) -> anyhow::Result<()> {
    let config = EngineConfig::load(&arguments.config.config)?;
    let store = store::Store::open(&config.store.url).await.context("opening the store")?;
    let query = AuditQuery { run: arguments.run, worker: arguments.worker, limit: arguments.limit };
    for entry in store.list_audit(&query).await? {
        println!(
            "{}  run {}  {}  {}  {}  before={} after={}  because {}",
            entry.at.format("%Y-%m-%d %H:%M:%S"),
            entry.run,
            entry.worker.as_deref().unwrap_or("-"),
            entry.action,
            entry.target,
            entry.before,
            entry.after,
            entry.reason
        );
    }
    Ok(())
}
