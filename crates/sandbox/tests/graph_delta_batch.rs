//! Delta queries (`/users/delta`, `/groups/delta`) and JSON batching (`/$batch`) over real HTTPS: paging and
//! delta links, every kind of change a sync must see, membership deltas, token expiry and tampering, and the
//! batch rules (validation, dependencies, per-request authorisation and throttling).

mod common;

use std::collections::HashMap;

use chrono::Duration;
use reqwest::StatusCode;
use sandbox::RunningSandbox;
use sandbox::directory::group::Group;
use sandbox::directory::user::User;
use sandbox::knobs::Knobs;
use serde_json::{Value, json};
use uuid::Uuid;

const READ_ALL: &[&str] = &["User.Read.All", "Group.Read.All"];

struct Harness {
    sandbox: RunningSandbox,
    client: reqwest::Client,
}

impl Harness {
    async fn start() -> Harness {
        let sandbox = common::start().await;
        let client = common::client(&sandbox);
        Harness { sandbox, client }
    }

    fn token(&self) -> String {
        common::app_token(&self.sandbox, READ_ALL)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1.0{path}", self.sandbox.https_base())
    }

    async fn get(&self, url: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        self.get_with(url, &self.token()).await
    }

    async fn get_with(&self, url: &str, token: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let response = self.client.get(url).bearer_auth(token).send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, headers, body)
    }

    /// Follows nextLinks to the end of a round; returns every entry and the deltaLink.
    async fn round(&self, url: &str) -> (Vec<Value>, String) {
        let mut entries = Vec::new();
        let mut url = url.to_string();
        loop {
            let (status, _, body) = self.get(&url).await;
            assert_eq!(status, StatusCode::OK, "{url}: {body}");
            entries.extend(body["value"].as_array().cloned().unwrap_or_default());
            if let Some(next) = body["@odata.nextLink"].as_str() {
                assert!(body.get("@odata.deltaLink").is_none());
                url = next.to_string();
                continue;
            }
            let delta_link = body["@odata.deltaLink"].as_str().expect("a round ends with a deltaLink").to_string();
            return (entries, delta_link);
        }
    }

    fn insert_user(&self, upn: &str) -> Uuid {
        let id = Uuid::new_v4();
        let tenant = self.sandbox.tenant(common::CONTOSO).expect("contoso");
        let user = User::new(id, upn, upn, "Sandbox!Pass1", self.sandbox.state().clock.now());
        tenant.write().insert_user(user);
        id
    }

    fn insert_group(&self, name: &str, members: &[Uuid]) -> Uuid {
        let id = Uuid::new_v4();
        let mut group =
            Group::new_security(id, name, &name.to_lowercase().replace(' ', "-"), self.sandbox.state().clock.now());
        group.members = members.iter().copied().collect();
        self.sandbox.tenant(common::CONTOSO).expect("contoso").write().insert_group(group);
        id
    }
}

