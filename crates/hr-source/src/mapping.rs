//! How an HR file's columns map onto `model::Worker`: the canonical [`Field`]s, and the caller-supplied
//! [`CsvMapping`] and [`JsonMapping`].
//!
//! The mappings are plain serde structs with `deny_unknown_fields`, so the policy file can embed them as they
//! are. [`CsvMapping::problems`] reports every mistake in a mapping at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::format::{Item, StrftimeItems};
use serde::Deserialize;

/// A canonical `Worker` field that an HR column can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// `Worker::employee_id` (always required).
    EmployeeId,
    /// `Worker::legal_given_name`.
    LegalGivenName,
    /// `Worker::legal_family_name`.
    LegalFamilyName,
    /// `Worker::preferred_given_name`.
    PreferredGivenName,
    /// `Worker::preferred_family_name`.
    PreferredFamilyName,
    /// `Worker::job_title`.
    JobTitle,
    /// `Worker::department`.
    Department,
    /// `Worker::division`.
    Division,
    /// `Worker::cost_center`.
    CostCenter,
    /// `Worker::office_location`.
    OfficeLocation,
    /// `Worker::city`.
    City,
    /// `Worker::country`.
    Country,
    /// `Worker::usage_location` (ISO 3166-1 alpha-2).
    UsageLocation,
    /// `Worker::company`.
    Company,
    /// `Worker::employee_type`.
    EmployeeType,
    /// `Worker::manager_id`.
    ManagerId,
    /// `Worker::hire_date`.
    HireDate,
    /// `Worker::termination_date` (last working day).
    TerminationDate,
    /// `Worker::status`: `pre-hire`, `active`, `leave` or `terminated`.
    Status,
    /// The leave type of a worker whose status is `leave`.
    LeaveType,
    /// `Worker::leave_start`.
    LeaveStart,
    /// `Worker::leave_end`.
    LeaveEnd,
    /// `Worker::business_phone`.
    BusinessPhone,
    /// `Worker::mobile_phone`.
    MobilePhone,
    /// `Worker::personal_email`.
    PersonalEmail,
    /// `Worker::time_zone` (an IANA name).
    TimeZone,
}

impl Field {
    /// Every field, in declaration order.
    pub const ALL: [Self; 26] = [
        Self::EmployeeId,
        Self::LegalGivenName,
        Self::LegalFamilyName,
        Self::PreferredGivenName,
        Self::PreferredFamilyName,
        Self::JobTitle,
        Self::Department,
        Self::Division,
        Self::CostCenter,
        Self::OfficeLocation,
        Self::City,
        Self::Country,
        Self::UsageLocation,
        Self::Company,
        Self::EmployeeType,
        Self::ManagerId,
        Self::HireDate,
        Self::TerminationDate,
        Self::Status,
        Self::LeaveType,
        Self::LeaveStart,
        Self::LeaveEnd,
        Self::BusinessPhone,
        Self::MobilePhone,
        Self::PersonalEmail,
        Self::TimeZone,
    ];

    /// The canonical name, as written in mappings and JSON input (`employee_id`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::EmployeeId => "employee_id",
            Self::LegalGivenName => "legal_given_name",
            Self::LegalFamilyName => "legal_family_name",
            Self::PreferredGivenName => "preferred_given_name",
            Self::PreferredFamilyName => "preferred_family_name",
            Self::JobTitle => "job_title",
            Self::Department => "department",
            Self::Division => "division",
            Self::CostCenter => "cost_center",
            Self::OfficeLocation => "office_location",
            Self::City => "city",
            Self::Country => "country",
            Self::UsageLocation => "usage_location",
            Self::Company => "company",
            Self::EmployeeType => "employee_type",
            Self::ManagerId => "manager_id",
            Self::HireDate => "hire_date",
            Self::TerminationDate => "termination_date",
            Self::Status => "status",
            Self::LeaveType => "leave_type",
            Self::LeaveStart => "leave_start",
            Self::LeaveEnd => "leave_end",
            Self::BusinessPhone => "business_phone",
            Self::MobilePhone => "mobile_phone",
            Self::PersonalEmail => "personal_email",
            Self::TimeZone => "time_zone",
        }
    }

    /// The field with this canonical name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.name() == name)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a column's value goes: a canonical field, or a custom field (`custom.<name>`) kept verbatim in
/// `Worker::custom_fields`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum FieldTarget {
    /// A canonical field.
    Canonical(Field),
    /// A custom field, by its name after `custom.`.
    Custom(String),
}

/// The prefix that marks a custom field in mappings and JSON keys.
pub const CUSTOM_PREFIX: &str = "custom.";

impl FieldTarget {
    /// Parses `employee_id`-style canonical names and `custom.<name>` custom fields.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(name) = text.strip_prefix(CUSTOM_PREFIX) {
            if name.trim().is_empty() {
                return Err(format!("\"{text}\" names no custom field (write custom.<name>)"));
            }
            return Ok(Self::Custom(name.to_string()));
        }
        Field::from_name(text).map(Self::Canonical).ok_or_else(|| {
            format!("\"{text}\" is not a worker field (use one of the canonical names, or custom.<name>)")
        })
    }
}

