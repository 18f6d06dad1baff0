//! The realism knobs on the Exchange admin API: injected failures in Exchange's error shape, the request
//! quota with its `Rate-Limit-*` headers and 429, the per-tenant concurrency cap, and latency.

mod common;
mod exchange_api;

use exchange_api::ExchangeApi;
use sandbox::knobs::{FaultRule, Knobs};
use serde_json::json;

async fn start(knobs: Knobs) -> ExchangeApi {
    ExchangeApi::start_with(sandbox::Sandbox::builder().knobs(knobs)).await
}

#[tokio::test]
async fn a_planned_failure_answers_in_exchanges_shape_with_retry_after() {
    let rule = FaultRule {
        method: Some("POST".into()),
        path_prefix: "/adminapi/".into(),
        nth: Some(1),
        status: Some(503),
        retry_after_seconds: Some(7),
        ..FaultRule::default()
    };
    let api = start(Knobs { fault_plan: vec![rule], ..Knobs::default() }).await;
    let failed = api.invoke(&api.app(), "Get-Mailbox", json!({})).await;
    assert_eq!(failed.status, 503, "{}", failed.body);
    assert_eq!(failed.headers["retry-after"], "7");
    assert!(failed.body["error"]["code"].is_string(), "{}", failed.body);
    let retried = api.invoke(&api.app(), "Get-Mailbox", json!({})).await;
    assert_eq!(retried.status, 200, "only the first request fails: {}", retried.body);
    assert_eq!(api.sandbox.state().knobs.stats().injected_errors, 1);
}

#[tokio::test]
async fn the_request_quota_counts_down_and_then_answers_429_until_the_window_resets() {
    let api = start(Knobs { throttling: true, exchange_request_quota: Some(3), ..Knobs::default() }).await;
    let token = api.app();
    for remaining in ["2", "1", "0"] {
        let reply = api.invoke(&token, "Get-Mailbox", json!({"ResultSize": 1})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.headers["rate-limit-limit"], "3");
        assert_eq!(reply.headers["rate-limit-remaining"], remaining);
        assert!(reply.headers["rate-limit-reset"].to_str().unwrap().ends_with('Z'));
    }
    let throttled = api.invoke(&token, "Get-Mailbox", json!({"ResultSize": 1})).await;
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert_eq!(throttled.code(), "TooManyRequests");
    let wait: u64 = throttled.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&wait), "Retry-After {wait}");
    assert_eq!(throttled.headers["rate-limit-remaining"], "0");
    let delegated = api.invoke(&api.service_account(), "Get-Mailbox", json!({"ResultSize": 1})).await;
    assert_eq!(delegated.status, 200, "the quota is per app: {}", delegated.body);
    assert_eq!(api.sandbox.state().knobs.stats().exchange_throttled_requests, 1);
}

#[tokio::test]
async fn requests_over_the_tenants_concurrency_cap_get_the_plain_text_429() {
    // Latency is spent while the request holds its slot, so two requests sent together overlap.
    let knobs = Knobs { throttling: true, exchange_max_concurrency: Some(1), latency_ms: 1_500, ..Knobs::default() };
    let api = start(knobs).await;
    let token = api.app();
    let (first, second) = tokio::join!(
        api.invoke(&token, "Get-Mailbox", json!({"ResultSize": 1})),
        api.invoke(&token, "Get-Mailbox", json!({"ResultSize": 1})),
    );
    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 429]);
    let refused = if first.status == 429 { &first } else { &second };
    assert_eq!(
        refused.body,
        json!("You have reached the maximum number of concurrent requests per tenant. Please wait and try again")
    );
    assert_eq!(refused.headers["retry-after"], "1");
    let later = api.invoke(&token, "Get-Mailbox", json!({"ResultSize": 1})).await;
    assert_eq!(later.status, 200, "the slot is given back: {}", later.body);
}

#[tokio::test]
async fn a_group_created_in_exchange_reaches_graph_after_the_replication_delay() {
    let api = start(Knobs { replication_delay_ms: 60_000, ..Knobs::default() }).await;
    let created = api.invoke(&api.service_account(), "New-DistributionGroup", json!({"Name": "Night Shift"})).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["value"][0]["ExternalDirectoryObjectId"].as_str().expect("id").to_string();
    let exchange_sees = api.invoke(&api.app(), "Get-DistributionGroup", json!({"Identity": "Night Shift"})).await;
    assert_eq!(exchange_sees.status, 200, "Exchange sees its own group at once: {}", exchange_sees.body);

    let graph_get = || async {
        let url = format!("{}/v1.0/groups/{id}", api.sandbox.https_base());
        let token = common::tenure_app_token(&api.sandbox);
        api.client.get(url).bearer_auth(token).send().await.expect("Graph request").status().as_u16()
    };
    assert_eq!(graph_get().await, 404, "not replicated to Graph yet");
    api.sandbox.state().clock.advance(chrono::Duration::seconds(61));
    assert_eq!(graph_get().await, 200, "replicated after the delay");
}
