//! Dependency boundaries, checked with `cargo tree` (rust-analyzer's trick):
//! - the sandbox depends on no workspace crate, and no client crate (`graph`, `exchange`) depends on it, so a
//!   misreading of Microsoft's protocol cannot hide on both sides;
//! - the web server (`server`) uses the sandbox in its tests only, so a rehearsal cannot leak into production;
//! - the pure crates (`model`, `policy`, `planner`, `scim`) pull in no I/O runtime and cannot read the clock
//!   (chrono's `clock` feature, which brings `iana-time-zone`, stays out of their tree: time is an input).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

const CLIENT_CRATES: &[&str] = &["graph", "exchange", "vault"];
const SANDBOX_IN_TESTS_ONLY: &[&str] = &["server"];
const PURE_CRATES: &[&str] = &["model", "policy", "planner", "scim"];
const IO_RUNTIMES: &[&str] = &["tokio", "sqlx", "reqwest", "hyper", "axum", "iana-time-zone"];

/// The normal (non-dev) dependency names of `package`, transitively, or `None` if no such package exists.
fn normal_dependencies(root: &Path, package: &str) -> anyhow::Result<Option<Vec<String>>> {
    if !root.join("crates").join(package).join("Cargo.toml").exists() {
        return Ok(None);
    }
    let output = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["tree", "-p", package, "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .output()
        .with_context(|| format!("running cargo tree for {package}"))?;
    if !output.status.success() {
        bail!("cargo tree -p {package} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let names = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect();
    Ok(Some(names))
}

fn workspace_crates(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("crates")).context("listing crates/")? {
        let entry = entry?;
        if entry.path().join("Cargo.toml").exists() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(names)
}

/// Runs every boundary check; fails with the list of violations.
pub(crate) fn check(root: &Path) -> anyhow::Result<()> {
    let mut violations = Vec::new();
    let workspace = workspace_crates(root)?;

    if let Some(sandbox_dependencies) = normal_dependencies(root, "sandbox")? {
        for name in sandbox_dependencies.iter().skip(1) {
            if workspace.contains(name) {
                violations.push(format!("sandbox depends on the workspace crate `{name}`; it must stand alone"));
            }
        }
    }
    for client in CLIENT_CRATES {
        if let Some(dependencies) = normal_dependencies(root, client)?
            && dependencies.iter().skip(1).any(|name| name == "sandbox")
        {
            violations.push(format!("`{client}` depends on the sandbox; clients and sandbox must share no code"));
        }
    }
    for surface in SANDBOX_IN_TESTS_ONLY {
        if let Some(dependencies) = normal_dependencies(root, surface)?
            && dependencies.iter().skip(1).any(|name| name == "sandbox")
        {
            violations.push(format!("`{surface}` depends on the sandbox outside its tests"));
        }
    }
    for pure in PURE_CRATES {
        if let Some(dependencies) = normal_dependencies(root, pure)? {
            for runtime in IO_RUNTIMES {
                if dependencies.iter().any(|name| name == runtime) {
                    violations.push(format!("pure crate `{pure}` pulls in `{runtime}`"));
                }
            }
        }
    }
    if violations.is_empty() {
        println!("deps: boundaries hold ({} workspace crates checked)", workspace.len());
        Ok(())
    } else {
        bail!("dependency boundaries violated:\n  {}", violations.join("\n  "))
    }
}
