//! One record's values, as read from CSV or JSON, checked and turned into a `model::Worker`.
//!
//! Every problem in the record is reported (not only the first), so an admin fixes a row in one go. A record with
//! any error is skipped; warnings keep it.

use chrono::NaiveDate;
use model::{CountryCode, Diagnostic, SourceLocation, Worker, WorkerId, WorkerStatus};

use crate::mapping::{Field, FieldTarget};

/// One value of a record before validation.
#[derive(Debug, Clone)]
pub(crate) struct RawValue {
    /// Where the value goes.
    pub(crate) target: FieldTarget,
    /// The field as the input names it (a CSV header, a JSON key), for diagnostics.
    pub(crate) source_name: String,
    /// The trimmed value; `None` when empty or absent.
    pub(crate) value: Option<String>,
}

/// A record before validation.
#[derive(Debug, Clone)]
pub(crate) struct RawRecord {
    /// The file and line (the employee is filled in here).
    pub(crate) origin: SourceLocation,
    /// The record's values.
    pub(crate) values: Vec<RawValue>,
}

/// A checked record: its employee ID if that parsed, and the worker if the whole record is valid.
#[derive(Debug)]
pub(crate) struct CheckedRecord {
    /// The employee ID, when valid (also for records skipped for other reasons: duplicates count them).
    pub(crate) id: Option<WorkerId>,
    /// The file, line and employee.
    pub(crate) origin: SourceLocation,
    /// The worker, when the record has no error.
    pub(crate) worker: Option<Worker>,
}

/// The rules shared by every record of a file.
pub(crate) struct RecordRules<'a> {
    /// Fields that must have a value (including `employee_id`).
    pub(crate) required: &'a [Field],
    /// Accepted date formats, in order.
    pub(crate) date_formats: &'a [String],
}

/// Trims `text`; `None` when nothing is left.
pub(crate) fn non_empty(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// Checks `raw` against `rules`, appending its diagnostics.
pub(crate) fn check(raw: RawRecord, rules: &RecordRules<'_>, diagnostics: &mut Vec<Diagnostic>) -> CheckedRecord {
    let mut origin = raw.origin;
    let id_value = raw.values.iter().find(|value| value.target == FieldTarget::Canonical(Field::EmployeeId));
    origin.record = id_value.and_then(|value| value.value.clone());
    let errors_before = count_errors(diagnostics);

    let id = match id_value {
        Some(RawValue { value: Some(text), source_name, .. }) => match WorkerId::new(text) {
            Ok(id) => Some(id),
            Err(error) => {
                diagnostics.push(Diagnostic::error(origin.clone(), Some(source_name), error.to_string()));
                None
            }
        },
        _ => None,
    };
    for field in rules.required {
        let present = raw.values.iter().find(|value| value.target == FieldTarget::Canonical(*field));
        if present.is_none_or(|value| value.value.is_none()) {
            let name = present.map_or(field.name(), |value| value.source_name.as_str());
            diagnostics.push(Diagnostic::error(origin.clone(), Some(name), "required value is missing"));
        }
    }

    let mut worker = Worker::new(id.clone().unwrap_or_else(placeholder_id), origin.clone());
    let mut status_value = None;
    let mut status_invalid = false;
    let mut leave_type = None;
    for RawValue { target, source_name, value } in raw.values {
        let Some(text) = value else { continue };
        let mut report = |message: String| {
            diagnostics.push(Diagnostic::error(origin.clone(), Some(&source_name), message));
        };
        match target {
            FieldTarget::Custom(name) => {
                worker.custom_fields.insert(name, text);
            }
            FieldTarget::Canonical(field) => match field {
                Field::EmployeeId => {}
                Field::LegalGivenName => worker.legal_given_name = Some(text),
                Field::LegalFamilyName => worker.legal_family_name = Some(text),
                Field::PreferredGivenName => worker.preferred_given_name = Some(text),
                Field::PreferredFamilyName => worker.preferred_family_name = Some(text),
                Field::JobTitle => worker.job_title = Some(text),
                Field::Department => worker.department = Some(text),
                Field::Division => worker.division = Some(text),
                Field::CostCenter => worker.cost_center = Some(text),
                Field::OfficeLocation => worker.office_location = Some(text),
                Field::City => worker.city = Some(text),
                Field::Country => worker.country = Some(text),
                Field::Company => worker.company = Some(text),
                Field::EmployeeType => worker.employee_type = Some(text),
                Field::BusinessPhone => worker.business_phone = Some(text),
                Field::MobilePhone => worker.mobile_phone = Some(text),
                Field::PersonalEmail => worker.personal_email = Some(text),
                Field::TimeZone => worker.time_zone = Some(text),
                Field::UsageLocation => match CountryCode::new(&text) {
                    Ok(code) => worker.usage_location = Some(code),
                    Err(error) => report(error.to_string()),
                },
                Field::ManagerId => match WorkerId::new(&text) {
                    Ok(manager) => worker.manager_id = Some(manager),
                    Err(error) => report(format!("manager: {error}")),
                },
                Field::HireDate | Field::TerminationDate | Field::LeaveStart | Field::LeaveEnd => {
                    match parse_date(&text, rules.date_formats) {
                        Some(date) => *date_slot(&mut worker, field) = Some(date),
                        None => report(date_message(&text, rules.date_formats)),
                    }
                }
                Field::Status => status_value = Some((text, source_name)),
                Field::LeaveType => leave_type = Some((text, source_name)),
            },
        }
    }
    if let Some((text, source_name)) = status_value {
        match parse_status(&text) {
            Some(StatusKind::Leave) => {
                worker.status = Some(WorkerStatus::Leave { leave_type: leave_type.take().map(|(text, _)| text) });
            }
            Some(kind) => worker.status = Some(kind.into_status()),
            None => {
                status_invalid = true;
                diagnostics.push(Diagnostic::error(
                    origin.clone(),
                    Some(&source_name),
                    format!("\"{text}\" is not a status (use pre-hire, active, leave or terminated)"),
                ));
            }
        }
    }
    if let Some((text, source_name)) = leave_type
        && !status_invalid
    {
        diagnostics.push(Diagnostic::warning(
            origin.clone(),
            Some(&source_name),
            format!("leave type \"{text}\" is ignored because the worker's status is not leave"),
        ));
    }

    let valid = count_errors(diagnostics) == errors_before && id.is_some();
    CheckedRecord { id, origin, worker: valid.then_some(worker) }
}

fn count_errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics.iter().filter(|diagnostic| diagnostic.severity == model::Severity::Error).count()
}

