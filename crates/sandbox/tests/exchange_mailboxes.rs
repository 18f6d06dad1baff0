//! The sandbox's Exchange mailbox cmdlets over real HTTPS: `Get-EXOMailbox` property sets, `Get-Recipient`,
//! `Set-Mailbox` (type conversion, address-list hiding, send-on-behalf), `New-Mailbox -Shared` (a disabled
//! directory user behind a shared mailbox) and automatic replies — with the errors Exchange answers.

mod common;
mod exchange_api;

use common::{ADELE, Reply};
use exchange_api::{ExchangeApi, assert_cmdlet_error};
use serde_json::{Value, json};

const NOT_FOUND: &str = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException";
const NOT_IN_SET: &str = "System.Management.Automation.ParameterBindingException";
const TASK: &str = "Microsoft.Exchange.Configuration.Tasks.TaskException";
const VALIDATION: &str = "Microsoft.Exchange.Data.DataValidationException";
const ALEX_UPN: &str = "alex.wilber@contoso.com";

/// The objects of a successful reply.
#[track_caller]
fn objects(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["value"].as_array().cloned().unwrap_or_default()
}

/// The one mailbox `identity` names, as `Get-Mailbox` shows it.
async fn mailbox(api: &ExchangeApi, identity: &str) -> Value {
    let reply = api.invoke(&api.app(), "Get-Mailbox", json!({"Identity": identity})).await;
    objects(&reply).remove(0)
}

/// Runs `Set-Mailbox` on Adele's mailbox with `changes` as the app.
async fn set_adele(api: &ExchangeApi, changes: Value) -> Reply {
    let mut parameters = json!({"Identity": "adele.vance@contoso.com"});
    if let (Some(target), Some(extra)) = (parameters.as_object_mut(), changes.as_object()) {
        target.extend(extra.clone());
    }
    api.invoke(&api.app(), "Set-Mailbox", parameters).await
}

/// Creates a shared mailbox as the global admin.
async fn new_shared(api: &ExchangeApi, parameters: Value) -> Reply {
    api.invoke(&api.global_admin(), "New-Mailbox", parameters).await
}

