//! The corpus of HR files in `test_data/`: each file is read through the public API, and the kept workers and the
//! exact diagnostic text admins would see are compared with what the file deserves.

use std::path::PathBuf;

use chrono::NaiveDate;
use hr_source::{CsvMapping, Error, JsonMapping, read_csv, read_csv_bytes, read_json_bytes};
use model::{HrSnapshot, WorkerStatus};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).expect("fixture exists")
}

/// The mapping in `test_data/mapping.toml`, parsed as the policy file will parse it.
fn mapping() -> CsvMapping {
    let text = std::fs::read_to_string(fixture_path("mapping.toml")).expect("mapping fixture exists");
    toml::from_str(&text).expect("the test mapping parses")
}

/// Reads CSV fixture `name` under its bare name, so diagnostics are stable across machines.
fn read(name: &str) -> Result<HrSnapshot, Error> {
    read_csv_bytes(name, &fixture_bytes(name), &mapping())
}

fn ids(snapshot: &HrSnapshot) -> Vec<&str> {
    snapshot.workers.iter().map(|worker| worker.employee_id.as_str()).collect()
}

fn messages(snapshot: &HrSnapshot) -> Vec<String> {
    snapshot.diagnostics.iter().map(ToString::to_string).collect()
}

fn date(text: &str) -> Option<NaiveDate> {
    Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date"))
}

#[test]
fn quoted_fields_keep_commas_quotes_and_line_breaks() {
    let snapshot = read("valid_quoted.csv").expect("valid file");
    assert_eq!(messages(&snapshot), Vec::<String>::new());
    assert_eq!(ids(&snapshot), ["1001", "1002", "1003", "1004"]);
    let [ada, grace, jorg, zoe] = snapshot.workers.as_slice() else { panic!("four workers") };

    assert_eq!(ada.custom_fields.get("badge").map(String::as_str), Some("A-1"));
    assert_eq!(ada.usage_location.map(|code| code.to_string()).as_deref(), Some("GB"));
    assert_eq!(ada.time_zone.as_deref(), Some("Europe/London"));
    assert_eq!(ada.manager_id, None);

    assert_eq!(grace.legal_family_name.as_deref(), Some("Hopper, Jr."));
    assert_eq!(grace.preferred_given_name.as_deref(), Some("Amazing Grace"));
    assert_eq!(grace.job_title.as_deref(), Some("Head of\nEngineering"));
    assert_eq!(grace.hire_date, date("2021-03-15"), "the second date format applies");
    assert_eq!(grace.manager_id.as_ref().map(ToString::to_string).as_deref(), Some("1001"));
    assert!(grace.custom_fields.is_empty(), "empty values are absent");
    assert_eq!(grace.origin.line, Some(3));

    assert_eq!(jorg.job_title.as_deref(), Some("Engineer, \"Platform\""));
    assert_eq!(jorg.legal_family_name.as_deref(), Some("Müller"));
    assert_eq!(jorg.status, Some(WorkerStatus::Leave { leave_type: Some("parental".to_string()) }));
    assert_eq!(jorg.origin.line, Some(5), "the quoted line break in line 3 moves later records down");

    assert_eq!(zoe.status, Some(WorkerStatus::PreHire));
    assert_eq!(zoe.hire_date, date("2026-09-01"));
    assert_eq!(zoe.origin.record.as_deref(), Some("1004"));
}

#[test]
fn windows_line_endings_keep_physical_line_numbers() {
    let text = String::from_utf8(fixture_bytes("valid_quoted.csv")).expect("UTF-8 fixture").replace('\n', "\r\n");
    let snapshot = read_csv_bytes("crlf.csv", text.as_bytes(), &mapping()).expect("valid file");
    let lines: Vec<Option<u64>> = snapshot.workers.iter().map(|worker| worker.origin.line).collect();
    assert_eq!(lines, [Some(2), Some(3), Some(5), Some(6)]);
    assert_eq!(snapshot.workers[1].job_title.as_deref(), Some("Head of\nEngineering"));
}

#[test]
fn missing_required_headers_reject_the_file_whole() {
    let error = read("wrong_headers.csv").expect_err("headers do not match");
    assert_eq!(
        error.to_string(),
        "HR file wrong_headers.csv is rejected: its header row lacks the required columns \"Employee ID\", \
         \"Last Name\"; the header row has \"EmpID\", \"First Name\", \"Surname\", \"Hire Date\""
    );
}

#[test]
fn utf8_with_byte_order_mark_matches_the_first_header() {
    assert_eq!(fixture_bytes("bom_utf8.csv")[..3], [0xEF, 0xBB, 0xBF]);
    let snapshot = read("bom_utf8.csv").expect("valid file");
    assert_eq!(messages(&snapshot), Vec::<String>::new());
    assert_eq!(ids(&snapshot), ["2001"]);
    assert_eq!(snapshot.workers[0].legal_family_name.as_deref(), Some("Groß"));
}

