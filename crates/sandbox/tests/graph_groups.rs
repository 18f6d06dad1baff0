//! Graph `/groups`, membership (`$ref`, `members@odata.bind`), the read-only Exchange-managed groups and
//! group deletion/restore, over real HTTPS, compared with the reference's examples.

mod common;

use common::{ADELE, CONTOSO_ADMIN, GraphApi, Reply};
use reqwest::Method;
use serde_json::{Value, json};

const ALEX: &str = "0b1c2d3e-0000-4000-8000-000000000003";
const MEGAN: &str = "0b1c2d3e-0000-4000-8000-000000000004";
const ALL_STAFF: &str = "0c1d2e3f-0000-4000-8000-000000000001";
const MARKETING: &str = "0c1d2e3f-0000-4000-8000-000000000002";
const FINANCE_APPROVERS: &str = "0c1d2e3f-0000-4000-8000-000000000003";
const RETAIL_ANNOUNCEMENTS: &str = "0c1d2e3f-0000-4000-8000-000000000004";
const READ_ONLY: &str = "Cannot Update a mail-enabled security groups and or distribution list.";
const ALREADY_EXISTS: &str =
    "One or more added object references already exist for the following modified properties: 'members'.";

/// Graph calls with this file's helpers.
trait GroupApi {
    /// Adds `member` to `group` through `members/$ref`.
    async fn add_member(&self, group: &str, member: &str, token: &str) -> Reply;
    /// Creates a security group and returns its id.
    async fn create_security_group(&self, nickname: &str) -> String;
}

impl GroupApi for GraphApi {
    async fn add_member(&self, group: &str, member: &str, token: &str) -> Reply {
        let reference = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{member}")});
        self.post(&format!("/groups/{group}/members/$ref"), token, reference).await
    }

    async fn create_security_group(&self, nickname: &str) -> String {
        let reply = self.post("/groups", &self.admin(), security_group(nickname)).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["id"].as_str().expect("id").to_string()
    }
}

fn security_group(nickname: &str) -> Value {
    json!({"displayName": format!("{nickname} group"), "mailEnabled": false, "mailNickname": nickname,
           "securityEnabled": true, "groupTypes": []})
}

fn bind(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")).collect()
}