impl TryFrom<String> for FieldTarget {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl fmt::Display for FieldTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Canonical(field) => f.write_str(field.name()),
            Self::Custom(name) => write!(f, "{CUSTOM_PREFIX}{name}"),
        }
    }
}

fn default_date_formats() -> Vec<String> {
    vec!["%Y-%m-%d".to_string()]
}

fn default_delimiter() -> char {
    ','
}

/// How to read an HR CSV export: which header feeds which field, which fields every record needs, how dates are
/// written and what separates the columns.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvMapping {
    /// Column header (matched ignoring case and surrounding spaces) → the field it feeds. Columns not named here
    /// are ignored. One column must feed `employee_id`.
    pub columns: BTreeMap<String, FieldTarget>,
    /// Fields every record must have a value for, besides `employee_id` (always required). Their columns must be
    /// in the header row, or the whole file is rejected.
    #[serde(default)]
    pub required: Vec<Field>,
    /// The accepted date formats (chrono `strftime` syntax), tried in order. Default: `%Y-%m-%d`.
    #[serde(default = "default_date_formats")]
    pub date_formats: Vec<String>,
    /// The column separator: one ASCII character. Default `,` (European Excel often writes `;`).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
}

/// How to read an HR JSON export (an array of objects keyed by canonical field names and `custom.<name>`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonMapping {
    /// Fields every record must have a value for, besides `employee_id` (always required).
    #[serde(default)]
    pub required: Vec<Field>,
    /// The accepted date formats (chrono `strftime` syntax), tried in order. Default: `%Y-%m-%d`.
    #[serde(default = "default_date_formats")]
    pub date_formats: Vec<String>,
}

impl Default for JsonMapping {
    fn default() -> Self {
        Self { required: Vec::new(), date_formats: default_date_formats() }
    }
}

/// The required fields, `employee_id` first and without repeats.
pub(crate) fn required_fields(required: &[Field]) -> Vec<Field> {
    let mut fields = vec![Field::EmployeeId];
    for field in required {
        if !fields.contains(field) {
            fields.push(*field);
        }
    }
    fields
}

fn date_format_problems(formats: &[String], problems: &mut Vec<String>) {
    if formats.is_empty() {
        problems.push("date_formats is empty; give at least one format such as \"%Y-%m-%d\"".to_string());
    }
    for format in formats {
        if StrftimeItems::new(format).any(|item| matches!(item, Item::Error)) {
            problems.push(format!("date format \"{format}\" is not valid strftime syntax"));
        }
    }
}

impl CsvMapping {
    /// Every mistake in this mapping, each as a sentence; empty when the mapping is usable.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut headers = BTreeSet::new();
        let mut fed_by: BTreeMap<&FieldTarget, Vec<&str>> = BTreeMap::new();
        for (header, target) in &self.columns {
            if header.trim().is_empty() {
                problems.push(format!("an empty column header is mapped to {target}"));
            }
            if !headers.insert(header.trim().to_lowercase()) {
                problems.push(format!("column \"{header}\" is mapped twice (headers match ignoring case)"));
            }
            fed_by.entry(target).or_default().push(header);
        }
        for (target, headers) in &fed_by {
            if headers.len() > 1 {
                problems.push(format!("{target} is fed by more than one column: \"{}\"", headers.join("\", \"")));
            }
        }
        for field in required_fields(&self.required) {
            if !fed_by.contains_key(&FieldTarget::Canonical(field)) {
                problems.push(format!("{field} is required, but no column is mapped to it"));
            }
        }
        if !self.delimiter.is_ascii() || matches!(self.delimiter, '"' | '\n' | '\r') {
            problems.push(format!(
                "delimiter {:?} must be one ASCII character other than a quote or line break",
                self.delimiter
            ));
        }
        date_format_problems(&self.date_formats, &mut problems);
        problems
    }

    /// The header mapped to `field`, if any.
    #[must_use]
    pub fn header_of(&self, field: Field) -> Option<&str> {
        let target = FieldTarget::Canonical(field);
        self.columns.iter().find(|(_, mapped)| **mapped == target).map(|(header, _)| header.as_str())
    }
}

impl JsonMapping {
    /// Every mistake in this mapping, each as a sentence; empty when the mapping is usable.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        date_format_problems(&self.date_formats, &mut problems);
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_round_trip() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), Some(field));
        }
    }

    #[test]
    fn problems_are_all_reported_at_once() {
        let mapping = CsvMapping {
            columns: BTreeMap::from([
                ("Given".to_string(), FieldTarget::Canonical(Field::LegalGivenName)),
                ("First".to_string(), FieldTarget::Canonical(Field::LegalGivenName)),
            ]),
            required: vec![Field::HireDate],
            date_formats: vec!["%Y-%Q".to_string()],
            delimiter: 'é',
        };
        assert_eq!(
            mapping.problems(),
            [
                "legal_given_name is fed by more than one column: \"First\", \"Given\"",
                "employee_id is required, but no column is mapped to it",
                "hire_date is required, but no column is mapped to it",
                "delimiter 'é' must be one ASCII character other than a quote or line break",
                "date format \"%Y-%Q\" is not valid strftime syntax",
            ]
        );
    }
}
