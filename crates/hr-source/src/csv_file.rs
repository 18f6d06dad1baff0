//! Reads an HR CSV export: decode, match the header row against the [`CsvMapping`] (rejecting the file whole
//! when required columns are missing), then check each record and the relations between them.

use std::path::Path;

use model::{Diagnostic, HrSnapshot, SourceLocation};

use crate::mapping::{CsvMapping, Field, FieldTarget, required_fields};
use crate::record::{self, RawRecord, RawValue, RecordRules, non_empty};
use crate::relations::{self, RelationFields};
use crate::{Error, encoding, finish};

/// Reads the HR CSV file at `path` with `mapping`.
pub fn read_csv(path: &Path, mapping: &CsvMapping) -> Result<HrSnapshot, Error> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| Error::Io { file: file.clone(), source })?;
    read_csv_bytes(&file, &bytes, mapping)
}

/// Reads HR CSV content `bytes`, named `file` in diagnostics (an upload's name, for instance).
pub fn read_csv_bytes(file: &str, bytes: &[u8], mapping: &CsvMapping) -> Result<HrSnapshot, Error> {
    let problems = mapping.problems();
    if !problems.is_empty() {
        return Err(Error::InvalidMapping { problems });
    }
    // The `csv` crate counts a CRLF record's line before consuming the LF, so records of Windows exports would
    // report the previous line; with LF endings its count is the physical line. Line breaks inside quoted fields
    // become LF too, which is how the values should be stored anyway.
    let text = encoding::decode(file, bytes)?.replace("\r\n", "\n");
    let mut delimiter = [0; 4];
    mapping.delimiter.encode_utf8(&mut delimiter);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter[0])
        .from_reader(text.as_bytes());
    let csv_error = |error: csv::Error| Error::Csv { file: file.to_string(), message: error.to_string() };
    let mut rows = reader.records();
    let header =
        rows.next().transpose().map_err(csv_error)?.ok_or_else(|| Error::NoHeader { file: file.to_string() })?;
    let columns = match_header(file, &header, mapping)?;

    let required = required_fields(&mapping.required);
    let rules = RecordRules { required: &required, date_formats: &mapping.date_formats };
    let mut diagnostics = Vec::new();
    // One record per line, near enough: sized up front, the vector is not copied as it grows.
    let mut checked = Vec::with_capacity(text.bytes().filter(|byte| *byte == b'\n').count());
    for row in rows {
        let row = row.map_err(csv_error)?;
        let line = row.position().map_or(0, csv::Position::line);
        if row.iter().all(|value| value.trim().is_empty()) {
            // Spreadsheet exports often end with separator-only rows; they carry no record.
            continue;
        }
        let values: Vec<RawValue> = columns
            .iter()
            .map(|(index, header, target)| RawValue {
                target: target.clone(),
                source_name: header.clone(),
                value: row.get(*index).and_then(non_empty),
            })
            .collect();
        let origin = SourceLocation::at_line(file, line);
        if row.len() != header.len() {
            let mut origin = origin;
            origin.record = values
                .iter()
                .find(|value| value.target == FieldTarget::Canonical(Field::EmployeeId))
                .and_then(|value| value.value.clone());
            diagnostics.push(Diagnostic::error(
                origin,
                None,
                format!("the record has {} fields but the header row has {}; it is skipped", row.len(), header.len()),
            ));
            continue;
        }
        checked.push(record::check(RawRecord { origin, values }, &rules, &mut diagnostics));
    }
    let fields = RelationFields {
        employee_id: mapping.header_of(Field::EmployeeId).unwrap_or(Field::EmployeeId.name()),
        manager_id: mapping.header_of(Field::ManagerId).unwrap_or(Field::ManagerId.name()),
    };
    let workers = relations::resolve(checked, &fields, &mut diagnostics);
    Ok(finish(file, workers, diagnostics))
}

/// The mapped columns of the header row: (column index, header as the mapping spells it, target).
fn match_header(
    file: &str,
    header: &csv::StringRecord,
    mapping: &CsvMapping,
) -> Result<Vec<(usize, String, FieldTarget)>, Error> {
    let found: Vec<String> = header.iter().map(|name| name.trim().to_string()).collect();
    let mut columns: Vec<(usize, String, FieldTarget)> = Vec::new();
    for (mapped_header, target) in &mapping.columns {
        let key = mapped_header.trim().to_lowercase();
        let mut positions = found.iter().enumerate().filter(|(_, name)| name.to_lowercase() == key);
        if let Some((index, _)) = positions.next() {
            if positions.next().is_some() {
                return Err(Error::DuplicateColumn { file: file.to_string(), header: mapped_header.clone() });
            }
            columns.push((index, mapped_header.clone(), target.clone()));
        }
    }
    let missing: Vec<String> = required_fields(&mapping.required)
        .into_iter()
        .filter(|field| !columns.iter().any(|(_, _, target)| *target == FieldTarget::Canonical(*field)))
        .filter_map(|field| mapping.header_of(field).map(str::to_string))
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingColumns { file: file.to_string(), missing, found });
    }
    columns.sort_by_key(|(index, _, _)| *index);
    Ok(columns)
}
