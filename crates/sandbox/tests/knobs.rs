//! The realism knobs over real HTTPS: Graph identity throttling (429 with Graph's headers, recovery as the
//! sandbox clock refills the bucket), seeded fault injection, the fault plan, dropped connections,
//! replication delay and latency.

mod common;

use chrono::Duration;
use reqwest::StatusCode;
use sandbox::knobs::{FaultRule, Knobs};
use sandbox::{RunningSandbox, Sandbox};
use serde_json::{Value, json};

async fn start_with(knobs: Knobs) -> (RunningSandbox, reqwest::Client) {
    let sandbox = common::start_with(Sandbox::builder().knobs(knobs)).await;
    let client = common::client(&sandbox);
    (sandbox, client)
}

fn users_delta(sandbox: &RunningSandbox) -> String {
    format!("{}/v1.0/users/delta", sandbox.https_base())
}

fn read_token(sandbox: &RunningSandbox) -> String {
    common::app_token(sandbox, &["User.Read.All"])
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let response = client.get(url).bearer_auth(token).send().await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn throttling_answers_429_with_graphs_headers_and_recovers_as_the_bucket_refills() {
    // 10 resource units per 10 s: five `GET users/delta` (2 RU each), then the bucket is dry.
    let knobs = Knobs { throttling: true, resource_unit_quota: Some(10), ..Knobs::default() };
    let (sandbox, client) = start_with(knobs).await;
    let token = read_token(&sandbox);
    let url = users_delta(&sandbox);
    for attempt in 1..=5 {
        let (status, headers, _) = get(&client, &url, &token).await;
        assert_eq!(status, StatusCode::OK, "request {attempt}");
        assert_eq!(headers["x-ms-resource-unit"], "2");
        if attempt == 5 {
            assert!(headers.contains_key("x-ms-throttle-limit-percentage"), "usage above 80% is announced");
        }
        if attempt == 1 {
            assert!(!headers.contains_key("x-ms-throttle-limit-percentage"));
        }
    }
    let (status, headers, body) = get(&client, &url, &token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert_eq!(body["error"]["message"], "Too many requests.");
    assert!(body["error"]["innerError"]["request-id"].is_string(), "Graph's envelope");
    assert_eq!(headers["retry-after"], "2", "2 RU at 1 RU/s");
    assert_eq!(
        headers["x-ms-throttle-scope"],
        format!("Tenant_Application/ReadWrite/{}/{}", common::CONTOSO_APP, common::CONTOSO).as_str()
    );
    assert_eq!(headers["x-ms-throttle-information"], "ResourceUnitLimitExceeded");

    // Another app in the same tenant has its own bucket.
    let other_app = common::user_token(&sandbox, common::ADELE, &["User.Read.All"]);
    assert_eq!(get(&client, &url, &other_app).await.0, StatusCode::OK);

    sandbox.state().clock.advance(Duration::seconds(2));
    assert_eq!(get(&client, &url, &token).await.0, StatusCode::OK, "refilled after Retry-After");
    assert_eq!(sandbox.state().knobs.stats().throttled_requests, 1);
}

#[tokio::test]
async fn writes_have_their_own_bucket_and_unauthenticated_requests_are_not_metered() {
    let knobs =
        Knobs { throttling: true, app_tenant_write_quota: Some(1), resource_unit_quota: Some(2), ..Knobs::default() };
    let (sandbox, client) = start_with(knobs).await;
    for _ in 0..5 {
        let response = client.get(users_delta(&sandbox)).send().await.expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let token = common::tenure_app_token(&sandbox);
    let patch = |client: &reqwest::Client| {
        client
            .patch(format!("{}/v1.0/users/{}", sandbox.https_base(), common::ADELE))
            .bearer_auth(&token)
            .json(&json!({"jobTitle": "Throttled"}))
            .send()
    };
    assert_eq!(patch(&client).await.expect("patch").status(), StatusCode::NO_CONTENT);
    let refused = patch(&client).await.expect("patch");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["x-ms-throttle-information"], "WriteLimitExceeded");
    assert_eq!(
        refused.headers()["x-ms-throttle-scope"],
        format!("Tenant_Application/Write/{}/{}", common::CONTOSO_APP, common::CONTOSO).as_str()
    );
}

/// The statuses of 40 `GET users/delta` against a fresh sandbox with these knobs.
async fn statuses_with(knobs: Knobs) -> Vec<u16> {
    let (sandbox, client) = start_with(knobs).await;
    let token = read_token(&sandbox);
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let (status, headers, body) = get(&client, &users_delta(&sandbox), &token).await;
        match status.as_u16() {
            503 => {
                assert_eq!(body["error"]["code"], "serviceNotAvailable");
                assert_eq!(headers["retry-after"], "1");
            }
            500 => assert_eq!(body["error"]["code"], "generalException"),
            504 => assert_eq!(body["error"]["code"], "gatewayTimeout"),
            200 => {}
            other => panic!("unexpected status {other}: {body}"),
        }
        statuses.push(status.as_u16());
    }
    statuses
}

#[tokio::test]
async fn the_same_seed_injects_the_same_faults_in_the_same_order() {
    let knobs = Knobs { seed: 42, error_rate: 0.4, ..Knobs::default() };
    let first = statuses_with(knobs.clone()).await;
    let second = statuses_with(knobs.clone()).await;
    assert_eq!(first, second);
    assert!(first.contains(&200) && first.iter().any(|status| *status >= 500), "{first:?}");
    let other_seed = statuses_with(Knobs { seed: 43, ..knobs }).await;
    assert_ne!(first, other_seed, "another seed, another sequence");
}

#[tokio::test]
async fn the_fault_plan_answers_the_nth_request_and_throttles_inside_a_window() {
    let knobs = Knobs {
        fault_plan: vec![
            FaultRule {
                method: Some("GET".into()),
                path_prefix: "/v1.0/users/delta".into(),
                nth: Some(3),
                status: Some(503),
                ..FaultRule::default()
            },
            FaultRule {
                path_prefix: "/v1.0/groups".into(),
                from_ms: Some(1_000),
                to_ms: Some(3_000),
                throttle: true,
                retry_after_seconds: Some(2),
                ..FaultRule::default()
            },
        ],
        ..Knobs::default()
    };
    let (sandbox, client) = start_with(knobs).await;
    let token = common::app_token(&sandbox, &["User.Read.All", "Group.Read.All"]);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(get(&client, &users_delta(&sandbox), &token).await.0.as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 503, 200]);

    let groups = format!("{}/v1.0/groups/delta", sandbox.https_base());
    assert_eq!(get(&client, &groups, &token).await.0, StatusCode::OK, "before the window");
    sandbox.state().clock.advance(Duration::milliseconds(1_500));
    let (status, headers, body) = get(&client, &groups, &token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "2");
    assert_eq!(body["error"]["code"], "TooManyRequests");
    sandbox.state().clock.advance(Duration::seconds(2));
    assert_eq!(get(&client, &groups, &token).await.0, StatusCode::OK, "after the window");
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_for_the_client() {
    let (sandbox, client) = start_with(Knobs { drop_rate: 1.0, ..Knobs::default() }).await;
    let token = read_token(&sandbox);
    let outcome = match client.get(users_delta(&sandbox)).bearer_auth(&token).send().await {
        Err(error) => Err(error),
        Ok(response) => response.bytes().await.map(|_| ()),
    };
    let error = outcome.expect_err("the connection is dropped");
    assert!(!error.is_status(), "a transport error, not an HTTP status: {error}");
    assert_eq!(sandbox.state().knobs.stats().dropped_connections, 1);

    // The sandbox admin API is never affected.
    let health = client.get(format!("{}/_sandbox/health", sandbox.https_base())).send().await.expect("health");
    assert_eq!(health.status(), StatusCode::OK);

    sandbox.state().knobs.set(Knobs::default());
    assert_eq!(get(&client, &users_delta(&sandbox), &token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_write_whose_connection_is_dropped_still_happened() {
    let rule = FaultRule {
        method: Some("POST".into()),
        path_prefix: "/v1.0/users".into(),
        nth: Some(1),
        drop: true,
        ..FaultRule::default()
    };
    let (sandbox, client) = start_with(Knobs { fault_plan: vec![rule], ..Knobs::default() }).await;
    let token = common::tenure_app_token(&sandbox);
    let create = client
        .post(format!("{}/v1.0/users", sandbox.https_base()))
        .bearer_auth(&token)
        .json(&json!({
            "accountEnabled": true, "displayName": "Lost Answer", "mailNickname": "lost.answer",
            "userPrincipalName": "lost.answer@contoso.com", "passwordProfile": {"password": "Sandbox!Pass1-long"},
        }))
        .send()
        .await;
    let outcome = match create {
        Err(error) => Err(error),
        Ok(response) => response.bytes().await.map(|_| ()),
    };
    assert!(outcome.is_err(), "the client never sees the answer");
    let url = format!("{}/v1.0/users/lost.answer@contoso.com", sandbox.https_base());
    assert_eq!(get(&client, &url, &token).await.0, StatusCode::OK, "but the user was created");
}

#[tokio::test]
async fn a_new_user_answers_404_until_the_replication_delay_has_passed() {
    let (sandbox, client) = start_with(Knobs { replication_delay_ms: 5_000, ..Knobs::default() }).await;
    let token = common::tenure_app_token(&sandbox);
    let created = client
        .post(format!("{}/v1.0/users", sandbox.https_base()))
        .bearer_auth(&token)
        .json(&json!({
            "accountEnabled": true, "displayName": "Fresh", "mailNickname": "fresh",
            "userPrincipalName": "fresh@contoso.com", "passwordProfile": {"password": "Sandbox!Pass1-long"},
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), StatusCode::CREATED, "the creating response returns the object");
    let body: Value = created.json().await.expect("json");
    let url = format!("{}/v1.0/users/{}", sandbox.https_base(), body["id"].as_str().expect("id"));
    let (status, _, body) = get(&client, &url, &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "Request_ResourceNotFound");
    sandbox.state().clock.advance(Duration::milliseconds(5_001));
    assert_eq!(get(&client, &url, &token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn latency_delays_graph_requests_but_not_the_admin_api() {
    let (sandbox, client) = start_with(Knobs { latency_ms: 25, ..Knobs::default() }).await;
    let token = read_token(&sandbox);
    for _ in 0..3 {
        assert_eq!(get(&client, &users_delta(&sandbox), &token).await.0, StatusCode::OK);
    }
    let stats = sandbox.state().knobs.stats();
    assert_eq!((stats.delayed_requests, stats.total_delay_ms), (3, 75));
    let health = client.get(format!("{}/_sandbox/health", sandbox.https_base())).send().await.expect("health");
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(sandbox.state().knobs.stats().delayed_requests, 3, "the admin API is not delayed");

    // Jitter is drawn from the seeded source: the same seed gives the same total delay.
    let jittered = Knobs { seed: 5, jitter_ms: 20, ..Knobs::default() };
    let mut totals = Vec::new();
    for _ in 0..2 {
        let (sandbox, client) = start_with(jittered.clone()).await;
        let token = read_token(&sandbox);
        for _ in 0..3 {
            get(&client, &users_delta(&sandbox), &token).await;
        }
        totals.push(sandbox.state().knobs.stats().total_delay_ms);
    }
    assert_eq!(totals[0], totals[1]);
}

#[tokio::test]
async fn knobs_are_read_and_replaced_through_the_admin_api() {
    let (sandbox, client) = start_with(Knobs::default()).await;
    let url = format!("{}/_sandbox/knobs", sandbox.https_base());
    let put = client
        .put(&url)
        .json(&json!({"seed": 3, "error_rate": 1.0, "error_statuses": [500]}))
        .send()
        .await
        .expect("put knobs");
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    let knobs: Value = client.get(&url).send().await.expect("get knobs").json().await.expect("json");
    assert_eq!(knobs["error_statuses"], json!([500]));
    let token = read_token(&sandbox);
    assert_eq!(get(&client, &users_delta(&sandbox), &token).await.0, StatusCode::INTERNAL_SERVER_ERROR);

    let refused = client.put(&url).json(&json!({"error_rate": 2.0})).send().await.expect("put knobs");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let unknown = client.put(&url).json(&json!({"latency": 5})).send().await.expect("put knobs");
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
}
