//! How run results read on the terminal: HR diagnostics, the safety gate's verdict, and the end-of-run summary.

use std::fmt::Write as _;

use engine::RunReport;
use model::{Diagnostic, Severity};
use store::RunStatus;

/// The diagnostics as lines, errors first, then a count line; empty when there are none.
#[must_use]
pub fn render_diagnostics(title: &str, diagnostics: &[Diagnostic]) -> String {
    if diagnostics.is_empty() {
        return String::new();
    }
    let mut res = String::new();
    let errors = diagnostics.iter().filter(|diagnostic| diagnostic.severity == Severity::Error).count();
    let _ = writeln!(res, "{title}: {errors} error(s), {} warning(s)", diagnostics.len() - errors);
    for diagnostic in diagnostics {
        let _ = writeln!(res, "  {diagnostic}");
    }
    res
}

/// The end-of-run summary.
#[must_use]
pub fn render_run(report: &RunReport) -> String {
    let mut res = String::new();
    if !report.breaches.is_empty() {
        let verdict = if report.status == RunStatus::Blocked {
            "The run was stopped before its first step; re-run with --override-limits after checking the HR data."
        } else {
            "The limits were overridden for this run."
        };
        for breach in &report.breaches {
            let _ = writeln!(res, "{breach}");
        }
        let _ = writeln!(res, "{verdict}");
    }
    if !report.missing_permissions.is_empty() {
        for missing in &report.missing_permissions {
            let _ = writeln!(res, "{missing}");
        }
        let exchange_roles = report.missing_permissions.iter().any(|line| line.starts_with("Exchange role"));
        let _ = writeln!(
            res,
            "The run was stopped before its first step: {}, then run `tenure connection test`.",
            if exchange_roles {
                "add the missing role(s) to the Exchange account's role group (Exchange admin center › Roles › \
                 Admin roles), or grant the missing permission(s) to the connection"
            } else {
                "grant the missing permission(s) to the connection (and consent again)"
            }
        );
        let _ = write!(res, "Run {}: blocked: the connection lacks a permission.", report.run);
        res.push('\n');
        return res;
    }
    let _ = write!(res, "Run {}: {}", report.run, status_text(report.status));
    if let Some(apply) = &report.apply {
        let _ = write!(res, " — {} step(s) done, {} failed", apply.done, apply.failed.len());
        if apply.not_attempted > 0 {
            let _ = write!(res, ", {} not attempted", apply.not_attempted);
        }
        if apply.resumed_done > 0 {
            let _ = write!(res, " ({} already done before a restart)", apply.resumed_done);
        }
        if !apply.waiting.is_empty() {
            let _ = write!(res, ", {} waiting (the next run picks them up)", apply.waiting.len());
        }
        res.push('.');
        for (step, error) in &apply.failed {
            let _ = write!(res, "\n  step {step} failed: {error}");
        }
        for (step, reason) in apply.waiting.iter().take(10) {
            let _ = write!(res, "\n  step {step} waiting: {reason}");
        }
        if apply.waiting.len() > 10 {
            let _ = write!(res, "\n  … and {} more waiting", apply.waiting.len() - 10);
        }
    } else {
        res.push('.');
    }
    res.push('\n');
    res
}

/// A run status in words.
#[must_use]
pub fn status_text(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Planned => "planned (dry run, nothing applied)",
        RunStatus::Running => "running or interrupted",
        RunStatus::Succeeded => "succeeded",
        RunStatus::Failed => "finished with failures",
        RunStatus::Blocked => "blocked by a safety limit",
    }
}
