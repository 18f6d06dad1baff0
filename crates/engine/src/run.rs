//! The story of a run, top to bottom:
//! 1. [`crate::inputs::load_inputs`] reads the policy and the HR export → `HrSnapshot`;
//! 2. [`crate::observe::observe`] reads the tenant (delta-aware, cached) → `ObservedState`;
//! 3. `policy::desired_state_from_workers` → `DesiredState` (names only for workers without an account);
//! 4. `planner::plan` → `Plan` (this is where `tenure plan` stops, after storing it);
//! 5. [`crate::gate::gate`] checks the safety limits;
//! 6. [`crate::executor::apply_plan`] applies it, journaling every step;
//! 7. `Store::finish_run` records the outcome.
//!
//! [`resume_unfinished`] finishes runs a crash left behind, from their journal, before a new run starts.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use model::{DesiredState, HrSnapshot, ObservedState, Plan, Secret};
use planner::LimitBreach;
use store::{NewRun, RunId, RunStatus, RunTotals, Store};
use vault::{ClientCredential, ClientCredentialsConfig, ClientCredentialsProvider};

use crate::config::{ApplyConfig, ConnectionConfig, EngineConfig};
use crate::executor::{ApplyContext, ApplyReport, apply_plan};
use crate::gate::{GateDecision, gate};
use crate::inputs::{Inputs, load_policy, read_hr};
use crate::observe::{ObserveKind, load_cached, observe, refresh};
use crate::progress::Progress;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunTrigger {
    /// `tenure plan` / `tenure apply` / `tenure sync` from the command line.
    Cli,
    /// `tenure demo`.
    Demo,
    /// Resuming a run a crash interrupted.
    Resume,
}

impl RunTrigger {
    /// The name stored with the run.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Cli => "cli",
            Self::Demo => "demo",
            Self::Resume => "resume",
        }
    }
}

/// Everything a run talks to.
#[derive(Clone)]
pub struct Context {
    /// Run history, journal, audit, cache.
    pub store: Store,
    /// Microsoft Graph.
    pub graph: graph::Client,
    /// Graph's base URL (without `/v1.0`).
    pub graph_base: String,
    /// The key the tenant's cached observation is stored under (its tenant ID).
    pub tenant_key: String,
    /// Apply settings.
    pub apply: ApplyConfig,
    /// The connection's token provider (the Graph client holds it too); the permission gate reads its grants.
    pub tokens: Arc<dyn model::AccessTokenProvider>,
    /// The Exchange Online connection (`[connections] exchange`), when one is configured; the gate checks its
    /// roles before a run's first step.
    pub exchange: Option<crate::exchange_gate::ExchangeConnection>,
}

/// The base URLs of the login and Graph hosts for `connection` (the sandbox addresses hosts as path prefixes).
#[must_use]
pub fn endpoints(connection: &ConnectionConfig) -> (String, String) {
    let cloud = connection.cloud;
    match &connection.sandbox_url {
        Some(base) => {
            let base = base.trim_end_matches('/');
            (format!("{base}/{}", cloud.login_host()), format!("{base}/{}", cloud.graph_host()))
        }
        None => (format!("https://{}", cloud.login_host()), format!("https://{}", cloud.graph_host())),
    }
}

