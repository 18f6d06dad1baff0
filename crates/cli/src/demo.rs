//! `tenure demo`: the whole product on one machine, with nothing to set up. It starts an in-process sandbox
//! tenant (Contoso) and a SQLite store in a work folder, writes the bundled policy and two HR exports there,
//! syncs the first export (joiners, a rehire, leavers, a leave of absence), re-plans to show that nothing is left
//! to do, then moves the sandbox clock forward five weeks and syncs the second export (movers, new leavers, a
//! contractor converted to an employee) — printing every plan and result.
//!
//! The bundled HR files are written for a first sync on 2026-11-27; their dates are shifted by as many days as
//! today is past that, so the story reads the same whenever the demo runs.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::Args;
use engine::config::{ApplyConfig, ConnectionConfig};
use engine::{Prepared, RunTrigger, SyncOptions};
use model::{NationalCloud, Secret};
use sandbox::seed::Seed;
use tokio::net::TcpListener;

use crate::progress_bar::TerminalProgress;
use crate::report::{render_diagnostics, render_run};

const SEED: &str = include_str!("../demo/sandbox-seed.toml");
const POLICY: &str = include_str!("../../policy/examples/policy.toml");
const HR_INITIAL: &str = include_str!("../demo/hr-initial.csv");
const HR_LATER: &str = include_str!("../demo/hr-later.csv");
/// The day the bundled HR files were written for.
const STORY_DAY: (i32, u32, u32) = (2026, 11, 27);
/// How far the clock moves between the two syncs.
const STORY_GAP_DAYS: i64 = 38;
const CONTOSO_TENANT: &str = "6e3b1c2a-5d4f-4a8b-9c1d-2e3f4a5b6c7d";
const CONTOSO_APP: &str = "a1b2c3d4-0000-4000-8000-00000000c001";
/// The sandbox's seeded secret of Contoso's app registration (sandbox-only, published in `docs/sandbox.md`).
const CONTOSO_APP_SECRET: &str = "contoso-app-secret-A1s2D3f4G5h6";
/// Henrik Dahl (employee 100077) left on 2026-11-20: the first sync keeps his mailbox as a shared one.
const LEAVER_UPN: &str = "henrik.dahl@contoso.com";
/// Lucía Fernández (employee 100033) left last year; her account sits in the deleted items until she is rehired.
const REHIRED_ACCOUNT: &str = "0b1c2d3e-0000-4000-8000-000000000024";

/// `tenure demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The work folder for the store and the demo's files (default: a new folder under the system's temp dir).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Runs the demo.
pub async fn run(arguments: DemoArgs) -> anyhow::Result<()> {
    let dir = match arguments.dir {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("tenure-demo-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating the demo folder {}", dir.display()))?;
    let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the sandbox to 127.0.0.1")?;
    let seed = Seed::from_toml(SEED).context("the bundled demo seed")?;
    let sandbox = sandbox::Sandbox::builder().seed(seed).start(listener).await?;
    let today = sandbox.state().clock.now();
    let shift = days_since_story(today);
    let policy_path = write(&dir, "policy.toml", POLICY)?;
    let initial_path = write(&dir, "hr-initial.csv", &shift_dates(HR_INITIAL, shift))?;
    let later_path = write(&dir, "hr-later.csv", &shift_dates(HR_LATER, shift))?;
    let store_url = format!("sqlite://{}", dir.join("tenure.db").display());
    println!("Tenure demo");
    println!("  sandbox tenant  Contoso ({CONTOSO_TENANT}) at {}", sandbox.https_base());
    println!("  store           {store_url}");
    println!("  policy          {}", policy_path.display());
    println!("  HR exports      {} and {}", initial_path.display(), later_path.display());
    println!();

    let connection = ConnectionConfig {
        cloud: NationalCloud::Global,
        tenant_id: CONTOSO_TENANT.to_string(),
        client_id: CONTOSO_APP.to_string(),
        client_secret_file: None,
        certificate_file: None,
        private_key_file: None,
        sandbox_url: Some(sandbox.https_base()),
        ca_file: None,
    };
    let store = store::Store::open(&store_url).await.context("opening the demo store")?;
    let credential = vault::ClientCredential::Secret(Secret::new(CONTOSO_APP_SECRET));
    let ca_pem = Some(sandbox.ca_pem().as_bytes().to_vec());
    let exchange_credential = vault::ClientCredential::Secret(Secret::new(CONTOSO_APP_SECRET));
    let exchange = engine::exchange_gate::app_only_connection(
        "contoso-exchange",
        &connection,
        exchange_credential,
        ca_pem.clone(),
    )?;
    let mut ctx = engine::run::connect_with(store, &connection, credential, ca_pem, ApplyConfig::default())?;
    ctx.exchange = Some(exchange.clone());
    let progress = TerminalProgress::default();

    // Setting the scene: a former employee's account was deleted when she left (soft delete, restorable).
    let delete =
        graph::GraphRequest { method: graph::Method::DELETE, path: format!("/users/{REHIRED_ACCOUNT}"), body: None };
    let answer = ctx.graph.send(delete).await.context("preparing the demo tenant")?;
    anyhow::ensure!(
        answer.status == 204,
        "preparing the demo tenant: deleting the rehire's old account answered {}",
        answer.status
    );

    chapter(&format!("1. First sync, {} — joiners, a rehire, leavers, a leave of absence", today.format("%Y-%m-%d")));
    sync_once(&ctx, &policy_path, &initial_path, today, &progress).await?;
    show_leaver_mailbox(&exchange.client, LEAVER_UPN).await?;

    chapter("2. Plan again right away — the tenant already matches HR");
    let prepared = engine::prepare(&ctx, &policy_path, &initial_path, sandbox.state().clock.now(), &progress).await?;
    print!("{}", planner::render_text(&prepared.plan));

    sandbox.state().clock.advance(Duration::days(STORY_GAP_DAYS));
    let later = sandbox.state().clock.now();
    chapter(&format!(
        "3. {STORY_GAP_DAYS} days later, {} — movers, new leavers, a conversion, a return from leave",
        later.format("%Y-%m-%d")
    ));
    sync_once(&ctx, &policy_path, &later_path, later, &progress).await?;

    chapter("4. Plan again right away — converged");
    let prepared = engine::prepare(&ctx, &policy_path, &later_path, sandbox.state().clock.now(), &progress).await?;
    print!("{}", planner::render_text(&prepared.plan));

    chapter("Audit log (latest entries; all of them: tenure audit)");
    let query = store::AuditQuery { run: None, worker: None, limit: 8 };
    for entry in ctx.store.list_audit(&query).await? {
        println!("  {} {} {} — {}", entry.worker.as_deref().unwrap_or("-"), entry.action, entry.target, entry.reason);
    }
    println!();
    println!("The store is kept in {}; the sandbox stops with the demo.", dir.display());
    sandbox.shutdown().await;
    Ok(())
}

