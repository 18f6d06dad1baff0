//! Checks across records: duplicate employee IDs, self-managers, manager cycles and unknown managers.
//!
//! Runs after every record was checked on its own, in this order: duplicates (every record with a repeated ID is
//! skipped — which one is right is HR's call), cycles among the rest (every worker in a cycle is skipped), then
//! unknown managers (a warning: the worker is kept, and the planner leaves the manager unset or as found).

use std::collections::{BTreeMap, BTreeSet};

use model::{Diagnostic, Worker, WorkerId};

use crate::record::CheckedRecord;

/// How the input names the two fields these checks report on.
pub(crate) struct RelationFields<'a> {
    /// The employee-ID field (a CSV header or `employee_id`).
    pub(crate) employee_id: &'a str,
    /// The manager field (a CSV header or `manager_id`).
    pub(crate) manager_id: &'a str,
}

/// Applies the cross-record checks to `records`, returning the workers that pass and appending diagnostics.
pub(crate) fn resolve(
    records: Vec<CheckedRecord>,
    fields: &RelationFields<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Worker> {
    let all_ids: BTreeSet<WorkerId> = records.iter().filter_map(|record| record.id.clone()).collect();
    let mut workers = drop_duplicates(records, fields, diagnostics);
    for worker in &mut workers {
        if worker.manager_id.as_ref() == Some(&worker.employee_id) {
            diagnostics.push(Diagnostic::warning(
                worker.origin.clone(),
                Some(fields.manager_id),
                "the worker is their own manager; treated as having no manager",
            ));
            worker.manager_id = None;
        }
    }
    let workers = drop_cycles(workers, fields, diagnostics);
    let kept: BTreeSet<&WorkerId> = workers.iter().map(|worker| &worker.employee_id).collect();
    for worker in &workers {
        let Some(manager) = &worker.manager_id else { continue };
        if kept.contains(manager) {
            continue;
        }
        let message = if all_ids.contains(manager) {
            format!("manager {manager} was skipped (see the diagnostics for that record); the worker is kept")
        } else {
            format!("manager {manager} is not in this file; the worker is kept")
        };
        diagnostics.push(Diagnostic::warning(worker.origin.clone(), Some(fields.manager_id), message));
    }
    workers
}

fn drop_duplicates(
    records: Vec<CheckedRecord>,
    fields: &RelationFields<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Worker> {
    let mut lines_by_id: BTreeMap<&WorkerId, Vec<Option<u64>>> = BTreeMap::new();
    for record in &records {
        if let Some(id) = &record.id {
            lines_by_id.entry(id).or_default().push(record.origin.line);
        }
    }
    let duplicated: BTreeMap<WorkerId, Vec<Option<u64>>> =
        lines_by_id.into_iter().filter(|(_, lines)| lines.len() > 1).map(|(id, lines)| (id.clone(), lines)).collect();
    // Filtered in place (a `Worker` is smaller than the record holding it, so the records' buffer is reused):
    // at 100,000 workers a second buffer beside the first would be tens of megabytes at the peak of a run.
    records
        .into_iter()
        .filter_map(|record| {
            let Some(lines) = record.id.as_ref().and_then(|id| duplicated.get(id)) else {
                return record.worker;
            };
            let others: Vec<String> = lines
                .iter()
                .filter(|line| **line != record.origin.line)
                .map(|line| line.map_or_else(|| "?".to_string(), |line| line.to_string()))
                .collect();
            let message = match others.as_slice() {
                [other] => format!("the employee ID is also on line {other}; both records are skipped"),
                _ => format!(
                    "the employee ID is also on lines {}; all {} records are skipped",
                    others.join(", "),
                    lines.len()
                ),
            };
            diagnostics.push(Diagnostic::error(record.origin, Some(fields.employee_id), message));
            None
        })
        .collect()
}

/// Where a worker's manager chain walk stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Visit {
    New,
    OnPath,
    Done,
}

fn drop_cycles(
    mut workers: Vec<Worker>,
    fields: &RelationFields<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Worker> {
    let index: BTreeMap<&WorkerId, usize> =
        workers.iter().enumerate().map(|(position, worker)| (&worker.employee_id, position)).collect();
    let manager_of =
        |position: usize| workers[position].manager_id.as_ref().and_then(|manager| index.get(manager).copied());
    let mut visit = vec![Visit::New; workers.len()];
    let mut cycles: Vec<Vec<usize>> = Vec::new();
    for start in 0..workers.len() {
        let mut path = Vec::new();
        let mut current = Some(start);
        while let Some(position) = current {
            match visit[position] {
                Visit::Done => break,
                Visit::OnPath => {
                    let from = path.iter().position(|on_path| *on_path == position).unwrap_or(0);
                    cycles.push(path[from..].to_vec());
                    break;
                }
                Visit::New => {
                    visit[position] = Visit::OnPath;
                    path.push(position);
                    current = manager_of(position);
                }
            }
        }
        for position in path {
            visit[position] = Visit::Done;
        }
    }
    let mut in_cycle = vec![false; workers.len()];
    for cycle in &cycles {
        for (offset, member) in cycle.iter().enumerate() {
            in_cycle[*member] = true;
            let chain: Vec<&str> = cycle[offset..]
                .iter()
                .chain(&cycle[..=offset])
                .map(|position| workers[*position].employee_id.as_str())
                .collect();
            diagnostics.push(Diagnostic::error(
                workers[*member].origin.clone(),
                Some(fields.manager_id),
                format!("the manager chain forms a cycle ({}); every worker in it is skipped", chain.join(" → ")),
            ));
        }
    }
    let mut in_cycle = in_cycle.into_iter();
    workers.retain(|_| !in_cycle.next().unwrap_or(false));
    workers
}
