//! `Diagnostic`: a problem found in input (an HR record, later a policy), reported to the admin instead of failing
//! the run.
//!
//! The pure core never returns errors for bad data: a record that cannot be used becomes a diagnostic and is
//! skipped, and the rest proceeds. The `Display` form is what admins read, so it names the file, the line, the
//! employee and the field, in that order, like a compiler message: `error: hr.csv:3: employee 1002: field
//! "Hire Date": …`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The record was skipped.
    Error,
    /// The record was kept, but something in it needs a human's attention.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
        })
    }
}

/// Where in the input a record (or a problem) comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceLocation {
    /// The input file's name as the admin knows it (a path or an upload name).
    pub file: String,
    /// The 1-based physical line where the record starts (a CSV header is line 1), when known.
    pub line: Option<u64>,
    /// The employee ID as written in the record, when the record has one (it may itself be invalid).
    pub record: Option<String>,
}

impl SourceLocation {
    /// The location of a record starting at `line` of `file`, its employee not yet known.
    #[must_use]
    pub fn at_line(file: &str, line: u64) -> Self {
        Self { file: file.to_string(), line: Some(line), record: None }
    }
}

/// One problem in the input, with where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Whether the record was skipped ([`Severity::Error`]) or kept ([`Severity::Warning`]).
    pub severity: Severity,
    /// The file, line and employee.
    pub source: SourceLocation,
    /// The field as the input names it (a CSV column header, a JSON key), when one field is at fault.
    pub field: Option<String>,
    /// What is wrong, as a sentence fragment an admin can act on.
    pub message: String,
}

impl Diagnostic {
    /// An error (the record is skipped) at `source`.
    #[must_use]
    pub fn error(source: SourceLocation, field: Option<&str>, message: impl Into<String>) -> Self {
        Self { severity: Severity::Error, source, field: field.map(str::to_string), message: message.into() }
    }

    /// A warning (the record is kept) at `source`.
    #[must_use]
    pub fn warning(source: SourceLocation, field: Option<&str>, message: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, source, field: field.map(str::to_string), message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.source.file)?;
        if let Some(line) = self.source.line {
            write!(f, ":{line}")?;
        }
        if let Some(record) = &self.source.record {
            write!(f, ": employee {record}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field \"{field}\"")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_employee_and_field() {
        let mut source = SourceLocation::at_line("hr.csv", 3);
        source.record = Some("1002".to_string());
        let diagnostic = Diagnostic::error(source, Some("Hire Date"), "\"31.02.2024\" is not a date");
        assert_eq!(
            diagnostic.to_string(),
            "error: hr.csv:3: employee 1002: field \"Hire Date\": \"31.02.2024\" is not a date"
        );
    }

    #[test]
    fn display_leaves_out_what_is_unknown() {
        let source = SourceLocation { file: "hr.json".to_string(), line: None, record: None };
        let diagnostic = Diagnostic::warning(source, None, "something odd");
        assert_eq!(diagnostic.to_string(), "warning: hr.json: something odd");
    }
}
