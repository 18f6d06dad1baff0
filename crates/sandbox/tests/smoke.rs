//! The sandbox starts, serves HTTPS and HTTP on one port, and renders Graph errors in Graph's envelope.

mod common;

#[tokio::test]
async fn graph_without_a_token_is_a_401_in_graphs_envelope_over_https_and_http() {
    let sandbox = common::start().await;
    let client = common::client(&sandbox);
    for base in [sandbox.https_base(), sandbox.http_base()] {
        let response = client
            .get(format!("{base}/v1.0/users"))
            .header("client-request-id", "abc-123")
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body: serde_json::Value = response.json().await.expect("json body");
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
        assert_eq!(body["error"]["message"], "Access token is empty.");
        assert!(headers.contains_key("www-authenticate"));
        assert_eq!(headers["client-request-id"], "abc-123");
        assert!(headers.contains_key("request-id"));
        assert_eq!(body["error"]["innerError"]["client-request-id"], "abc-123");
    }
}

#[tokio::test]
async fn an_unknown_graph_segment_is_named_in_graphs_bad_request() {
    let sandbox = common::start().await;
    let token = common::tenure_app_token(&sandbox);
    let response = common::client(&sandbox)
        .get(format!("{}/v1.0/nope", sandbox.https_base()))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.expect("json body");
    assert_eq!(body["error"]["code"], "BadRequest");
    assert_eq!(body["error"]["message"], "Resource not found for the segment 'nope'.");
}