#[test]
fn utf16_excel_exports_are_decoded_in_both_byte_orders() {
    assert_eq!(fixture_bytes("utf16le.csv")[..4], [0xFF, 0xFE, b'E', 0]);
    assert_eq!(fixture_bytes("utf16be.csv")[..4], [0xFE, 0xFF, 0, b'E']);

    let little = read("utf16le.csv").expect("valid file");
    assert_eq!(messages(&little), Vec::<String>::new());
    assert_eq!(ids(&little), ["3001", "3002"]);
    assert_eq!(little.workers[1].legal_given_name.as_deref(), Some("Åsa"));
    assert_eq!(little.workers[1].legal_family_name.as_deref(), Some("Ödegaard"));
    assert_eq!(little.workers[1].origin.line, Some(3));

    let big = read("utf16be.csv").expect("valid file");
    assert_eq!(messages(&big), Vec::<String>::new());
    assert_eq!(big.workers[0].legal_given_name.as_deref(), Some("Ngọc"));
    assert_eq!(big.workers[0].time_zone.as_deref(), Some("Asia/Ho_Chi_Minh"));
}

#[test]
fn duplicate_ids_skip_every_record_with_that_id() {
    let snapshot = read("duplicate_ids.csv").expect("readable file");
    assert_eq!(ids(&snapshot), ["1002"]);
    assert_eq!(
        messages(&snapshot),
        [
            "error: duplicate_ids.csv:2: employee 1001: field \"Employee ID\": the employee ID is also on line 4; \
             both records are skipped",
            "warning: duplicate_ids.csv:3: employee 1002: field \"Manager ID\": manager 1001 was skipped (see the \
             diagnostics for that record); the worker is kept",
            "error: duplicate_ids.csv:4: employee 1001: field \"Employee ID\": the employee ID is also on line 2; \
             both records are skipped",
        ]
    );
}

#[test]
fn bad_dates_are_reported_per_field() {
    let snapshot = read("bad_dates.csv").expect("readable file");
    assert_eq!(ids(&snapshot), ["1003"]);
    assert_eq!(
        messages(&snapshot),
        [
            "error: bad_dates.csv:2: employee 1001: field \"Hire Date\": \"31.02.2024\" is not a valid date in any \
             of the formats %Y-%m-%d, %d.%m.%Y",
            "error: bad_dates.csv:3: employee 1002: field \"Hire Date\": \"2021-13-01\" is not a valid date in any \
             of the formats %Y-%m-%d, %d.%m.%Y",
            "error: bad_dates.csv:3: employee 1002: field \"Last Day\": \"2025-06-31\" is not a valid date in any \
             of the formats %Y-%m-%d, %d.%m.%Y",
        ]
    );
}

#[test]
fn an_unknown_manager_is_a_warning_and_the_worker_is_kept() {
    let snapshot = read("unknown_manager.csv").expect("readable file");
    assert_eq!(ids(&snapshot), ["1001", "1002"]);
    assert_eq!(
        messages(&snapshot),
        ["warning: unknown_manager.csv:3: employee 1002: field \"Manager ID\": manager 9999 is not in this file; \
          the worker is kept"]
    );
}

#[test]
fn every_worker_in_a_manager_cycle_is_reported_and_skipped() {
    let snapshot = read("manager_cycle.csv").expect("readable file");
    assert_eq!(ids(&snapshot), ["1001", "1005", "1006"]);
    assert_eq!(snapshot.workers[0].manager_id, None, "a self-manager is treated as having no manager");
    assert_eq!(
        messages(&snapshot),
        [
            "warning: manager_cycle.csv:2: employee 1001: field \"Manager ID\": the worker is their own manager; \
             treated as having no manager",
            "error: manager_cycle.csv:3: employee 1002: field \"Manager ID\": the manager chain forms a cycle \
             (1002 → 1004 → 1003 → 1002); every worker in it is skipped",
            "error: manager_cycle.csv:4: employee 1003: field \"Manager ID\": the manager chain forms a cycle \
             (1003 → 1002 → 1004 → 1003); every worker in it is skipped",
            "error: manager_cycle.csv:5: employee 1004: field \"Manager ID\": the manager chain forms a cycle \
             (1004 → 1003 → 1002 → 1004); every worker in it is skipped",
            "warning: manager_cycle.csv:6: employee 1005: field \"Manager ID\": manager 1004 was skipped (see the \
             diagnostics for that record); the worker is kept",
        ]
    );
}

