//! Graph `/users`, `/me`, licences, deleted items and the permission rules around them, over real HTTPS,
//! compared with the reference's examples (status, `error.code`, `error.message`).

mod common;

use common::{ADELE, CONTOSO, CONTOSO_ADMIN, GraphApi, Reply};
use reqwest::Method;
use serde_json::{Value, json};

const ALEX: &str = "0b1c2d3e-0000-4000-8000-000000000003";
const MEGAN: &str = "0b1c2d3e-0000-4000-8000-000000000004";
const HELPDESK: &str = "0b1c2d3e-0000-4000-8000-000000000005";
const ENTERPRISEPACK: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";
const EXCHANGESTANDARD: &str = "4b9405b0-7788-4568-add1-99614e613b69";
const STRONG_PASSWORD: &str = "xWwvJ]6NMw+bWH-d";

/// Graph calls with this file's helpers.
trait UserApi {
    /// Creates a user and returns its id.
    async fn create_user(&self, nickname: &str, extra: Value) -> String;
}

impl UserApi for GraphApi {
    async fn create_user(&self, nickname: &str, extra: Value) -> String {
        let mut body = new_user_body(nickname);
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let reply = self.post("/users", &self.admin(), body).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["id"].as_str().expect("id").to_string()
    }
}

fn new_user_body(nickname: &str) -> Value {
    json!({
        "accountEnabled": true,
        "displayName": format!("{nickname} Test"),
        "mailNickname": nickname,
        "userPrincipalName": format!("{nickname}@contoso.com"),
        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": STRONG_PASSWORD},
    })
}

