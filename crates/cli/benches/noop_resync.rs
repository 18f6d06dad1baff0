//! Benchmark for the acceptance point "a no-op resync of 100,000 workers sends ≤ 5 Graph requests and plans in
//! < 2 s of CPU; peak memory < 500 MB at 100,000".
//!
//! `cargo bench -p cli --bench noop_resync -- [workers]` (default 100,000).
//!
//! The bench process starts the sandbox on loopback (no throttling, no latency; the test seed has 200,000 licence
//! seats), writes a generated HR export of N workers, the test policy and a `tenure.toml`, and runs the real
//! `tenure sync` binary as a child process three times, advancing the sandbox clock by one second before each
//! resync so replication has caught up: (1) the setup, which converges the tenant (timed and reported); (2) the
//! first resync, which has no steps but reads the setup's own writes back through the users/groups delta (the
//! stored deltaLinks were taken before the setup applied anything), so its Graph requests grow with N — reported
//! for information; (3) the measured no-op resync: nothing changed since the last observation. The child reports its own costs with `TENURE_REPORT_RESOURCES=1` (Graph requests of the whole
//! command, CPU time of desired state + plan, the process's peak RSS from `VmHWM`), which this bench parses and
//! checks against the targets. The sandbox's memory is not included: it lives in the bench process, `tenure` in
//! the child.
//!
//! The workforce is `support::workforce(N)` with one change: the family names get a suffix per block of 120
//! workers (`Müller-ab`), because the generator cycles through only 120 given/family name pairs and the policy's
//! naming allows 99 counters per pair, i.e. at most 11,880 distinct account names — beyond that, workers would be
//! skipped ("no free name") instead of getting accounts, and the benchmark would not hold N accounts.
//!
//! Environment: `RUST_LOG` is passed to the child (default `warn`); `NOOP_RESYNC_KEEP=1` keeps the working
//! directory (config, HR export, store, the children's stdout/stderr) and prints its path;
//! `NOOP_RESYNC_WRAP="perf record -g -o /tmp/perf.data"` (or `heaptrack -o …`) runs the measured resync under that
//! command, to see where its CPU time or memory goes.

#[path = "../../engine/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use sandbox::knobs::Knobs;
use tokio::process::Command;

/// The acceptance targets.
const MAX_GRAPH_REQUESTS: u64 = 5;
const MAX_PLANNING_CPU_MS: u64 = 2_000;
const MAX_PEAK_RSS_MIB: u64 = 500;

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).filter(|argument| !argument.starts_with("--")).collect();
    let workers: usize = arguments.first().and_then(|text| text.parse().ok()).unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let passed = runtime.block_on(run(workers));
    if !passed {
        std::process::exit(1);
    }
}

/// What one `tenure sync` reported.
#[derive(Debug, Default, Clone, Copy)]
struct Resources {
    graph_http_requests: u64,
    graph_sub_requests: u64,
    planning_cpu_ms: u64,
    peak_rss_mib: u64,
    steps: u64,
}

impl Resources {
    /// Parses `resources: graph_http_requests=N graph_sub_requests=M planning_cpu_ms=X peak_rss_mib=Y steps=S`.
    fn parse(line: &str) -> Option<Resources> {
        let rest = line.strip_prefix("resources: ")?;
        let mut resources = Resources::default();
        for pair in rest.split_whitespace() {
            let (key, value) = pair.split_once('=')?;
            let value: u64 = value.parse().ok()?;
            match key {
                "graph_http_requests" => resources.graph_http_requests = value,
                "graph_sub_requests" => resources.graph_sub_requests = value,
                "planning_cpu_ms" => resources.planning_cpu_ms = value,
                "peak_rss_mib" => resources.peak_rss_mib = value,
                "steps" => resources.steps = value,
                _ => {}
            }
        }
        Some(resources)
    }
}