#[tokio::test]
async fn security_groups_are_created_changed_and_deleted_for_good() {
    let api = GraphApi::start().await;
    let token = api.admin();
    let base = format!("{}/v1.0", api.sandbox.https_base());
    let created = api.post("/groups", &token, security_group("engineering")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_string();
    assert_eq!(created.body["@odata.context"], format!("{base}/$metadata#groups/$entity"));
    assert_eq!(created.headers["location"], format!("{base}/groups/{id}").as_str());
    assert_eq!(created.body["securityEnabled"], true);
    assert_eq!(created.body["mail"], Value::Null);

    assert_eq!(api.patch(&format!("/groups/{id}"), &token, json!({"description": "Builders"})).await.status, 204);
    let read = api.get(&format!("/groups/{id}"), &token).await;
    assert_eq!(read.body["description"], "Builders", "{}", read.body);
    assert!(api.get("/groups?$top=999", &token).await.ids().contains(&id));

    assert_eq!(api.delete(&format!("/groups/{id}"), &token).await.status, 204);
    assert_eq!(api.get(&format!("/groups/{id}"), &token).await.status, 404);
    assert!(!api.get("/directory/deletedItems/microsoft.graph.group", &token).await.ids().contains(&id));
    let restore = api.send(Method::POST, &format!("/directory/deletedItems/{id}/restore"), &token, None, false).await;
    assert_eq!(restore.status, 404, "{}", restore.body);

    api.get("/groups/not-a-guid", &token).await.assert_error(
        400,
        "Request_BadRequest",
        "Invalid object identifier 'not-a-guid'.",
    );
}

#[tokio::test]
async fn microsoft_365_groups_get_an_address_and_are_restorable() {
    let api = GraphApi::start().await;
    let token = api.admin();
    let body = json!({"displayName": "Sales", "mailEnabled": true, "mailNickname": "sales", "securityEnabled": false,
                      "groupTypes": ["Unified"]});
    let created = api.post("/groups", &token, body.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["mail"], "sales@contoso.com");
    assert_eq!(created.body["groupTypes"], json!(["Unified"]));
    let id = created.body["id"].as_str().expect("id").to_string();

    api.post("/groups", &token, body).await.assert_error(
        400,
        "Request_BadRequest",
        "Another object with the same value for property proxyAddresses already exists.",
    );

    assert_eq!(api.delete(&format!("/groups/{id}"), &token).await.status, 204);
    assert!(api.get("/directory/deletedItems/microsoft.graph.group", &token).await.ids().contains(&id));
    let restored = api.send(Method::POST, &format!("/directory/deletedItems/{id}/restore"), &token, None, false).await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert_eq!(restored.body["@odata.type"], "#microsoft.graph.group");
    assert_eq!(api.get(&format!("/groups/{id}"), &token).await.status, 200);
}

#[tokio::test]
async fn group_creation_refuses_what_graph_refuses() {
    let api = GraphApi::start().await;
    let token = api.admin();
    let mut mail_enabled_security = security_group("finance");
    mail_enabled_security["mailEnabled"] = json!(true);
    api.post("/groups", &token, mail_enabled_security).await.assert_error(
        400,
        "Request_BadRequest",
        "The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset and the security-enablement property is set.",
    );
    let mut missing = security_group("missing");
    missing.as_object_mut().expect("object").remove("mailNickname");
    api.post("/groups", &token, missing).await.assert_error(
        400,
        "Request_BadRequest",
        "Property mailNickname value is required but is empty or missing.",
    );
    let mut unknown = security_group("unknown");
    unknown["colour"] = json!("red");
    api.post("/groups", &token, unknown).await.assert_error(400, "Request_BadRequest", "Invalid property 'colour'.");
    let mut read_only = security_group("readonly");
    read_only["mail"] = json!("x@contoso.com");
    api.post("/groups", &token, read_only).await.assert_error(
        400,
        "Request_BadRequest",
        "Property 'mail' is read-only and cannot be set.",
    );
    let mut wrong_type = security_group("wrongtype");
    wrong_type["securityEnabled"] = json!("true");
    api.post("/groups", &token, wrong_type).await.assert_error(
        400,
        "Request_BadRequest",
        "Cannot convert the literal 'true' to the expected type 'Edm.Boolean'.",
    );
}

#[tokio::test]
async fn members_are_listed_added_and_removed_by_reference() {
    let api = GraphApi::start().await;
    let token = api.admin();
    let members = api.get(&format!("/groups/{ALL_STAFF}/members"), &token).await;
    assert_eq!(members.status, 200, "{}", members.body);
    assert_eq!(members.ids().len(), 3);
    assert!(
        members.body["value"].as_array().expect("value").iter().all(|m| m["@odata.type"] == "#microsoft.graph.user")
    );

    api.add_member(MARKETING, ALEX, &token).await.assert_error(400, "Request_BadRequest", ALREADY_EXISTS);
    let ghost = "0b1c2d3e-0000-4000-8000-0000000000ff";
    api.add_member(MARKETING, ghost, &token).await.assert_error(
        404,
        "Request_ResourceNotFound",
        &format!("Resource '{ghost}' does not exist or one of its queried reference-property objects are not present."),
    );
    assert_eq!(api.add_member(MARKETING, ADELE, &token).await.status, 204);
    assert!(api.get(&format!("/groups/{MARKETING}/members"), &token).await.ids().contains(&ADELE.to_string()));

    let remove = format!("/groups/{MARKETING}/members/{ADELE}/$ref");
    assert_eq!(api.delete(&remove, &token).await.status, 204);
    api.delete(&remove, &token).await.assert_error(
        404,
        "Request_ResourceNotFound",
        &format!("Resource '{ADELE}' does not exist or one of its queried reference-property objects are not present."),
    );

    let paged = api.get(&format!("/groups/{ALL_STAFF}/members?$top=2"), &token).await;
    assert_eq!(paged.ids().len(), 2);
    let next = paged.body["@odata.nextLink"].as_str().expect("nextLink").to_string();
    let rest = api.client.get(next).bearer_auth(&token).send().await.expect("next page");
    let rest: Value = rest.json().await.expect("json");
    assert_eq!(rest["value"].as_array().map(Vec::len), Some(1), "{rest}");
}

#[tokio::test]
async fn odata_bind_adds_up_to_twenty_members_all_or_nothing() {
    let api = GraphApi::start().await;
    let token = api.admin();
    let group = api.create_security_group("bulk").await;
    let path = format!("/groups/{group}");

    let too_many: Vec<String> = (0..21).map(|n| format!("0b1c2d3e-0000-4000-8000-{n:012}")).collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    api.patch(&path, &token, json!({"members@odata.bind": bind(&too_many)})).await.assert_error(
        400,
        "Request_BadRequest",
        "A resource cannot contain more than 20 link changes",
    );
    api.patch(&path, &token, json!({"members@odata.bind": bind(&[ADELE, ADELE])})).await.assert_error(
        400,
        "Request_BadRequest",
        &format!(
            "Object '[ResourceType=User,Id={ADELE}]' referenced from '[ResourceType=Group,Id={group}]' can only be present once as an add/remove change."
        ),
    );

    assert_eq!(api.patch(&path, &token, json!({"members@odata.bind": bind(&[ADELE])})).await.status, 204);
    api.patch(&path, &token, json!({"members@odata.bind": bind(&[ALEX, ADELE])})).await.assert_error(
        400,
        "Request_BadRequest",
        ALREADY_EXISTS,
    );
    assert_eq!(api.get(&format!("{path}/members"), &token).await.ids(), vec![ADELE.to_string()], "nothing was added");

    let added = api.patch(&path, &token, json!({"members@odata.bind": bind(&[ALEX, MEGAN])})).await;
    assert_eq!(added.status, 204, "{}", added.body);
    assert_eq!(api.get(&format!("{path}/members"), &token).await.ids().len(), 3);
}

#[tokio::test]
async fn exchange_managed_groups_are_visible_but_read_only() {
    let api = GraphApi::start().await;
    let token = api.admin();
    for group in [FINANCE_APPROVERS, RETAIL_ANNOUNCEMENTS] {
        let read = api.get(&format!("/groups/{group}"), &token).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.body["mailEnabled"], true);
        assert_eq!(api.get(&format!("/groups/{group}/members"), &token).await.ids(), vec![ADELE.to_string()]);

        api.patch(&format!("/groups/{group}"), &token, json!({"description": "x"})).await.assert_error(
            400,
            "Request_BadRequest",
            READ_ONLY,
        );
        api.delete(&format!("/groups/{group}"), &token).await.assert_error(400, "Request_BadRequest", READ_ONLY);
        api.add_member(group, ALEX, &token).await.assert_error(400, "Request_BadRequest", READ_ONLY);
        api.delete(&format!("/groups/{group}/members/{ADELE}/$ref"), &token).await.assert_error(
            400,
            "Request_BadRequest",
            READ_ONLY,
        );
    }
}