/// Reads a Contoso user from Graph (with Tenure's full-power app token), selecting `select`.
async fn graph_user(api: &ExchangeApi, id: &str, select: &str) -> Reply {
    let url = format!("{}/v1.0/users/{id}?$select={select}", api.sandbox.https_base());
    let response =
        api.client.get(url).bearer_auth(common::tenure_app_token(&api.sandbox)).send().await.expect("Graph request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Reply { status, headers, body }
}

/// Adele's `GrantSendOnBehalfTo` as `Get-Mailbox` shows it.
async fn send_on_behalf(api: &ExchangeApi) -> Value {
    mailbox(api, ADELE).await["GrantSendOnBehalfTo"].clone()
}

/// The property names (without annotations) of an output object.
fn property_names(object: &Value) -> Vec<String> {
    let mut names: Vec<String> = object
        .as_object()
        .map(|object| object.keys().filter(|key| !key.contains('@')).cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn get_exo_mailbox_returns_the_minimum_property_set_unless_asked_for_more() {
    let api = ExchangeApi::start().await;
    let minimum = objects(&api.invoke(&api.app(), "Get-EXOMailbox", json!({"UserPrincipalName": ALEX_UPN})).await);
    assert_eq!(minimum.len(), 1);
    let names = property_names(&minimum[0]);
    assert!(
        names.contains(&"PrimarySmtpAddress".to_string()) && names.contains(&"ExternalDirectoryObjectId".to_string())
    );
    assert!(!names.contains(&"HiddenFromAddressListsEnabled".to_string()), "{names:?}");
    assert!(!names.contains(&"ExchangeGuid".to_string()), "{names:?}");
    assert_eq!(minimum[0]["Guid@data.type"], "System.Guid", "annotations of kept properties stay");

    let more = api
        .invoke(
            &api.app(),
            "Get-EXOMailbox",
            json!({"Identity": ALEX_UPN, "Properties": ["HiddenFromAddressListsEnabled"]}),
        )
        .await;
    assert_eq!(objects(&more)[0]["HiddenFromAddressListsEnabled"], false);
    let everything = api
        .invoke(&api.app(), "Get-EXOMailbox", json!({"ExternalDirectoryObjectId": ADELE, "PropertySets": "All"}))
        .await;
    assert!(objects(&everything)[0]["ExchangeGuid"].is_string());
    let delivery =
        api.invoke(&api.app(), "Get-EXOMailbox", json!({"Identity": ADELE, "PropertySets": ["Delivery"]})).await;
    assert_eq!(objects(&delivery)[0]["GrantSendOnBehalfTo"], json!([]));
}

#[tokio::test]
async fn get_exo_mailbox_refuses_bad_identities_and_properties() {
    let api = ExchangeApi::start().await;
    let token = api.app();
    let invalid = api.invoke(&token, "Get-EXOMailbox", json!({"Identity": ADELE, "Properties": ["Colour"]})).await;
    assert_cmdlet_error(&invalid, 400, TASK, "InvalidProperties = Colour");
    let not_guid = api.invoke(&token, "Get-EXOMailbox", json!({"ExternalDirectoryObjectId": "adele"})).await;
    assert_cmdlet_error(
        &not_guid,
        400,
        "System.Management.Automation.ParameterBindingArgumentTransformationException",
        "System.Guid",
    );
    let two_sets =
        api.invoke(&token, "Get-EXOMailbox", json!({"Identity": ADELE, "UserPrincipalName": ALEX_UPN})).await;
    assert_cmdlet_error(&two_sets, 400, "System.Management.Automation.ParameterBindingException", "Parameter set");
    let unknown = api.invoke(&token, "Get-EXOMailbox", json!({"PrimarySmtpAddress": "nobody@contoso.com"})).await;
    assert_cmdlet_error(&unknown, 404, NOT_FOUND, "'nobody@contoso.com'");
    let without_mailbox =
        api.invoke(&token, "Get-EXOMailbox", json!({"UserPrincipalName": "megan.bowen@contoso.com"})).await;
    assert_cmdlet_error(&without_mailbox, 404, NOT_FOUND, "megan.bowen@contoso.com");
    let set = api.invoke(&token, "Get-EXOMailbox", json!({"PropertySets": ["Everything"]})).await;
    assert_cmdlet_error(&set, 400, NOT_IN_SET, "StatisticsSeed");
}

#[tokio::test]
async fn get_mailbox_filters_by_one_or_several_recipient_types() {
    let api = ExchangeApi::start().await;
    let token = api.app();
    let users = objects(&api.invoke(&token, "Get-Mailbox", json!({"RecipientTypeDetails": "UserMailbox"})).await);
    assert!(users.len() >= 3);
    let shared = objects(&api.invoke(&token, "Get-Mailbox", json!({"RecipientTypeDetails": ["SharedMailbox"]})).await);
    assert!(shared.is_empty());
    let both =
        api.invoke(&token, "Get-Mailbox", json!({"RecipientTypeDetails": ["sharedmailbox", "UserMailbox"]})).await;
    assert_eq!(objects(&both).len(), users.len());
    let wrong = api.invoke(&token, "Get-Mailbox", json!({"RecipientTypeDetails": ["Mailboxes"]})).await;
    assert_cmdlet_error(&wrong, 400, NOT_IN_SET, "UserMailbox");
}

#[tokio::test]
async fn get_recipient_lists_mailboxes_and_mail_enabled_groups_in_pages() {
    let api = ExchangeApi::start().await;
    let token = api.app();
    let all = objects(&api.invoke(&token, "Get-Recipient", json!({})).await);
    let kind_of = |name: &str| {
        all.iter()
            .find(|recipient| recipient["DisplayName"] == name)
            .map(|recipient| recipient["RecipientTypeDetails"].clone())
    };
    assert_eq!(kind_of("Adele Vance"), Some(json!("UserMailbox")));
    assert_eq!(kind_of("Finance Approvers"), Some(json!("MailUniversalSecurityGroup")));
    assert_eq!(kind_of("Retail Announcements"), Some(json!("MailUniversalDistributionGroup")));
    assert_eq!(kind_of("Megan Bowen"), None, "a user without a mailbox is no recipient");
    assert_eq!(kind_of("All Staff"), None, "a security group that is not mail-enabled is no recipient");

    let paged = api.invoke_all(&token, "Get-Recipient", json!({}), 2).await;
    assert_eq!(paged, all);
    let lists = objects(
        &api.invoke(&token, "Get-Recipient", json!({"RecipientTypeDetails": "MailUniversalDistributionGroup"})).await,
    );
    assert_eq!(lists.len(), 1);
    let limited = api.invoke(&token, "Get-Recipient", json!({"ResultSize": 1})).await;
    assert_eq!(objects(&limited).len(), 1);
    assert!(limited.body["@adminapi.warnings"][0].as_str().unwrap_or("").contains("ResultSize"));
    let one = objects(&api.invoke(&token, "Get-Recipient", json!({"Identity": "finance-approvers"})).await);
    assert_eq!(one[0]["DisplayName"], "Finance Approvers");
    let unknown = api.invoke(&token, "Get-Recipient", json!({"Identity": "nobody@contoso.com"})).await;
    assert_cmdlet_error(&unknown, 404, NOT_FOUND, "'nobody@contoso.com'");
}

#[tokio::test]
async fn converting_to_shared_changes_exchange_but_not_the_directory_user() {
    let api = ExchangeApi::start().await;
    let select = "accountEnabled,assignedLicenses,displayName,mail,userPrincipalName";
    let before = graph_user(&api, ADELE, select).await;
    assert_eq!(before.status, 200, "{}", before.body);

    let converted = set_adele(&api, json!({"Type": "Shared"})).await;
    assert_eq!(converted.status, 204, "{}", converted.body);
    assert_eq!(mailbox(&api, ADELE).await["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(graph_user(&api, ADELE, select).await.body, before.body, "the user keeps its account and licences");

    let again = set_adele(&api, json!({"Type": "Shared"})).await;
    assert_eq!(objects(&again), Vec::<Value>::new());
    assert!(again.body["@adminapi.warnings"][0].as_str().unwrap_or("").contains("no settings of"), "{}", again.body);
    let room = set_adele(&api, json!({"Type": "Room"})).await;
    assert_cmdlet_error(&room, 400, TASK, "only to Regular or Shared");
    let back = set_adele(&api, json!({"Type": "Regular", "HiddenFromAddressListsEnabled": true})).await;
    assert_eq!(back.status, 204, "{}", back.body);
    let regular = mailbox(&api, ADELE).await;
    assert_eq!(
        (regular["RecipientTypeDetails"].clone(), regular["HiddenFromAddressListsEnabled"].clone()),
        (json!("UserMailbox"), json!(true))
    );
    let shown = graph_user(&api, ADELE, "showInAddressList").await;
    assert_eq!(shown.body["showInAddressList"], false, "Graph sees the hidden flag: {}", shown.body);
    let unknown =
        api.invoke(&api.app(), "Set-Mailbox", json!({"Identity": "nobody@contoso.com", "Type": "Shared"})).await;
    assert_cmdlet_error(&unknown, 404, NOT_FOUND, "'nobody@contoso.com'");
}

#[tokio::test]
async fn grant_send_on_behalf_to_adds_removes_and_replaces() {
    let api = ExchangeApi::start().await;
    let add =
        |entries: Value| json!({"GrantSendOnBehalfTo": {"@odata.type": "#Exchange.GenericHashTable", "Add": entries}});
    let remove = |entries: Value| json!({"GrantSendOnBehalfTo": {"@odata.type": "#Exchange.GenericHashTable", "Remove": entries}});

    assert_eq!(set_adele(&api, add(json!([ALEX_UPN, "finance-approvers"]))).await.status, 204);
    assert_eq!(send_on_behalf(&api).await, json!(["alex.wilber", "Finance Approvers"]));
    assert_eq!(set_adele(&api, remove(json!(["Finance Approvers"]))).await.status, 204);
    assert_eq!(send_on_behalf(&api).await, json!(["alex.wilber"]));
    let absent = set_adele(&api, remove(json!(["finance-approvers"]))).await;
    assert!(absent.body["@adminapi.warnings"][0].as_str().unwrap_or("").contains("no settings of"), "{}", absent.body);
    assert_eq!(set_adele(&api, json!({"GrantSendOnBehalfTo": ["admin@contoso.com"]})).await.status, 204);
    assert_eq!(send_on_behalf(&api).await, json!(["admin"]));
    assert_eq!(set_adele(&api, json!({"GrantSendOnBehalfTo": null})).await.status, 204);
    assert_eq!(send_on_behalf(&api).await, json!([]));

    let unknown = set_adele(&api, add(json!(["nobody@contoso.com"]))).await;
    assert_cmdlet_error(&unknown, 404, NOT_FOUND, "Couldn't find object \"nobody@contoso.com\"");
    let list = set_adele(&api, add(json!(["retail-announcements"]))).await;
    assert_cmdlet_error(&list, 400, VALIDATION, "retail-announcements");
    assert_eq!(send_on_behalf(&api).await, json!([]), "a refused change changes nothing");
}

#[tokio::test]
async fn new_shared_mailbox_is_a_disabled_unlicensed_user_in_graph() {
    let api = ExchangeApi::start().await;
    let created = new_shared(&api, json!({"Shared": true, "Name": "Sales Department", "Alias": "sales"})).await;
    let mailbox = objects(&created).remove(0);
    assert_eq!(mailbox["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(mailbox["PrimarySmtpAddress"], "sales@contoso.com");
    assert_eq!(mailbox["DisplayName"], "Sales Department");
    assert_eq!((mailbox["Name"].clone(), mailbox["Alias"].clone()), (json!("Sales Department"), json!("sales")));
    assert_eq!(mailbox["AccountDisabled"], true);
    assert_eq!(self::mailbox(&api, "Sales Department").await["Alias"], "sales", "the name is an identity");

    let id = mailbox["ExternalDirectoryObjectId"].as_str().unwrap_or_default();
    let select = "accountEnabled,assignedLicenses,mail,mailNickname,proxyAddresses,userPrincipalName";
    let user = graph_user(&api, id, select).await;
    assert_eq!(user.status, 200, "{}", user.body);
    assert_eq!(user.body["accountEnabled"], false);
    assert_eq!(user.body["assignedLicenses"], json!([]));
    assert_eq!(user.body["mailNickname"], "sales");
    assert_eq!(user.body["proxyAddresses"], json!(["SMTP:sales@contoso.com", "smtp:sales@contoso.onmicrosoft.com"]));
    assert_eq!(user.body["userPrincipalName"], "sales@contoso.com");

    let defaults = objects(&new_shared(&api, json!({"Shared": true, "Name": "Front Desk"})).await).remove(0);
    assert_eq!((defaults["Alias"].clone(), defaults["DisplayName"].clone()), (json!("FrontDesk"), json!("Front Desk")));
    let found = self::mailbox(&api, "frontdesk@contoso.com").await;
    assert_eq!(found["RecipientTypeDetails"], "SharedMailbox");
}

#[tokio::test]
async fn new_mailbox_refuses_taken_names_and_addresses() {
    let api = ExchangeApi::start().await;
    let user_mailbox = new_shared(&api, json!({"Name": "Someone"})).await;
    assert_cmdlet_error(&user_mailbox, 400, TASK, "licensing the user in Microsoft Graph");
    assert_eq!(new_shared(&api, json!({"Shared": true, "Name": "sales"})).await.status, 200);
    let same_name = new_shared(&api, json!({"Shared": true, "Name": "Sales", "Alias": "sales2"})).await;
    assert_cmdlet_error(
        &same_name,
        400,
        "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException",
        "\"Sales\"",
    );
    let group_name = new_shared(&api, json!({"Shared": true, "Name": "Finance Approvers"})).await;
    assert_cmdlet_error(
        &group_name,
        400,
        "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException",
        "Finance Approvers",
    );
    let proxy = "Microsoft.Exchange.Data.Directory.ProxyAddressExistsException";
    let alias = new_shared(&api, json!({"Shared": true, "Name": "Adele Shared", "Alias": "adele.vance"})).await;
    assert_cmdlet_error(&alias, 400, proxy, "\"adele.vance\"");
    let address = new_shared(
        &api,
        json!({"Shared": true, "Name": "Helpdesk Queue", "PrimarySmtpAddress": "helpdesk@contoso.com"}),
    )
    .await;
    assert_cmdlet_error(&address, 400, proxy, "SMTP:helpdesk@contoso.com");
    let foreign =
        new_shared(&api, json!({"Shared": true, "Name": "Elsewhere", "PrimarySmtpAddress": "x@fabrikam.gov"})).await;
    assert_cmdlet_error(&foreign, 400, VALIDATION, "isn't an accepted domain");
    let bad_alias = new_shared(&api, json!({"Shared": true, "Name": "Odd", "Alias": "odd..alias"})).await;
    assert_cmdlet_error(&bad_alias, 400, VALIDATION, "isn't valid");
}

#[tokio::test]
async fn new_mailbox_needs_the_mail_recipient_creation_role() {
    let api = ExchangeApi::start().await;
    let parameters = json!({"Shared": true, "Name": "Payroll"});
    let provisioning = api.invoke(&api.app(), "New-Mailbox", parameters.clone()).await;
    provisioning.assert_error(401, "Unauthorized", "User is not allowed to call New-Mailbox");
    assert_eq!(new_shared(&api, parameters).await.status, 200);
}

/// Runs `Set-MailboxAutoReplyConfiguration` on Adele's mailbox.
async fn set_auto_reply(api: &ExchangeApi, settings: Value) -> Reply {
    let mut parameters = json!({"Identity": ADELE});
    if let (Some(target), Some(extra)) = (parameters.as_object_mut(), settings.as_object()) {
        target.extend(extra.clone());
    }
    api.invoke(&api.app(), "Set-MailboxAutoReplyConfiguration", parameters).await
}

#[tokio::test]
async fn automatic_replies_are_set_and_read_back() {
    let api = ExchangeApi::start().await;
    let initial =
        objects(&api.invoke(&api.app(), "Get-MailboxAutoReplyConfiguration", json!({"Identity": ADELE})).await);
    assert_eq!(
        (initial[0]["AutoReplyState"].clone(), initial[0]["ExternalAudience"].clone()),
        (json!("Disabled"), json!("All"))
    );

    let scheduled = set_auto_reply(
        &api,
        json!({"AutoReplyState": "scheduled", "StartTime": "2030-07-10T08:00:00Z", "EndTime": "2030-07-15T17:00:00Z",
               "InternalMessage": "Back on the 15th.", "ExternalAudience": "Known"}),
    )
    .await;
    assert_eq!(scheduled.status, 204, "{}", scheduled.body);
    let read =
        objects(&api.invoke(&api.app(), "Get-MailboxAutoReplyConfiguration", json!({"Identity": "adele.vance"})).await);
    let settings = &read[0];
    assert_eq!(settings["AutoReplyState"], "Scheduled");
    assert_eq!(settings["InternalMessage"], "Back on the 15th.");
    assert_eq!(settings["ExternalAudience"], "Known");
    assert_eq!(settings["StartTime"], "2030-07-10T08:00:00.0000000+00:00");
    assert_eq!(settings["EndTime@data.type"], "System.DateTime");
    assert_eq!(settings["MailboxOwnerId"], settings["Identity"]);
}

#[tokio::test]
async fn automatic_reply_schedules_are_checked() {
    let api = ExchangeApi::start().await;
    let no_times = set_auto_reply(&api, json!({"AutoReplyState": "Scheduled"})).await;
    assert_cmdlet_error(&no_times, 400, VALIDATION, "StartTime and EndTime");
    let backwards = set_auto_reply(
        &api,
        json!({"AutoReplyState": "Scheduled", "StartTime": "2030-07-15T08:00:00Z", "EndTime": "2030-07-10T08:00:00Z"}),
    )
    .await;
    assert_cmdlet_error(&backwards, 400, VALIDATION, "end time must be later");
    let state = set_auto_reply(&api, json!({"AutoReplyState": "Holiday"})).await;
    assert_cmdlet_error(&state, 400, NOT_IN_SET, "Disabled, Enabled, Scheduled");
    let unknown = api
        .invoke(
            &api.app(),
            "Set-MailboxAutoReplyConfiguration",
            json!({"Identity": "nobody@contoso.com", "AutoReplyState": "Enabled"}),
        )
        .await;
    assert_cmdlet_error(&unknown, 404, NOT_FOUND, "'nobody@contoso.com'");
    let unchanged =
        objects(&api.invoke(&api.app(), "Get-MailboxAutoReplyConfiguration", json!({"Identity": ADELE})).await);
    assert_eq!(unchanged[0]["AutoReplyState"], "Disabled", "a refused change changes nothing");
}
