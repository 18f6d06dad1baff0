//! Broken HR files against a live (sandbox) tenant: the corpus in `crates/hr-source/test_data/` plus the extra
//! files in `crates/engine/test_data/`. A file that cannot be read at all must stop the run before anything is
//! observed, stored or written, with an error naming the file and the problem; a file with bad records must report
//! each one exactly (file, line, employee, field), plan only the valid records and leave the accounts of the
//! workers whose records were bad exactly as they were.
//!
//! Every test first syncs a valid baseline export (workers 1001–1006, the people of the corpus, all with the job
//! title "Staff") so that the broken files' employee IDs point at real accounts.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use engine::config::ApplyConfig;
use engine::{Prepared, RunReport, RunTrigger, SilentProgress, SyncOptions};
use model::{ObservedState, UserAttribute};
use sandbox::RunningSandbox;
use sandbox::knobs::Knobs;
use store::{AuditQuery, RunStatus};

use support::{context, start_sandbox};

/// The policy: the corpus mapping (`crates/hr-source/test_data/mapping.toml`) as `[hr]`, the rest like the
/// end-to-end policy, plus an office template that fails for a badge that is not a desk number.
const POLICY: &str = r#"
[hr]
delimiter = ","
date_formats = ["%Y-%m-%d", "%d.%m.%Y"]
required = ["legal_given_name", "legal_family_name", "hire_date"]

[hr.columns]
"Employee ID" = "employee_id"
"First Name" = "legal_given_name"
"Last Name" = "legal_family_name"
"Preferred First Name" = "preferred_given_name"
"Job Title" = "job_title"
"Department" = "department"
"Manager ID" = "manager_id"
"Hire Date" = "hire_date"
"Last Day" = "termination_date"
"Status" = "status"
"Leave Type" = "leave_type"
"Usage Location" = "usage_location"
"Time Zone" = "time_zone"
"Badge" = "custom.badge"

[scope]
upn_domains = ["contoso.com"]
exclude_upns = ["admin@contoso.com"]
require_employee_id = true

[attributes]
displayName = "{{ given_name }} {{ family_name }}"
givenName = "{{ given_name }}"
surname = "{{ family_name }}"
jobTitle = "{{ worker.job_title }}"
department = "{{ worker.department }}"
usageLocation = "{{ worker.usage_location }}"
officeLocation = "{% if worker.custom.badge %}Desk {{ worker.custom.badge | int }}{% endif %}"

[naming]
domain = "contoso.com"
candidates = [
  "{{ given_name | ascii | lower }}.{{ family_name | ascii | lower }}",
  "{{ given_name | ascii | lower }}.{{ family_name | ascii | lower }}{{ counter }}",
]
counter_start = 2
max_counter = 9
set_mail = true

[lifecycle]
default_time_zone = "Europe/Berlin"
create_days_before_start = 14
leaver_removes_all_memberships = true

[[groups]]
id = "all staff"
name = "broken-hr-all-staff"
display_name = "Broken HR All Staff"
kind = "security"
create = true
when = "true"

[[groups]]
id = "department"
name = "broken-hr-dept-{{ worker.department | ascii | lower | replace('&', 'and') | replace(' ', '-') }}"
display_name = "Broken HR {{ worker.department }}"
kind = "microsoft365"
create = true
when = "worker.department"

[[licences]]
id = "office"
sku = "ENTERPRISEPACK"
when = "worker.employee_type != 'Contractor'"

[limits]
disables = { share = 0.5 }
"#;

/// The valid baseline: the corpus people, every one with a valid record and the job title "Staff", so that any
/// valid record of a broken file changes its worker's job title (and shows up in the plan).
const BASELINE: &str = "\
Employee ID,First Name,Last Name,Preferred First Name,Job Title,Department,Manager ID,Hire Date,Last Day,Status,Leave Type,Usage Location,Time Zone,Badge
1001,Ada,Lovelace,,Staff,Board,,2020-01-15,,active,,GB,,
1002,Grace,Hopper,,Staff,R&D,1001,2021-03-15,,active,,US,,
1003,Alan,Turing,,Staff,R&D,1002,2021-04-01,,active,,GB,,
1004,Edsger,Dijkstra,,Staff,R&D,1002,2021-04-01,,active,,NL,,
1005,Barbara,Liskov,,Staff,R&D,1004,2021-04-01,,active,,US,,
1006,Ken,Thompson,,Staff,R&D,1001,2021-04-01,,active,,US,,
";