#[tokio::test]
async fn dynamic_groups_refuse_manual_members() {
    let api = GraphApi::start().await;
    let token = api.admin();
    let mut body = security_group("dynamic");
    body["groupTypes"] = json!(["DynamicMembership"]);
    body["membershipRule"] = json!("user.department -eq \"Marketing\"");
    body["membershipRuleProcessingState"] = json!("On");
    let created = api.post("/groups", &token, body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().expect("id");
    api.add_member(id, ADELE, &token).await.assert_error(
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    );
}

#[tokio::test]
async fn group_permissions_follow_the_token_and_the_signed_in_user() {
    let api = GraphApi::start().await;
    let forbidden = |reply: Reply| {
        reply.assert_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    };
    let reader = common::app_token(&api.sandbox, &["Group.Read.All"]);
    assert_eq!(api.get("/groups", &reader).await.status, 200);
    forbidden(api.post("/groups", &reader, security_group("denied")).await);
    forbidden(api.add_member(MARKETING, ADELE, &reader).await);

    let member_writer = common::app_token(&api.sandbox, &["GroupMember.ReadWrite.All"]);
    assert_eq!(api.add_member(ALL_STAFF, CONTOSO_ADMIN, &member_writer).await.status, 204);
    forbidden(api.patch(&format!("/groups/{ALL_STAFF}"), &member_writer, json!({"displayName": "Everyone"})).await);

    let adele = common::user_token(&api.sandbox, ADELE, &["Group.ReadWrite.All"]);
    forbidden(api.post("/groups", &adele, security_group("adeles")).await);
    let admin = common::user_token(&api.sandbox, CONTOSO_ADMIN, &["Group.ReadWrite.All"]);
    assert_eq!(api.post("/groups", &admin, security_group("admins")).await.status, 201);
}

#[tokio::test]
async fn new_groups_stay_invisible_during_the_replication_delay() {
    let api = GraphApi::start().await;
    api.sandbox.state().knobs.set(sandbox::knobs::Knobs { replication_delay_ms: 10_000, ..Default::default() });
    let token = api.admin();
    let created = api.post("/groups", &token, security_group("lagging")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_string();
    assert_eq!(api.get(&format!("/groups/{id}"), &token).await.status, 404);
    assert_eq!(api.add_member(&id, ADELE, &token).await.status, 404);
    assert!(!api.get("/groups?$top=999", &token).await.ids().contains(&id));

    api.sandbox.state().clock.advance(chrono::Duration::seconds(11));
    let token = api.admin();
    assert_eq!(api.get(&format!("/groups/{id}"), &token).await.status, 200);
    assert_eq!(api.add_member(&id, ADELE, &token).await.status, 204);
}
