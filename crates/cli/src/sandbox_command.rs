//! `tenure sandbox`: starts the sandbox on one port (HTTPS and HTTP), writes its CA certificate to a file,
//! prints where everything is (readable, or one JSON line with `--json`), and serves until SIGINT or SIGTERM,
//! saving the state file on the way out.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use sandbox::knobs::Knobs;
use sandbox::seed::Seed;
use sandbox::{RunningSandbox, Sandbox};
use tokio::net::TcpListener;

use crate::sandbox_summary::Summary;

/// `tenure sandbox` options.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Address to listen on; HTTPS and plain HTTP share the port. Port 0 picks a free one.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Seed file (TOML: tenants, domains, users, groups, apps); default: the bundled sample.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Realism knobs (TOML): latency, throttling, replication delay, injected failures.
    #[arg(long, value_name = "FILE")]
    pub knobs: Option<PathBuf>,
    /// Keep the state in this JSON file: start from it when it exists, save it every few seconds when
    /// something changed and on exit.
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// Write the CA certificate (PEM) here instead of to a temporary file.
    #[arg(long, value_name = "FILE")]
    pub ca_out: Option<PathBuf>,
    /// Print one line of JSON describing the endpoints, apps and users instead of the readable summary.
    #[arg(long)]
    pub json: bool,
}

/// Runs the sandbox until SIGINT or SIGTERM.
pub async fn run(arguments: SandboxArgs) -> anyhow::Result<()> {
    let seed = load_seed(arguments.seed.as_deref())?;
    let knobs = load_knobs(arguments.knobs.as_deref())?;
    // Listening for the signals before announcing readiness: a SIGTERM sent right after the ready line must
    // still stop the sandbox cleanly and save its state.
    let mut shutdown_signals = ShutdownSignals::listen()?;
    let listener = bind(arguments.listen).await?;
    if !arguments.listen.ip().is_loopback() {
        eprintln!(
            "warning: listening on {}: the sandbox admin API (/_sandbox) has no authentication, so anyone who can \
             reach this address can read and change the sandbox; it is meant for loopback rehearsals",
            arguments.listen
        );
    }

    let mut builder = Sandbox::builder().seed(seed.clone()).knobs(knobs);
    if let Some(path) = &arguments.state_file {
        builder = builder.state_file(path);
    }
    let sandbox = builder.start(listener).await.map_err(|error| describe_start_error(error, &arguments))?;

    let ca_file = CaFile::write(&sandbox, arguments.ca_out.as_deref())?;
    let summary = Summary::new(&sandbox, &seed, &ca_file.path);
    if arguments.json {
        print_and_flush(&format!("{}\n", summary.to_json_line()))?;
    } else {
        print_and_flush(&summary.render_text(&sandbox))?;
    }

    let signal = shutdown_signals.wait().await;
    eprintln!("stopping the sandbox ({signal})");
    let state_file = sandbox.state_file().map(Path::to_path_buf);
    let stopped = sandbox.stop().await;
    ca_file.remove_if_temporary();
    stopped.context("saving the sandbox state")?;
    if let Some(path) = state_file {
        eprintln!("state saved to {}", path.display());
    }
    Ok(())
}

fn load_seed(path: Option<&Path>) -> anyhow::Result<Seed> {
    let Some(path) = path else { return Ok(Seed::sample()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the seed file {}", path.display()))?;
    Seed::from_toml(&text).with_context(|| format!("parsing the seed file {}", path.display()))
}

fn load_knobs(path: Option<&Path>) -> anyhow::Result<Knobs> {
    let Some(path) = path else { return Ok(Knobs::default()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the knobs file {}", path.display()))?;
    let knobs: Knobs = toml::from_str(&text).with_context(|| format!("parsing the knobs file {}", path.display()))?;
    knobs.validate().with_context(|| format!("checking the knobs file {}", path.display()))?;
    Ok(knobs)
}

async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => Err(anyhow!(
            "port {} on {} is already in use (another sandbox?); choose another with --listen, or port 0 for a \
             free one",
            address.port(),
            address.ip()
        )),
        Err(error) => Err(error).with_context(|| format!("listening on {address}")),
    }
}

fn describe_start_error(error: sandbox::Error, arguments: &SandboxArgs) -> anyhow::Error {
    let context = match (&error, &arguments.seed, &arguments.state_file) {
        (sandbox::Error::Seed(_), Some(path), _) => format!("the seed file {} is invalid", path.display()),
        (sandbox::Error::Seed(_), None, _) => "the bundled sample seed is invalid".to_string(),
        // The message names the state file already.
        (sandbox::Error::State(_), _, _) => return anyhow::Error::new(error),
        (sandbox::Error::Io { .. }, _, Some(path)) => format!("using the state file {}", path.display()),
        _ => "starting the sandbox".to_string(),
    };
    anyhow::Error::new(error).context(context)
}

fn print_and_flush(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).context("writing to standard output")?;
    stdout.flush().context("writing to standard output")
}

/// The CA certificate written for clients; a temporary one is removed on exit.
struct CaFile {
    path: PathBuf,
    temporary: bool,
}

impl CaFile {
    fn write(sandbox: &RunningSandbox, requested: Option<&Path>) -> anyhow::Result<CaFile> {
        let (path, temporary) = match requested {
            Some(path) => (path.to_path_buf(), false),
            None => (std::env::temp_dir().join(format!("tenure-sandbox-{}-ca.pem", std::process::id())), true),
        };
        std::fs::write(&path, sandbox.ca_pem())
            .with_context(|| format!("writing the CA certificate to {}", path.display()))?;
        let path = std::path::absolute(&path).unwrap_or(path);
        Ok(CaFile { path, temporary })
    }

    fn remove_if_temporary(&self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// SIGINT (Ctrl-C) and, on Unix, SIGTERM, listened for from creation on.
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn listen() -> anyhow::Result<ShutdownSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(ShutdownSignals {
                interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignals {})
    }

    /// Waits for a signal and names it.
    async fn wait(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