/// Letters for a block number: 0 → "aa", 1 → "ab", … (two or more letters, so names stay readable).
fn block_code(mut block: usize) -> String {
    let mut letters = Vec::new();
    for _ in 0..2 {
        letters.push(b'a' + (block % 26) as u8);
        block /= 26;
    }
    while block > 0 {
        letters.push(b'a' + (block % 26) as u8);
        block /= 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ascii letters")
}

/// `support::workforce(count)` with a distinct family name per block of 120 workers (see the module docs).
fn workforce(count: usize) -> Vec<support::Row> {
    let mut rows = support::workforce(count);
    for (index, row) in rows.iter_mut().enumerate() {
        row.family = format!("{}-{}", row.family, block_code(index / 120));
    }
    rows
}

/// What one run of the child cost.
struct Outcome {
    wall_seconds: f64,
    resources: Option<Resources>,
}

/// Runs `tenure sync --config …` with the resources report on; stdout and stderr go to `<name>.stdout`/`.stderr`
/// in `dir`. Panics (with the tail of stderr) when the sync fails.
async fn run_sync(dir: &Path, config: &Path, name: &str, wrapper: &[String]) -> Outcome {
    let stdout_path = dir.join(format!("{name}.stdout"));
    let stderr_path = dir.join(format!("{name}.stderr"));
    let stdout = std::fs::File::create(&stdout_path).expect("create stdout file");
    let stderr = std::fs::File::create(&stderr_path).expect("create stderr file");
    let log = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_string());
    let started = Instant::now();
    let mut command = match wrapper.split_first() {
        Some((program, arguments)) => {
            let mut command = Command::new(program);
            command.args(arguments).arg(env!("CARGO_BIN_EXE_tenure"));
            command
        }
        None => Command::new(env!("CARGO_BIN_EXE_tenure")),
    };
    let status = command
        .args(["sync", "--config"])
        .arg(config)
        .current_dir(dir)
        .env("TENURE_REPORT_RESOURCES", "1")
        .env("RUST_LOG", log)
        .env_remove("TENURE_PROGRESS")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .kill_on_drop(true)
        .status()
        .await
        .expect("tenure starts");
    let wall_seconds = started.elapsed().as_secs_f64();
    let errors = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = errors.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!("`tenure sync` ({name}) failed with {status}:\n{}", tail.join("\n"));
    }
    let resources = errors.lines().find_map(Resources::parse);
    Outcome { wall_seconds, resources }
}