/// A file of the hr-source corpus.
fn corpus(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hr-source/test_data");
    std::fs::canonicalize(dir).expect("the hr-source corpus exists").join(name)
}

/// A file of this crate's extra broken files.
fn extra(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

/// A sandbox tenant synced to the baseline, with the engine wired to it.
struct Fixture {
    sandbox: RunningSandbox,
    ctx: engine::Context,
    policy: PathBuf,
    baseline: PathBuf,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start() -> Self {
        let sandbox = start_sandbox(Knobs::default()).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let store_url = format!("sqlite://{}", dir.path().join("tenure.db").display());
        let ctx = context(&sandbox, &store_url, ApplyConfig::default()).await;
        let policy = dir.path().join("policy.toml");
        std::fs::write(&policy, POLICY).expect("write policy");
        let baseline = dir.path().join("baseline.csv");
        std::fs::write(&baseline, BASELINE).expect("write baseline");
        let fixture = Self { sandbox, ctx, policy, baseline, _dir: dir };
        fixture.sync_baseline().await;
        fixture
    }

    /// Syncs the baseline and checks that the tenant then matches it.
    async fn sync_baseline(&self) {
        let (prepared, report) = self.sync(&self.baseline).await;
        assert!(prepared.inputs.hr.diagnostics.is_empty(), "{:?}", prepared.inputs.hr.diagnostics);
        assert!(prepared.desired.diagnostics.is_empty(), "{:?}", prepared.desired.diagnostics);
        assert_eq!(report.status, RunStatus::Succeeded, "{report:?}");
        let again = self.prepare(&self.baseline).await.expect("re-plan the baseline");
        assert!(again.plan.is_empty(), "baseline not converged:\n{}", planner::render_text(&again.plan));
    }

    async fn prepare(&self, hr: &Path) -> anyhow::Result<Prepared> {
        let now = self.sandbox.state().clock.now();
        engine::prepare(&self.ctx, &self.policy, hr, now, &SilentProgress).await
    }

    /// Prepares and applies `hr`; the run must finish without a failed step.
    async fn sync(&self, hr: &Path) -> (Prepared, RunReport) {
        let prepared = self.prepare(hr).await.expect("prepare");
        let now = self.sandbox.state().clock.now();
        let options = SyncOptions { dry_run: false, override_limits: false, trigger: RunTrigger::Cli };
        let report = engine::sync(&self.ctx, &prepared, options, now, &SilentProgress).await.expect("sync");
        let apply = report.apply.as_ref().expect("the run was applied");
        assert!(apply.failed.is_empty(), "failed steps: {:?}", apply.failed);
        assert_eq!(report.status, RunStatus::Succeeded);
        (prepared, report)
    }

    /// The whole tenant, read afresh (not from the store's cache).
    async fn tenant(&self) -> ObservedState {
        self.ctx.graph.observe_full().await.expect("observe the tenant").0
    }

    /// Everything the store holds that a run could add to: the runs, the audit log, the cached observation.
    async fn store_state(&self) -> String {
        let store = &self.ctx.store;
        let runs = store.list_runs(1000).await.expect("list runs");
        let audit = store.list_audit(&AuditQuery { limit: 100_000, ..AuditQuery::default() }).await.expect("audit");
        let cache = store.load_observation(&self.ctx.tenant_key).await.expect("load observation");
        format!("{runs:?}\n{audit:?}\n{cache:?}")
    }
}

fn employee_ids(observed: &ObservedState) -> BTreeSet<String> {
    observed.users.values().filter_map(|user| user.employee_id().map(str::to_string)).collect()
}

/// Checks that between `before` and `after` only the accounts of the workers in `valid` changed: every other
/// user is exactly as it was (attributes, manager, licences, enabled), new users belong to `valid` workers, and
/// group memberships changed only for `valid` workers' accounts.
fn assert_only_valid_changed(file: &Path, before: &ObservedState, after: &ObservedState, valid: &[&str]) {
    let is_valid = |user: &model::DirectoryUser| user.employee_id().is_some_and(|id| valid.contains(&id));
    for (id, user) in &before.users {
        if !is_valid(user) {
            assert_eq!(
                after.users.get(id),
                Some(user),
                "{}: account {} changed",
                file.display(),
                user.user_principal_name
            );
        }
    }
    for (id, user) in &after.users {
        assert!(
            before.users.contains_key(id) || is_valid(user),
            "{}: unexpected new account {}",
            file.display(),
            user.user_principal_name
        );
    }
    assert_eq!(before.deleted_users, after.deleted_users, "{}: soft-deleted users changed", file.display());
    let untouchable: BTreeSet<&model::ObjectId> =
        before.users.iter().filter(|(_, user)| !is_valid(user)).map(|(id, _)| id).collect();
    for (id, group) in &before.groups {
        let now = after.groups.get(id).unwrap_or_else(|| panic!("{}: group {} vanished", file.display(), id));
        let kept = |members: &BTreeSet<model::ObjectId>| -> Vec<model::ObjectId> {
            members.iter().filter(|member| untouchable.contains(member)).cloned().collect()
        };
        assert_eq!(kept(&group.members), kept(&now.members), "{}: members of {}", file.display(), group.mail_nickname);
    }
}

/// The expected diagnostic lines for `file`: `{f}` in each line stands for the file's path.
fn expected(file: &Path, lines: &[&str]) -> Vec<String> {
    let path = file.display().to_string();
    lines.iter().map(|line| line.replace("{f}", &path)).collect()
}

const ENCODING_ADVICE: &str =
    "export the file as \"CSV UTF-8\" or \"Unicode text\" (legacy code pages such as Windows-1252 are not supported)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_cannot_be_read_stop_the_run_before_anything_is_touched() {
    let fixture = Fixture::start().await;
    let cases: Vec<(PathBuf, String)> = vec![
        (
            corpus("wrong_headers.csv"),
            "HR file {f} is rejected: its header row lacks the required columns \"Employee ID\", \"Last Name\"; \
             the header row has \"EmpID\", \"First Name\", \"Surname\", \"Hire Date\""
                .to_string(),
        ),
        (
            corpus("not_an_array.json"),
            "HR file {f} is rejected: the JSON document must be an array of worker objects".to_string(),
        ),
        (
            corpus("malformed.json"),
            "HR file {f} is not valid JSON (line 2, column 26): trailing comma at line 2 column 26".to_string(),
        ),
        (extra("empty.csv"), "HR file {f} is empty: it has no header row".to_string()),
        (
            extra("spreadsheet.csv"),
            format!("HR file {{f}} is not readable text: invalid UTF-8 on line 1; {ENCODING_ADVICE}"),
        ),
        (
            extra("windows1252.csv"),
            format!("HR file {{f}} is not readable text: invalid UTF-8 on line 3; {ENCODING_ADVICE}"),
        ),
        (
            extra("duplicate_header.csv"),
            "HR file {f} is rejected: the header row has column \"Last Name\" more than once".to_string(),
        ),
        (corpus("no_such_file.csv"), "cannot read HR file {f}: No such file or directory (os error 2)".to_string()),
    ];
    for (file, message) in cases {
        let tenant_before = fixture.tenant().await;
        let store_before = fixture.store_state().await;
        let error = fixture.prepare(&file).await.expect_err("the file is rejected whole");
        assert_eq!(format!("{error:#}"), expected(&file, &[message.as_str()])[0]);
        assert_eq!(fixture.store_state().await, store_before, "{}: the store changed", file.display());
        assert_eq!(fixture.tenant().await, tenant_before, "{}: the tenant changed", file.display());
    }
    // Only the baseline run is stored.
    assert_eq!(fixture.ctx.store.list_runs(100).await.expect("runs").len(), 1);

    // A header row without records is readable, with a warning: nothing is planned for anyone (absent workers are
    // left alone).
    let file = extra("header_only.csv");
    let tenant_before = fixture.tenant().await;
    let prepared = fixture.prepare(&file).await.expect("a header-only file is readable");
    assert!(prepared.inputs.hr.workers.is_empty());
    let [warning] = prepared.inputs.hr.diagnostics.as_slice() else {
        panic!("one warning expected: {:?}", prepared.inputs.hr.diagnostics)
    };
    assert_eq!(warning.severity, model::Severity::Warning);
    assert_eq!(warning.message, hr_source::NO_RECORDS);
    assert_eq!(warning.source.line, Some(1));
    assert!(prepared.plan.is_empty(), "{}", planner::render_text(&prepared.plan));
    assert_eq!(prepared.plan.managed_accounts, 6);
    assert_eq!(fixture.tenant().await, tenant_before);
    fixture.sandbox.shutdown().await;
}

