//! The sandbox admin API's Exchange endpoints over HTTPS (`/_sandbox/tenants/{tenant}/exchange/…`): role groups
//! read and written (and honoured by the Exchange admin API at once), mailboxes listed with their state and
//! permissions, and Exchange data kept by the state export, import and state file.

mod common;
mod exchange_api;

use std::path::PathBuf;

use exchange_api::ExchangeApi;
use reqwest::{Method, StatusCode};
use sandbox::Sandbox;
use sandbox::exchange::model::FullAccessGrant;
use serde_json::{Value, json};
use uuid::Uuid;

use common::CONTOSO;

async fn call(api: &ExchangeApi, method: Method, path: &str, body: Option<&str>) -> (StatusCode, Value) {
    let url = format!("{}{path}", api.sandbox.admin_base());
    let mut request = api.client.request(method, url);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(api: &ExchangeApi, path: &str) -> Value {
    let (status, body) = call(api, Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn put_role_group(api: &ExchangeApi, name: &str, body: Value) -> (StatusCode, Value) {
    let path = format!("/tenants/{CONTOSO}/exchange/role-groups/{}", name.replace(' ', "%20"));
    call(api, Method::PUT, &path, Some(&body.to_string())).await
}

#[track_caller]
fn assert_error(status: StatusCode, body: &Value, expected_status: u16, code: &str, message_part: &str) {
    assert_eq!(status.as_u16(), expected_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains(message_part), "{message:?} should contain {message_part:?}");
}

fn group<'a>(groups: &'a Value, name: &str) -> Option<&'a Value> {
    groups.as_array().expect("array").iter().find(|group| group["name"] == name)
}

#[tokio::test]
async fn role_groups_are_listed_by_guid_or_domain_with_members_by_upn_and_app_id() {
    let api = ExchangeApi::start().await;
    let by_domain = get(&api, "/tenants/contoso.com/exchange/role-groups").await;
    assert_eq!(by_domain, get(&api, &format!("/tenants/{CONTOSO}/exchange/role-groups")).await);
    let names: Vec<&str> =
        by_domain.as_array().expect("array").iter().filter_map(|group| group["name"].as_str()).collect();
    assert_eq!(
        names,
        ["Organization Management", "Recipient Management", "View-Only Organization Management", "Tenure Provisioning"]
    );
    let organization = group(&by_domain, "Organization Management").expect("built in");
    assert_eq!(organization["built_in"], true);
    assert_eq!(organization["roles"].as_array().map(Vec::len), Some(5));
    let tenure = group(&by_domain, "Tenure Provisioning").expect("seeded");
    assert_eq!(
        *tenure,
        json!({
            "name": "Tenure Provisioning",
            "built_in": false,
            "roles": ["Distribution Groups", "Mail Recipients", "Security Group Creation and Membership"],
            "members": ["exchange.svc@contoso.com", format!("app:{}", common::CONTOSO_APP)],
        })
    );

    for what in ["role-groups", "data-loss", "mailboxes"] {
        let (status, body) = call(&api, Method::GET, &format!("/tenants/nowhere.example/exchange/{what}"), None).await;
        assert_error(status, &body, 404, "unknown_tenant", "nowhere.example");
    }
}

#[tokio::test]
async fn a_custom_role_group_grants_its_roles_at_once_and_is_removed_with_them() {
    let api = ExchangeApi::start().await;
    let adele = common::exchange_user_token(&api.sandbox, common::ADELE);
    let denied = api.invoke(&adele, "Get-Mailbox", json!({})).await;
    assert_eq!(denied.status, 401, "{}", denied.body);

    let (status, body) = put_role_group(
        &api,
        "Help Desk Readers",
        json!({"roles": ["view-only recipients"], "members": ["Adele.Vance@contoso.com"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({"name": "Help Desk Readers", "built_in": false, "roles": ["View-Only Recipients"],
               "members": ["adele.vance@contoso.com"]})
    );
    assert_eq!(api.invoke(&adele, "Get-Mailbox", json!({})).await.status, 200);

    // PUT replaces the whole group (names are case-insensitive; the first spelling stays).
    let (status, body) =
        put_role_group(&api, "help desk readers", json!({"roles": ["Mail Recipients"], "members": []})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((&body["name"], &body["members"]), (&json!("Help Desk Readers"), &json!([])));
    assert_eq!(api.invoke(&adele, "Get-Mailbox", json!({})).await.status, 401);

    put_role_group(
        &api,
        "Help Desk Readers",
        json!({"roles": ["View-Only Recipients"], "members": ["adele.vance@contoso.com"]}),
    )
    .await;
    let path = format!("/tenants/{CONTOSO}/exchange/role-groups/Help%20Desk%20Readers");
    let (status, _) = call(&api, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(api.invoke(&adele, "Get-Mailbox", json!({})).await.status, 401, "the roles went with the group");
    let (status, body) = call(&api, Method::DELETE, &path, None).await;
    assert_error(status, &body, 404, "unknown_role_group", "Help Desk Readers");
}

#[tokio::test]
async fn a_built_in_role_group_takes_members_but_keeps_its_roles_and_stays() {
    let api = ExchangeApi::start().await;
    let adele = common::exchange_user_token(&api.sandbox, common::ADELE);
    let (status, body) = put_role_group(
        &api,
        "View-Only Organization Management",
        json!({"members": ["adele.vance@contoso.com", format!("app:{}", common::CONTOSO_APP)]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["roles"], json!(["View-Only Recipients"]));
    assert_eq!(api.invoke(&adele, "Get-Mailbox", json!({})).await.status, 200);

    // Its own roles may be restated; others are refused.
    let (status, _) = put_role_group(
        &api,
        "View-Only Organization Management",
        json!({"roles": ["View-Only Recipients"], "members": []}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        put_role_group(&api, "Recipient Management", json!({"roles": ["Mail Recipients"], "members": []})).await;
    assert_error(status, &body, 400, "built_in_role_group", "Recipient Management");
    let (status, body) =
        call(&api, Method::DELETE, &format!("/tenants/{CONTOSO}/exchange/role-groups/Organization%20Management"), None)
            .await;
    assert_error(status, &body, 400, "built_in_role_group", "Organization Management");
    let groups = get(&api, &format!("/tenants/{CONTOSO}/exchange/role-groups")).await;
    assert_eq!(group(&groups, "Recipient Management").expect("kept")["roles"].as_array().map(Vec::len), Some(4));
    assert!(group(&groups, "Organization Management").is_some());
}

#[tokio::test]
async fn a_role_group_write_naming_an_unknown_role_or_member_is_refused_and_changes_nothing() {
    let api = ExchangeApi::start().await;
    let cases = [
        (json!({"roles": ["Mailbox Import Export"], "members": []}), "unknown_role", "Mailbox Import Export"),
        (json!({"roles": [], "members": ["nobody@contoso.com"]}), "unknown_member", "nobody@contoso.com"),
        (json!({"roles": [], "members": ["app:not-a-guid"]}), "unknown_member", "app:not-a-guid"),
        // Fabrikam's app has no service principal in Contoso.
        (json!({"roles": [], "members": ["app:a1b2c3d4-0000-4000-8000-00000000f001"]}), "unknown_member", "f001"),
        (json!({"members": []}), "invalid_request", "roles"),
        (json!({"roles": [], "colour": "red"}), "invalid_request", "colour"),
        (json!({"roles": "Mail Recipients"}), "invalid_request", "not valid"),
    ];
    for (body, code, part) in cases {
        let (status, answer) = put_role_group(&api, "Tenure Provisioning", body.clone()).await;
        assert_error(status, &answer, 400, code, part);
        let (status, answer) = put_role_group(&api, "Brand New", body).await;
        assert_error(status, &answer, 400, code, part);
    }
    let path = format!("/tenants/{CONTOSO}/exchange/role-groups/Brand%20New");
    let (status, answer) = call(&api, Method::PUT, &path, Some("{not json")).await;
    assert_error(status, &answer, 400, "invalid_request", "not valid");
    let (status, answer) = put_role_group(&api, "%20padded", json!({"roles": []})).await;
    assert_error(status, &answer, 400, "invalid_request", "padded");

    let groups = get(&api, &format!("/tenants/{CONTOSO}/exchange/role-groups")).await;
    assert!(group(&groups, "Brand New").is_none());
    assert_eq!(group(&groups, "Tenure Provisioning").expect("kept")["members"].as_array().map(Vec::len), Some(2));
    assert_eq!(api.invoke(&api.app(), "Get-Mailbox", json!({})).await.status, 200, "the app keeps its roles");
}

#[tokio::test]
async fn mailboxes_are_listed_with_their_state_and_permissions() {
    let api = ExchangeApi::start().await;
    let adele = Uuid::parse_str(common::ADELE).expect("uuid");
    let admin = Uuid::parse_str(common::CONTOSO_ADMIN).expect("uuid");
    {
        let tenant = api.sandbox.tenant(CONTOSO).expect("Contoso");
        let mut tenant = tenant.write();
        let mailbox = tenant.exchange.mailboxes.get_mut(&adele).expect("Adele's mailbox");
        mailbox.hidden_from_address_lists = true;
        mailbox.full_access.push(FullAccessGrant { user: admin, auto_mapping: false, inheritance_type: "All".into() });
        mailbox.send_as.insert(admin);
    }
    let listed = get(&api, "/tenants/contoso.onmicrosoft.com/exchange/mailboxes").await;
    let listed = listed.as_array().expect("array");
    assert_eq!(listed.len(), 3);
    let entry = listed.iter().find(|mailbox| mailbox["user"] == common::ADELE).expect("Adele listed");
    assert_eq!(entry["user_principal_name"], "adele.vance@contoso.com");
    assert_eq!((&entry["kind"], &entry["recipient_type_details"]), (&json!("User"), &json!("UserMailbox")));
    assert_eq!((&entry["ready"], &entry["deleted"], &entry["hidden"]), (&json!(true), &json!(false), &json!(true)));
    assert!(entry["ready_at"].is_string() && entry["marked_for_deletion"].is_null(), "{entry}");
    assert_eq!(
        entry["full_access"],
        json!([{"user": "admin@contoso.com", "auto_mapping": false, "inheritance_type": "All"}])
    );
    assert_eq!(entry["send_as"], json!(["admin@contoso.com"]));
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sandbox-exchange-admin-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Makes Exchange data worth keeping: a custom role group, a mailbox marked for deletion, a hidden mailbox.
async fn change_exchange_data(api: &ExchangeApi) {
    let (status, body) = put_role_group(
        api,
        "Auditors",
        json!({"roles": ["View-Only Recipients"], "members": ["megan.bowen@contoso.com"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = common::tenure_app_token(&api.sandbox);
    let response = api
        .client
        .post(format!("{}/v1.0/users/{}/assignLicense", api.sandbox.https_base(), common::ADELE))
        .bearer_auth(token)
        .json(&json!({"addLicenses": [], "removeLicenses": ["6fd2c87f-b296-42f0-b197-1e91e994b900"]}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let tenant = api.sandbox.tenant(CONTOSO).expect("Contoso");
    let alex = Uuid::parse_str("0b1c2d3e-0000-4000-8000-000000000003").expect("uuid");
    tenant.write().exchange.mailboxes.get_mut(&alex).expect("Alex's mailbox").hidden_from_address_lists = true;
}

#[tokio::test]
async fn the_state_export_holds_each_tenants_exchange_data_and_imports_it_unchanged() {
    let api = ExchangeApi::start().await;
    change_exchange_data(&api).await;
    let (status, exported) = call(&api, Method::GET, "/state", None).await;
    assert_eq!(status, StatusCode::OK);
    let contoso = exported["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .find(|tenant| tenant["id"] == CONTOSO)
        .expect("Contoso");
    let exchange = &contoso["exchange"];
    assert_eq!(exchange["mailboxes"].as_object().map(|mailboxes| mailboxes.len()), Some(3), "{exchange}");
    assert_eq!(exchange["data_loss"].as_array().map(Vec::len), Some(1));
    assert!(exchange["role_groups"].as_array().expect("role groups").iter().any(|group| group["name"] == "Auditors"));

    let restored = sandbox::persist::import(exported.clone()).expect("imports");
    let tenant = restored.directory.tenant(CONTOSO).expect("Contoso");
    let tenant = tenant.read();
    let original = api.sandbox.tenant(CONTOSO).expect("Contoso");
    let original = original.read();
    assert_eq!(serde_json::to_value(&tenant.exchange).ok(), serde_json::to_value(&original.exchange).ok());
    assert_eq!(tenant.exchange.role_groups, original.exchange.role_groups);
    assert_eq!(tenant.exchange.data_loss, original.exchange.data_loss);
}

#[tokio::test]
async fn exchange_data_survives_a_restart_from_the_state_file() {
    let dir = scratch_dir("state-file");
    let path = dir.join("state.json");
    let api = ExchangeApi::start_with(Sandbox::builder().state_file(&path)).await;
    change_exchange_data(&api).await;
    let data_loss = get(&api, &format!("/tenants/{CONTOSO}/exchange/data-loss")).await;
    let role_groups = get(&api, &format!("/tenants/{CONTOSO}/exchange/role-groups")).await;
    let mailboxes = get(&api, &format!("/tenants/{CONTOSO}/exchange/mailboxes")).await;
    api.sandbox.stop().await.expect("stops and saves");

    let api = ExchangeApi::start_with(Sandbox::builder().state_file(&path)).await;
    assert!(api.sandbox.restored_from_state_file());
    assert_eq!(get(&api, &format!("/tenants/{CONTOSO}/exchange/data-loss")).await, data_loss);
    assert_eq!(get(&api, &format!("/tenants/{CONTOSO}/exchange/role-groups")).await, role_groups);
    assert_eq!(get(&api, &format!("/tenants/{CONTOSO}/exchange/mailboxes")).await, mailboxes);
    let megan = common::exchange_user_token(&api.sandbox, "0b1c2d3e-0000-4000-8000-000000000004");
    assert_eq!(api.invoke(&megan, "Get-Mailbox", json!({})).await.status, 200, "the restored role group applies");
    api.sandbox.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(&dir);
}