/// Prints what became of a leaver's mailbox: its type, whether it is hidden, and who holds which rights on it.
async fn show_leaver_mailbox(client: &exchange::ExchangeClient, upn: &str) -> anyhow::Result<()> {
    let mailbox = client.get_mailbox(upn).await?.with_context(|| format!("the mailbox of {upn} is gone"))?;
    let mut rights: Vec<String> = Vec::new();
    for permission in
        client.list_mailbox_permissions(upn).await?.into_iter().chain(client.list_recipient_permissions(upn).await?)
    {
        if !permission.inherited && !permission.deny && permission.trustee.contains('@') {
            rights.push(format!("{} {}", permission.trustee, permission.right));
        }
    }
    rights.sort();
    println!();
    println!("Leaver's mailbox {upn} (read back from Exchange Online):");
    println!("  type      {}", mailbox.kind);
    println!("  hidden    {}", if mailbox.hidden_from_address_lists { "yes, from the address lists" } else { "no" });
    println!("  access    {}", if rights.is_empty() { "nobody else".to_string() } else { rights.join(", ") });
    Ok(())
}

async fn sync_once(
    ctx: &engine::Context,
    policy_path: &Path,
    hr_path: &Path,
    now: DateTime<Utc>,
    progress: &TerminalProgress,
) -> anyhow::Result<Prepared> {
    let prepared = engine::prepare(ctx, policy_path, hr_path, now, progress).await?;
    print!("{}", render_diagnostics("HR records", &prepared.inputs.hr.diagnostics));
    print!("{}", render_diagnostics("Policy", &prepared.desired.diagnostics));
    print!("{}", planner::render_text_with_names(&prepared.plan, &prepared.observed));
    let options = SyncOptions { dry_run: false, override_limits: false, trigger: RunTrigger::Demo };
    let report = engine::sync(ctx, &prepared, options, now, progress).await?;
    println!();
    print!("{}", render_run(&report));
    Ok(prepared)
}

fn chapter(title: &str) {
    println!();
    println!("== {title} ==");
    println!();
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Days from the story's first day to `today` (never negative).
fn days_since_story(today: DateTime<Utc>) -> i64 {
    let (year, month, day) = STORY_DAY;
    let story = NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default();
    (today.date_naive() - story).num_days().max(0)
}

/// Moves every `YYYY-MM-DD` date in `text` forward by `days`.
fn shift_dates(text: &str, days: i64) -> String {
    if days == 0 {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut res = String::with_capacity(text.len());
    let mut index = 0;
    while index < text.len() {
        let candidate = text.get(index..index + 10);
        let bounded_before = index == 0 || !bytes[index - 1].is_ascii_digit();
        let bounded_after = bytes.get(index + 10).is_none_or(|byte| !byte.is_ascii_digit());
        if let Some(candidate) = candidate
            && bounded_before
            && bounded_after
            && let Ok(date) = NaiveDate::parse_from_str(candidate, "%Y-%m-%d")
        {
            res.push_str(&(date + Duration::days(days)).format("%Y-%m-%d").to_string());
            index += 10;
            continue;
        }
        let character = text[index..].chars().next().unwrap_or(' ');
        res.push(character);
        index += character.len_utf8();
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_dates_moves_only_whole_dates() {
        let text = "1001,Zoë,2026-11-27,x2026-11-30,2026-11-301\n";
        assert_eq!(shift_dates(text, 5), "1001,Zoë,2026-12-02,x2026-12-05,2026-11-301\n");
        assert_eq!(shift_dates(text, 0), text);
    }
}
