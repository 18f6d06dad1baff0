//! Distribution lists and mail-enabled security groups through the Exchange admin API over real HTTPS: creating
//! them (and seeing them, read-only, in Graph), their defaults and validation, uniqueness, membership under the
//! group-manager rule, removal, and the RBAC roles that govern them.

mod common;
mod exchange_api;

use exchange_api::{ExchangeApi, assert_cmdlet_error, error_parts};
use reqwest::Method;
use serde_json::{Value, json};

use common::Reply;

const RETAIL_ANNOUNCEMENTS: &str = "0c1d2e3f-0000-4000-8000-000000000004";
const FINANCE_APPROVERS: &str = "0c1d2e3f-0000-4000-8000-000000000003";
const MEGAN: &str = "0b1c2d3e-0000-4000-8000-000000000004";
const GRAPH_READ_ONLY: &str = "Cannot Update a mail-enabled security groups and or distribution list.";
const NOT_FOUND: &str = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException";
const NOT_MANAGER: &str = "Microsoft.Exchange.Configuration.Tasks.OperationRequiresGroupManagerException";
const VALIDATION: &str = "Microsoft.Exchange.Data.DataValidationException";
const TASK: &str = "Microsoft.Exchange.Configuration.Tasks.TaskException";
const PARAMETER_BINDING: &str = "System.Management.Automation.ParameterBindingException";
/// The roles of the sample's "Tenure Provisioning" role group, as the seed writes them.
const PROVISIONING_ROLES: &str =
    r#"roles = ["Distribution Groups", "Security Group Creation and Membership", "Mail Recipients"]"#;