/// Peak and current RSS of this (the bench's, i.e. the sandbox's) process in MiB, from /proc/self/status.
fn own_memory_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<u64>().ok())
            .map_or(0, |kib| kib / 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

/// The verdicts of one resync against the targets: (requests, cpu, rss, steps).
fn verdicts(r: &Resources) -> [bool; 4] {
    [
        r.graph_http_requests <= MAX_GRAPH_REQUESTS,
        r.planning_cpu_ms < MAX_PLANNING_CPU_MS,
        r.peak_rss_mib < MAX_PEAK_RSS_MIB,
        r.steps == 0,
    ]
}

fn print_resources(label: &str, outcome: &Outcome) {
    println!("{label}: {:.1} s wall", outcome.wall_seconds);
    match outcome.resources {
        Some(r) => println!(
            "  resources: graph_http_requests={} graph_sub_requests={} planning_cpu_ms={} peak_rss_mib={} steps={}",
            r.graph_http_requests, r.graph_sub_requests, r.planning_cpu_ms, r.peak_rss_mib, r.steps
        ),
        None => println!("  (no resources line)"),
    }
}

async fn run(workers: usize) -> bool {
    let sandbox = support::start_sandbox(Knobs::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = workforce(workers);
    support::write_inputs(dir.path(), &rows);
    drop(rows);
    let config = support::write_tenure_config(dir.path(), &sandbox, 8);
    println!(
        "no-op resync benchmark: {workers} workers, sandbox at {} (no throttling, no latency)",
        sandbox.https_base()
    );

    let setup = run_sync(dir.path(), &config, "setup", &[]).await;
    print_resources("setup sync (converges the tenant)", &setup);
    let users = sandbox.tenant("contoso.com").expect("tenant").read().users.len();
    println!("  {users} users in the tenant");

    // Replication catches up before each resync (the sandbox's clock, not a sleep).
    // The first resync after the converging sync reads the setup's own writes back through the users/groups
    // delta (the stored deltaLinks date from before the setup applied anything): Graph requests grow with N.
    sandbox.state().clock.advance(chrono::Duration::seconds(1));
    let first = run_sync(dir.path(), &config, "first-resync", &[]).await;
    print_resources("first resync after the setup (reads the setup's writes back through delta)", &first);
    // Nothing changed since the last observation: the steady-state no-op resync, the measured run.
    sandbox.state().clock.advance(chrono::Duration::seconds(1));
    let wrapper: Vec<String> = std::env::var("NOOP_RESYNC_WRAP")
        .map(|text| text.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let resync = run_sync(dir.path(), &config, "noop-resync", &wrapper).await;
    print_resources("no-op resync (nothing changed since the last sync)", &resync);
    let (Some(first_r), Some(measured)) = (first.resources, resync.resources) else {
        println!("FAIL: a resync printed no resources line");
        sandbox.shutdown().await;
        return false;
    };

    let [first_requests, first_cpu, first_rss, first_steps] = verdicts(&first_r);
    let [requests_ok, cpu_ok, rss_ok, steps_ok] = verdicts(&measured);
    let cell = |value: String, pass: Option<bool>| match pass {
        Some(pass) => format!("{value:>10} {}", verdict(pass)),
        None => format!("{value:>10}     "),
    };
    println!();
    println!("resync of {workers} workers after the tenant converged");
    println!("| measure                        | target     | first resync after setup | no-op resync (measured) |");
    println!("|--------------------------------|------------|--------------------------|-------------------------|");
    let row = |measure: &str, target: &str, a: String, b: String| {
        println!("| {measure:<30} | {target:<10} | {a:>24} | {b:>23} |");
    };
    row(
        "wall time (whole command)",
        "—",
        cell(format!("{:.2} s", first.wall_seconds), None),
        cell(format!("{:.2} s", resync.wall_seconds), None),
    );
    row(
        "Graph HTTP requests",
        &format!("≤ {MAX_GRAPH_REQUESTS}"),
        cell(first_r.graph_http_requests.to_string(), Some(first_requests)),
        cell(measured.graph_http_requests.to_string(), Some(requests_ok)),
    );
    row(
        "Graph batched sub-requests",
        "—",
        cell(first_r.graph_sub_requests.to_string(), None),
        cell(measured.graph_sub_requests.to_string(), None),
    );
    row(
        "planning CPU (desired + plan)",
        &format!("< {MAX_PLANNING_CPU_MS} ms"),
        cell(format!("{} ms", first_r.planning_cpu_ms), Some(first_cpu)),
        cell(format!("{} ms", measured.planning_cpu_ms), Some(cpu_ok)),
    );
    row(
        "peak RSS of `tenure` (VmHWM)",
        &format!("< {MAX_PEAK_RSS_MIB} MiB"),
        cell(format!("{} MiB", first_r.peak_rss_mib), Some(first_rss)),
        cell(format!("{} MiB", measured.peak_rss_mib), Some(rss_ok)),
    );
    row(
        "plan steps",
        "0",
        cell(first_r.steps.to_string(), Some(first_steps)),
        cell(measured.steps.to_string(), Some(steps_ok)),
    );
    let (sandbox_peak, sandbox_now) = own_memory_mib();
    println!(
        "note: the sandbox's own memory is NOT included above — it runs in this bench process \
         (peak {sandbox_peak} MiB, now {sandbox_now} MiB); `tenure` runs in a child process."
    );
    let passed = requests_ok && cpu_ok && rss_ok && steps_ok;
    println!("overall (no-op resync): {}", verdict(passed));
    if std::env::var("NOOP_RESYNC_KEEP").is_ok_and(|value| value == "1") {
        let kept = dir.keep();
        println!("kept the working directory: {}", kept.display());
    }
    sandbox.shutdown().await;
    passed
}
