//! Tenure's command line: the argument structure and one module per command. `main.rs` only parses, sets up
//! logging and calls [`run`].

pub mod connection_command;
pub mod demo;
pub mod engine_commands;
pub mod progress_bar;
pub mod report;
pub mod sandbox_command;
pub mod sandbox_summary;
pub mod serve_command;
pub mod vault_command;

use clap::{Parser, Subcommand};

/// `tenure`: keeps Microsoft 365 accounts in step with HR records.
#[derive(Debug, Parser)]
#[command(name = "tenure", version, about = "Keeps Microsoft 365 accounts in step with HR records.")]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Tenure's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole product on this machine: a sandbox tenant, a SQLite store, bundled HR data, two syncs.
    Demo(demo::DemoArgs),
    /// Validate the policy and the HR export; exits non-zero when either has errors.
    Check(engine_commands::CheckArgs),
    /// Compute the plan (what a sync would change) and store it, without applying it.
    Plan(engine_commands::PlanArgs),
    /// Apply the plan stored by `tenure plan`, if the tenant and HR data have not changed since.
    Apply(engine_commands::ApplyArgs),
    /// Plan, check the safety limits and apply, resuming any run a crash interrupted first.
    Sync(engine_commands::ApplyArgs),
    /// List recent runs.
    Runs(engine_commands::RunsArgs),
    /// Show the audit log: every change with before/after, reason and policy revision.
    Audit(engine_commands::AuditArgs),
    /// Manage connections to Microsoft tenants: add, list, show, link, relink, test, certificate, remove.
    Connection(connection_command::ConnectionArgs),
    /// Serve the web UI (admin sign-in, connections) and the OAuth callback.
    Serve(serve_command::ServeArgs),
    /// Manage the admin accounts of the web UI: add-user, set-password, list-users, remove-user.
    Admin(serve_command::AdminArgs),
    /// Run the sandbox: a local emulation of the Microsoft identity platform and Microsoft Graph.
    Sandbox(sandbox_command::SandboxArgs),
    /// Manage the vault's master key: create a key file, or rotate the key and re-seal every stored secret.
    Vault(vault_command::VaultArgs),
}

impl Command {
    /// Whether the command serves HTTP connections (the sandbox, alone or in the demo) and so wants every core.
    #[must_use]
    pub fn serves_connections(&self) -> bool {
        matches!(self, Self::Demo(_) | Self::Sandbox(_) | Self::Serve(_))
    }
}

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(arguments) => demo::run(arguments).await,
        Command::Check(arguments) => engine_commands::check(arguments).await,
        Command::Plan(arguments) => engine_commands::plan(arguments).await,
        Command::Apply(arguments) => engine_commands::apply(arguments).await,
        Command::Sync(arguments) => engine_commands::sync(arguments).await,
        Command::Runs(arguments) => engine_commands::runs(arguments).await,
        Command::Audit(arguments) => engine_commands::audit(arguments).await,
        Command::Sandbox(arguments) => sandbox_command::run(arguments).await,
        Command::Serve(arguments) => serve_command::serve(arguments).await,
        Command::Admin(arguments) => serve_command::admin(arguments).await,
        Command::Vault(arguments) => vault_command::run(arguments).await,
        Command::Connection(arguments) => connection_command::run(arguments).await,
    }
}
