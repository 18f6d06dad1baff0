//! `[exchange]`: list and shared mailbox rules evaluated per worker, lists Tenure may create, the leaver's mailbox
//! settings resolved (auto-reply with the manager's name), leave of absence, deletion held back for converted
//! mailboxes, and every mistake in the section reported at once with its line and key.

use chrono::{DateTime, NaiveDate, Utc};
use model::{
    DesiredState, HrSnapshot, LifecycleStage, MailGroupKind, MembershipRestriction, Severity, SharedMailboxRight,
    SourceLocation, Worker, WorkerId, WorkerStatus,
};
use policy::{Policy, desired_state, parse_policy};

const NAMING: &str = r#"
[attributes]
displayName = "{{ given_name }} {{ family_name }}"

[naming]
domain = "contoso.com"
candidates = ["{{ given_name | ascii | lower }}.{{ family_name | ascii | lower }}"]
"#;

fn policy(exchange: &str) -> Policy {
    let text = format!("{NAMING}\n{exchange}");
    parse_policy("policy.toml", &text).unwrap_or_else(|problems| {
        panic!("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
    })
}

/// An enabled section computes without any diagnostic.
#[track_caller]
fn assert_no_diagnostics(state: &model::DesiredState) {
    assert!(state.diagnostics.is_empty(), "{:?}", state.diagnostics);
}

fn example() -> Policy {
    parse_policy("policy.toml", include_str!("../examples/policy.toml")).expect("example parses")
}

fn worker(id: &str, given: &str, family: &str, department: &str) -> Worker {
    let mut worker = Worker::new(WorkerId::new(id).expect("id"), SourceLocation::at_line("hr.csv", 2));
    worker.legal_given_name = Some(given.to_string());
    worker.legal_family_name = Some(family.to_string());
    worker.department = Some(department.to_string());
    worker
}

fn id(text: &str) -> WorkerId {
    WorkerId::new(text).expect("id")
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an instant")
}

fn state(policy: &Policy, workers: Vec<Worker>, now: &str) -> DesiredState {
    desired_state(&HrSnapshot { workers, diagnostics: Vec::new() }, policy, at(now))
}

fn lists(state: &DesiredState, worker: &str) -> Vec<String> {
    state.exchange.access(&id(worker)).map(|access| access.lists.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn the_example_puts_workers_in_lists_and_shared_mailboxes_by_their_attributes() {
    let mut support = worker("1", "Sue", "Port", "Support");
    support.job_title = Some("Agent".to_string());
    let mut finance = worker("2", "Fin", "Boss", "Finance");
    finance.job_title = Some("Finance Manager".to_string());
    let state = state(&example(), vec![support, finance], "2026-06-01T12:00:00Z");
    assert_no_diagnostics(&state);
    assert!(state.exchange.enabled);

    assert_eq!(lists(&state, "1"), ["dl-support", "everyone"]);
    assert_eq!(lists(&state, "2"), ["dl-finance", "everyone", "finance-approvers"]);
    let access = state.exchange.access(&id("2")).expect("access");
    assert_eq!(access.lists["finance-approvers"].kind, MailGroupKind::Security);
    assert_eq!(access.lists["finance-approvers"].rule, "finance approvers");
    assert_eq!(access.lists["everyone"].rule, "default list");
    assert!(access.shared_mailboxes.is_empty());
    assert!(!access.hidden_from_address_lists);
    assert_eq!(access.leaver, None);

    let grant = &state.exchange.access(&id("1")).expect("access").shared_mailboxes["support@contoso.com"];
    assert_eq!(
        grant.rights.iter().copied().collect::<Vec<_>>(),
        [SharedMailboxRight::FullAccess, SharedMailboxRight::SendAs]
    );
    assert!(!grant.auto_mapping);
    assert_eq!(grant.rule, "support desk");

    // Tenure manages exactly the lists rules name; it may create only the department lists.
    let names: Vec<&str> = state.exchange.lists.keys().map(String::as_str).collect();
    assert_eq!(names, ["dl-finance", "dl-support", "everyone", "finance-approvers"]);
    let department = &state.exchange.lists["dl-support"];
    assert!(department.create_if_missing);
    assert_eq!(department.kind, MailGroupKind::Distribution);
    assert_eq!(department.owner.as_deref(), Some("it-admin@contoso.com"));
    assert_eq!(department.join_restriction, MembershipRestriction::ApprovalRequired);
    assert_eq!(department.depart_restriction, MembershipRestriction::Closed);
    assert!(!state.exchange.lists["finance-approvers"].create_if_missing);
    assert!(!state.exchange.lists["everyone"].create_if_missing);
    assert_eq!(state.exchange.shared_mailboxes.iter().collect::<Vec<_>>(), ["support@contoso.com"]);
}

#[test]
fn lists_with_a_constant_name_are_managed_even_when_nobody_matches() {
    let policy = policy(
        r#"
[exchange]
enabled = true
[[exchange.lists]]
name = "finance-approvers"
kind = "security"
create = true
when = "worker.department == 'Finance'"
"#,
    );
    let state = state(&policy, vec![worker("1", "Ann", "Other", "Sales")], "2026-06-01T12:00:00Z");
    let list = &state.exchange.lists["finance-approvers"];
    assert_eq!(list.kind, MailGroupKind::Security);
    assert_eq!(list.join_restriction, MembershipRestriction::Closed, "Exchange's default for security groups");
    assert_eq!(list.depart_restriction, MembershipRestriction::Closed);
    assert!(lists(&state, "1").is_empty());
}

#[test]
fn a_leavers_mailbox_settings_are_resolved_with_the_managers_name() {
    let mut leaver = worker("1", "Lea", "Ver", "Support");
    leaver.termination_date = Some(day("2026-05-31"));
    leaver.manager_id = Some(id("9"));
    let mut orphan = worker("2", "Ola", "Alone", "Support");
    orphan.status = Some(WorkerStatus::Terminated);
    orphan.manager_id = Some(id("404"));
    let manager = worker("9", "Max", "Müller", "Support");
    let state = state(&example(), vec![leaver, orphan, manager], "2026-06-01T12:00:00Z");
    assert_no_diagnostics(&state);
    assert_eq!(state.accounts[0].stage, LifecycleStage::Terminated { last_day: day("2026-05-31") });

    let access = state.exchange.access(&id("1")).expect("access");
    assert!(access.lists.is_empty(), "a leaver leaves every list not kept");
    assert!(access.shared_mailboxes.is_empty(), "and every shared mailbox not kept");
    assert!(access.hidden_from_address_lists);
    let mailbox = access.leaver.as_ref().expect("leaver settings");
    assert!(mailbox.convert_to_shared);
    let reply = mailbox.auto_reply.as_ref().expect("auto-reply");
    assert_eq!(reply.internal, "Lea Ver has left Contoso. Please contact Max Müller.");
    assert_eq!(reply.external.as_deref(), Some("Lea Ver no longer works at Contoso. Your message has been passed on."));
    assert_eq!(mailbox.manager, Some(id("9")));
    assert_eq!(mailbox.delegates, ["records@contoso.com"]);
    assert_eq!(
        mailbox.grant_rights.iter().copied().collect::<Vec<_>>(),
        [SharedMailboxRight::FullAccess, SharedMailboxRight::SendAs]
    );
    assert!(mailbox.keep_memberships.contains("alumni"));
    assert_eq!(mailbox.delete_after_days, Some(30));

    // A manager missing from HR: the template's default takes over.
    let orphan = state.exchange.access(&id("2")).and_then(|access| access.leaver.as_ref()).expect("leaver settings");
    let reply = orphan.auto_reply.as_ref().expect("auto-reply");
    assert_eq!(reply.internal, "Ola Alone has left Contoso. Please contact the service desk.");

    // The manager is not a leaver and keeps their lists.
    assert_eq!(lists(&state, "9"), ["dl-support", "everyone"]);
}

#[test]
fn a_leaver_keeps_the_lists_and_mailboxes_on_the_keep_list_and_grants_default_to_full_access() {
    let policy = policy(
        r#"
[exchange]
enabled = true
default_list = "all-staff"
[[exchange.lists]]
name = "alumni"
kind = "distribution"
[[exchange.shared_mailboxes]]
mailbox = "archive"
rights = ["SendOnBehalf"]
[exchange.leaver]
keep_memberships = ["Alumni", "archive"]
"#,
    );
    let mut leaver = worker("1", "Lea", "Ver", "Support");
    leaver.termination_date = Some(day("2026-05-31"));
    let state = state(&policy, vec![leaver], "2026-06-01T12:00:00Z");
    let access = state.exchange.access(&id("1")).expect("access");
    assert_eq!(access.lists.keys().collect::<Vec<_>>(), ["alumni"]);
    assert_eq!(access.shared_mailboxes.keys().collect::<Vec<_>>(), ["archive"]);
    let mailbox = access.leaver.as_ref().expect("leaver");
    assert_eq!(mailbox.grant_rights.iter().copied().collect::<Vec<_>>(), [SharedMailboxRight::FullAccess]);
    assert_eq!(mailbox.auto_reply, None);
    assert_eq!(mailbox.manager, None);
}

#[test]
fn a_converted_mailbox_holds_back_deletion_until_the_exchange_retention_has_passed() {
    let with = |exchange: &str| {
        let text = format!("{NAMING}\n[lifecycle]\ndelete_after_days = 30\n{exchange}");
        parse_policy("policy.toml", &text).expect("parses")
    };
    let mut leaver = worker("1", "Lea", "Ver", "Support");
    leaver.termination_date = Some(day("2026-01-31"));
    let stage = |policy: &Policy, now: &str| state(policy, vec![leaver.clone()], now).accounts[0].stage.clone();
    let terminated = LifecycleStage::Terminated { last_day: day("2026-01-31") };
    let deleted = LifecycleStage::Delete { last_day: day("2026-01-31") };

    let retained = with("[exchange]\nenabled = true\n[exchange.leaver]\ndelete_after_days = 90\n");
    assert_eq!(stage(&retained, "2026-03-15T12:00:00Z"), terminated, "30 days passed, 90 not yet");
    assert_eq!(stage(&retained, "2026-05-01T12:00:00Z"), deleted);

    let never = with("[exchange]\nenabled = true\n");
    assert_eq!(stage(&never, "2027-01-01T12:00:00Z"), terminated, "a converted mailbox without retention is kept");

    let not_converted = with("[exchange]\nenabled = true\n[exchange.leaver]\nconvert_to_shared = false\n");
    assert_eq!(stage(&not_converted, "2026-03-15T12:00:00Z"), deleted);
    let off = with("[exchange]\nenabled = false\n");
    assert_eq!(stage(&off, "2026-03-15T12:00:00Z"), deleted);
}

#[test]
fn a_leave_that_disables_the_account_hides_the_mailbox_and_memberships_return_afterwards() {
    let policy = policy(
        r#"
[exchange]
enabled = true
default_list = "all-staff"
[exchange.leave]
remove_list_memberships = true
"#,
    );
    let mut away = worker("1", "Sam", "Sabbatical", "Sales");
    away.leave_start = Some(day("2026-03-01"));
    away.leave_end = Some(day("2026-05-31"));
    let during = state(&policy, vec![away.clone()], "2026-04-01T12:00:00Z");
    assert_eq!(during.accounts[0].stage, LifecycleStage::OnLeave { leave_type: None, keep_enabled: false });
    let access = during.exchange.access(&id("1")).expect("access");
    assert!(access.hidden_from_address_lists);
    assert!(access.lists.is_empty());
    assert_eq!(access.leaver, None);

    let back = state(&policy, vec![away], "2026-06-02T12:00:00Z");
    assert_eq!(back.accounts[0].stage, LifecycleStage::Active);
    let access = back.exchange.access(&id("1")).expect("access");
    assert!(!access.hidden_from_address_lists);
    assert_eq!(lists(&back, "1"), ["all-staff"]);
}

#[test]
fn a_disabled_or_missing_section_means_an_empty_exchange_state() {
    let disabled = policy(
        r#"
[exchange]
enabled = false
default_list = "all-staff"
[[exchange.lists]]
name = "everyone"
kind = "distribution"
create = true
"#,
    );
    let mut leaver = worker("2", "Lea", "Ver", "Sales");
    leaver.termination_date = Some(day("2026-05-01"));
    for policy in [disabled, policy("")] {
        let state = state(&policy, vec![worker("1", "Ann", "Active", "Sales"), leaver.clone()], "2026-06-01T12:00:00Z");
        assert_eq!(state.exchange, model::DesiredExchange::default());
        assert_eq!(state.accounts.len(), 2);
    }
}

#[test]
fn a_template_failing_for_one_worker_skips_only_their_exchange_access() {
    let policy = policy(
        r#"
[exchange]
enabled = true
[[exchange.lists]]
name = "team{% for i in range(worker.custom.n | default('0') | int) %}{% endfor %}"
kind = "distribution"
"#,
    );
    let mut broken = worker("1", "Bea", "Broken", "Sales");
    broken.custom_fields.insert("n".to_string(), "5000000".to_string());
    let fine = worker("2", "Fay", "Fine", "Sales");
    let state = state(&policy, vec![broken, fine], "2026-06-01T12:00:00Z");
    assert_eq!(state.accounts.len(), 2, "the account itself is still desired");
    assert_eq!(state.exchange.skipped.iter().collect::<Vec<_>>(), [&id("1")]);
    assert!(state.exchange.access(&id("1")).is_none());
    assert_eq!(lists(&state, "2"), ["team"]);
    let errors: Vec<_> = state.diagnostics.iter().filter(|diagnostic| diagnostic.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 1, "{:?}", state.diagnostics);
    assert_eq!(errors[0].field.as_deref(), Some("exchange.lists[0].name"));
}

#[test]
fn every_mistake_in_the_exchange_section_is_reported_at_once_with_its_place() {
    let text = format!(
        "{NAMING}{}",
        r#"
[exchange]
enabled = true
colour = "blue"

[[exchange.lists]]
name = "dept-{{ worker.department | lowr }}"
kind = "security"
create = true
join_restriction = "Open"
depart_restriction = "ApprovalRequired"

[[exchange.lists]]
name = "sales"
kind = "mailing"
owner = "boss@contoso.com"

[[exchange.lists]]
name = "x"
knd = "distribution"

[[exchange.shared_mailboxes]]
mailbox = "support"
rights = ["FullAccess", "ReadOnly"]

[exchange.leaver]
convert_to_shared = false
grant_manager = ["SendAs", "Owner"]
delegates = ["not-an-upn"]
delete_after_days = 30
[exchange.leaver.auto_reply]
internal = "{{ display_name }} left; ask {{ boss_name }}."
"#
    );
    let problems = parse_policy("policy.toml", &text).expect_err("problems");
    let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        vec![
            "policy.toml:11: exchange.colour: unknown key \"colour\" (expected one of enabled, default_list, lists, \
             shared_mailboxes, leaver, leave)",
            "policy.toml:14: exchange.lists[0].name: unknown filter \"lowr\"",
            "policy.toml:17: exchange.lists[0].join_restriction: a mail-enabled security group cannot be Open \
             (Exchange allows Closed here)",
            "policy.toml:18: exchange.lists[0].depart_restriction: \"ApprovalRequired\" is not a membership \
             restriction here (use Open or Closed)",
            "policy.toml:22: exchange.lists[1].kind: \"mailing\" is not a list kind (use distribution or security)",
            "policy.toml:23: exchange.lists[1].owner: applies only to a list Tenure creates (set create = true); \
             Tenure never edits lists it did not create",
            "policy.toml:27: exchange.lists[2].knd: unknown field `knd`, expected one of `id`, `name`, `kind`, \
             `when`, `create`, `owner`, `join_restriction`, `depart_restriction`",
            "policy.toml:31: exchange.shared_mailboxes[0].rights[1]: unknown right \"ReadOnly\" (expected \
             FullAccess, SendAs or SendOnBehalf)",
            "policy.toml:35: exchange.leaver.grant_manager[1]: unknown right \"Owner\" (expected FullAccess, \
             SendAs or SendOnBehalf)",
            "policy.toml:36: exchange.leaver.delegates[0]: \"not-an-upn\" is not a user principal name",
            "policy.toml:37: exchange.leaver.delete_after_days: applies only to converted mailboxes (set \
             convert_to_shared = true)",
            "policy.toml:39: exchange.leaver.auto_reply.internal: unknown variable \"boss_name\" (use worker, \
             given_name, family_name, counter, display_name or manager_name)",
        ],
    );
}
