//! `Worker`: the canonical HR person, whatever HR system or file format they came from.
//!
//! Every field but the employee ID is optional: HR exports differ in what they carry, and the policy decides what
//! it needs. Values are trimmed, and empty values are `None`.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::{CountryCode, SourceLocation, WorkerId};

/// Where a worker is in their employment, as HR states it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WorkerStatus {
    /// Hired, but not yet started.
    PreHire,
    /// Working.
    Active,
    /// On a leave of absence; the policy decides per type whether the account stays enabled.
    Leave {
        /// The kind of leave as HR names it (parental, sabbatical, …), when HR gives one.
        leave_type: Option<String>,
    },
    /// No longer employed.
    Terminated,
}

/// One person from HR, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    /// The HR employee ID: required and unique within a snapshot.
    pub employee_id: WorkerId,
    /// Where the record was read from, for diagnostics and for explaining plan steps.
    pub origin: SourceLocation,
    /// Legal given (first) name.
    pub legal_given_name: Option<String>,
    /// Legal family (last) name.
    pub legal_family_name: Option<String>,
    /// Preferred given name, when the worker goes by another name than their legal one.
    pub preferred_given_name: Option<String>,
    /// Preferred family name.
    pub preferred_family_name: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Division.
    pub division: Option<String>,
    /// Cost centre.
    pub cost_center: Option<String>,
    /// Office or location name.
    pub office_location: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Country, as HR writes it (a name or a code); see `usage_location` for the licensing country.
    pub country: Option<String>,
    /// The country where the worker uses Microsoft services; Entra needs it before licences are assigned.
    pub usage_location: Option<CountryCode>,
    /// Company or legal entity.
    pub company: Option<String>,
    /// Employee type (employee, contractor, intern, …), as HR names it.
    pub employee_type: Option<String>,
    /// The manager's employee ID.
    pub manager_id: Option<WorkerId>,
    /// Hire or start date.
    pub hire_date: Option<NaiveDate>,
    /// Last working day (termination date).
    pub termination_date: Option<NaiveDate>,
    /// Employment status, when HR states it; otherwise the policy derives the lifecycle stage from the dates.
    pub status: Option<WorkerStatus>,
    /// First day of a leave of absence.
    pub leave_start: Option<NaiveDate>,
    /// Last day of a leave of absence.
    pub leave_end: Option<NaiveDate>,
    /// Business phone number.
    pub business_phone: Option<String>,
    /// Mobile phone number.
    pub mobile_phone: Option<String>,
    /// Personal (non-work) email address, for onboarding messages.
    pub personal_email: Option<String>,
    /// The worker's IANA time zone name (`Europe/Berlin`); dates such as the start date are days in this zone.
    /// Checked against the time-zone database by the policy, not here.
    pub time_zone: Option<String>,
    /// Columns the mapping names as custom fields, by their custom name.
    pub custom_fields: BTreeMap<String, String>,
}

impl Worker {
    /// A worker with only an employee ID and an origin; every other field empty.
    #[must_use]
    pub fn new(employee_id: WorkerId, origin: SourceLocation) -> Self {
        Self {
            employee_id,
            origin,
            legal_given_name: None,
            legal_family_name: None,
            preferred_given_name: None,
            preferred_family_name: None,
            job_title: None,
            department: None,
            division: None,
            cost_center: None,
            office_location: None,
            city: None,
            country: None,
            usage_location: None,
            company: None,
            employee_type: None,
            manager_id: None,
            hire_date: None,
            termination_date: None,
            status: None,
            leave_start: None,
            leave_end: None,
            business_phone: None,
            mobile_phone: None,
            personal_email: None,
            time_zone: None,
            custom_fields: BTreeMap::new(),
        }
    }
}