#[test]
fn bad_records_are_skipped_and_valid_ones_kept() {
    let snapshot = read("one_bad_record.csv").expect("readable file");
    assert_eq!(ids(&snapshot), ["1001", "1002", "1004"]);
    assert!(snapshot.has_errors());
    assert_eq!(
        messages(&snapshot),
        [
            "error: one_bad_record.csv:4: employee 1003: field \"Last Name\": required value is missing",
            "error: one_bad_record.csv:4: employee 1003: field \"Usage Location\": \"UK\" is not an ISO 3166-1 \
             alpha-2 country code (two letters, such as DE or US)",
            "error: one_bad_record.csv:4: employee 1003: field \"Status\": \"retired\" is not a status (use \
             pre-hire, active, leave or terminated)",
            "error: one_bad_record.csv:6: employee 1005: the record has 13 fields but the header row has 14; it is \
             skipped",
        ]
    );
}

#[test]
fn files_are_read_from_disk_and_missing_files_name_their_path() {
    let snapshot = read_csv(&fixture_path("unknown_manager.csv"), &mapping()).expect("readable file");
    assert_eq!(ids(&snapshot), ["1001", "1002"]);
    assert!(snapshot.diagnostics[0].source.file.ends_with("test_data/unknown_manager.csv"));

    let missing = fixture_path("no_such_file.csv");
    let error = read_csv(&missing, &mapping()).expect_err("no such file");
    assert!(error.to_string().starts_with(&format!("cannot read HR file {}: ", missing.display())), "{error}");
}

#[test]
fn the_mapping_rejects_unknown_keys_and_fields() {
    let unknown_key = toml::from_str::<CsvMapping>("[columns]\n\"ID\" = \"employee_id\"\n[extra]\n");
    assert!(unknown_key.expect_err("unknown key").to_string().contains("unknown field `extra`"));
    let unknown_field = toml::from_str::<CsvMapping>("[columns]\n\"ID\" = \"employee_number\"\n");
    assert!(
        unknown_field
            .expect_err("unknown field")
            .to_string()
            .contains("\"employee_number\" is not a worker field (use one of the canonical names, or custom.<name>)")
    );
}

fn json_mapping() -> JsonMapping {
    toml::from_str("required = [\"legal_given_name\", \"legal_family_name\", \"hire_date\"]").expect("parses")
}

#[test]
fn json_files_get_the_same_checks() {
    let snapshot = read_json_bytes("workers.json", &fixture_bytes("workers.json"), &json_mapping()).expect("valid");
    assert_eq!(ids(&snapshot), ["1001", "1005"]);
    assert_eq!(snapshot.workers[0].usage_location.map(|code| code.to_string()).as_deref(), Some("GB"));
    assert_eq!(snapshot.workers[0].custom_fields.get("badge").map(String::as_str), Some("A-1"));
    assert_eq!(
        messages(&snapshot),
        [
            "warning: workers.json:11: employee 1002: field \"nickname\": unknown field; ignored",
            "error: workers.json:11: employee 1002: field \"employee_id\": the employee ID is also on line 20; \
             both records are skipped",
            "error: workers.json:16: employee 1003: field \"legal_family_name\": required value is missing",
            "error: workers.json:16: employee 1003: field \"hire_date\": \"2021-02-30\" is not a valid date in the \
             format %Y-%m-%d",
            "error: workers.json:20: employee 1002: field \"mobile_phone\": must be a string, number or boolean",
            "error: workers.json:20: employee 1002: field \"employee_id\": the employee ID is also on line 11; \
             both records are skipped",
            "error: workers.json:24: the array element is not an object; it is skipped",
            "warning: workers.json:25: employee 1005: field \"manager_id\": manager 1003 was skipped (see the \
             diagnostics for that record); the worker is kept",
        ]
    );
}

#[test]
fn json_documents_that_are_not_arrays_of_records_are_rejected_whole() {
    let error = read_json_bytes("not_an_array.json", &fixture_bytes("not_an_array.json"), &json_mapping())
        .expect_err("an object, not an array");
    assert_eq!(
        error.to_string(),
        "HR file not_an_array.json is rejected: the JSON document must be an array of worker objects"
    );
    let error = read_json_bytes("malformed.json", &fixture_bytes("malformed.json"), &json_mapping())
        .expect_err("trailing comma");
    assert!(error.to_string().starts_with("HR file malformed.json is not valid JSON (line 2, column 26): "), "{error}");
}

#[test]
fn an_export_without_records_is_read_with_a_warning() {
    let header = std::fs::read_to_string(fixture_path("valid_quoted.csv")).expect("fixture");
    let header_only = header.lines().next().expect("a header row").to_string() + "\n";
    let csv = read_csv_bytes("empty.csv", header_only.as_bytes(), &mapping()).expect("readable");
    let json = read_json_bytes("empty.json", b"[]", &json_mapping()).expect("readable");
    for snapshot in [csv, json] {
        assert!(snapshot.workers.is_empty());
        assert_eq!(snapshot.diagnostics.len(), 1, "{:?}", snapshot.diagnostics);
        assert_eq!(snapshot.diagnostics[0].severity, model::Severity::Warning);
        assert_eq!(snapshot.diagnostics[0].message, hr_source::NO_RECORDS);
    }
}
