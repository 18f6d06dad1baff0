//! Sandbox benchmark (run by hand, reported in docs/benchmarks.md; not part of `cargo test`):
//! 1. resident memory of a sandbox holding 100,000 users and 5,000 groups;
//! 2. simple Graph requests per second with every knob off, over HTTP/1.1 keep-alive on loopback, from a load
//!    generator in the same process (so client and server share the machine's cores — a conservative figure).
//!
//! `cargo bench -p sandbox --bench graph_load -- [users] [groups] [seconds] [connections]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sandbox::Sandbox;

const CONTOSO: &str = "6e3b1c2a-5d4f-4a8b-9c1d-2e3f4a5b6c7d";
const APP: &str = "a1b2c3d4-0000-4000-8000-00000000c001";
const SECRET: &str = "contoso-app-secret-A1s2D3f4G5h6";

fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

async fn run_load(
    client: reqwest::Client,
    urls: Arc<Vec<String>>,
    token: Arc<String>,
    seconds: u64,
    connections: usize,
) -> (u64, u64) {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let (client, urls, token, ok, failed) =
            (client.clone(), urls.clone(), token.clone(), ok.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut index = worker;
            while Instant::now() < deadline {
                let url = &urls[index % urls.len()];
                index += connections;
                match client.get(url).bearer_auth(token.as_str()).send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with("--")).collect();
    let users: usize = args.first().and_then(|value| value.parse().ok()).unwrap_or(100_000);
    let groups: usize = args.get(1).and_then(|value| value.parse().ok()).unwrap_or(5_000);
    let seconds: u64 = args.get(2).and_then(|value| value.parse().ok()).unwrap_or(10);
    let connections: usize = args.get(3).and_then(|value| value.parse().ok()).unwrap_or(32);

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let before = resident_mib();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let sandbox = Sandbox::builder().start(listener).await.expect("start");
        let started = Instant::now();
        let ids = {
            let tenant = sandbox.tenant(CONTOSO).expect("contoso");
            let mut tenant = tenant.write();
            sandbox::bulk::populate(&mut tenant, users, groups, 20, sandbox.state().clock.now())
        };
        let populate_seconds = started.elapsed().as_secs_f64();
        let after = resident_mib();
        println!("memory: {users} users + {groups} groups (20 members each) populated in {populate_seconds:.1} s");
        println!("memory: resident {after:.0} MiB (process before sandbox: {before:.0} MiB)");

        let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().expect("client");
        let base = sandbox.http_base();
        let token_response: serde_json::Value = client
            .post(format!("{base}/{CONTOSO}/oauth2/v2.0/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", APP),
                ("client_secret", SECRET),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .expect("token json");
        let token = Arc::new(token_response["access_token"].as_str().expect("access_token").to_string());

        let scenarios: Vec<(&str, Vec<String>)> = vec![
            ("GET /v1.0/users/{id}", ids.iter().take(10_000).map(|id| format!("{base}/v1.0/users/{id}")).collect()),
            ("GET /v1.0/users?$top=10", vec![format!("{base}/v1.0/users?$top=10")]),
            (
                "GET /v1.0/users/{upn}?$select=id,employeeId",
                (0..10_000.min(users)).map(|n| format!("{base}/v1.0/users/gen.user{n}@contoso.com?$select=id,employeeId")).collect(),
            ),
        ];
        for (name, urls) in scenarios {
            let urls = Arc::new(urls);
            // Warm up connections.
            let _ = run_load(client.clone(), urls.clone(), token.clone(), 1, connections).await;
            let (ok, failed) = run_load(client.clone(), urls, token.clone(), seconds, connections).await;
            println!(
                "throughput: {name}: {:.0} requests/s ({ok} ok, {failed} failed, {connections} connections, {seconds} s)",
                ok as f64 / seconds as f64
            );
        }
        println!("memory: resident after load {:.0} MiB", resident_mib());
        sandbox.shutdown().await;
    });
}
