//! `desired_state` on the example policy and small policies: names, stages across time zones, rules, leavers, and
//! a worker whose template fails being skipped with a diagnostic.

use chrono::{DateTime, NaiveDate, Utc};
use model::{HrSnapshot, LifecycleStage, Severity, SourceLocation, UserAttribute, Worker, WorkerId, WorkerStatus};
use policy::{Policy, desired_state, parse_policy};

fn example() -> Policy {
    parse_policy("policy.toml", include_str!("../examples/policy.toml")).expect("example parses")
}

fn worker(id: &str, given: &str, family: &str) -> Worker {
    let mut worker = Worker::new(WorkerId::new(id).expect("id"), SourceLocation::at_line("hr.csv", 2));
    worker.legal_given_name = Some(given.to_string());
    worker.legal_family_name = Some(family.to_string());
    worker
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an instant")
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

#[test]
fn names_are_transliterated_and_counters_expand_in_order() {
    let hr = HrSnapshot {
        workers: vec![worker("3", "François", "Weiß"), worker("1", "Jürgen", "Weiß"), worker("2", "Zoë", "Ørsted")],
        diagnostics: Vec::new(),
    };
    let state = desired_state(&hr, &example(), at("2026-06-01T12:00:00Z"));
    let ids: Vec<&str> = state.accounts.iter().map(|account| account.worker_id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    let upns: Vec<&str> =
        state.accounts[0].name_candidates.iter().map(|candidate| candidate.user_principal_name.as_str()).collect();
    assert_eq!(
        upns[..4],
        [
            "juergen.weiss@contoso.com",
            "j.weiss@contoso.com",
            "juergen.weiss2@contoso.com",
            "juergen.weiss3@contoso.com"
        ]
    );
    assert_eq!(upns.len(), 2 + 98);
    assert_eq!(upns.last(), Some(&"juergen.weiss99@contoso.com"));
    assert_eq!(state.accounts[0].name_candidates[0].mail_nickname, "juergen.weiss");
    assert_eq!(state.accounts[0].name_candidates[0].mail.as_deref(), Some("juergen.weiss@contoso.com"));
    assert_eq!(state.accounts[1].name_candidates[0].user_principal_name, "zoe.orsted@contoso.com");
    assert_eq!(state.accounts[2].name_candidates[0].user_principal_name, "francois.weiss@contoso.com");
    assert_eq!(
        state.accounts[0].secondary_key,
        Some(model::SecondaryKey::Mail("juergen.weiss@contoso.com".to_string()))
    );
    assert_eq!(state.accounts[0].attributes.get(&UserAttribute::DisplayName).map(String::as_str), Some("Jürgen Weiß"));
    assert_eq!(state.accounts[0].attributes.get(&UserAttribute::EmployeeId).map(String::as_str), Some("1"));
    assert_eq!(state.accounts[0].attributes.get(&UserAttribute::CompanyName).map(String::as_str), Some("Contoso Ltd"));
    assert!(!state.accounts[0].attributes.contains_key(&UserAttribute::JobTitle), "empty render = absent");
    assert!(state.managed_attributes.contains(&UserAttribute::JobTitle));
    assert!(state.managed_attributes.contains(&UserAttribute::EmployeeId));
    assert_eq!(state.managed_skus.iter().collect::<Vec<_>>(), ["ENTERPRISEPACK"]);
    assert_eq!(state.policy_revision, example().revision());
    assert!(state.diagnostics.is_empty(), "{:?}", state.diagnostics);
}

#[test]
fn stages_use_the_workers_time_zone() {
    let mut berlin = worker("1", "Ada", "Lovelace");
    berlin.hire_date = Some(day("2026-12-02"));
    let mut new_york = berlin.clone();
    new_york.employee_id = WorkerId::new("2").expect("id");
    new_york.time_zone = Some("America/New_York".to_string());
    let mut leaver = worker("3", "Bob", "Leaver");
    leaver.termination_date = Some(day("2026-12-01"));
    let mut bad_zone = worker("4", "Cy", "Zone");
    bad_zone.time_zone = Some("Mars/Olympus".to_string());
    let hr = HrSnapshot { workers: vec![berlin, new_york, leaver, bad_zone], diagnostics: Vec::new() };

    // 23:30 UTC on 1 December is already 2 December in Berlin (the default zone), still 1 December in New York.
    let state = desired_state(&hr, &example(), at("2026-12-01T23:30:00Z"));
    assert_eq!(state.accounts[0].stage, LifecycleStage::Active);
    assert_eq!(state.accounts[1].stage, LifecycleStage::PreHire { start_date: day("2026-12-02") });
    assert_eq!(state.accounts[2].stage, LifecycleStage::Terminated { last_day: day("2026-12-01") });
    assert!(state.accounts[2].groups.is_empty() && state.accounts[2].licenses.is_empty());
    assert_eq!(state.accounts[3].stage, LifecycleStage::Active);
    assert_eq!(state.diagnostics.len(), 1);
    assert_eq!(state.diagnostics[0].severity, Severity::Warning);
    assert_eq!(
        state.diagnostics[0].to_string(),
        "warning: hr.csv:2: employee 4: field \"time_zone\": unknown time zone \"Mars/Olympus\"; using Europe/Berlin"
    );

    // 22:30 UTC is still 1 December in Berlin: the last day is still worked.
    let state = desired_state(&hr, &example(), at("2026-12-01T22:30:00Z"));
    assert_eq!(state.accounts[0].stage, LifecycleStage::PreHire { start_date: day("2026-12-02") });
    assert_eq!(state.accounts[2].stage, LifecycleStage::Active);

    // Fourteen days before the start the account may be created; a day earlier it may not.
    let state = desired_state(&hr, &example(), at("2026-11-17T12:00:00Z"));
    assert_eq!(state.accounts[0].stage, LifecycleStage::NotYet { create_on: day("2026-11-18") });
    let state = desired_state(&hr, &example(), at("2026-11-18T12:00:00Z"));
    assert_eq!(state.accounts[0].stage, LifecycleStage::PreHire { start_date: day("2026-12-02") });
}

#[test]
fn deletion_respects_keep_account_and_leave_types() {
    let mut gone = worker("1", "Ann", "Gone");
    gone.termination_date = Some(day("2026-01-31"));
    let mut kept = gone.clone();
    kept.employee_id = WorkerId::new("2").expect("id");
    kept.custom_fields.insert("keep_mailbox".to_string(), "Yes".to_string());
    let mut parental = worker("3", "Pat", "Parent");
    parental.status = Some(WorkerStatus::Leave { leave_type: Some("Parental".to_string()) });
    parental.department = Some("Sales".to_string());
    let mut sabbatical = worker("4", "Sam", "Sabbatical");
    sabbatical.leave_start = Some(day("2026-03-01"));
    let hr = HrSnapshot { workers: vec![gone, kept, parental, sabbatical], diagnostics: Vec::new() };
    let state = desired_state(&hr, &example(), at("2026-03-02T10:00:00Z"));
    assert_eq!(state.accounts[0].stage, LifecycleStage::Delete { last_day: day("2026-01-31") });
    assert_eq!(state.accounts[1].stage, LifecycleStage::Terminated { last_day: day("2026-01-31") });
    assert!(state.accounts[1].keep_account);
    assert_eq!(
        state.accounts[2].stage,
        LifecycleStage::OnLeave { leave_type: Some("Parental".to_string()), keep_enabled: true }
    );
    assert!(state.accounts[2].groups.contains_key("dept-sales"), "on leave keeps groups");
    assert_eq!(state.accounts[3].stage, LifecycleStage::OnLeave { leave_type: None, keep_enabled: false });
}

#[test]
fn group_and_licence_rules_follow_their_conditions() {
    let mut manager = worker("1", "Mia", "Boss");
    manager.job_title = Some("Sales Manager".to_string());
    manager.department = Some("Sales Nord".to_string());
    manager.employee_type = Some("Employee".to_string());
    let mut contractor = worker("2", "Carl", "Temp");
    contractor.employee_type = Some("Contractor".to_string());
    contractor.custom_fields.insert("previous_id".to_string(), "C-77; 2".to_string());
    let hr = HrSnapshot { workers: vec![manager, contractor], diagnostics: Vec::new() };
    let state = desired_state(&hr, &example(), at("2026-06-01T12:00:00Z"));
    let groups: Vec<(&str, &str)> =
        state.accounts[0].groups.iter().map(|(group, rule)| (group.as_str(), rule.as_str())).collect();
    assert_eq!(groups, [("all-staff", "all staff"), ("dept-sales-nord", "department"), ("managers", "managers")]);
    assert_eq!(state.accounts[0].licenses.get("ENTERPRISEPACK").map(String::as_str), Some("office for employees"));
    let groups: Vec<&str> = state.accounts[1].groups.keys().map(String::as_str).collect();
    assert_eq!(groups, ["all-staff"]);
    assert!(state.accounts[1].licenses.is_empty());
    assert_eq!(state.accounts[1].previous_ids, [WorkerId::new("C-77").expect("id")]);
    let department = &state.groups["dept-sales-nord"];
    assert_eq!(department.display_name, "Department Sales Nord");
    assert_eq!(department.kind, model::GroupKind::Microsoft365);
    assert!(department.create_if_missing);
    assert_eq!(state.groups.keys().collect::<Vec<_>>(), ["all-staff", "dept-sales-nord", "managers"]);
}

#[test]
fn a_worker_whose_template_fails_is_skipped_with_a_diagnostic() {
    let text = r#"
[attributes]
displayName = "{{ given_name }}{% if worker.custom.loop %}{% for i in range(100000) %}{{ i }}{% endfor %}{% endif %}"
[naming]
domain = "contoso.com"
candidates = ["{{ given_name | ascii | lower }}"]
"#;
    let policy = parse_policy("policy.toml", text).expect("parses");
    let mut runaway = worker("2", "Rex", "Loop");
    runaway.custom_fields.insert("loop".to_string(), "yes".to_string());
    let hr = HrSnapshot {
        workers: vec![worker("1", "Ada", "Ok"), runaway, worker("3", "Eve", "Ok")],
        diagnostics: Vec::new(),
    };
    let state = desired_state(&hr, &policy, at("2026-06-01T12:00:00Z"));
    let ids: Vec<&str> = state.accounts.iter().map(|account| account.worker_id.as_str()).collect();
    assert_eq!(ids, ["1", "3"]);
    assert_eq!(state.diagnostics.len(), 1);
    assert_eq!(state.diagnostics[0].severity, Severity::Error);
    let text = state.diagnostics[0].to_string();
    assert!(
        text.starts_with("error: hr.csv:2: employee 2: field \"attributes.displayName\": template failed: "),
        "{text}"
    );
    assert!(text.contains("fuel"), "{text}");
}