#[tokio::test]
async fn a_user_is_created_read_updated_deleted_and_restored() {
    let api = GraphApi::start().await;
    let token = api.admin();
    let base = format!("{}/v1.0", api.sandbox.https_base());

    let created = api.post("/users", &token, new_user_body("AdeleV2")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_string();
    assert_eq!(created.body["@odata.context"], format!("{base}/$metadata#users/$entity"));
    assert_eq!(created.body["userPrincipalName"], "AdeleV2@contoso.com");
    assert_eq!(created.headers["location"], format!("{base}/users/{id}").as_str());

    let by_id = api.get(&format!("/users/{id}"), &token).await;
    assert_eq!(by_id.status, 200, "{}", by_id.body);
    assert_eq!(by_id.body["displayName"], "AdeleV2 Test");
    assert_eq!(by_id.body["@odata.context"], format!("{base}/$metadata#users/$entity"));
    let by_upn = api.get("/users/adelev2@contoso.com", &token).await;
    assert_eq!(by_upn.body["id"], id.as_str());

    let patched = api
        .patch(
            &format!("/users/{id}"),
            &token,
            json!({"jobTitle": "Buyer", "employeeOrgData": {"division": "Retail", "costCenter": "C-1"}}),
        )
        .await;
    assert_eq!(patched.status, 204, "{}", patched.body);
    let org_only_division =
        api.patch(&format!("/users/{id}"), &token, json!({"employeeOrgData": {"division": "Food"}})).await;
    assert_eq!(org_only_division.status, 204);
    let read = api.get(&format!("/users/{id}?$select=jobTitle,employeeOrgData"), &token).await;
    assert_eq!(read.body["jobTitle"], "Buyer");
    assert_eq!(read.body["employeeOrgData"], json!({"division": "Food", "costCenter": null}));

    assert_eq!(api.delete(&format!("/users/{id}"), &token).await.status, 204);
    api.get(&format!("/users/{id}"), &token).await.assert_error(
        404,
        "Request_ResourceNotFound",
        &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
    );
    let deleted = api.get("/directory/deletedItems/microsoft.graph.user", &token).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let entry = deleted.body["value"].as_array().expect("value").iter().find(|user| user["id"] == id.as_str()).cloned();
    let entry = entry.expect("the deleted user is listed");
    assert!(entry["deletedDateTime"].is_string(), "{entry}");
    let item = api.get(&format!("/directory/deletedItems/{id}"), &token).await;
    assert_eq!(item.body["@odata.type"], "#microsoft.graph.user");

    let restored = api.send(Method::POST, &format!("/directory/deletedItems/{id}/restore"), &token, None, false).await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert_eq!(restored.body["@odata.context"], format!("{base}/$metadata#directoryObjects/$entity"));
    assert_eq!(restored.body["@odata.type"], "#microsoft.graph.user");
    assert_eq!(api.get(&format!("/users/{id}"), &token).await.status, 200);
}

#[tokio::test]
async fn a_soft_deleted_user_does_not_block_a_create_but_its_restore_conflicts() {
    let api = GraphApi::start().await;
    let token = api.admin();
    let first = api.create_user("rehire", json!({"mail": "rehire@contoso.com"})).await;
    assert_eq!(api.delete(&format!("/users/{first}"), &token).await.status, 204);
    let second = api.create_user("rehire", json!({"mail": "rehire@contoso.com"})).await;
    assert_ne!(first, second);

    let restore_path = format!("/directory/deletedItems/{first}/restore");
    let conflict = api.send(Method::POST, &restore_path, &token, None, false).await;
    conflict.assert_error(
        400,
        "Request_BadRequest",
        "Another object with the same value for property userPrincipalName already exists.",
    );
    assert_eq!(conflict.body["error"]["details"][0]["code"], "ObjectConflict");
    assert_eq!(conflict.body["error"]["details"][0]["target"], "userPrincipalName");

    let still_conflicting =
        api.post(&restore_path, &token, json!({"newUserPrincipalName": "rehire2@contoso.com"})).await;
    still_conflicting.assert_error(
        400,
        "Request_BadRequest",
        "Another object with the same value for property proxyAddresses already exists.",
    );

    let restored = api
        .post(
            &restore_path,
            &token,
            json!({"newUserPrincipalName": "rehire2@contoso.com", "autoReconcileProxyConflict": true}),
        )
        .await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert_eq!(restored.body["userPrincipalName"], "rehire2@contoso.com");
    assert_eq!(restored.body["mail"], Value::Null);
}

#[tokio::test]
async fn deleted_items_are_purged_on_request_and_after_thirty_days() {
    let api = GraphApi::start().await;
    let token = api.admin();
    let purged = api.create_user("purged", json!({})).await;
    let aged = api.create_user("aged", json!({})).await;
    for id in [&purged, &aged] {
        assert_eq!(api.delete(&format!("/users/{id}"), &token).await.status, 204);
    }
    assert_eq!(api.delete(&format!("/directory/deletedItems/{purged}"), &token).await.status, 204);
    assert_eq!(api.get(&format!("/directory/deletedItems/{purged}"), &token).await.status, 404);

    assert_eq!(api.get(&format!("/directory/deletedItems/{aged}"), &token).await.status, 200);
    api.sandbox.state().clock.advance(chrono::Duration::days(31));
    let token = api.admin();
    let gone = api.get(&format!("/directory/deletedItems/{aged}"), &token).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    let tenant = api.sandbox.tenant(CONTOSO).expect("tenant");
    assert!(!tenant.read().users.contains_key(&aged.parse::<uuid::Uuid>().expect("uuid")));
    api.get("/directory/deletedItems/not-a-guid", &token).await.assert_error(
        400,
        "Request_BadRequest",
        "Invalid object identifier 'not-a-guid'.",
    );
}

#[tokio::test]
async fn create_refuses_what_graph_refuses() {
    let api = GraphApi::start().await;
    let token = api.admin();
    for required in ["accountEnabled", "displayName", "mailNickname", "passwordProfile", "userPrincipalName"] {
        let mut body = new_user_body("missing");
        body.as_object_mut().expect("object").remove(required);
        api.post("/users", &token, body).await.assert_error(
            400,
            "Request_BadRequest",
            &format!("Property {required} value is required but is empty or missing."),
        );
    }
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"userPrincipalName": "someone@fabrikam.com"}),
            "Request_BadRequest",
            "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
        ),
        (
            json!({"userPrincipalName": "some one@contoso.com"}),
            "Request_BadRequest",
            "Invalid value specified for property 'userPrincipalName' of resource 'User'.",
        ),
        (
            json!({"passwordProfile": {"password": "password"}}),
            "Request_BadRequest",
            "The specified password does not comply with password complexity requirements. Please provide a different password.",
        ),
        (
            json!({"employeeId": "12345678901234567"}),
            "Request_BadRequest",
            "Invalid value specified for property 'employeeId' of resource 'User'.",
        ),
        (
            json!({"usageLocation": "USA"}),
            "Request_BadRequest",
            "Invalid value specified for property 'usageLocation' of resource 'User'.",
        ),
        (json!({"favouriteColour": "blue"}), "Request_BadRequest", "Invalid property 'favouriteColour'."),
        (
            json!({"createdDateTime": "2024-01-01T00:00:00Z"}),
            "Request_BadRequest",
            "Property 'createdDateTime' is read-only and cannot be set.",
        ),
        (
            json!({"accountEnabled": "yes"}),
            "Request_BadRequest",
            "Cannot convert the literal 'yes' to the expected type 'Edm.Boolean'.",
        ),
        (
            json!({"passwordProfile": {"password": STRONG_PASSWORD, "colour": 1}}),
            "Request_BadRequest",
            "The property 'colour' does not exist on type 'microsoft.graph.passwordProfile'. Make sure to only use property names that are defined by the type or mark the type as open type.",
        ),
        (
            json!({"userPrincipalName": "admin@contoso.com"}),
            "Request_BadRequest",
            "Another object with the same value for property userPrincipalName already exists.",
        ),
    ];
    for (overrides, code, message) in cases {
        let mut body = new_user_body("invalid");
        body.as_object_mut().expect("object").extend(overrides.as_object().expect("object").clone());
        api.post("/users", &token, body).await.assert_error(400, code, message);
    }

    let broken = api.send_raw(Method::POST, "/users", &token, Some(b"{\"accountEnabled\":".to_vec()), false).await;
    broken.assert_error(
        400,
        "BadRequest",
        "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
    );
    let empty = api.send_raw(Method::POST, "/users", &token, Some(Vec::new()), false).await;
    empty.assert_error(
        400,
        "Request_BadRequest",
        "An unexpected 'EndOfInput' node was found when reading from the JSON reader. A 'StartObject' node was expected.",
    );

    // A federated domain needs onPremisesImmutableId.
    {
        let tenant = api.sandbox.tenant(CONTOSO).expect("tenant");
        tenant.write().domains.push(sandbox::directory::tenant::Domain {
            name: "federated.contoso.com".into(),
            is_default: false,
            is_initial: false,
            federated: true,
        });
    }
    let mut federated = new_user_body("fed");
    federated["userPrincipalName"] = json!("fed@federated.contoso.com");
    api.post("/users", &token, federated.clone()).await.assert_error(
        400,
        "Request_BadRequest",
        "SourceAnchor is a required property for creation of a federated user.",
    );
    federated["onPremisesImmutableId"] = json!("aW1tdXRhYmxl");
    assert_eq!(api.post("/users", &token, federated).await.status, 201);
}