/// The credential of `connection`: a certificate when one is configured, else the client secret from its file or
/// `TENURE_CLIENT_SECRET`.
fn credential(connection: &ConnectionConfig) -> anyhow::Result<ClientCredential> {
    if let Some(certificate_file) = &connection.certificate_file {
        let key_file = connection
            .private_key_file
            .as_ref()
            .context("connection.certificate_file is set, so connection.private_key_file is needed too")?;
        let certificate_pem = std::fs::read_to_string(certificate_file)
            .with_context(|| format!("reading certificate {}", certificate_file.display()))?;
        let private_key_pem = Secret::new(
            std::fs::read_to_string(key_file).with_context(|| format!("reading private key {}", key_file.display()))?,
        );
        return Ok(ClientCredential::Certificate { certificate_pem, private_key_pem });
    }
    if let Some(secret_file) = &connection.client_secret_file {
        let text = std::fs::read_to_string(secret_file)
            .with_context(|| format!("reading client secret file {}", secret_file.display()))?;
        return Ok(ClientCredential::Secret(Secret::new(text.trim())));
    }
    match std::env::var("TENURE_CLIENT_SECRET") {
        Ok(secret) if !secret.is_empty() => Ok(ClientCredential::Secret(Secret::new(secret))),
        _ => anyhow::bail!(
            "no credential for the connection: set connection.client_secret_file, connection.certificate_file, \
             or the TENURE_CLIENT_SECRET environment variable"
        ),
    }
}

/// Opens the store and builds the token provider and Graph client for `config`: the stored connection named in
/// `[connections] graph`, else the inline `[connection]`; and the Exchange client of the stored connection named
/// in `[connections] exchange`, when there is one.
pub async fn connect(config: &EngineConfig) -> anyhow::Result<Context> {
    let mut context = connect_graph(config).await?;
    if let Some(name) = &config.connections.exchange {
        let service = crate::connections::connection_service(config, context.store.clone())?;
        context.exchange = Some(crate::exchange_gate::connect_exchange(&service, name).await?);
    }
    Ok(context)
}

/// The Graph side of [`connect`].
async fn connect_graph(config: &EngineConfig) -> anyhow::Result<Context> {
    if let Some(name) = &config.connections.graph {
        let store =
            Store::open(&config.store.url).await.with_context(|| format!("opening the store {}", config.store.url))?;
        let service = crate::connections::connection_service(config, store.clone())?;
        return connect_stored(store, &service, name, config.apply.clone()).await;
    }
    let connection = config.connection.as_ref().context(
        "no tenant connection: name a stored connection with [connections] graph = \"…\" in tenure.toml (see \
         `tenure connection list`), or describe an app registration in a [connection] table",
    )?;
    let ca_pem = match &connection.ca_file {
        Some(file) => Some(std::fs::read(file).with_context(|| format!("reading CA file {}", file.display()))?),
        None => None,
    };
    let store =
        Store::open(&config.store.url).await.with_context(|| format!("opening the store {}", config.store.url))?;
    connect_with(store, connection, credential(connection)?, ca_pem, config.apply.clone())
}

/// Builds a context from parts (used by [`connect`] and by the demo, which holds its sandbox's CA in memory).
pub fn connect_with(
    store: Store,
    connection: &ConnectionConfig,
    credential: ClientCredential,
    ca_pem: Option<Vec<u8>>,
    apply: ApplyConfig,
) -> anyhow::Result<Context> {
    let (login_base, graph_base) = endpoints(connection);
    let tokens = ClientCredentialsProvider::new(ClientCredentialsConfig {
        cloud: connection.cloud,
        tenant_id: connection.tenant_id.clone(),
        client_id: connection.client_id.clone(),
        credential,
        login_base_url: Some(login_base),
        resource: format!("https://{}", connection.cloud.graph_host()),
        extra_root_certificate_pem: ca_pem.clone(),
    })?;
    let tokens: Arc<dyn model::AccessTokenProvider> = Arc::new(tokens);
    let graph = graph_client(&graph_base, ca_pem, &apply, Arc::clone(&tokens))?;
    Ok(Context { store, graph, graph_base, tenant_key: connection.tenant_id.clone(), apply, tokens, exchange: None })
}

