//! Retries and throttling against the sandbox's knobs: injected 503s and dropped connections, attempts running
//! out, the request quota (429 with `Retry-After`, and `Rate-Limit-Remaining: 0`), the tenant's concurrency 429,
//! and a token Exchange refuses replaced by a fresh one.

mod common;

use exchange::{ErrorKind, ExchangeClient, ExchangeConfig, Outcome};
use sandbox::knobs::{FaultRule, Knobs};

/// A rule for the `nth` Exchange request (503, or a dropped connection).
fn nth_exchange_request(nth: Option<u64>, drop: bool) -> FaultRule {
    FaultRule {
        method: Some("POST".into()),
        path_prefix: "/adminapi/".into(),
        nth,
        status: (!drop).then_some(503),
        drop,
        ..FaultRule::default()
    }
}

/// Runs `count` `Get-Mailbox` reads at once through clones of `client`; all must succeed.
async fn read_concurrently(client: &ExchangeClient, count: usize) {
    let mut reads = tokio::task::JoinSet::new();
    for _ in 0..count {
        let client = client.clone();
        reads.spawn(async move { client.get_mailbox(common::ALEX).await });
    }
    while let Some(read) = reads.join_next().await {
        let mailbox = read.expect("task").expect("read absorbed the throttling");
        assert!(mailbox.is_some());
    }
}

#[tokio::test]
async fn injected_503s_are_retried() {
    let knobs = Knobs {
        fault_plan: vec![nth_exchange_request(Some(1), false), nth_exchange_request(Some(2), false)],
        ..Knobs::default()
    };
    let sandbox = common::start(knobs).await;
    let client = common::client(&sandbox);
    let mailbox = client.get_mailbox(common::ALEX).await.expect("third attempt answers");
    assert_eq!(mailbox.map(|mailbox| mailbox.user_principal_name).as_deref(), Some(common::ALEX));
    let stats = client.stats();
    assert_eq!((stats.requests, stats.retries), (3, 2));
    assert_eq!(sandbox.state().knobs.stats().injected_errors, 2);
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let knobs = Knobs {
        fault_plan: vec![nth_exchange_request(Some(1), true), nth_exchange_request(Some(2), true)],
        ..Knobs::default()
    };
    let sandbox = common::start(knobs).await;
    let client = common::client(&sandbox);
    assert_eq!(client.add_full_access(common::ALEX, common::ADELE, false).await.expect("granted"), Outcome::Done);
    assert_eq!(sandbox.state().knobs.stats().dropped_connections, 2);
    assert_eq!(client.stats().retries, 2);
    assert_eq!(client.list_mailbox_permissions(common::ALEX).await.expect("list").len(), 1, "granted once");
}

#[tokio::test]
async fn a_failure_that_outlasts_the_attempts_is_transient() {
    let sandbox =
        common::start(Knobs { fault_plan: vec![nth_exchange_request(None, false)], ..Knobs::default() }).await;
    let (client, _) = common::client_with(&sandbox, ExchangeConfig { max_attempts: 2, ..common::config(&sandbox) });
    let error = client.get_mailbox(common::ALEX).await.expect_err("every attempt fails");
    assert_eq!(error.kind(), &ErrorKind::Transient);
    assert!(error.is_transient());
    assert_eq!(error.status(), Some(503));
    assert_eq!(client.stats().requests, 2);
}

/// Throttling on, a quota of `quota` requests per 1.2-second window.
fn small_quota(quota: u32) -> Knobs {
    Knobs { throttling: true, exchange_request_quota: Some(quota), time_scale: 0.002, ..Knobs::default() }
}

#[tokio::test]
async fn a_spent_quota_is_waited_out() {
    let sandbox = common::start(small_quota(3)).await;
    let client = common::client(&sandbox);
    read_concurrently(&client, 6).await;
    let stats = client.stats();
    assert!(stats.throttled >= 1, "the burst overran the quota: {stats:?}");
    assert_eq!(stats.throttled, sandbox.state().knobs.stats().exchange_throttled_requests);
    assert_eq!(stats.concurrency_limit, 8, "a spent quota does not lower the concurrency limit");
}

#[tokio::test]
async fn no_request_is_sent_while_the_quota_is_known_to_be_spent() {
    let sandbox = common::start(small_quota(2)).await;
    let client = common::client(&sandbox);
    for _ in 0..4 {
        assert!(client.get_mailbox(common::ALEX).await.expect("read").is_some());
    }
    let stats = client.stats();
    assert_eq!(stats.throttled, 0, "the client waited for Rate-Limit-Reset instead: {stats:?}");
    assert!(stats.quota_pauses >= 1, "{stats:?}");
}

#[tokio::test]
async fn concurrency_refusals_are_absorbed_by_sending_fewer_at_once() {
    let knobs = Knobs { throttling: true, exchange_max_concurrency: Some(1), latency_ms: 200, ..Knobs::default() };
    let sandbox = common::start(knobs).await;
    let (client, _) = common::client_with(&sandbox, ExchangeConfig { max_attempts: 8, ..common::config(&sandbox) });
    read_concurrently(&client, 4).await;
    let stats = client.stats();
    assert!(stats.throttled >= 1, "four at once overran a limit of one: {stats:?}");
    assert_eq!(stats.throttled, sandbox.state().knobs.stats().exchange_throttled_requests);
}

#[tokio::test]
async fn a_refused_token_is_replaced_once() {
    let sandbox = common::start(Knobs::default()).await;
    let (client, tokens) = common::client_with(&sandbox, common::config(&sandbox));
    *tokens.stale.lock().expect("lock") = Some("expired-token".into());
    assert!(client.get_mailbox(common::ALEX).await.expect("read with a fresh token").is_some());
    assert_eq!(tokens.fetched.load(std::sync::atomic::Ordering::Relaxed), 1);
    let stats = client.stats();
    assert_eq!((stats.requests, stats.retries), (2, 1));
}
