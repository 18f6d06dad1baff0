//! Tidiness rules: every Rust file opens with a `//!` module doc; no `utils.rs`/`helpers.rs`/`common.rs`
//! module files in crate sources; every crate folder is named in ARCHITECTURE.md; files over 1,200 lines are
//! reported (a warning, not a failure).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

const BANNED_FILE_NAMES: &[&str] = &["utils.rs", "util.rs", "helpers.rs", "common.rs", "misc.rs"];
const LINE_WARNING: usize = 1200;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_dir() {
            if name == "target" || name.starts_with('.') || name == "corpus" || name == "artifacts" {
                continue;
            }
            rust_files(&path, out)?;
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Runs the tidy checks.
pub(crate) fn check(root: &Path) -> anyhow::Result<()> {
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files)?;
    rust_files(&root.join("xtask"), &mut files)?;
    let mut problems = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(root).unwrap_or(file).display().to_string();
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {relative}"))?;
        let first_code_line = text.lines().map(str::trim).find(|line| !line.is_empty() && !line.starts_with("#!["));
        if !first_code_line.is_some_and(|line| line.starts_with("//!")) {
            problems.push(format!("{relative}: must start with a `//!` module doc comment"));
        }
        let name = file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let in_tests = relative.contains("/tests/");
        if BANNED_FILE_NAMES.contains(&name.as_str()) && !in_tests {
            problems.push(format!("{relative}: name the module after its concept, not `{name}`"));
        }
        let lines = text.lines().count();
        if lines > LINE_WARNING && !name.ends_with("tests.rs") {
            eprintln!("tidy: warning: {relative} has {lines} lines (budget {LINE_WARNING})");
        }
    }
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).context("reading ARCHITECTURE.md")?;
    for entry in std::fs::read_dir(root.join("crates")).context("listing crates/")? {
        let entry = entry?;
        if entry.path().is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !architecture.contains(&format!("`crates/{name}`")) {
                problems.push(format!("ARCHITECTURE.md does not describe `crates/{name}`"));
            }
        }
    }
    if problems.is_empty() {
        println!("tidy: {} Rust files checked", files.len());
        Ok(())
    } else {
        bail!("tidy found problems:\n  {}", problems.join("\n  "))
    }
}