/// Builds a context on the stored Entra ID connection `name`. A connection that is not connected (never linked,
/// waiting for approval, needing a re-link) is refused here, before any work.
pub async fn connect_stored(
    store: Store,
    service: &crate::connections::ConnectionService,
    name: &str,
    apply: ApplyConfig,
) -> anyhow::Result<Context> {
    let view = service.get_by_name(name).await?;
    let connection = &view.connection;
    if connection.kind == store::ConnectionKind::Exchange {
        anyhow::bail!(
            "connection \"{name}\" is an Exchange Online connection; [connections] graph needs an Entra ID connection"
        );
    }
    if connection.status != store::ConnectionStatus::Connected {
        let reason = connection.status_reason.as_deref().map(|reason| format!(": {reason}")).unwrap_or_default();
        anyhow::bail!(
            "connection \"{name}\" is not ready ({}){reason}; nothing was done",
            view.status_label().to_lowercase()
        );
    }
    let tokens = service.token_provider(connection.id).await?;
    let graph_base = service.graph_base(connection.cloud);
    let graph = graph_client(&graph_base, service.ca_pem(), &apply, Arc::clone(&tokens))?;
    let tenant_key = connection.tenant_id.clone().unwrap_or_else(|| connection.name.clone());
    Ok(Context { store, graph, graph_base, tenant_key, apply, tokens, exchange: None })
}

fn graph_client(
    graph_base: &str,
    ca_pem: Option<Vec<u8>>,
    apply: &ApplyConfig,
    tokens: Arc<dyn model::AccessTokenProvider>,
) -> anyhow::Result<graph::Client> {
    Ok(graph::Client::new(
        graph::GraphConfig {
            base_url: graph_base.to_string(),
            extra_root_certificate_pem: ca_pem,
            timeout: std::time::Duration::from_secs(60),
            max_attempts: apply.max_attempts,
            max_concurrency: apply.max_concurrency.max(1),
        },
        tokens,
    )?)
}

/// A plan and everything it was computed from.
#[derive(Debug)]
pub struct Prepared {
    /// The policy and the HR snapshot's diagnostics (its workers are consumed into `desired`).
    pub inputs: Inputs,
    /// How many valid workers the HR export had.
    pub hr_workers: usize,
    /// What should be.
    pub desired: DesiredState,
    /// What is.
    pub observed: ObservedState,
    /// How the tenant was read.
    pub observe_kind: ObserveKind,
    /// The plan.
    pub plan: Plan,
    /// CPU time spent computing the desired state and the plan (the pure core), on this thread.
    pub planning_cpu: std::time::Duration,
}

