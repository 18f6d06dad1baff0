//! Tenure's command line: the argument structure and one module per command. `main.rs` only parses, sets up
//! logging and calls [`run`].

pub mod sandbox_command;
pub mod sandbox_summary;

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
    /// Run the sandbox: a local emulation of the Microsoft identity platform and Microsoft Graph.
    Sandbox(sandbox_command::SandboxArgs),
}

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Sandbox(arguments) => sandbox_command::run(arguments).await,
    }
}