/// Writes through Graph itself, with the full-power app token.
impl Harness {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let token = common::tenure_app_token(&self.sandbox);
        let mut request = self.client.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn create_user(&self, nickname: &str) -> Uuid {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/users",
                Some(json!({
                    "accountEnabled": true,
                    "displayName": nickname,
                    "mailNickname": nickname,
                    "userPrincipalName": format!("{nickname}@contoso.com"),
                    "passwordProfile": {"password": "Sandbox!Pass1-long", "forceChangePasswordNextSignIn": false},
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Uuid::parse_str(body["id"].as_str().expect("id")).expect("uuid")
    }

    async fn expect(&self, method: reqwest::Method, path: &str, body: Option<Value>, expected: StatusCode) {
        let (status, answer) = self.send(method, path, body).await;
        assert_eq!(status, expected, "{path}: {answer}");
    }

    async fn create_group(&self, name: &str) -> Uuid {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/groups",
                Some(json!({"displayName": name, "mailEnabled": false, "mailNickname": name.replace(' ', "-"),
                            "securityEnabled": true})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Uuid::parse_str(body["id"].as_str().expect("id")).expect("uuid")
    }

    async fn add_member(&self, group: Uuid, member: Uuid) {
        let reference = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{member}")});
        self.expect(
            reqwest::Method::POST,
            &format!("/groups/{group}/members/$ref"),
            Some(reference),
            StatusCode::NO_CONTENT,
        )
        .await;
    }
}

fn ids(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|entry| entry["id"].as_str().expect("every entry has an id").to_string()).collect()
}

fn by_id(entries: &[Value]) -> HashMap<String, Value> {
    entries.iter().map(|entry| (entry["id"].as_str().unwrap_or_default().to_string(), entry.clone())).collect()
}

#[tokio::test]
async fn the_first_round_pages_through_every_user_in_id_order_and_ends_with_a_delta_link() {
    let harness = Harness::start().await;
    for index in 0..450 {
        harness.insert_user(&format!("bulk{index}@contoso.com"));
    }
    let (status, _, first) = harness.get(&harness.url("/users/delta")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["value"].as_array().map(Vec::len), Some(200));
    let next = first["@odata.nextLink"].as_str().expect("first page links to the next");
    assert!(next.starts_with(&format!("{}/v1.0/users/delta?$skiptoken=", harness.sandbox.https_base())), "{next}");
    assert_eq!(first["@odata.context"], format!("{}/v1.0/$metadata#users", harness.sandbox.https_base()));

    let (entries, delta_link) = harness.round(&harness.url("/users/delta")).await;
    let seen = ids(&entries);
    let mut sorted = seen.clone();
    sorted.sort_by_key(|id| Uuid::parse_str(id).expect("uuid"));
    sorted.dedup();
    assert_eq!(seen, sorted, "every user once, in id order");
    assert_eq!(seen.len(), 456, "450 new users and the 6 sample users");
    assert!(delta_link.starts_with(&format!("{}/v1.0/users/delta?$deltatoken=", harness.sandbox.https_base())));

    // Without changes, the next round is empty and hands out another deltaLink.
    let (status, _, body) = harness.get(&delta_link).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["value"], json!([]));
    assert!(body["@odata.deltaLink"].is_string());
}

#[tokio::test]
async fn later_rounds_report_exactly_the_creates_updates_deletions_purges_and_restores() {
    let harness = Harness::start().await;
    let updated = harness.create_user("updated").await;
    let soft_deleted = harness.create_user("soft").await;
    let purged = harness.create_user("purged").await;
    let (first, delta_link) = harness.round(&harness.url("/users/delta?$select=displayName,jobTitle")).await;
    assert!(ids(&first).contains(&updated.to_string()));
    assert!(first.iter().all(|entry| entry.get("userPrincipalName").is_none()), "the $select is honoured");

    let created = harness.create_user("created").await;
    let patch = Some(json!({"jobTitle": "Engineer"}));
    harness.expect(reqwest::Method::PATCH, &format!("/users/{updated}"), patch, StatusCode::NO_CONTENT).await;
    harness.expect(reqwest::Method::DELETE, &format!("/users/{soft_deleted}"), None, StatusCode::NO_CONTENT).await;
    harness.expect(reqwest::Method::DELETE, &format!("/users/{purged}"), None, StatusCode::NO_CONTENT).await;
    let purge = format!("/directory/deletedItems/{purged}");
    harness.expect(reqwest::Method::DELETE, &purge, None, StatusCode::NO_CONTENT).await;

    let (changes, delta_link) = harness.round(&delta_link).await;
    let changes = by_id(&changes);
    assert_eq!(changes.len(), 4, "{changes:?}");
    assert_eq!(changes[&created.to_string()]["displayName"], "created");
    assert_eq!(changes[&updated.to_string()]["jobTitle"], "Engineer");
    assert!(changes[&updated.to_string()].get("userPrincipalName").is_none(), "the $select travels in the token");
    assert_eq!(
        changes[&soft_deleted.to_string()],
        json!({"id": soft_deleted.to_string(), "@removed": {"reason": "changed"}})
    );
    assert_eq!(changes[&purged.to_string()], json!({"id": purged.to_string(), "@removed": {"reason": "deleted"}}));

    let restore = format!("/directory/deletedItems/{soft_deleted}/restore");
    let (status, body) = harness.send(reqwest::Method::POST, &restore, None).await;
    assert!(status.is_success(), "{status} {body}");
    let (changes, delta_link) = harness.round(&delta_link).await;
    assert_eq!(ids(&changes), vec![soft_deleted.to_string()]);
    assert_eq!(changes[0]["displayName"], "soft");
    assert!(changes[0].get("@removed").is_none());

    let (changes, _) = harness.round(&delta_link).await;
    assert!(changes.is_empty(), "nothing changed since: {changes:?}");
}

#[tokio::test]
async fn group_delta_tracks_member_additions_and_removals() {
    let harness = Harness::start().await;
    let first_member = harness.create_user("first.member").await;
    let second_member = harness.create_user("second.member").await;
    let group = harness.create_group("Delta Group").await;
    harness.add_member(group, first_member).await;
    let empty = harness.insert_group("Empty Group", &[]);

    let (first, delta_link) = harness.round(&harness.url("/groups/delta?$select=displayName,members")).await;
    let first = by_id(&first);
    assert_eq!(
        first[&group.to_string()]["members@delta"],
        json!([{"@odata.type": "#microsoft.graph.user", "id": first_member.to_string()}])
    );
    assert!(first[&empty.to_string()].get("members@delta").is_none(), "no members, no annotation");
    assert!(first[&group.to_string()].get("mailNickname").is_none());

    harness.add_member(group, second_member).await;
    let remove = format!("/groups/{group}/members/{first_member}/$ref");
    harness.expect(reqwest::Method::DELETE, &remove, None, StatusCode::NO_CONTENT).await;
    let (changes, _) = harness.round(&delta_link).await;
    assert_eq!(ids(&changes), vec![group.to_string()]);
    let mut members = changes[0]["members@delta"].as_array().cloned().expect("members@delta");
    members.sort_by_key(|entry| entry["id"].as_str().map(str::to_string));
    let mut expected = vec![
        json!({"@odata.type": "#microsoft.graph.user", "id": first_member.to_string(), "@removed": {"reason": "deleted"}}),
        json!({"@odata.type": "#microsoft.graph.user", "id": second_member.to_string()}),
    ];
    expected.sort_by_key(|entry| entry["id"].as_str().map(str::to_string));
    assert_eq!(members, expected);

    // Without $select, members are tracked too (Graph's default for groups/delta).
    let (all, _) = harness.round(&harness.url("/groups/delta")).await;
    let all = by_id(&all);
    assert_eq!(all[&group.to_string()]["members@delta"].as_array().map(Vec::len), Some(1));
    assert_eq!(all[&group.to_string()]["displayName"], "Delta Group");
}

/// One page of a later round with `Prefer: return=minimal` (the sandbox fits these rounds on one page).
impl Harness {
    async fn minimal_round(&self, delta_link: &str) -> (reqwest::header::HeaderMap, Vec<Value>) {
        let response = self
            .client
            .get(delta_link)
            .bearer_auth(self.token())
            .header("Prefer", "return=minimal")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        let body: Value = response.json().await.expect("json");
        assert!(body["@odata.deltaLink"].is_string(), "{body}");
        (headers, body["value"].as_array().cloned().unwrap_or_default())
    }

    async fn set_manager(&self, user: Uuid, manager: Uuid) {
        let reference = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{manager}")});
        let path = format!("/users/{user}/manager/$ref");
        self.expect(reqwest::Method::PUT, &path, Some(reference), StatusCode::NO_CONTENT).await;
    }
}

fn preference_applied(headers: &reqwest::header::HeaderMap) -> Option<&str> {
    headers.get("preference-applied").and_then(|value| value.to_str().ok())
}

#[tokio::test]
async fn return_minimal_shows_only_the_changed_properties_of_an_updated_user() {
    let harness = Harness::start().await;
    let updated = harness.create_user("minimal.user").await;
    let (_, delta_link) = harness.round(&harness.url("/users/delta")).await;

    let patch = Some(json!({"jobTitle": "Engineer"}));
    harness.expect(reqwest::Method::PATCH, &format!("/users/{updated}"), patch, StatusCode::NO_CONTENT).await;
    let created = harness.create_user("minimal.created").await;

    let (headers, changes) = harness.minimal_round(&delta_link).await;
    assert_eq!(preference_applied(&headers), Some("return=minimal"));
    let changes = by_id(&changes);
    assert_eq!(changes[&updated.to_string()], json!({"id": updated.to_string(), "jobTitle": "Engineer"}));
    assert_eq!(changes[&created.to_string()]["userPrincipalName"], "minimal.created@contoso.com", "created: whole");

    // The same round without the preference: the full default property set, and no Preference-Applied.
    let (status, headers, body) = harness.get(&delta_link).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(preference_applied(&headers), None);
    let changes = by_id(body["value"].as_array().expect("value"));
    let entry = &changes[&updated.to_string()];
    assert_eq!(entry["jobTitle"], "Engineer");
    assert_eq!(entry["displayName"], "minimal.user");
    assert_eq!(entry["userPrincipalName"], "minimal.user@contoso.com");

    // A changed property outside the sync's property set is not shown; the first round ignores the preference.
    let response = harness
        .client
        .get(harness.url("/users/delta?$select=displayName"))
        .bearer_auth(harness.token())
        .header("Prefer", "return=minimal")
        .send()
        .await
        .expect("request");
    assert_eq!(preference_applied(response.headers()), None, "not on the first round");
    let body: Value = response.json().await.expect("json");
    let delta_link = body["@odata.deltaLink"].as_str().expect("one page").to_string();
    let patch = Some(json!({"department": "Research"}));
    harness.expect(reqwest::Method::PATCH, &format!("/users/{updated}"), patch, StatusCode::NO_CONTENT).await;
    let (_, changes) = harness.minimal_round(&delta_link).await;
    assert_eq!(changes, vec![json!({"id": updated.to_string()})]);
}

#[tokio::test]
async fn return_minimal_shows_only_the_new_name_of_a_renamed_group() {
    let harness = Harness::start().await;
    let group = harness.create_group("Before Rename").await;
    let (_, delta_link) = harness.round(&harness.url("/groups/delta")).await;
    let patch = Some(json!({"displayName": "After Rename"}));
    harness.expect(reqwest::Method::PATCH, &format!("/groups/{group}"), patch, StatusCode::NO_CONTENT).await;

    let (headers, changes) = harness.minimal_round(&delta_link).await;
    assert_eq!(preference_applied(&headers), Some("return=minimal"));
    assert_eq!(changes, vec![json!({"id": group.to_string(), "displayName": "After Rename"})]);

    let (changes, _) = harness.round(&delta_link).await;
    assert_eq!(ids(&changes), vec![group.to_string()]);
    assert_eq!(changes[0]["displayName"], "After Rename");
    assert_eq!(changes[0]["mailNickname"], "Before-Rename", "without the preference: the whole default set");
    assert_eq!(changes[0]["securityEnabled"], true);
}

#[tokio::test]
async fn manager_at_delta_reports_a_replaced_or_removed_manager() {
    let harness = Harness::start().await;
    let report = harness.create_user("report").await;
    let first_boss = harness.create_user("first.boss").await;
    let second_boss = harness.create_user("second.boss").await;
    let manager = |id: Uuid| json!({"@odata.type": "#microsoft.graph.user", "id": id.to_string()});
    let removed = |id: Uuid| json!({"@odata.type": "#microsoft.graph.user", "id": id.to_string(), "@removed": {"reason": "deleted"}});
    let (_, delta_link) = harness.round(&harness.url("/users/delta?$select=displayName,manager")).await;

    harness.set_manager(report, first_boss).await;
    let (changes, delta_link) = harness.round(&delta_link).await;
    assert_eq!(ids(&changes), vec![report.to_string()]);
    assert_eq!(changes[0]["manager@delta"], json!([manager(first_boss)]));

    harness.set_manager(report, second_boss).await;
    let (changes, delta_link) = harness.round(&delta_link).await;
    assert_eq!(changes[0]["manager@delta"], json!([removed(first_boss), manager(second_boss)]));

    let path = format!("/users/{report}/manager/$ref");
    harness.expect(reqwest::Method::DELETE, &path, None, StatusCode::NO_CONTENT).await;
    let (changes, _) = harness.round(&delta_link).await;
    assert_eq!(ids(&changes), vec![report.to_string()]);
    assert_eq!(changes[0]["displayName"], "report");
    assert_eq!(changes[0]["manager@delta"], json!([removed(second_boss)]));
    let (_, changes) = harness.minimal_round(&delta_link).await;
    assert_eq!(changes, vec![json!({"id": report.to_string(), "manager@delta": [removed(second_boss)]})]);
}

#[tokio::test]
async fn deltatoken_latest_starts_from_now() {
    let harness = Harness::start().await;
    let (status, _, body) = harness.get(&harness.url("/users/delta?$deltatoken=latest")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["value"], json!([]));
    let delta_link = body["@odata.deltaLink"].as_str().expect("deltaLink").to_string();
    let created = harness.create_user("after.latest").await;
    let (changes, _) = harness.round(&delta_link).await;
    assert_eq!(ids(&changes), vec![created.to_string()]);
}

#[tokio::test]
async fn a_filter_on_ids_limits_the_sync_to_those_objects() {
    let harness = Harness::start().await;
    let tracked = harness.create_user("tracked").await;
    let other = harness.create_user("other").await;
    let url = harness.url(&format!("/users/delta?$filter=id%20eq%20'{tracked}'"));
    let (first, delta_link) = harness.round(&url).await;
    assert_eq!(ids(&first), vec![tracked.to_string()]);
    for id in [other, tracked] {
        let patch = Some(json!({"jobTitle": "Changed"}));
        harness.expect(reqwest::Method::PATCH, &format!("/users/{id}"), patch, StatusCode::NO_CONTENT).await;
    }
    let (changes, _) = harness.round(&delta_link).await;
    assert_eq!(ids(&changes), vec![tracked.to_string()]);
}

#[tokio::test]
async fn objects_inside_their_replication_delay_wait_for_a_later_round() {
    let harness = Harness::start().await;
    let (_, delta_link) = harness.round(&harness.url("/users/delta")).await;
    harness.sandbox.state().knobs.set(Knobs { replication_delay_ms: 30_000, ..Knobs::default() });
    let late = harness.create_user("late").await;
    let (changes, delta_link) = harness.round(&delta_link).await;
    assert!(changes.is_empty(), "{changes:?}");
    harness.sandbox.state().clock.advance(Duration::seconds(31));
    let (changes, _) = harness.round(&delta_link).await;
    assert_eq!(ids(&changes), vec![late.to_string()]);
}

#[tokio::test]
async fn expired_and_tampered_tokens_answer_410_with_a_location_for_a_fresh_sync() {
    let harness = Harness::start().await;
    let (_, delta_link) = harness.round(&harness.url("/users/delta?$select=displayName")).await;

    let mut tampered = delta_link.clone();
    let last = tampered.pop().expect("a token");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (status, headers, body) = harness.get(&tampered).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(body["error"]["code"], "resyncRequired");
    let location = headers["location"].to_str().expect("location").to_string();
    assert_eq!(location, harness.url("/users/delta?$deltatoken="));
    let (status, _, body) = harness.get(&location).await;
    assert_eq!(status, StatusCode::OK, "the Location starts a fresh sync: {body}");

    harness.sandbox.state().clock.advance(Duration::days(8));
    let (status, headers, body) = harness.get(&delta_link).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(body["error"]["code"], "syncStateNotFound");
    assert_eq!(
        body["error"]["message"],
        "The sync state generation is not found. The delta token is expired and data must be synchronized again."
    );
    assert_eq!(headers["location"], harness.url("/users/delta?$select=displayName&$deltatoken=").as_str());

    let (status, _, body) = harness.get(&harness.url("/groups/delta?$skiptoken=garbage")).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
}

#[tokio::test]
async fn delta_refuses_top_orderby_and_expand_and_needs_read_permission() {
    let harness = Harness::start().await;
    for query in ["$top=5", "$orderby=displayName", "$expand=manager"] {
        let (status, _, body) = harness.get(&harness.url(&format!("/users/delta?{query}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["error"]["code"], "Request_UnsupportedQuery", "{query}");
    }
    let no_permissions = common::app_token(&harness.sandbox, &[]);
    let (status, _, body) = harness.get_with(&harness.url("/users/delta"), &no_permissions).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
    assert_eq!(body["error"]["message"], "Insufficient privileges to complete the operation.");
}

// ---- $batch ----

impl Harness {
    async fn batch(&self, body: Value) -> (StatusCode, Value) {
        self.batch_with(body, &self.token()).await
    }

    async fn batch_with(&self, body: Value, token: &str) -> (StatusCode, Value) {
        let response =
            self.client.post(self.url("/$batch")).bearer_auth(token).json(&body).send().await.expect("batch request");
        let status = response.status();
        (status, response.json().await.expect("json"))
    }
}

fn responses_by_id(body: &Value) -> HashMap<String, Value> {
    body["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|response| (response["id"].as_str().unwrap_or_default().to_string(), response.clone()))
        .collect()
}

#[tokio::test]
async fn a_parallel_batch_answers_every_request() {
    let harness = Harness::start().await;
    let (status, body) = harness
        .batch(json!({"requests": [
            {"id": "1", "method": "GET", "url": "/users/delta?$select=displayName"},
            {"id": "2", "method": "GET", "url": "groups/delta"},
            {"id": "3", "method": "GET", "url": "/users/delta?$top=1"},
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let responses = responses_by_id(&body);
    assert_eq!(responses.len(), 3);
    assert_eq!(responses["1"]["status"], 200);
    assert!(responses["1"]["body"]["value"].is_array(), "JSON bodies are embedded as JSON");
    assert!(
        responses["1"]["headers"]["Content-Type"].as_str().is_some_and(|value| value.starts_with("application/json"))
    );
    assert_eq!(responses["1"]["headers"]["x-ms-resource-unit"], "1");
    assert_eq!(responses["2"]["status"], 200);
    assert_eq!(responses["3"]["status"], 400);
    assert_eq!(responses["3"]["body"]["error"]["code"], "Request_UnsupportedQuery");
}

#[tokio::test]
async fn requests_after_a_failed_request_in_a_chain_answer_424() {
    let harness = Harness::start().await;
    let (status, body) = harness
        .batch(json!({"requests": [
            {"id": "3", "method": "GET", "url": "/users/delta", "dependsOn": ["2"]},
            {"id": "1", "method": "GET", "url": "/users/delta?$orderby=displayName"},
            {"id": "2", "method": "GET", "url": "/users/delta", "dependsOn": ["1"]},
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let responses = responses_by_id(&body);
    assert_eq!(responses["1"]["status"], 400);
    assert_eq!(responses["2"]["status"], 424);
    assert_eq!(responses["3"]["status"], 424);
    assert_eq!(responses["2"]["body"]["error"]["code"], "FailedDependency");

    let (_, body) = harness
        .batch(json!({"requests": [
            {"id": "a", "method": "GET", "url": "/users/delta"},
            {"id": "b", "method": "GET", "url": "/groups/delta", "dependsOn": ["a"]},
        ]}))
        .await;
    let responses = responses_by_id(&body);
    assert_eq!((responses["a"]["status"].clone(), responses["b"]["status"].clone()), (json!(200), json!(200)));
}

#[tokio::test]
async fn a_sequential_batch_creates_then_reads() {
    let harness = Harness::start().await;
    let token = common::tenure_app_token(&harness.sandbox);
    let (status, body) = harness
        .batch_with(
            json!({"requests": [
                {"id": "create", "method": "POST", "url": "/users", "headers": {"Content-Type": "application/json"},
                 "body": {"accountEnabled": true, "displayName": "Batched", "mailNickname": "batched",
                          "userPrincipalName": "batched@contoso.com",
                          "passwordProfile": {"password": "Sandbox!Pass1-long"}}},
                {"id": "read", "method": "GET", "url": "/users/batched@contoso.com?$select=displayName",
                 "dependsOn": ["create"]},
                {"id": "again", "method": "POST", "url": "/users", "headers": {"Content-Type": "application/json"},
                 "body": {"accountEnabled": true, "displayName": "Batched", "mailNickname": "batched",
                          "userPrincipalName": "batched@contoso.com",
                          "passwordProfile": {"password": "Sandbox!Pass1-long"}},
                 "dependsOn": ["read"]},
                {"id": "never", "method": "GET", "url": "/users/batched@contoso.com", "dependsOn": ["again"]},
            ]}),
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let responses = responses_by_id(&body);
    assert_eq!(responses["create"]["status"], 201, "{body}");
    assert!(
        responses["create"]["headers"]["Location"].as_str().is_some_and(|location| location.contains("/v1.0/users/"))
    );
    assert_eq!(responses["read"]["status"], 200);
    assert_eq!(responses["read"]["body"]["displayName"], "Batched");
    assert_eq!(responses["again"]["status"], 400, "the UPN is taken now");
    assert_eq!(responses["never"]["status"], 424);
}

#[tokio::test]
async fn malformed_batches_are_refused_as_a_whole() {
    let harness = Harness::start().await;
    let get = |id: &str| json!({"id": id, "method": "GET", "url": "/users/delta"});
    let cases = vec![
        (json!({"requests": [get("1"), get("1")]}), "more than once"),
        (json!({"requests": [get("a"), get("A")]}), "more than once"),
        (json!({"requests": (0..21).map(|index| get(&index.to_string())).collect::<Vec<_>>()}), "maximum of 20"),
        (
            json!({"requests": [{"id": "1", "method": "PATCH", "url": "/users/x", "body": {"jobTitle": "x"}}]}),
            "Write request id : 1 does not contain Content-Type header or body.",
        ),
        (
            json!({"requests": [get("1"), {"id": "2", "method": "GET", "url": "/users/delta", "dependsOn": ["1"]}, get("3")]}),
            "Batch should be either fully sequential or fully parallel",
        ),
        (
            json!({"requests": [{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/users"}]}),
            "relative",
        ),
        (
            json!({"requests": [{"id": "1", "method": "POST", "url": "/$batch",
                                 "headers": {"Content-Type": "application/json"}, "body": {"requests": []}}]}),
            "nested",
        ),
        (json!({"requests": [{"id": "1", "method": "GET", "url": "/users/delta", "dependsOn": ["7"]}]}), "'7'"),
        (json!({"value": []}), "requests"),
    ];
    for (batch, expected) in cases {
        let (status, body) = harness.batch(batch.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{batch}: {body}");
        assert_eq!(body["error"]["code"], "BadRequest", "{batch}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{batch}: {message}");
    }
}

#[tokio::test]
async fn each_request_of_a_batch_is_authorised_like_a_direct_call() {
    let harness = Harness::start().await;
    let users_only = common::app_token(&harness.sandbox, &["User.Read.All"]);
    let (status, body) = harness
        .batch_with(
            json!({"requests": [
                {"id": "users", "method": "GET", "url": "/users/delta"},
                {"id": "groups", "method": "GET", "url": "/groups/delta"},
            ]}),
            &users_only,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let responses = responses_by_id(&body);
    assert_eq!(responses["users"]["status"], 200);
    assert_eq!(responses["groups"]["status"], 403);
    assert_eq!(responses["groups"]["body"]["error"]["code"], "Authorization_RequestDenied");

    let response =
        harness.client.post(harness.url("/$batch")).json(&json!({"requests": []})).send().await.expect("post");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "the batch itself needs a token");
}

#[tokio::test]
async fn each_request_of_a_batch_is_throttled_on_its_own() {
    let harness = Harness::start().await;
    harness.sandbox.state().knobs.set(Knobs { throttling: true, resource_unit_quota: Some(6), ..Knobs::default() });
    let requests: Vec<Value> =
        (1..=5).map(|id| json!({"id": id.to_string(), "method": "GET", "url": "/users/delta"})).collect();
    let (status, body) = harness.batch(json!({ "requests": requests })).await;
    assert_eq!(status, StatusCode::OK, "the batch itself is not metered");
    let statuses: Vec<Value> = (1..=5).map(|id| responses_by_id(&body)[&id.to_string()]["status"].clone()).collect();
    // Each GET users/delta costs 2 of the 6 resource units.
    assert_eq!(statuses, vec![json!(200), json!(200), json!(200), json!(429), json!(429)]);
    let throttled = &responses_by_id(&body)["4"];
    assert_eq!(throttled["body"]["error"]["code"], "TooManyRequests");
    assert!(throttled["headers"]["Retry-After"].as_str().is_some_and(|value| value.parse::<u64>().is_ok()));
    assert_eq!(throttled["headers"]["x-ms-throttle-information"], "ResourceUnitLimitExceeded");
}