/// Steps 1–4: reads the inputs, computes the desired state, observes the tenant and plans.
pub async fn prepare(
    ctx: &Context,
    policy_path: &Path,
    hr_path: &Path,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> anyhow::Result<Prepared> {
    // The order keeps memory low at 100,000 workers (the cached tenant is parsed before the HR export is read,
    // and the HR workers are consumed while the desired state is built) and writes nothing before the inputs
    // are known to be good: a rejected HR file leaves the store as it was.
    let policy = load_policy(policy_path)?;
    let full_reconcile = chrono::Duration::hours(i64::from(ctx.apply.full_reconcile_hours));
    let cached = load_cached(&ctx.store, &ctx.tenant_key, now, full_reconcile).await?;
    let hr = read_hr(hr_path, &policy)?;
    let (mut observed, observe_kind) = refresh(&ctx.graph, &ctx.store, &ctx.tenant_key, cached, now, progress).await?;
    let desiring_started = cpu_time::ThreadTime::now();
    // Name candidates are rendered only for workers without an account carrying their employee ID: the only
    // ones the planner may create an account for (or adopt one by secondary key).
    let known: HashSet<&str> =
        observed.users.values().chain(observed.deleted_users.values()).filter_map(|user| user.employee_id()).collect();
    let needs_names = |worker: &model::WorkerId| !known.contains(worker.as_str());
    let hr_workers = hr.workers.len();
    let desired = policy::desired_state_from_workers(hr.workers, &policy, now, &needs_names);
    let desiring_cpu = desiring_started.elapsed();
    if desired.exchange.enabled
        && let Some(exchange) = &ctx.exchange
    {
        // Exchange has no delta: what the plan needs from it is read now, for the people and objects the desired
        // state names (the mailboxes' rights only where a leaver's or a rehire's sequence needs them).
        progress.begin("observe Exchange", 0);
        let observed_exchange = crate::exchange_observe::observe_exchange(&exchange.client, &desired, &observed)
            .await
            .with_context(|| format!("reading Exchange Online through connection \"{}\"", exchange.name))?;
        progress.finish();
        ctx.store
            .save_observation(
                &exchange_cache_key(&ctx.tenant_key),
                &serde_json::to_string(&observed_exchange)?,
                "{}",
                now,
            )
            .await?;
        observed.exchange = Some(observed_exchange);
    }
    let planning_started = cpu_time::ThreadTime::now();
    let plan = planner::plan(&desired, &observed, now);
    let planning_cpu = desiring_cpu + planning_started.elapsed();
    tracing::info!(steps = plan.steps.len(), planning_cpu_ms = planning_cpu.as_millis() as u64, "Planned.");
    let inputs = Inputs { policy, hr: HrSnapshot { workers: Vec::new(), diagnostics: hr.diagnostics } };
    Ok(Prepared { inputs, hr_workers, desired, observed, observe_kind, plan, planning_cpu })
}

/// The key the last Exchange observation of the tenant kept under `tenant_key` is cached under, beside the Graph
/// snapshot (Exchange has no delta, so each run reads it again; the cached copy is what the last plan saw).
#[must_use]
pub fn exchange_cache_key(tenant_key: &str) -> String {
    format!("{tenant_key}#exchange")
}

/// How a run should go.
#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    /// Store the plan and stop (`tenure plan`).
    pub dry_run: bool,
    /// Go ahead even when a safety limit is exceeded.
    pub override_limits: bool,
    /// What started it.
    pub trigger: RunTrigger,
}

/// The outcome of a run.
#[derive(Debug)]
pub struct RunReport {
    /// The run's ID in the store.
    pub run: RunId,
    /// How it ended.
    pub status: RunStatus,
    /// Safety limits exceeded (blocking the run, or overridden).
    pub breaches: Vec<LimitBreach>,
    /// What the apply did (absent for dry runs and blocked runs).
    pub apply: Option<ApplyReport>,
    /// Permissions the plan needs that the connection lacks (a run blocked by the permission gate).
    pub missing_permissions: Vec<String>,
}

