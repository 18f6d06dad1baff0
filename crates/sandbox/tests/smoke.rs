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
