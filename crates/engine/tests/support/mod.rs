//! Shared setup for the engine's end-to-end tests: a sandbox tenant on loopback (Contoso, with enough licence
//! seats), a store, a generated HR export and a policy, and the engine wired to them over real HTTPS.

#![allow(dead_code, unreachable_pub)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use engine::config::{ApplyConfig, ConnectionConfig};
use model::{NationalCloud, ObservedState, Secret};
use sandbox::RunningSandbox;
use sandbox::knobs::Knobs;
use sandbox::seed::Seed;
use tokio::net::TcpListener;

pub mod exchange;

pub const CONTOSO_TENANT: &str = "6e3b1c2a-5d4f-4a8b-9c1d-2e3f4a5b6c7d";
pub const CONTOSO_APP: &str = "a1b2c3d4-0000-4000-8000-00000000c001";
pub const CONTOSO_APP_SECRET: &str = "contoso-app-secret-A1s2D3f4G5h6";

/// The sample seed with licence seats for large tests.
pub fn seed() -> Seed {
    let text = include_str!("../../../sandbox/seed/sample.toml")
        .replace("seats = 25", "seats = 200000")
        .replace("seats = 5", "seats = 200000")
        .replacen("[[tenants.users]]", exchange::SHARED_MAILBOX_SEED, 1);
    Seed::from_toml(&text).expect("sample seed parses")
}

pub async fn start_sandbox(knobs: Knobs) -> RunningSandbox {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    sandbox::Sandbox::builder().seed(seed()).knobs(knobs).start(listener).await.expect("sandbox starts")
}

pub fn connection(sandbox: &RunningSandbox) -> ConnectionConfig {
    ConnectionConfig {
        cloud: NationalCloud::Global,
        tenant_id: CONTOSO_TENANT.to_string(),
        client_id: CONTOSO_APP.to_string(),
        client_secret_file: None,
        certificate_file: None,
        private_key_file: None,
        sandbox_url: Some(sandbox.https_base()),
        ca_file: None,
    }
}

pub async fn context(sandbox: &RunningSandbox, store_url: &str, apply: ApplyConfig) -> engine::Context {
    let store = store::Store::open(store_url).await.expect("store opens");
    let credential = vault::ClientCredential::Secret(Secret::new(CONTOSO_APP_SECRET));
    engine::run::connect_with(
        store,
        &connection(sandbox),
        credential,
        Some(sandbox.ca_pem().as_bytes().to_vec()),
        apply,
    )
    .expect("engine connects")
}

/// Writes `tenure.toml` (with the sandbox's CA and the app secret beside it) for running the `tenure` binary
/// against `sandbox`, with `max_concurrency` batches in flight; returns its path.
pub fn write_tenure_config(dir: &Path, sandbox: &RunningSandbox, max_concurrency: usize) -> PathBuf {
    std::fs::write(dir.join("ca.pem"), sandbox.ca_pem()).expect("write CA");
    std::fs::write(dir.join("secret.txt"), CONTOSO_APP_SECRET).expect("write secret");
    let config = format!(
        "policy = \"policy.toml\"\n[store]\nurl = \"sqlite://tenure.db\"\n[hr]\nfile = \"hr.csv\"\n[connection]\n\
         tenant_id = \"{CONTOSO_TENANT}\"\nclient_id = \"{CONTOSO_APP}\"\nclient_secret_file = \"secret.txt\"\n\
         sandbox_url = \"{}\"\nca_file = \"ca.pem\"\n[apply]\nmax_concurrency = {max_concurrency}\n",
        sandbox.https_base()
    );
    let path = dir.join("tenure.toml");
    std::fs::write(&path, config).expect("write config");
    path
}

/// The policy the end-to-end tests use.
pub const POLICY: &str = r#"
[hr]
columns = { "Employee ID" = "employee_id", "First Name" = "legal_given_name", "Last Name" = "legal_family_name", "Job Title" = "job_title", "Department" = "department", "Usage Location" = "usage_location", "Manager ID" = "manager_id", "Start Date" = "hire_date", "Last Day" = "termination_date", "Status" = "status", "Employee Type" = "employee_type" }
required = ["legal_given_name", "legal_family_name"]

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
employeeType = "{{ worker.employee_type }}"