/// Steps 5–7: stores the plan, checks the gate, applies and records.
pub async fn sync(
    ctx: &Context,
    prepared: &Prepared,
    options: SyncOptions,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> anyhow::Result<RunReport> {
    let policy = &prepared.inputs.policy;
    ctx.store.save_policy_revision(policy.revision(), policy.source_text()).await?;
    let decision = gate(&prepared.plan, &prepared.desired.limits, options.override_limits);
    let new_run = NewRun {
        trigger: options.trigger.name(),
        policy_revision: policy.revision(),
        plan: &prepared.plan,
        started_at: now,
        dry_run: options.dry_run,
    };
    let run = ctx.store.create_run(&new_run).await?;
    let breaches = match decision {
        GateDecision::Blocked(breaches) => {
            ctx.store.finish_run(run, RunStatus::Blocked, &RunTotals::default()).await?;
            return Ok(RunReport {
                run,
                status: RunStatus::Blocked,
                breaches,
                apply: None,
                missing_permissions: Vec::new(),
            });
        }
        GateDecision::Overridden(breaches) => breaches,
        GateDecision::Pass => Vec::new(),
    };
    if options.dry_run {
        ctx.store.finish_run(run, RunStatus::Planned, &RunTotals::default()).await?;
        return Ok(RunReport {
            run,
            status: RunStatus::Planned,
            breaches,
            apply: None,
            missing_permissions: Vec::new(),
        });
    }
    let mut missing_permissions =
        crate::permission_gate::missing_permissions(&prepared.plan, ctx.tokens.as_ref()).await?;
    if let Some(exchange) = ctx.exchange.as_ref().filter(|_| !prepared.plan.steps.is_empty()) {
        missing_permissions.extend(crate::exchange_gate::missing_roles(exchange).await);
    }
    if !missing_permissions.is_empty() {
        for missing in &missing_permissions {
            tracing::warn!(run_id = %run, missing = %missing, "Run blocked: the connection lacks a permission.");
        }
        ctx.store.finish_run(run, RunStatus::Blocked, &RunTotals::default()).await?;
        return Ok(RunReport { run, status: RunStatus::Blocked, breaches, apply: None, missing_permissions });
    }
    let report = apply_run(ctx, run, &prepared.plan, policy.revision(), &BTreeMap::new(), progress).await?;
    let status = if report.failed.is_empty() { RunStatus::Succeeded } else { RunStatus::Failed };
    if !prepared.plan.steps.is_empty() {
        // The run reads its own writes back through the delta now, so the cache is current and the next run
        // (a no-op, usually) costs a handful of requests instead of re-reading everything this run changed.
        let full_reconcile = chrono::Duration::hours(i64::from(ctx.apply.full_reconcile_hours));
        if let Err(error) = observe(&ctx.graph, &ctx.store, &ctx.tenant_key, now, full_reconcile, progress).await {
            tracing::warn!(error = %error, "Reading back the run's changes failed; the next run will.");
        }
    }
    Ok(RunReport { run, status, breaches, apply: Some(report), missing_permissions: Vec::new() })
}

/// Applies `plan` as run `run` from `journal` and records the end of the run.
async fn apply_run(
    ctx: &Context,
    run: RunId,
    plan: &Plan,
    policy_revision: &str,
    journal: &BTreeMap<model::StepId, store::StepJournal>,
    progress: &dyn Progress,
) -> anyhow::Result<ApplyReport> {
    ctx.store.mark_run_running(run).await?;
    let apply_context = ApplyContext {
        graph: &ctx.graph,
        exchange: ctx.exchange.as_ref().map(|exchange| &exchange.client),
        store: &ctx.store,
        run,
        max_concurrency: ctx.apply.max_concurrency,
        mailbox_wait: std::time::Duration::from_secs(ctx.apply.mailbox_wait_seconds),
        policy_revision,
        graph_base: &ctx.graph_base,
        progress,
    };
    let report = apply_plan(&apply_context, plan, journal).await?;
    let status = if report.failed.is_empty() { RunStatus::Succeeded } else { RunStatus::Failed };
    let count = |value: usize| u32::try_from(value).unwrap_or(u32::MAX);
    let totals = RunTotals {
        planned: count(plan.steps.len()),
        done: count(report.done),
        failed: count(report.failed.len()),
        skipped: count(report.not_attempted),
        skipped_workers: count(plan.skipped.len()),
        waiting: count(report.waiting.len()),
    };
    ctx.store.finish_run(run, status, &totals).await?;
    Ok(report)
}

/// Finishes every run a crash left unfinished, from its journal: done steps are not repeated, running ones are
/// settled first (see the executor).
pub async fn resume_unfinished(ctx: &Context, progress: &dyn Progress) -> anyhow::Result<Vec<RunReport>> {
    let mut reports = Vec::new();
    for summary in ctx.store.unfinished_runs().await? {
        let detail = ctx.store.load_run(summary.id).await?;
        let journal: BTreeMap<_, _> = detail.steps.into_iter().map(|record| (record.step, record)).collect();
        let report = apply_run(ctx, summary.id, &detail.plan, &summary.policy_revision, &journal, progress).await?;
        let status = if report.failed.is_empty() { RunStatus::Succeeded } else { RunStatus::Failed };
        reports.push(RunReport {
            run: summary.id,
            status,
            breaches: Vec::new(),
            apply: Some(report),
            missing_permissions: Vec::new(),
        });
    }
    Ok(reports)
}