/// A file with bad records: what it must report and which of its workers are valid (and so get steps, each having
/// a job title other than the baseline's "Staff").
struct RecordCase {
    file: PathBuf,
    hr_diagnostics: &'static [&'static str],
    policy_diagnostics: &'static [&'static str],
    planned: &'static [&'static str],
}

fn record_cases() -> Vec<RecordCase> {
    vec![
        RecordCase {
            file: corpus("bad_dates.csv"),
            hr_diagnostics: &[
                "error: {f}:2: employee 1001: field \"Hire Date\": \"31.02.2024\" is not a valid date in any of the \
                 formats %Y-%m-%d, %d.%m.%Y",
                "error: {f}:3: employee 1002: field \"Hire Date\": \"2021-13-01\" is not a valid date in any of the \
                 formats %Y-%m-%d, %d.%m.%Y",
                "error: {f}:3: employee 1002: field \"Last Day\": \"2025-06-31\" is not a valid date in any of the \
                 formats %Y-%m-%d, %d.%m.%Y",
            ],
            policy_diagnostics: &[],
            planned: &["1003"],
        },
        RecordCase {
            file: corpus("duplicate_ids.csv"),
            hr_diagnostics: &[
                "error: {f}:2: employee 1001: field \"Employee ID\": the employee ID is also on line 4; both records \
                 are skipped",
                "warning: {f}:3: employee 1002: field \"Manager ID\": manager 1001 was skipped (see the diagnostics \
                 for that record); the worker is kept",
                "error: {f}:4: employee 1001: field \"Employee ID\": the employee ID is also on line 2; both records \
                 are skipped",
            ],
            policy_diagnostics: &[],
            planned: &["1002"],
        },
        RecordCase {
            file: corpus("manager_cycle.csv"),
            hr_diagnostics: &[
                "warning: {f}:2: employee 1001: field \"Manager ID\": the worker is their own manager; treated as \
                 having no manager",
                "error: {f}:3: employee 1002: field \"Manager ID\": the manager chain forms a cycle (1002 → 1004 → \
                 1003 → 1002); every worker in it is skipped",
                "error: {f}:4: employee 1003: field \"Manager ID\": the manager chain forms a cycle (1003 → 1002 → \
                 1004 → 1003); every worker in it is skipped",
                "error: {f}:5: employee 1004: field \"Manager ID\": the manager chain forms a cycle (1004 → 1003 → \
                 1002 → 1004); every worker in it is skipped",
                "warning: {f}:6: employee 1005: field \"Manager ID\": manager 1004 was skipped (see the diagnostics \
                 for that record); the worker is kept",
            ],
            policy_diagnostics: &[],
            planned: &["1001", "1005", "1006"],
        },
        RecordCase {
            file: corpus("unknown_manager.csv"),
            hr_diagnostics: &["warning: {f}:3: employee 1002: field \"Manager ID\": manager 9999 is not in this \
                               file; the worker is kept"],
            policy_diagnostics: &[],
            planned: &["1001", "1002"],
        },
        RecordCase {
            file: corpus("one_bad_record.csv"),
            hr_diagnostics: &[
                "error: {f}:4: employee 1003: field \"Last Name\": required value is missing",
                "error: {f}:4: employee 1003: field \"Usage Location\": \"UK\" is not an ISO 3166-1 alpha-2 country \
                 code (two letters, such as DE or US)",
                "error: {f}:4: employee 1003: field \"Status\": \"retired\" is not a status (use pre-hire, active, \
                 leave or terminated)",
                "error: {f}:6: employee 1005: the record has 13 fields but the header row has 14; it is skipped",
            ],
            policy_diagnostics: &[],
            planned: &["1001", "1002", "1004"],
        },
        RecordCase {
            file: corpus("workers.json"),
            hr_diagnostics: &[
                "warning: {f}:11: employee 1002: field \"nickname\": unknown field; ignored",
                "error: {f}:11: employee 1002: field \"employee_id\": the employee ID is also on line 20; both \
                 records are skipped",
                "error: {f}:16: employee 1003: field \"legal_family_name\": required value is missing",
                "error: {f}:16: employee 1003: field \"hire_date\": \"2021-02-30\" is not a valid date in any of the \
                 formats %Y-%m-%d, %d.%m.%Y",
                "error: {f}:20: employee 1002: field \"mobile_phone\": must be a string, number or boolean",
                "error: {f}:20: employee 1002: field \"employee_id\": the employee ID is also on line 11; both \
                 records are skipped",
                "error: {f}:24: the array element is not an object; it is skipped",
                "warning: {f}:25: employee 1005: field \"manager_id\": manager 1003 was skipped (see the diagnostics \
                 for that record); the worker is kept",
            ],
            // Ada's badge "A-1" is not a desk number: the policy skips her too.
            policy_diagnostics: &["error: {f}:2: employee 1001: field \"attributes.officeLocation\": template \
                                   failed: invalid operation: invalid float literal"],
            planned: &["1005"],
        },
        RecordCase {
            file: extra("policy_problems.csv"),
            hr_diagnostics: &[
                "warning: {f}:2: employee 1004: field \"Manager ID\": manager 1002 is not in this file; the worker \
                 is kept",
                "error: {f}:3: employee 1005: field \"Usage Location\": \"XK\" is not an ISO 3166-1 alpha-2 country \
                 code (two letters, such as DE or US)",
                "warning: {f}:4: employee 1006: field \"Manager ID\": manager 1001 is not in this file; the worker \
                 is kept",
            ],
            policy_diagnostics: &["error: {f}:4: employee 1006: field \"attributes.officeLocation\": template \
                                   failed: invalid operation: invalid float literal"],
            planned: &["1004", "1007"],
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_records_are_reported_exactly_and_their_accounts_left_alone() {
    let fixture = Fixture::start().await;
    let baseline_ids = employee_ids(&fixture.tenant().await);
    assert_eq!(
        baseline_ids.iter().map(String::as_str).collect::<Vec<_>>(),
        ["1001", "1002", "1003", "1004", "1005", "1006"]
    );
    let mut runs = 1;
    for case in record_cases() {
        let file = &case.file;
        fixture.sync_baseline().await;
        runs += 1;
        let before = fixture.tenant().await;

        let prepared = fixture.prepare(file).await.expect("a file with bad records is readable");
        let render = |diagnostics: &[model::Diagnostic]| diagnostics.iter().map(ToString::to_string).collect();
        let hr: Vec<String> = render(&prepared.inputs.hr.diagnostics);
        assert_eq!(hr, expected(file, case.hr_diagnostics));
        let policy: Vec<String> = render(&prepared.desired.diagnostics);
        assert_eq!(policy, expected(file, case.policy_diagnostics));

        // Exactly the valid workers get steps; nobody is disabled, deleted or loses anything.
        let plan = &prepared.plan;
        let text = planner::render_text(plan);
        let planned: BTreeSet<&str> =
            plan.steps.iter().filter_map(|step| step.worker.as_ref()).map(|w| w.as_str()).collect();
        assert_eq!(planned.into_iter().collect::<Vec<_>>(), case.planned, "{}:\n{text}", file.display());
        assert!(plan.skipped.is_empty(), "{text}");
        for step in &plan.steps {
            let kind = step.action.kind();
            assert!(
                !["disable account", "delete user", "reset password", "revoke sessions", "remove member"]
                    .contains(&kind),
                "{}: unexpected {kind}:\n{text}",
                file.display()
            );
            if let model::Action::UpdateUser { changes, .. } = &step.action {
                assert!(
                    changes.iter().any(|change| change.attribute == UserAttribute::JobTitle),
                    "{}: {text}",
                    file.display()
                );
            }
        }

        let now = fixture.sandbox.state().clock.now();
        let options = SyncOptions { dry_run: false, override_limits: false, trigger: RunTrigger::Cli };
        let report = engine::sync(&fixture.ctx, &prepared, options, now, &SilentProgress).await.expect("sync");
        runs += 1;
        assert_eq!(report.status, RunStatus::Succeeded, "{}: {report:?}", file.display());
        let apply = report.apply.as_ref().expect("applied");
        assert!(apply.failed.is_empty(), "{}: failed steps {:?}", file.display(), apply.failed);
        assert_eq!(apply.done, plan.steps.len());

        let after = fixture.tenant().await;
        assert_only_valid_changed(file, &before, &after, case.planned);
        // The accounts of the workers whose records were bad are all still there, enabled.
        let valid: BTreeSet<String> = case.planned.iter().map(|id| (*id).to_string()).collect();
        for id in baseline_ids.difference(&valid) {
            let user = after.users.values().find(|user| user.employee_id() == Some(id.as_str()));
            assert!(user.is_some_and(|user| user.account_enabled), "{}: worker {id}'s account", file.display());
        }
        // The valid records took effect: re-planning the same file changes nothing more.
        let again = fixture.prepare(file).await.expect("re-plan");
        assert!(again.plan.is_empty(), "{}: not converged:\n{}", file.display(), planner::render_text(&again.plan));
    }
    assert_eq!(fixture.ctx.store.list_runs(100).await.expect("runs").len(), runs);
    fixture.sandbox.shutdown().await;
}