/// A Graph call with the full-power app token of Tenure's customer-owned connection.
async fn graph(api: &ExchangeApi, method: Method, path: &str, body: Option<Value>) -> Reply {
    let url = format!("{}/v1.0{path}", api.sandbox.https_base());
    let mut request = api.client.request(method, url).bearer_auth(common::tenure_app_token(&api.sandbox));
    if let Some(body) = body {
        request = request.header("Content-Type", "application/json").body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

/// The ids of a group's members as Graph lists them.
async fn graph_member_ids(api: &ExchangeApi, group: &str) -> Vec<String> {
    let reply = graph(api, Method::GET, &format!("/groups/{group}/members"), None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut ids = reply.ids();
    ids.sort();
    ids
}

/// Runs `New-DistributionGroup` and returns the created group.
async fn create_group(api: &ExchangeApi, token: &str, parameters: Value) -> Value {
    let reply = api.invoke(token, "New-DistributionGroup", parameters).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["value"][0].clone()
}

/// Runs a write cmdlet that answers nothing (204).
async fn run_quietly(api: &ExchangeApi, token: &str, cmdlet: &str, parameters: Value) {
    let reply = api.invoke(token, cmdlet, parameters).await;
    assert_eq!(reply.status, 204, "{cmdlet}: {}", reply.body);
}

/// `Get-DistributionGroup -Identity` of one group.
async fn get_group(api: &ExchangeApi, identity: &str) -> Value {
    let reply = api.invoke(&api.app(), "Get-DistributionGroup", json!({"Identity": identity})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["value"][0].clone()
}

/// A sandbox whose "Tenure Provisioning" role group holds exactly `roles`.
async fn start_with_provisioning_roles(roles: &[&str]) -> ExchangeApi {
    let quoted: Vec<String> = roles.iter().map(|role| format!("{role:?}")).collect();
    let seed = sandbox::seed::SAMPLE_SEED.replace(PROVISIONING_ROLES, &format!("roles = [{}]", quoted.join(", ")));
    assert_ne!(seed, sandbox::seed::SAMPLE_SEED, "the sample seed's role group was found");
    let seed = sandbox::seed::Seed::from_toml(&seed).expect("edited seed parses");
    ExchangeApi::start_with(sandbox::Sandbox::builder().seed(seed)).await
}

#[tokio::test]
async fn a_distribution_list_created_in_exchange_is_visible_and_read_only_in_graph() {
    let api = ExchangeApi::start().await;
    let token = api.service_account();
    let group = create_group(&api, &token, json!({"Name": "Sales Team", "Members": ["adele.vance@contoso.com"]})).await;
    assert_eq!(group["RecipientTypeDetails"], "MailUniversalDistributionGroup");
    assert_eq!(group["Alias"], "SalesTeam");
    assert_eq!(group["DisplayName"], "Sales Team");
    assert_eq!(group["PrimarySmtpAddress"], "SalesTeam@contoso.com");
    assert_eq!(group["ManagedBy"], json!(["exchange.svc"]), "the creating user owns the group");
    assert_eq!(group["MemberJoinRestriction"], "Closed");
    assert_eq!(group["MemberDepartRestriction"], "Open");
    assert_eq!(group["RequireSenderAuthenticationEnabled"], true);

    let id = group["ExternalDirectoryObjectId"].as_str().expect("object id").to_string();
    let in_graph = graph(&api, Method::GET, &format!("/groups/{id}"), None).await;
    assert_eq!(in_graph.status, 200, "{}", in_graph.body);
    assert_eq!(in_graph.body["mailEnabled"], true);
    assert_eq!(in_graph.body["securityEnabled"], false);
    assert_eq!(in_graph.body["mail"], "SalesTeam@contoso.com");
    assert_eq!(graph_member_ids(&api, &id).await, vec![common::ADELE.to_string()]);

    let patch = graph(&api, Method::PATCH, &format!("/groups/{id}"), Some(json!({"description": "x"}))).await;
    patch.assert_error(400, "Request_BadRequest", GRAPH_READ_ONLY);
    let reference = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{MEGAN}")});
    let add = graph(&api, Method::POST, &format!("/groups/{id}/members/$ref"), Some(reference)).await;
    add.assert_error(400, "Request_BadRequest", GRAPH_READ_ONLY);
}

#[tokio::test]
async fn a_security_group_is_closed_by_default_and_refuses_open_restrictions() {
    let api = ExchangeApi::start().await;
    let token = api.app();
    let group = create_group(&api, &token, json!({"Name": "Payroll Admins", "Type": "Security"})).await;
    assert_eq!(group["RecipientTypeDetails"], "MailUniversalSecurityGroup");
    assert_eq!(group["MemberJoinRestriction"], "Closed");
    assert_eq!(group["MemberDepartRestriction"], "Closed");
    assert_eq!(group["ManagedBy"], json!([]), "an app-only caller is not a user who could own the group");
    let id = group["ExternalDirectoryObjectId"].as_str().expect("object id");
    let in_graph = graph(&api, Method::GET, &format!("/groups/{id}"), None).await;
    assert_eq!((&in_graph.body["mailEnabled"], &in_graph.body["securityEnabled"]), (&json!(true), &json!(true)));

    for restriction in ["MemberJoinRestriction", "MemberDepartRestriction"] {
        let open = api
            .invoke(
                &token,
                "New-DistributionGroup",
                json!({"Name": "Open Door", "Type": "Security", restriction: "Open"}),
            )
            .await;
        assert_cmdlet_error(&open, 400, VALIDATION, "Security groups can't be open");
        let changed = api
            .invoke(
                &token,
                "Set-DistributionGroup",
                json!({"Identity": "Payroll Admins", restriction: "Open", "BypassSecurityGroupManagerCheck": true}),
            )
            .await;
        assert_cmdlet_error(&changed, 400, VALIDATION, "Security groups can't be open");
    }
    let approval = create_group(
        &api,
        &token,
        json!({"Name": "Ask First", "Type": "Security", "MemberJoinRestriction": "ApprovalRequired"}),
    )
    .await;
    assert_eq!(approval["MemberJoinRestriction"], "ApprovalRequired");
}

#[tokio::test]
async fn names_aliases_and_addresses_must_be_free() {
    let api = ExchangeApi::start().await;
    let token = api.app();
    let name = api.invoke(&token, "New-DistributionGroup", json!({"Name": "retail announcements"})).await;
    assert_cmdlet_error(
        &name,
        400,
        "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException",
        "The name \"retail announcements\" is already being used.",
    );
    let alias = api
        .invoke(&token, "New-DistributionGroup", json!({"Name": "Retail News", "Alias": "retail-announcements"}))
        .await;
    assert_cmdlet_error(
        &alias,
        400,
        "Microsoft.Exchange.Data.Directory.ProxyAddressExistsException",
        "\"SMTP:retail-announcements@contoso.com\" is already being used by the proxy addresses or LegacyExchangeDN of \"Retail Announcements\"",
    );
    let address = api
        .invoke(
            &token,
            "New-DistributionGroup",
            json!({"Name": "Adele", "PrimarySmtpAddress": "Adele.Vance@contoso.com"}),
        )
        .await;
    assert_cmdlet_error(
        &address,
        400,
        "Microsoft.Exchange.Data.Directory.ProxyAddressExistsException",
        "LegacyExchangeDN of \"adele.vance\"",
    );
    let too_long = api.invoke(&token, "New-DistributionGroup", json!({"Name": "n".repeat(65)})).await;
    assert_cmdlet_error(&too_long, 400, VALIDATION, "The maximum length is 64");
    let foreign = api
        .invoke(&token, "New-DistributionGroup", json!({"Name": "Elsewhere", "PrimarySmtpAddress": "x@fabrikam.com"}))
        .await;
    assert_cmdlet_error(&foreign, 400, VALIDATION, "isn't an accepted domain");
    let listed = api.invoke_all(&token, "Get-DistributionGroup", json!({}), 1000).await;
    assert_eq!(listed.len(), 2, "nothing was created: {listed:?}");
}

#[tokio::test]
async fn only_owners_change_membership_unless_they_bypass_the_manager_check() {
    let api = ExchangeApi::start().await;
    let owner = api.service_account();
    let app = api.app();
    let group = create_group(&api, &owner, json!({"Name": "Store Leads"})).await;
    let id = group["ExternalDirectoryObjectId"].as_str().expect("object id").to_string();
    let add = |member: &str| json!({"Identity": "Store Leads", "Member": member});

    run_quietly(&api, &owner, "Add-DistributionGroupMember", add("adele.vance@contoso.com")).await;
    let refused = api.invoke(&app, "Add-DistributionGroupMember", add("alex.wilber@contoso.com")).await;
    assert_cmdlet_error(&refused, 400, NOT_MANAGER, "can only be performed by a manager of the group");
    let mut bypass = add("alex.wilber@contoso.com");
    bypass["BypassSecurityGroupManagerCheck"] = json!(true);
    run_quietly(&api, &app, "Add-DistributionGroupMember", bypass).await;
    let mut expected = vec![common::ADELE.to_string(), "0b1c2d3e-0000-4000-8000-000000000003".to_string()];
    expected.sort();
    assert_eq!(graph_member_ids(&api, &id).await, expected, "Graph sees Exchange's membership");

    let again = api.invoke(&owner, "Add-DistributionGroupMember", add("adele.vance@contoso.com")).await;
    assert_cmdlet_error(
        &again,
        400,
        "Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException",
        "is already a member of the group \"Store Leads\"",
    );
    let unprovisioned = api.invoke(&owner, "Add-DistributionGroupMember", add("megan.bowen@contoso.com")).await;
    assert_cmdlet_error(&unprovisioned, 404, NOT_FOUND, "Couldn't find object \"megan.bowen@contoso.com\"");
    assert_eq!(error_parts(&unprovisioned).0, "Ex94914C");

    let removed = api.invoke(&app, "Remove-DistributionGroupMember", add("adele.vance@contoso.com")).await;
    assert_cmdlet_error(&removed, 400, NOT_MANAGER, "manager of the group");
    run_quietly(&api, &owner, "Remove-DistributionGroupMember", add("adele.vance@contoso.com")).await;
    let not_member = api.invoke(&owner, "Remove-DistributionGroupMember", add("adele.vance@contoso.com")).await;
    assert_cmdlet_error(
        &not_member,
        400,
        "Microsoft.Exchange.Management.Tasks.MemberNotFoundException",
        "isn't a member of the group \"Store Leads\"",
    );
    assert_eq!(graph_member_ids(&api, &id).await, vec!["0b1c2d3e-0000-4000-8000-000000000003".to_string()]);
}

#[tokio::test]
async fn set_distribution_group_changes_a_seeded_group_only_with_the_bypass() {
    let api = ExchangeApi::start().await;
    let token = api.service_account();
    let change = json!({"Identity": FINANCE_APPROVERS, "DisplayName": "Finance Sign-off", "ManagedBy": ["exchange.svc@contoso.com"],
                        "PrimarySmtpAddress": "signoff@contoso.com", "Notes": "Approves spend"});
    let refused = api.invoke(&token, "Set-DistributionGroup", change.clone()).await;
    assert_cmdlet_error(&refused, 400, NOT_MANAGER, "manager of the group");
    let mut bypassed = change;
    bypassed["BypassSecurityGroupManagerCheck"] = json!(true);
    run_quietly(&api, &token, "Set-DistributionGroup", bypassed).await;

    let group = get_group(&api, "signoff@contoso.com").await;
    assert_eq!(group["Name"], "Finance Approvers", "the name is not the display name");
    assert_eq!(group["DisplayName"], "Finance Sign-off");
    assert_eq!(group["ManagedBy"], json!(["exchange.svc"]));
    assert_eq!(group["Notes"], "Approves spend");
    assert_eq!(group["Guid"], FINANCE_APPROVERS, "a seeded group keeps its Guid once it has settings");
    assert_eq!(group["EmailAddresses"], json!(["SMTP:signoff@contoso.com", "smtp:finance-approvers@contoso.com"]));
    let in_graph = graph(&api, Method::GET, &format!("/groups/{FINANCE_APPROVERS}"), None).await;
    assert_eq!(in_graph.body["displayName"], "Finance Sign-off");
    assert_eq!(in_graph.body["mail"], "signoff@contoso.com");

    let owner_now = json!({"Identity": "Finance Approvers", "ManagedBy": {"@odata.type": "#Exchange.GenericHashTable", "Add": ["adele.vance@contoso.com"]}});
    run_quietly(&api, &token, "Set-DistributionGroup", owner_now).await;
    assert_eq!(get_group(&api, "Finance Approvers").await["ManagedBy"], json!(["adele.vance", "exchange.svc"]));
    let unchanged = api
        .invoke(&token, "Set-DistributionGroup", json!({"Identity": "Finance Approvers", "Notes": "Approves spend"}))
        .await;
    assert_eq!(unchanged.status, 200, "{}", unchanged.body);
    assert_eq!(
        unchanged.body["@adminapi.warnings"],
        json!(["The command completed successfully but no settings of 'Finance Approvers' have been modified."])
    );
}

#[tokio::test]
async fn remove_distribution_group_purges_the_group_and_its_settings() {
    let api = ExchangeApi::start().await;
    let owner = api.service_account();
    let group = create_group(&api, &owner, json!({"Name": "Pop-up Store"})).await;
    let id = group["ExternalDirectoryObjectId"].as_str().expect("object id").to_string();
    let refused = api.invoke(&api.app(), "Remove-DistributionGroup", json!({"Identity": "Pop-up Store"})).await;
    assert_cmdlet_error(&refused, 400, NOT_MANAGER, "manager of the group");
    run_quietly(&api, &owner, "Remove-DistributionGroup", json!({"Identity": "Pop-up Store", "Confirm": false})).await;

    let gone = api.invoke(&owner, "Get-DistributionGroup", json!({"Identity": "Pop-up Store"})).await;
    assert_cmdlet_error(&gone, 404, NOT_FOUND, "'Pop-up Store'");
    assert_eq!(graph(&api, Method::GET, &format!("/groups/{id}"), None).await.status, 404);
    let deleted = graph(&api, Method::GET, "/directory/deletedItems/microsoft.graph.group", None).await;
    assert!(!deleted.ids().contains(&id), "distribution lists are not soft-deleted");
    let group_id: uuid::Uuid = id.parse().expect("uuid");
    let tenant = api.sandbox.tenant("contoso.com").expect("contoso");
    assert!(!tenant.read().exchange.groups.contains_key(&group_id), "its Exchange settings are gone too");
}

#[tokio::test]
async fn listings_cover_seeded_groups_filter_by_type_and_show_members_without_mailbox_as_users() {
    let seed = sandbox::seed::SAMPLE_SEED.replace(
        "kind = \"distribution\"\nmembers = [\"adele.vance@contoso.com\"]",
        "kind = \"distribution\"\nmembers = [\"adele.vance@contoso.com\", \"megan.bowen@contoso.com\"]",
    );
    let seed = sandbox::seed::Seed::from_toml(&seed).expect("edited seed parses");
    let api = ExchangeApi::start_with(sandbox::Sandbox::builder().seed(seed)).await;
    let token = api.app();
    let names = |objects: &[Value]| -> Vec<String> {
        objects.iter().map(|object| object["Name"].as_str().unwrap_or_default().to_string()).collect()
    };
    let all = api.invoke_all(&token, "Get-DistributionGroup", json!({}), 1).await;
    assert_eq!(names(&all), vec!["Finance Approvers", "Retail Announcements"]);
    let security = api
        .invoke_all(
            &token,
            "Get-DistributionGroup",
            json!({"RecipientTypeDetails": ["MailUniversalSecurityGroup"]}),
            1000,
        )
        .await;
    assert_eq!(names(&security), vec!["Finance Approvers"]);
    let marketing = api.invoke(&token, "Get-DistributionGroup", json!({"Identity": "Marketing"})).await;
    assert_cmdlet_error(&marketing, 404, NOT_FOUND, "'Marketing'");

    let members =
        api.invoke_all(&token, "Get-DistributionGroupMember", json!({"Identity": RETAIL_ANNOUNCEMENTS}), 1).await;
    let kinds: Vec<(&str, &str)> = members
        .iter()
        .map(|member| {
            (member["Alias"].as_str().unwrap_or_default(), member["RecipientTypeDetails"].as_str().unwrap_or_default())
        })
        .collect();
    assert_eq!(kinds, vec![("adele.vance", "UserMailbox"), ("megan.bowen", "User")]);
    let leaver = json!({"Identity": "Retail Announcements", "Member": "megan.bowen@contoso.com", "BypassSecurityGroupManagerCheck": true});
    run_quietly(&api, &token, "Remove-DistributionGroupMember", leaver).await;
    assert_eq!(graph_member_ids(&api, RETAIL_ANNOUNCEMENTS).await, vec![common::ADELE.to_string()]);
}

#[tokio::test]
async fn distribution_lists_need_the_distribution_groups_role_and_mail_recipients_alone_grants_no_group_cmdlet() {
    let without_distribution_groups =
        start_with_provisioning_roles(&["Security Group Creation and Membership", "Mail Recipients"]).await;
    let token = without_distribution_groups.service_account();
    let list = without_distribution_groups.invoke(&token, "New-DistributionGroup", json!({"Name": "Not A List"})).await;
    assert_cmdlet_error(&list, 400, TASK, "\"Distribution Groups\" role");
    let member = without_distribution_groups
        .invoke(
            &token,
            "Add-DistributionGroupMember",
            json!({"Identity": "Retail Announcements", "Member": "alex.wilber@contoso.com", "BypassSecurityGroupManagerCheck": true}),
        )
        .await;
    assert_cmdlet_error(&member, 400, TASK, "\"Distribution Groups\" role");
    let security =
        create_group(&without_distribution_groups, &token, json!({"Name": "Still Allowed", "Type": "Security"})).await;
    assert_eq!(security["RecipientTypeDetails"], "MailUniversalSecurityGroup");

    let mail_recipients_only = start_with_provisioning_roles(&["Mail Recipients"]).await;
    let token = mail_recipients_only.service_account();
    let reply = mail_recipients_only.invoke(&token, "New-DistributionGroup", json!({"Name": "Not Allowed"})).await;
    reply.assert_error(401, "Unauthorized", "User is not allowed to call New-DistributionGroup");
}

#[tokio::test]
async fn without_the_security_group_role_there_is_no_bypass_and_no_security_group() {
    let api = start_with_provisioning_roles(&["Distribution Groups", "Mail Recipients"]).await;
    let token = api.service_account();
    let bypass = api
        .invoke(
            &token,
            "Add-DistributionGroupMember",
            json!({"Identity": "Retail Announcements", "Member": "alex.wilber@contoso.com", "BypassSecurityGroupManagerCheck": true}),
        )
        .await;
    assert_cmdlet_error(
        &bypass,
        400,
        PARAMETER_BINDING,
        "A parameter cannot be found that matches parameter name 'BypassSecurityGroupManagerCheck'.",
    );
    let security = api.invoke(&token, "New-DistributionGroup", json!({"Name": "Auditors", "Type": "Security"})).await;
    assert_cmdlet_error(&security, 400, TASK, "Security Group Creation and Membership");
    let distribution = create_group(&api, &token, json!({"Name": "Auditors"})).await;
    assert_eq!(distribution["RecipientTypeDetails"], "MailUniversalDistributionGroup");
}

#[tokio::test]
async fn without_mail_recipients_groups_are_still_managed_but_mailboxes_are_not() {
    let api = start_with_provisioning_roles(&["Distribution Groups", "Security Group Creation and Membership"]).await;
    let token = api.service_account();
    create_group(&api, &token, json!({"Name": "Group Work", "Type": "Security"})).await;
    let reply = api
        .invoke(
            &token,
            "Set-Mailbox",
            json!({"Identity": "adele.vance@contoso.com", "HiddenFromAddressListsEnabled": true}),
        )
        .await;
    reply.assert_error(401, "Unauthorized", "User is not allowed to call Set-Mailbox");
}
