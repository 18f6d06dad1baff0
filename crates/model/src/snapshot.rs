//! `HrSnapshot`: everything one read of an HR source produced — the valid workers and the diagnostics.

use crate::{Diagnostic, Severity, Worker};

/// The result of reading an HR source: the workers that passed validation, and a diagnostic for every problem
/// found (skipped records as errors, kept-but-suspicious records as warnings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HrSnapshot {
    /// The valid workers, in input order.
    pub workers: Vec<Worker>,
    /// The problems found, ordered by line.
    pub diagnostics: Vec<Diagnostic>,
}

impl HrSnapshot {
    /// Whether any record was skipped.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|diagnostic| diagnostic.severity == Severity::Error)
    }
}
