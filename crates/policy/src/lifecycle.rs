//! Lifecycle stage computation: a worker's status and dates, read on the planning day in the worker's time zone,
//! become a `model::LifecycleStage`.
//!
//! Pure: the caller passes `today` (the planning instant already converted to the worker's zone).

use chrono::{Days, NaiveDate};
use model::{LifecycleStage, Worker, WorkerStatus};

/// The lifecycle settings of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LifecycleRules {
    /// Days before the start date from which the (disabled) account is created.
    pub(crate) create_days_before_start: u32,
    /// Days after the last working day from which the account is deleted; `None` = never.
    pub(crate) delete_after_days: Option<u32>,
    /// Whether a leave type not listed keeps the account enabled.
    pub(crate) leave_default_keep: bool,
    /// Leave type (lower-case) → keep the account enabled.
    pub(crate) leave_types: Vec<(String, bool)>,
}

impl LifecycleRules {
    fn keep_enabled(&self, leave_type: Option<&str>) -> bool {
        leave_type
            .and_then(|name| {
                let name = name.trim().to_lowercase();
                self.leave_types.iter().find(|(known, _)| *known == name).map(|(_, keep)| *keep)
            })
            .unwrap_or(self.leave_default_keep)
    }
}

/// The stage of `worker` on `today` (a day in the worker's time zone).
///
/// Rules, in order: a worker whose termination date has passed, or whose status is terminated while no future
/// termination date is given, is `Terminated` (on the last day itself still working), or `Delete` once
/// `delete_after_days` have passed since the last day and the account is not to be kept. A worker with status
/// leave, or inside a leave period (`leave_start` ≤ today ≤ `leave_end`, open-ended without an end), is
/// `OnLeave`. A start date in the future gives `NotYet` before `start - create_days_before_start`, else
/// `PreHire`. Everyone else is `Active`.
pub(crate) fn stage(worker: &Worker, today: NaiveDate, rules: &LifecycleRules, keep_account: bool) -> LifecycleStage {
    let status_terminated = worker.status == Some(WorkerStatus::Terminated);
    let terminated = match worker.termination_date {
        Some(last_day) => today > last_day,
        None => status_terminated,
    };
    if terminated {
        let last_day = worker.termination_date.unwrap_or(today);
        if let Some(days) = rules.delete_after_days
            && !keep_account
            && last_day.checked_add_days(Days::new(u64::from(days))).is_some_and(|delete_on| today >= delete_on)
        {
            return LifecycleStage::Delete { last_day };
        }
        return LifecycleStage::Terminated { last_day };
    }
    let leave_by_dates = match (worker.leave_start, worker.leave_end) {
        (Some(start), Some(end)) => start <= today && today <= end,
        (Some(start), None) => start <= today,
        _ => false,
    };
    if let Some(WorkerStatus::Leave { leave_type }) = &worker.status {
        return LifecycleStage::OnLeave {
            leave_type: leave_type.clone(),
            keep_enabled: rules.keep_enabled(leave_type.as_deref()),
        };
    }
    if leave_by_dates {
        return LifecycleStage::OnLeave { leave_type: None, keep_enabled: rules.keep_enabled(None) };
    }
    match worker.hire_date {
        Some(start_date) if today < start_date => {
            let create_on =
                start_date.checked_sub_days(Days::new(u64::from(rules.create_days_before_start))).unwrap_or(start_date);
            if today < create_on {
                LifecycleStage::NotYet { create_on }
            } else {
                LifecycleStage::PreHire { start_date }
            }
        }
        None if worker.status == Some(WorkerStatus::PreHire) => LifecycleStage::PreHire { start_date: today },
        _ => LifecycleStage::Active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{SourceLocation, WorkerId};

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn worker() -> Worker {
        Worker::new(WorkerId::new("1").expect("id"), SourceLocation::at_line("hr.csv", 2))
    }

    fn rules() -> LifecycleRules {
        LifecycleRules {
            create_days_before_start: 14,
            delete_after_days: Some(30),
            leave_default_keep: false,
            leave_types: vec![("parental".to_string(), true)],
        }
    }

    #[test]
    fn last_day_is_still_active_and_the_day_after_is_terminated() {
        let mut w = worker();
        w.termination_date = Some(day("2026-11-20"));
        assert_eq!(stage(&w, day("2026-11-20"), &rules(), false), LifecycleStage::Active);
        assert_eq!(
            stage(&w, day("2026-11-21"), &rules(), false),
            LifecycleStage::Terminated { last_day: day("2026-11-20") }
        );
        assert_eq!(
            stage(&w, day("2026-12-19"), &rules(), false),
            LifecycleStage::Terminated { last_day: day("2026-11-20") }
        );
        assert_eq!(
            stage(&w, day("2026-12-20"), &rules(), false),
            LifecycleStage::Delete { last_day: day("2026-11-20") }
        );
        assert_eq!(
            stage(&w, day("2026-12-20"), &rules(), true),
            LifecycleStage::Terminated { last_day: day("2026-11-20") }
        );
    }

    #[test]
    fn terminated_status_without_date_ends_today() {
        let mut w = worker();
        w.status = Some(WorkerStatus::Terminated);
        assert_eq!(
            stage(&w, day("2026-03-04"), &rules(), false),
            LifecycleStage::Terminated { last_day: day("2026-03-04") }
        );
    }

    #[test]
    fn create_days_before_start_opens_the_pre_hire_window() {
        let mut w = worker();
        w.hire_date = Some(day("2026-12-15"));
        assert_eq!(
            stage(&w, day("2026-11-30"), &rules(), false),
            LifecycleStage::NotYet { create_on: day("2026-12-01") }
        );
        assert_eq!(
            stage(&w, day("2026-12-01"), &rules(), false),
            LifecycleStage::PreHire { start_date: day("2026-12-15") }
        );
        assert_eq!(stage(&w, day("2026-12-15"), &rules(), false), LifecycleStage::Active);
    }

    #[test]
    fn leave_by_status_or_dates_with_per_type_policy() {
        let mut w = worker();
        w.status = Some(WorkerStatus::Leave { leave_type: Some("Parental".to_string()) });
        assert_eq!(
            stage(&w, day("2026-05-01"), &rules(), false),
            LifecycleStage::OnLeave { leave_type: Some("Parental".to_string()), keep_enabled: true }
        );
        w.status = Some(WorkerStatus::Leave { leave_type: Some("sabbatical".to_string()) });
        assert!(!stage(&w, day("2026-05-01"), &rules(), false).account_enabled());

        let mut w = worker();
        w.leave_start = Some(day("2026-05-01"));
        w.leave_end = Some(day("2026-05-31"));
        assert_eq!(stage(&w, day("2026-04-30"), &rules(), false), LifecycleStage::Active);
        assert_eq!(
            stage(&w, day("2026-05-31"), &rules(), false),
            LifecycleStage::OnLeave { leave_type: None, keep_enabled: false }
        );
        assert_eq!(stage(&w, day("2026-06-01"), &rules(), false), LifecycleStage::Active);
        w.leave_end = None;
        assert_eq!(
            stage(&w, day("2027-06-01"), &rules(), false),
            LifecycleStage::OnLeave { leave_type: None, keep_enabled: false }
        );
    }
}
