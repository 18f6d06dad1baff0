//! Running the real `tenure` binary from the CLI's tests, and killing it (SIGKILL) at a chosen point of its apply,
//! counted in the `progress apply` lines it writes with `TENURE_PROGRESS=lines`.

#![allow(dead_code, unreachable_pub)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// How a run of the binary ended.
pub struct Ended {
    /// It ran to the end by itself (was not killed).
    pub finished: bool,
    pub status: std::process::ExitStatus,
    /// `progress apply` lines seen.
    pub applied: u64,
    /// Standard error, for the failure message.
    pub stderr: String,
}

/// Runs `tenure sync --config … [extra]`; with `kill_after`, kills it (SIGKILL) once that many `progress apply`
/// lines have been written.
pub async fn run_sync(config: &Path, extra: &[&str], kill_after: Option<u64>) -> Ended {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .args(["sync", "--config"])
        .arg(config)
        .args(extra)
        .env("TENURE_PROGRESS", "lines")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("tenure starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let (mut killed, mut applied, mut stderr) = (false, 0u64, String::new());
    while let Ok(Some(line)) = lines.next_line().await {
        if line.starts_with("progress apply ") {
            applied += 1;
            if kill_after.is_some_and(|limit| applied >= limit) {
                child.start_kill().expect("kill");
                killed = true;
                break;
            }
        } else if !line.starts_with("progress ") {
            let _ = writeln!(stderr, "{line}");
        }
    }
    let status = child.wait().await.expect("wait");
    Ended { finished: !killed, status, applied, stderr }
}