[naming]
domain = "contoso.com"
candidates = [
  "{{ given_name | ascii | lower }}.{{ family_name | ascii | lower }}",
  "{{ given_name | ascii | lower }}.{{ family_name | ascii | lower }}{{ counter }}",
]
counter_start = 2
max_counter = 99
set_mail = true

[lifecycle]
default_time_zone = "Europe/Berlin"
create_days_before_start = 14
leaver_removes_all_memberships = true

[[groups]]
id = "all staff"
name = "e2e-all-staff"
display_name = "E2E All Staff"
kind = "security"
create = true
when = "true"

[[groups]]
id = "department"
name = "e2e-dept-{{ worker.department | ascii | lower | replace(' ', '-') }}"
display_name = "E2E {{ worker.department }}"
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

const GIVEN: [&str; 12] =
    ["Anna", "Jürgen", "Zoë", "François", "Søren", "José", "Łukasz", "Mia", "Noah", "Emma", "Liam", "Olivia"];
const FAMILY: [&str; 10] =
    ["Müller", "Weiß", "Smith", "Dubois", "Nielsen", "García", "Nowak", "Brown", "Schmidt", "Martin"];
const DEPARTMENTS: [&str; 4] = ["Sales", "Engineering", "Finance", "Customer Support"];

/// One HR row.
#[derive(Clone, Debug)]
pub struct Row {
    pub id: String,
    pub given: String,
    pub family: String,
    pub title: String,
    pub department: String,
    pub manager: String,
    pub start: String,
    pub last_day: String,
    pub status: String,
    pub employee_type: String,
}

/// `count` workers: a CEO, managers reporting to the CEO, staff reporting to managers; IDs `E1000`…
pub fn workforce(count: usize) -> Vec<Row> {
    (0..count)
        .map(|index| {
            let manager = match index {
                0 => String::new(),
                1..=9 => "E1000".to_string(),
                _ => format!("E{}", 1001 + (index % 9)),
            };
            Row {
                id: format!("E{}", 1000 + index),
                given: GIVEN[index % GIVEN.len()].to_string(),
                family: FAMILY[(index / GIVEN.len()) % FAMILY.len()].to_string(),
                title: if index < 10 { "Manager".into() } else { "Specialist".into() },
                department: DEPARTMENTS[index % DEPARTMENTS.len()].to_string(),
                manager,
                start: "2020-01-01".into(),
                last_day: String::new(),
                status: "active".into(),
                employee_type: if index % 7 == 3 { "Contractor".into() } else { "Employee".into() },
            }
        })
        .collect()
}

pub fn csv(rows: &[Row]) -> String {
    let mut res = String::from(
        "Employee ID,First Name,Last Name,Job Title,Department,Usage Location,Manager ID,Start Date,Last Day,Status,Employee Type\n",
    );
    for row in rows {
        let _ = writeln!(
            res,
            "{},{},{},{},{},DE,{},{},{},{},{}",
            row.id,
            row.given,
            row.family,
            row.title,
            row.department,
            row.manager,
            row.start,
            row.last_day,
            row.status,
            row.employee_type
        );
    }
    res
}

pub fn write_inputs(dir: &Path, rows: &[Row]) -> (PathBuf, PathBuf) {
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, POLICY).expect("write policy");
    let hr = dir.join("hr.csv");
    std::fs::write(&hr, csv(rows)).expect("write hr");
    (policy, hr)
}

/// Employee IDs carried by more than one live or soft-deleted account.
pub fn duplicate_employee_ids(observed: &ObservedState) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for user in observed.users.values().chain(observed.deleted_users.values()) {
        if let Some(id) = user.employee_id() {
            *seen.entry(id.to_string()).or_default() += 1;
        }
    }
    seen.into_iter().filter(|(_, count)| *count > 1).map(|(id, _)| id).collect()
}
