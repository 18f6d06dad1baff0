//! Reads an HR JSON export: an array of objects keyed by canonical field names (`employee_id`, `hire_date`, …)
//! and `custom.<name>`, checked with the same record and relation rules as CSV.
//!
//! Scalars may be strings, numbers or booleans (numeric employee IDs are common); `null` means absent. Each
//! record's line is the line of its opening brace.

use std::path::Path;

use model::{Diagnostic, HrSnapshot, SourceLocation};
use serde_json::Value;

use crate::mapping::{Field, FieldTarget, JsonMapping, required_fields};
use crate::record::{self, RawRecord, RawValue, RecordRules, non_empty};
use crate::relations::{self, RelationFields};
use crate::{Error, encoding, finish};

/// Reads the HR JSON file at `path` with `mapping`.
pub fn read_json(path: &Path, mapping: &JsonMapping) -> Result<HrSnapshot, Error> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| Error::Io { file: file.clone(), source })?;
    read_json_bytes(&file, &bytes, mapping)
}

/// Reads HR JSON content `bytes`, named `file` in diagnostics.
pub fn read_json_bytes(file: &str, bytes: &[u8], mapping: &JsonMapping) -> Result<HrSnapshot, Error> {
    let problems = mapping.problems();
    if !problems.is_empty() {
        return Err(Error::InvalidMapping { problems });
    }
    let text = encoding::decode(file, bytes)?;
    let document: Value = serde_json::from_str(&text).map_err(|error| Error::Json {
        file: file.to_string(),
        line: error.line(),
        column: error.column(),
        message: error.to_string(),
    })?;
    let Value::Array(elements) = document else {
        return Err(Error::NotAnArray { file: file.to_string() });
    };
    let lines = element_lines(&text);
    let required = required_fields(&mapping.required);
    let rules = RecordRules { required: &required, date_formats: &mapping.date_formats };
    let mut diagnostics = Vec::new();
    let mut checked = Vec::new();
    for (position, element) in elements.into_iter().enumerate() {
        let origin = SourceLocation::at_line(file, lines.get(position).copied().unwrap_or(0));
        let Value::Object(object) = element else {
            diagnostics.push(Diagnostic::error(origin, None, "the array element is not an object; it is skipped"));
            continue;
        };
        let mut values = Vec::new();
        let mut problems = Vec::new();
        for (key, value) in object {
            let target = match FieldTarget::parse(&key) {
                Ok(target) => target,
                Err(_) => {
                    problems.push((key, false, "unknown field; ignored".to_string()));
                    continue;
                }
            };
            let value = match value {
                Value::Null => None,
                Value::String(text) => non_empty(&text),
                Value::Number(number) => Some(number.to_string()),
                Value::Bool(flag) => Some(flag.to_string()),
                Value::Array(_) | Value::Object(_) => {
                    problems.push((key, true, "must be a string, number or boolean".to_string()));
                    continue;
                }
            };
            values.push(RawValue { target, source_name: key, value });
        }
        let record = record::check(RawRecord { origin, values }, &rules, &mut diagnostics);
        let mut record = record;
        for (key, is_error, message) in problems {
            if is_error {
                diagnostics.push(Diagnostic::error(record.origin.clone(), Some(&key), message));
                record.worker = None;
            } else {
                diagnostics.push(Diagnostic::warning(record.origin.clone(), Some(&key), message));
            }
        }
        checked.push(record);
    }
    let fields = RelationFields { employee_id: Field::EmployeeId.name(), manager_id: Field::ManagerId.name() };
    let workers = relations::resolve(checked, &fields, &mut diagnostics);
    Ok(finish(file, workers, diagnostics))
}

/// The 1-based line on which each element of the top-level array starts. `text` is known to be valid JSON.
fn element_lines(text: &str) -> Vec<u64> {
    let mut lines = Vec::new();
    let mut line = 1;
    let mut depth = 0_usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut expecting_element = false;
    for character in text.chars() {
        if in_string {
            match character {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            if character == '\n' {
                line += 1;
            }
            continue;
        }
        if character == '\n' {
            line += 1;
            continue;
        }
        if character.is_whitespace() {
            continue;
        }
        if depth == 1 && expecting_element && character != ']' {
            lines.push(line);
            expecting_element = false;
        }
        match character {
            '"' => in_string = true,
            '[' | '{' => {
                depth += 1;
                expecting_element = depth == 1;
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 1 => expecting_element = true,
            _ => {}
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_lines_follow_the_top_level_array() {
        let text = "[\n  {\"a\": \"x,\\\"{\\n\"},\n  7, \"s\",\n  {\n \"b\": [1, {}]\n  }\n]";
        assert_eq!(element_lines(text), [2, 3, 3, 4]);
    }
}