#[tokio::test]
async fn lists_page_with_skiptokens_and_count_only_as_an_advanced_query() {
    let api = GraphApi::start().await;
    let token = api.admin();
    for index in 0..23 {
        api.create_user(&format!("pager{index:02}"), json!({})).await;
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut next = Some("/users?$top=10&$select=id,displayName".to_string());
    let mut pages = 0;
    while let Some(path) = next.take() {
        let page = api.get(&path, &token).await;
        assert_eq!(page.status, 200, "{}", page.body);
        pages += 1;
        let values = page.body["value"].as_array().expect("value");
        assert!(values.len() <= 10);
        for user in values {
            assert!(seen.insert(user["id"].as_str().expect("id").to_string()), "duplicate {user}");
            assert!(user.get("jobTitle").is_none(), "$select is kept across pages: {user}");
        }
        next = page.body["@odata.nextLink"].as_str().map(str::to_string);
        if let Some(link) = &next {
            assert!(link.contains("$skiptoken=") && link.contains("$top=10"), "{link}");
        }
    }
    assert_eq!(seen.len(), 29, "23 new users and the 6 seeded ones");
    assert_eq!(pages, 3);

    let counted = api.send(Method::GET, "/users?$count=true&$top=1", &token, None, true).await;
    assert_eq!(counted.body["@odata.count"], 29, "{}", counted.body);
    let ignored = api.get("/users?$count=true&$top=1", &token).await;
    assert!(ignored.body.get("@odata.count").is_none(), "{}", ignored.body);

    api.get("/users/$count", &token).await.assert_error(
        400,
        "Request_BadRequest",
        "$count is not currently supported.",
    );
    let count = api.send(Method::GET, "/users/$count", &token, None, true).await;
    assert_eq!(count.status, 200);
    assert_eq!(count.body, json!(29));
    assert!(count.headers["content-type"].to_str().expect("ascii").starts_with("text/plain"));

    api.get("/users?$skiptoken=garbage", &token).await.assert_error(400, "Request_BadRequest", "Invalid Skip Token");
    let too_big = api.get("/users?$top=1000", &token).await;
    too_big.assert_error(
        400,
        "Request_UnsupportedQuery",
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    );

    let mut names = Vec::new();
    let mut next = Some("/users?$orderby=displayName&$top=7&$select=displayName".to_string());
    while let Some(path) = next.take() {
        let page = api.get(&path, &token).await;
        assert_eq!(page.status, 200, "{}", page.body);
        names.extend(page.body["value"].as_array().expect("value").iter().map(|user| user["displayName"].to_string()));
        next = page.body["@odata.nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(names.len(), 29);
    assert!(names.windows(2).all(|pair| pair[0].to_lowercase() <= pair[1].to_lowercase()), "{names:?}");

    let filtered = api.get("/users?$filter=userPrincipalName eq 'pager07@contoso.com'", &token).await;
    assert_eq!(filtered.status, 200, "{}", filtered.body);
    assert_eq!(filtered.body["value"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn managers_direct_reports_and_memberships() {
    let api = GraphApi::start().await;
    let token = api.admin();
    let manager = api.get(&format!("/users/{ALEX}/manager"), &token).await;
    assert_eq!(manager.status, 200, "{}", manager.body);
    assert_eq!(manager.body["id"], ADELE);
    assert_eq!(manager.body["@odata.type"], "#microsoft.graph.user");

    let expanded = api.get(&format!("/users/{ALEX}?$select=id&$expand=manager($select=id,displayName)"), &token).await;
    assert_eq!(expanded.status, 200, "{}", expanded.body);
    assert_eq!(expanded.body["manager"]["id"], ADELE, "{}", expanded.body);
    assert_eq!(expanded.body["manager"]["displayName"], "Adele Vance");
    api.get("/users?$expand=colleagues", &token).await.assert_error(
        400,
        "Request_BadRequest",
        "Could not find a property named 'colleagues' on type 'microsoft.graph.user'.",
    );

    let reports = api.get(&format!("/users/{ADELE}/directReports"), &token).await;
    let mut report_ids: Vec<&str> =
        reports.body["value"].as_array().expect("value").iter().filter_map(|user| user["id"].as_str()).collect();
    report_ids.sort_unstable();
    assert_eq!(report_ids, vec![ALEX, MEGAN]);

    let reference = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{CONTOSO_ADMIN}")});
    let put = api.send(Method::PUT, &format!("/users/{MEGAN}/manager/$ref"), &token, Some(reference), false).await;
    assert_eq!(put.status, 204, "{}", put.body);
    assert_eq!(api.get(&format!("/users/{MEGAN}/manager"), &token).await.body["id"], CONTOSO_ADMIN);

    let own = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{MEGAN}")});
    api.send(Method::PUT, &format!("/users/{MEGAN}/manager/$ref"), &token, Some(own), false).await.assert_error(
        400,
        "Request_BadRequest",
        "Invalid value specified for property 'manager' of resource 'User'.",
    );
    let ghost = "0b1c2d3e-0000-4000-8000-0000000000ff";
    let missing = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{ghost}")});
    let reply = api.send(Method::PUT, &format!("/users/{MEGAN}/manager/$ref"), &token, Some(missing), false).await;
    assert_eq!((reply.status, reply.code()), (404, "Request_ResourceNotFound"));
    api.send(Method::PUT, &format!("/users/{MEGAN}/manager/$ref"), &token, Some(json!({})), false).await.assert_error(
        400,
        "Request_BadRequest",
        "Write request id cannot be null.",
    );

    assert_eq!(api.delete(&format!("/users/{MEGAN}/manager/$ref"), &token).await.status, 204);
    api.get(&format!("/users/{MEGAN}/manager"), &token).await.assert_error(
        404,
        "Request_ResourceNotFound",
        "Resource 'manager' does not exist or one of its queried reference-property objects are not present.",
    );

    let member_of = api.get(&format!("/users/{ADELE}/memberOf"), &token).await;
    let groups = member_of.body["value"].as_array().expect("value");
    assert_eq!(groups.len(), 3, "{}", member_of.body);
    assert!(groups.iter().all(|group| group["@odata.type"] == "#microsoft.graph.group"));
}

#[tokio::test]
async fn revoking_sessions_moves_the_validity_start() {
    let api = GraphApi::start().await;
    api.sandbox.state().clock.advance(chrono::Duration::hours(2));
    let token = api.admin();
    let reply = api.send(Method::POST, &format!("/users/{ADELE}/revokeSignInSessions"), &token, None, false).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body,
        json!({"@odata.context": format!("{}/v1.0/$metadata#Edm.Boolean", api.sandbox.https_base()), "value": true})
    );
    let tenant = api.sandbox.tenant(CONTOSO).expect("tenant");
    let valid_from = tenant.read().users[&ADELE.parse::<uuid::Uuid>().expect("uuid")].sign_in_sessions_valid_from;
    let now = api.sandbox.state().clock.now();
    assert!((now - valid_from).num_seconds().abs() < 60, "{valid_from} vs {now}");
}

#[tokio::test]
async fn licences_need_a_usage_location_a_known_sku_and_free_seats() {
    let api = GraphApi::start().await;
    let token = api.admin();
    let skus = api.get("/subscribedSkus", &token).await;
    assert_eq!(skus.status, 200, "{}", skus.body);
    let pack =
        skus.body["value"].as_array().expect("value").iter().find(|sku| sku["skuPartNumber"] == "ENTERPRISEPACK");
    let pack = pack.expect("ENTERPRISEPACK");
    assert_eq!(pack["consumedUnits"], 3);
    assert_eq!(pack["prepaidUnits"], json!({"enabled": 25, "suspended": 0, "warning": 0, "lockedOut": 0}));
    assert_eq!(pack["capabilityStatus"], "Enabled");
    assert_eq!(pack["appliesTo"], "User");
    assert_eq!(pack["servicePlans"].as_array().map(Vec::len), Some(2));

    let assign = |sku: &str| json!({"addLicenses": [{"skuId": sku, "disabledPlans": []}], "removeLicenses": []});
    let path = format!("/users/{MEGAN}/assignLicense");
    api.post(&path, &token, assign(ENTERPRISEPACK)).await.assert_error(
        400,
        "Request_BadRequest",
        "License assignment cannot be done for user with invalid usage location.",
    );
    assert_eq!(api.patch(&format!("/users/{MEGAN}"), &token, json!({"usageLocation": "GB"})).await.status, 204);
    let assigned = api.post(&path, &token, assign(ENTERPRISEPACK)).await;
    assert_eq!(assigned.status, 200, "{}", assigned.body);
    assert_eq!(assigned.body["id"], MEGAN);
    let details = api.get(&format!("/users/{MEGAN}/licenseDetails"), &token).await;
    assert_eq!(details.body["value"][0]["skuPartNumber"], "ENTERPRISEPACK", "{}", details.body);

    let unknown = "00000000-0000-0000-0000-000000000123";
    api.post(&path, &token, assign(unknown)).await.assert_error(
        400,
        "Request_BadRequest",
        &format!("License {unknown} does not correspond to a valid company License."),
    );
    api.post(&path, &token, json!({"addLicenses": [], "removeLicenses": [EXCHANGESTANDARD]})).await.assert_error(
        400,
        "Request_BadRequest",
        "User does not have a corresponding license.",
    );
    api.post(&path, &token, json!({"addLicenses": []})).await.assert_error(
        400,
        "Request_BadRequest",
        "One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: removeLicenses.",
    );

    // EXCHANGESTANDARD has five seats.
    for index in 0..5 {
        let id = api.create_user(&format!("seat{index}"), json!({"usageLocation": "US"})).await;
        let reply = api.post(&format!("/users/{id}/assignLicense"), &token, assign(EXCHANGESTANDARD)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let sixth = api.create_user("seat5", json!({"usageLocation": "US"})).await;
    api.post(&format!("/users/{sixth}/assignLicense"), &token, assign(EXCHANGESTANDARD)).await.assert_error(
        400,
        "Request_BadRequest",
        &format!("Subscription with SKU {EXCHANGESTANDARD} does not have any available licenses."),
    );
    let removed = api.post(&path, &token, json!({"addLicenses": [], "removeLicenses": [ENTERPRISEPACK]})).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
}

#[tokio::test]
async fn app_only_permissions_and_roles_are_enforced() {
    let api = GraphApi::start().await;
    let forbidden = |reply: Reply| {
        reply.assert_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    };
    let nothing = common::app_token(&api.sandbox, &[]);
    forbidden(api.get("/users", &nothing).await);
    let reader = common::app_token(&api.sandbox, &["User.Read.All"]);
    assert_eq!(api.get("/users", &reader).await.status, 200);
    forbidden(api.post("/users", &reader, new_user_body("nope")).await);

    let disabler = common::app_token(&api.sandbox, &["User.EnableDisableAccount.All"]);
    assert_eq!(api.patch(&format!("/users/{ADELE}"), &disabler, json!({"accountEnabled": false})).await.status, 204);
    forbidden(api.patch(&format!("/users/{ADELE}"), &disabler, json!({"jobTitle": "x"})).await);

    let token = api.admin();
    let reset = json!({"passwordProfile": {"password": STRONG_PASSWORD, "forceChangePasswordNextSignIn": false}});
    assert_eq!(api.patch(&format!("/users/{ADELE}"), &token, reset.clone()).await.status, 204);
    forbidden(api.patch(&format!("/users/{CONTOSO_ADMIN}"), &token, reset.clone()).await);
    forbidden(api.patch(&format!("/users/{CONTOSO_ADMIN}"), &token, json!({"accountEnabled": false})).await);
    forbidden(api.delete(&format!("/users/{CONTOSO_ADMIN}"), &token).await);
    {
        let tenant = api.sandbox.tenant(CONTOSO).expect("tenant");
        let mut tenant = tenant.write();
        for principal in &mut tenant.service_principals {
            principal.directory_roles.clear();
        }
    }
    forbidden(api.patch(&format!("/users/{ADELE}"), &token, reset).await);

    forbidden(
        api.patch(&format!("/users/{ADELE}"), &token, json!({"employeeLeaveDateTime": "2030-01-31T00:00:00Z"})).await,
    );
    let lifecycle = common::app_token(&api.sandbox, &["User.ReadWrite.All", "User-LifeCycleInfo.ReadWrite.All"]);
    let leave = api
        .patch(&format!("/users/{ADELE}"), &lifecycle, json!({"employeeLeaveDateTime": "2030-01-31T00:00:00Z"}))
        .await;
    assert_eq!(leave.status, 204, "{}", leave.body);
    let hidden = api.get(&format!("/users/{ADELE}?$select=employeeLeaveDateTime"), &token).await;
    assert_eq!(hidden.body["employeeLeaveDateTime"], Value::Null);
    let shown = api.get(&format!("/users/{ADELE}?$select=employeeLeaveDateTime"), &lifecycle).await;
    assert_eq!(shown.body["employeeLeaveDateTime"], "2030-01-31T00:00:00Z");

    api.get("/me", &token).await.assert_error(
        400,
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
    );
}

#[tokio::test]
async fn delegated_calls_also_need_the_signed_in_users_role() {
    let api = GraphApi::start().await;
    let forbidden = |reply: Reply| {
        reply.assert_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    };
    let admin_rw = common::user_token(&api.sandbox, CONTOSO_ADMIN, &["User.ReadWrite.All"]);
    assert_eq!(api.post("/users", &admin_rw, new_user_body("delegated")).await.status, 201);
    let adele_rw = common::user_token(&api.sandbox, ADELE, &["User.ReadWrite.All"]);
    forbidden(api.post("/users", &adele_rw, new_user_body("notadmin")).await);

    let reset = json!({"passwordProfile": {"password": STRONG_PASSWORD}});
    forbidden(api.patch(&format!("/users/{ALEX}"), &admin_rw, reset.clone()).await);
    let admin_as_user = common::user_token(&api.sandbox, CONTOSO_ADMIN, &["Directory.AccessAsUser.All"]);
    let forced = json!({"passwordProfile": {"password": "Another!Pass9", "forceChangePasswordNextSignIn": true}});
    assert_eq!(api.patch(&format!("/users/{ALEX}"), &admin_as_user, forced).await.status, 204);
    let helpdesk = common::user_token(&api.sandbox, HELPDESK, &["Directory.AccessAsUser.All"]);
    assert_eq!(api.patch(&format!("/users/{ALEX}"), &helpdesk, reset.clone()).await.status, 204);
    forbidden(api.patch(&format!("/users/{CONTOSO_ADMIN}"), &helpdesk, reset).await);
    forbidden(api.patch(&format!("/users/{ALEX}"), &helpdesk, json!({"jobTitle": "x"})).await);

    let tenant = api.sandbox.tenant(CONTOSO).expect("tenant");
    let alex = tenant.read().users[&ALEX.parse::<uuid::Uuid>().expect("uuid")].clone();
    assert!(alex.password_matches(STRONG_PASSWORD));
    assert!(alex.force_change_password_next_sign_in, "the flag set by the first reset is kept by the second");
    assert!((api.sandbox.state().clock.now() - alex.last_password_change).num_seconds().abs() < 60);

    let me = api.get("/me", &common::user_token(&api.sandbox, ADELE, &["User.Read"])).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["id"], ADELE);

    let basic = common::user_token(&api.sandbox, ADELE, &["User.ReadBasic.All"]);
    let alex_basic = api.get(&format!("/users/{ALEX}?$select=displayName,jobTitle"), &basic).await;
    assert_eq!(alex_basic.body["displayName"], "Alex Wilber", "{}", alex_basic.body);
    assert_eq!(alex_basic.body["jobTitle"], Value::Null);
}

#[tokio::test]
async fn new_users_stay_invisible_during_the_replication_delay() {
    let api = GraphApi::start().await;
    api.sandbox.state().knobs.set(sandbox::knobs::Knobs { replication_delay_ms: 5_000, ..Default::default() });
    let token = api.admin();
    let created = api.post("/users", &token, new_user_body("lagging")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["displayName"], "lagging Test");
    let id = created.body["id"].as_str().expect("id").to_string();

    assert_eq!(api.get(&format!("/users/{id}"), &token).await.code(), "Request_ResourceNotFound");
    assert_eq!(api.patch(&format!("/users/{id}"), &token, json!({"jobTitle": "x"})).await.status, 404);
    let listed = api.get("/users?$select=id", &token).await;
    assert!(listed.body["value"].as_array().expect("value").iter().all(|user| user["id"] != id.as_str()));

    api.sandbox.state().clock.advance(chrono::Duration::seconds(6));
    let token = api.admin();
    assert_eq!(api.get(&format!("/users/{id}"), &token).await.status, 200);
}
