//! Reading a run's inputs: the policy file (with its `[hr]` mapping) and the HR export. Every problem with the
//! policy is reported at once; a bad HR record is a diagnostic, a bad HR file an error naming the file.

use std::path::Path;

use hr_source::{CsvMapping, JsonMapping};
use model::HrSnapshot;
use policy::Policy;

/// The inputs of a run, read and validated.
#[derive(Debug)]
pub struct Inputs {
    /// The parsed policy.
    pub policy: Policy,
    /// The HR snapshot (valid workers plus diagnostics).
    pub hr: HrSnapshot,
}

/// Why the inputs cannot be used: every problem found, one message each (file, line and key included).
#[derive(Debug, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct InputError {
    /// The problems.
    pub problems: Vec<String>,
}

/// Reads and validates the policy file at `path`.
pub fn load_policy(path: &Path) -> Result<Policy, InputError> {
    let text = std::fs::read_to_string(path).map_err(|error| InputError {
        problems: vec![format!("cannot read policy file {}: {error}", path.display())],
    })?;
    let file_name = path.display().to_string();
    let policy = policy::parse_policy(&file_name, &text)
        .map_err(|problems| InputError { problems: problems.iter().map(ToString::to_string).collect() })?;
    // The `[hr]` mapping is checked now, with the rest of the policy, so `tenure check` reports it too.
    hr_mapping(&policy, &file_name)?;
    Ok(policy)
}

/// The policy's `[hr]` section as a CSV mapping.
fn hr_mapping(policy: &Policy, file_name: &str) -> Result<CsvMapping, InputError> {
    let Some(table) = policy.hr_section() else {
        return Err(InputError {
            problems: vec![format!("{file_name}: hr: the [hr] section (the HR column mapping) is missing")],
        });
    };
    let mapping: CsvMapping = toml::Value::Table(table.clone()).try_into().map_err(|error: toml::de::Error| {
        InputError { problems: vec![format!("{file_name}: hr: {}", error.message().trim())] }
    })?;
    let problems = mapping.problems();
    if problems.is_empty() {
        Ok(mapping)
    } else {
        Err(InputError {
            problems: problems.into_iter().map(|problem| format!("{file_name}: hr: {problem}")).collect(),
        })
    }
}

/// Reads the HR export at `path` with the policy's mapping (`.json` files as JSON, anything else as CSV).
pub fn read_hr(path: &Path, policy: &Policy) -> Result<HrSnapshot, InputError> {
    let mapping = hr_mapping(policy, "policy")?;
    let is_json = path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
    let snapshot = if is_json {
        let json_mapping =
            JsonMapping { required: mapping.required.clone(), date_formats: mapping.date_formats.clone() };
        hr_source::read_json(path, &json_mapping)
    } else {
        hr_source::read_csv(path, &mapping)
    };
    snapshot.map_err(|error| InputError { problems: vec![error.to_string()] })
}

/// Reads the policy and the HR export.
pub fn load_inputs(policy_path: &Path, hr_path: &Path) -> Result<Inputs, InputError> {
    let policy = load_policy(policy_path)?;
    let hr = read_hr(hr_path, &policy)?;
    Ok(Inputs { policy, hr })
}