/// Stands in for a missing or invalid ID while the rest of the record is checked; such a record is never kept.
fn placeholder_id() -> WorkerId {
    WorkerId::new("?").unwrap_or_else(|_| unreachable!("\"?\" is a valid worker ID"))
}

fn date_slot(worker: &mut Worker, field: Field) -> &mut Option<NaiveDate> {
    match field {
        Field::HireDate => &mut worker.hire_date,
        Field::TerminationDate => &mut worker.termination_date,
        Field::LeaveStart => &mut worker.leave_start,
        _ => &mut worker.leave_end,
    }
}

fn parse_date(text: &str, formats: &[String]) -> Option<NaiveDate> {
    formats.iter().find_map(|format| NaiveDate::parse_from_str(text, format).ok())
}

fn date_message(text: &str, formats: &[String]) -> String {
    match formats {
        [format] => format!("\"{text}\" is not a valid date in the format {format}"),
        _ => format!("\"{text}\" is not a valid date in any of the formats {}", formats.join(", ")),
    }
}

enum StatusKind {
    PreHire,
    Active,
    Leave,
    Terminated,
}

impl StatusKind {
    fn into_status(self) -> WorkerStatus {
        match self {
            Self::PreHire => WorkerStatus::PreHire,
            Self::Active => WorkerStatus::Active,
            Self::Leave => WorkerStatus::Leave { leave_type: None },
            Self::Terminated => WorkerStatus::Terminated,
        }
    }
}

/// Reads a status ignoring case, spaces, hyphens and underscores (`Pre-Hire`, `on leave`, `TERMINATED`).
fn parse_status(text: &str) -> Option<StatusKind> {
    let key: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '_')).flat_map(char::to_lowercase).collect();
    match key.as_str() {
        "prehire" => Some(StatusKind::PreHire),
        "active" => Some(StatusKind::Active),
        "leave" | "onleave" | "leaveofabsence" => Some(StatusKind::Leave),
        "terminated" => Some(StatusKind::Terminated),
        _ => None,
    }
}
