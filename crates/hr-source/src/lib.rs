//! Reads HR exports — CSV files (UTF-8, UTF-8 with BOM, UTF-16 with BOM) and JSON files — into a validated
//! `model::HrSnapshot`.
//!
//! This is the first step of every run ("Read HR"). A file that cannot be used at all (unreadable, not text, its
//! header row lacking the mapped required columns) is rejected whole with an [`Error`]; a bad record only becomes
//! a `model::Diagnostic` naming file, line, employee and field, and is skipped while the valid records proceed.
//! How columns map onto worker fields is the caller's [`CsvMapping`] (the policy's, eventually).

mod csv_file;
mod encoding;
mod error;
mod json_file;
mod mapping;
mod record;
mod relations;

pub use csv_file::{read_csv, read_csv_bytes};
pub use error::Error;
pub use json_file::{read_json, read_json_bytes};
pub use mapping::{CUSTOM_PREFIX, CsvMapping, Field, FieldTarget, JsonMapping};

use model::{Diagnostic, HrSnapshot, SourceLocation, Worker};

/// What the warning for a file without records says.
pub const NO_RECORDS: &str = "the file has no records: no worker was read, so nothing is planned for anyone (the \
                              accounts of people missing from an export are left alone); check that the export is \
                              complete";

/// Builds the snapshot of `file`, with diagnostics in line order (stable, so a record's own problems keep their
/// order). A file without a single record gets a warning: an empty export is more often a failed export than an
/// empty company.
fn finish(file: &str, workers: Vec<Worker>, mut diagnostics: Vec<Diagnostic>) -> HrSnapshot {
    if workers.is_empty() && diagnostics.is_empty() {
        diagnostics.push(Diagnostic::warning(SourceLocation::at_line(file, 1), None, NO_RECORDS));
    }
    diagnostics.sort_by_key(|diagnostic| diagnostic.source.line.unwrap_or(u64::MAX));
    HrSnapshot { workers, diagnostics }
}
