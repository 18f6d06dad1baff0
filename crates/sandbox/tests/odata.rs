//! Graph's OData query options over real HTTPS on `/users` and `/groups`: `$filter` results, `$select`
//! projection, advanced queries with `ConsistencyLevel: eventual`, and the exact error envelopes for each rule.

mod common;

use sandbox::RunningSandbox;
use serde_json::Value;

struct Reply {
    status: u16,
    body: Value,
}

impl Reply {
    #[track_caller]
    fn assert_error(&self, code: &str, message: &str) {
        assert_eq!(self.status, 400, "{}", self.body);
        assert_eq!(self.body["error"]["code"], code, "{}", self.body);
        assert_eq!(self.body["error"]["message"], message, "{}", self.body);
        assert!(self.body["error"]["innerError"]["request-id"].is_string(), "{}", self.body);
    }

    /// The `displayName`s of the returned objects, sorted.
    fn names(&self) -> Vec<String> {
        assert_eq!(self.status, 200, "{}", self.body);
        let mut names: Vec<String> = self.body["value"]
            .as_array()
            .expect("a collection")
            .iter()
            .filter_map(|item| item["displayName"].as_str().map(str::to_string))
            .collect();
        names.sort();
        names
    }
}

async fn get(sandbox: &RunningSandbox, path_and_query: &str, eventual: bool) -> Reply {
    let client = common::client(sandbox);
    let mut request = client
        .get(format!("{}/v1.0{path_and_query}", sandbox.https_base()))
        .bearer_auth(common::tenure_app_token(sandbox));
    if eventual {
        request = request.header("ConsistencyLevel", "eventual");
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Reply { status, body }
}

#[tokio::test]
async fn filters_select_the_matching_users() {
    let sandbox = common::start().await;
    let reply = get(&sandbox, "/users?$filter=startswith(displayName,'a')", false).await;
    assert_eq!(reply.names(), ["Adele Vance", "Alex Wilber"]);
    let reply = get(&sandbox, "/users?$filter=department eq 'MARKETING' and not(jobTitle eq 'x')", false).await;
    reply.assert_error("Request_UnsupportedQuery", "Filter operator 'Not' is not supported.");
    let reply = get(&sandbox, "/users?%24filter=department%20eq%20%27marketing%27", false).await;
    assert_eq!(reply.names(), ["Alex Wilber", "Megan Bowen"]);
    let reply = get(
        &sandbox,
        "/users?$filter=userPrincipalName in ('adele.vance@contoso.com','MEGAN.BOWEN@contoso.com')",
        false,
    )
    .await;
    assert_eq!(reply.names(), ["Adele Vance", "Megan Bowen"]);
}

#[tokio::test]
async fn advanced_queries_need_the_header_and_count() {
    let sandbox = common::start().await;
    let ends_with = "Operator 'endsWith' is not supported because the required parameters might be missing. Try \
                     adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to \
                     https://aka.ms/graph-docs/advanced-queries for more information";
    let path = "/users?$filter=endswith(userPrincipalName,'.vance@contoso.com')";
    get(&sandbox, path, false).await.assert_error("Request_UnsupportedQuery", ends_with);
    get(&sandbox, path, true).await.assert_error("Request_UnsupportedQuery", ends_with);
    let reply = get(&sandbox, &format!("{path}&$count=true"), true).await;
    assert_eq!(reply.names(), ["Adele Vance"]);
    assert_eq!(reply.body["@odata.count"], 1, "{}", reply.body);

    let reply = get(&sandbox, "/users?$filter=accountEnabled ne false&$count=true", false).await;
    reply.assert_error("Request_UnsupportedQuery", "Filter operator 'NotEqualsMatch' is not supported.");
    get(&sandbox, "/users?$search=\"displayName:wil\"", false).await.assert_error(
        "Request_UnsupportedQuery",
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
    );
    get(&sandbox, "/users?$filter=startswith(displayName,'a')&$orderby=displayName", false)
        .await
        .assert_error("Request_UnsupportedQuery", "Sorting not supported for current query.");
}

#[tokio::test]
async fn query_option_errors_have_graphs_envelope() {
    let sandbox = common::start().await;
    get(&sandbox, "/users?$top=1000", false).await.assert_error(
        "Request_UnsupportedQuery",
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    );
    get(&sandbox, "/users?$skip=5", false)
        .await
        .assert_error("Request_BadRequest", "'$skip' is not supported by the service.");
    get(&sandbox, "/users?$select=displayName,notAProperty", false).await.assert_error(
        "Request_BadRequest",
        "Could not find a property named 'notAProperty' on type 'microsoft.graph.user'.",
    );
    get(&sandbox, "/users?$filter=displayName eq 'x", false).await.assert_error(
        "BadRequest",
        "Invalid filter clause: There is an unterminated string literal at position 17 in 'displayName eq 'x'.",
    );
    get(&sandbox, "/users?$filter=aboutMe eq 'x'", false).await.assert_error(
        "Request_UnsupportedQuery",
        "Unsupported or invalid query filter clause specified for property 'aboutMe' of resource 'User'.",
    );
    get(&sandbox, "/users?$foo=bar", false)
        .await
        .assert_error("Request_BadRequest", "Unrecognized query argument specified: '$foo'.");
    get(&sandbox, "/groups?$filter=createdDateTime ge 2021-11-01&$count=true", true).await.assert_error(
        "Request_UnsupportedQuery",
        "Unsupported or invalid query filter clause specified for property 'createdDateTime' of resource 'Group'.",
    );
}

#[tokio::test]
async fn select_projects_schema_properties() {
    let sandbox = common::start().await;
    let reply = get(&sandbox, &format!("/users/{}?$select=DISPLAYNAME,aboutMe", common::ADELE), false).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["displayName"], "Adele Vance");
    assert!(reply.body.get("aboutMe").is_some_and(Value::is_null), "{}", reply.body);
    // Graph returns exactly what was selected: not even `id` unless asked for.
    assert!(reply.body.get("id").is_none(), "{}", reply.body);
    assert!(reply.body.get("userPrincipalName").is_none(), "{}", reply.body);
}

#[tokio::test]
async fn group_filters() {
    let sandbox = common::start().await;
    let unified = get(&sandbox, "/groups?$filter=groupTypes/any(c:c eq 'unified')", false).await;
    let security = get(&sandbox, "/groups?$filter=securityEnabled eq true and mailEnabled eq false", false).await;
    let all = get(&sandbox, "/groups", false).await.names();
    let (unified, security) = (unified.names(), security.names());
    assert!(!unified.is_empty() && !security.is_empty(), "{unified:?} {security:?}");
    assert!(unified.iter().all(|name| !security.contains(name)), "{unified:?} {security:?}");
    assert!(unified.iter().chain(&security).all(|name| all.contains(name)));
}
