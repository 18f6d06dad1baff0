//! Benchmark: `desired_state` and `planner::plan`-free timing of the policy for N generated workers
//! (`cargo bench -p policy --bench desired -- [workers]`), with the example policy.

use std::time::Instant;

use chrono::{TimeZone, Utc};
use model::{HrSnapshot, SourceLocation, Worker, WorkerId};

fn main() {
    let workers: usize = std::env::args().skip(1).find_map(|argument| argument.parse().ok()).unwrap_or(10_000);
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policy.toml")).expect("example");
    let policy = policy::parse_policy("policy.toml", &text).expect("example policy parses");
    let given = ["Anna", "Jürgen", "Zoë", "François", "Søren", "José", "Łukasz", "Mia"];
    let family = ["Müller", "Weiß", "Smith", "Dubois", "Nielsen", "García", "Nowak", "Brown"];
    let departments = ["Sales", "Engineering", "Finance", "Support"];
    let hr = HrSnapshot {
        workers: (0..workers)
            .map(|index| {
                let mut worker = Worker::new(
                    WorkerId::new(&format!("E{index}")).expect("id"),
                    SourceLocation::at_line("hr.csv", index as u64 + 2),
                );
                worker.legal_given_name = Some(given[index % given.len()].to_string());
                worker.legal_family_name = Some(family[(index / given.len()) % family.len()].to_string());
                worker.department = Some(departments[index % departments.len()].to_string());
                worker.job_title = Some("Specialist".to_string());
                worker.employee_type = Some("Employee".to_string());
                worker.usage_location = "DE".parse().ok();
                worker
            })
            .collect(),
        diagnostics: Vec::new(),
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).single().expect("time");
    let started = Instant::now();
    let desired = policy::desired_state(&hr, &policy, now);
    let elapsed = started.elapsed();
    let candidates: usize = desired.accounts.iter().map(|account| account.name_candidates.len()).sum();
    let started_without = Instant::now();
    let without_names = policy::desired_state_with_names_for(&hr, &policy, now, &|_| false);
    let elapsed_without = started_without.elapsed();
    assert_eq!(without_names.accounts.len(), desired.accounts.len());
    println!(
        "desired_state without names (a resync of existing accounts): {:.3} s ({:.1} µs per worker)",
        elapsed_without.as_secs_f64(),
        elapsed_without.as_secs_f64() * 1e6 / workers as f64
    );
    println!(
        "desired_state for {workers} workers: {:.3} s ({:.1} µs per worker, {} name candidates in all)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / workers as f64,
        candidates
    );
}
