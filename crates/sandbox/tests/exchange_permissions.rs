//! The sandbox's Exchange permission cmdlets over real HTTPS: FullAccess (`*-MailboxPermission`) and SendAs
//! (`*-RecipientPermission`) — granting, listing (with the owner's own `NT AUTHORITY\SELF` entry), granting
//! twice and removing what is not there (warnings, as in Exchange), and the errors.

mod common;
mod exchange_api;

use common::Reply;
use exchange_api::{ExchangeApi, assert_cmdlet_error};
use serde_json::{Value, json};

const NOT_FOUND: &str = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException";
const NOT_IN_SET: &str = "System.Management.Automation.ParameterBindingException";
const EMPTY_ARGUMENT: &str = "System.Management.Automation.ParameterBindingValidationException";
const TASK: &str = "Microsoft.Exchange.Configuration.Tasks.TaskException";
const SHARED: &str = "adele.vance@contoso.com";
const ALEX: &str = "alex.wilber@contoso.com";
const SELF: &str = "NT AUTHORITY\\SELF";

/// Runs a permission cmdlet as the app (role group "Tenure Provisioning": Mail Recipients).
async fn run(api: &ExchangeApi, cmdlet: &str, parameters: Value) -> Reply {
    api.invoke(&api.app(), cmdlet, parameters).await
}

/// The objects of a successful reply.
#[track_caller]
fn objects(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["value"].as_array().cloned().unwrap_or_default()
}

/// The first warning of a reply, or `""`.
fn warning(reply: &Reply) -> &str {
    reply.body["@adminapi.warnings"][0].as_str().unwrap_or("")
}

/// The `field` of every object a listing cmdlet returns.
async fn listed(api: &ExchangeApi, cmdlet: &str, parameters: Value, field: &str) -> Vec<Value> {
    objects(&run(api, cmdlet, parameters).await).iter().map(|object| object[field].clone()).collect()
}

#[tokio::test]
async fn full_access_is_granted_listed_and_removed() {
    let api = ExchangeApi::start().await;
    let users = || listed(&api, "Get-MailboxPermission", json!({"Identity": SHARED}), "User");
    assert_eq!(users().await, vec![json!(SELF)], "every mailbox lists its owner's own entry");

    let grant = json!({"Identity": SHARED, "User": ALEX, "AccessRights": ["FullAccess"], "AutoMapping": false});
    let added = objects(&run(&api, "Add-MailboxPermission", grant.clone()).await);
    assert_eq!(added[0]["User"], ALEX);
    assert_eq!(added[0]["AccessRights"], json!(["FullAccess"]));
    assert_eq!((added[0]["IsInherited"].clone(), added[0]["Deny"].clone()), (json!(false), json!(false)));
    assert_eq!(added[0]["InheritanceType"], "All");
    assert_eq!(users().await, vec![json!(SELF), json!(ALEX)]);
    let only_alex =
        listed(&api, "Get-EXOMailboxPermission", json!({"Identity": SHARED, "User": "alex.wilber"}), "User").await;
    assert_eq!(only_alex, vec![json!(ALEX)]);

    let twice = run(&api, "Add-MailboxPermission", grant).await;
    assert_eq!(objects(&twice)[0]["User"], ALEX, "granting again answers the existing entry");
    assert!(warning(&twice).contains("access control entry is already present"), "{}", twice.body);
    assert_eq!(users().await.len(), 2);

    let revoke = json!({"Identity": SHARED, "User": ALEX, "AccessRights": "FullAccess"});
    assert_eq!(run(&api, "Remove-MailboxPermission", revoke.clone()).await.status, 204);
    assert_eq!(users().await, vec![json!(SELF)]);
    let absent = run(&api, "Remove-MailboxPermission", revoke).await;
    assert_eq!(objects(&absent), Vec::<Value>::new());
    assert!(warning(&absent).contains("because the ACE doesn't exist on the object"), "{}", absent.body);
}

#[tokio::test]
async fn mailbox_permission_errors_name_what_is_wrong() {
    let api = ExchangeApi::start().await;
    let add = |user: &str, rights: Value| json!({"Identity": SHARED, "User": user, "AccessRights": rights});
    let unknown_user = run(&api, "Add-MailboxPermission", add("nobody@contoso.com", json!(["FullAccess"]))).await;
    assert_cmdlet_error(&unknown_user, 404, NOT_FOUND, "Couldn't find object \"nobody@contoso.com\"");
    let other_right = run(&api, "Add-MailboxPermission", add(ALEX, json!(["FullAccess", "ReadPermission"]))).await;
    assert_cmdlet_error(&other_right, 400, TASK, "FullAccess grants only");
    let bogus = run(&api, "Add-MailboxPermission", add(ALEX, json!(["Everything"]))).await;
    assert_cmdlet_error(&bogus, 400, NOT_IN_SET, "ChangeOwner, ChangePermission");
    let empty = run(&api, "Add-MailboxPermission", add(ALEX, json!([]))).await;
    assert_cmdlet_error(&empty, 400, EMPTY_ARGUMENT, "empty array");
    let deny = run(
        &api,
        "Add-MailboxPermission",
        json!({"Identity": SHARED, "User": ALEX, "AccessRights": "FullAccess", "Deny": true}),
    )
    .await;
    assert_cmdlet_error(&deny, 400, TASK, "-Deny");
    let inheritance =
        json!({"Identity": SHARED, "User": ALEX, "AccessRights": "FullAccess", "InheritanceType": "Sideways"});
    assert_cmdlet_error(&run(&api, "Add-MailboxPermission", inheritance).await, 400, NOT_IN_SET, "SelfAndChildren");
    let no_mailbox = json!({"Identity": "megan.bowen@contoso.com", "User": ALEX, "AccessRights": "FullAccess"});
    assert_cmdlet_error(
        &run(&api, "Add-MailboxPermission", no_mailbox).await,
        404,
        NOT_FOUND,
        "'megan.bowen@contoso.com'",
    );
    let listing = run(&api, "Get-MailboxPermission", json!({"Identity": "nobody@contoso.com"})).await;
    assert_cmdlet_error(&listing, 404, NOT_FOUND, "'nobody@contoso.com'");

    let user_without_mailbox =
        run(&api, "Add-MailboxPermission", add("megan.bowen@contoso.com", json!("FullAccess"))).await;
    assert_eq!(objects(&user_without_mailbox)[0]["User"], "megan.bowen@contoso.com", "any user may be granted access");
    let other_inheritance =
        json!({"Identity": SHARED, "User": "megan.bowen", "AccessRights": "FullAccess", "InheritanceType": "None"});
    let kept = run(&api, "Remove-MailboxPermission", other_inheritance).await;
    assert!(warning(&kept).contains("ACE doesn't exist"), "an entry of another inheritance type is not removed");
}

#[tokio::test]
async fn send_as_is_granted_listed_and_removed() {
    let api = ExchangeApi::start().await;
    let trustees = || listed(&api, "Get-RecipientPermission", json!({"Identity": SHARED}), "Trustee");
    assert_eq!(trustees().await, vec![json!(SELF)]);

    let grant = json!({"Identity": SHARED, "Trustee": ALEX, "AccessRights": ["SendAs"]});
    let added = objects(&run(&api, "Add-RecipientPermission", grant.clone()).await);
    assert_eq!(added[0]["Trustee"], ALEX);
    assert_eq!(added[0]["AccessControlType"], "Allow");
    assert_eq!(added[0]["AccessRights"], json!(["SendAs"]));
    assert_eq!((added[0]["IsInherited"].clone(), added[0]["InheritanceType"].clone()), (json!(false), json!("None")));
    assert_eq!(trustees().await, vec![json!(SELF), json!(ALEX)]);
    let by_trustee = listed(&api, "Get-EXORecipientPermission", json!({"Trustee": "alex.wilber"}), "Identity").await;
    assert_eq!(by_trustee, vec![json!("adele.vance")], "-Trustee alone searches every mailbox");

    let twice = run(&api, "Add-RecipientPermission", grant).await;
    assert!(warning(&twice).contains("access control entry is already present"), "{}", twice.body);
    assert_eq!(trustees().await.len(), 2);

    let revoke = json!({"Identity": SHARED, "Trustee": ALEX, "AccessRights": "SendAs"});
    assert_eq!(run(&api, "Remove-RecipientPermission", revoke.clone()).await.status, 204);
    assert_eq!(trustees().await, vec![json!(SELF)]);
    let absent = run(&api, "Remove-RecipientPermission", revoke).await;
    assert!(warning(&absent).contains("because the ACE isn't present"), "{}", absent.body);
}

#[tokio::test]
async fn recipient_permission_errors_name_what_is_wrong() {
    let api = ExchangeApi::start().await;
    let wrong_right = run(
        &api,
        "Add-RecipientPermission",
        json!({"Identity": SHARED, "Trustee": ALEX, "AccessRights": "FullAccess"}),
    )
    .await;
    assert_cmdlet_error(&wrong_right, 400, NOT_IN_SET, "SendAs");
    let unknown = run(
        &api,
        "Add-RecipientPermission",
        json!({"Identity": SHARED, "Trustee": "nobody", "AccessRights": "SendAs"}),
    )
    .await;
    assert_cmdlet_error(&unknown, 404, NOT_FOUND, "Couldn't find object \"nobody\"");
    let no_mailbox = run(
        &api,
        "Remove-RecipientPermission",
        json!({"Identity": "nobody", "Trustee": ALEX, "AccessRights": "SendAs"}),
    )
    .await;
    assert_cmdlet_error(&no_mailbox, 404, NOT_FOUND, "'nobody'");
    let missing = run(&api, "Add-RecipientPermission", json!({"Identity": SHARED, "Trustee": ALEX})).await;
    assert_cmdlet_error(&missing, 400, "System.Management.Automation.ParameterBindingException", "AccessRights");
}

#[tokio::test]
async fn permission_changes_need_the_mail_recipients_role() {
    let api = ExchangeApi::start().await;
    let adele = common::exchange_user_token(&api.sandbox, common::ADELE);
    let grant = json!({"Identity": SHARED, "User": ALEX, "AccessRights": "FullAccess"});
    let denied = api.invoke(&adele, "Add-MailboxPermission", grant.clone()).await;
    denied.assert_error(401, "Unauthorized", "User is not allowed to call Add-MailboxPermission");
    assert_eq!(api.invoke(&api.service_account(), "Add-MailboxPermission", grant).await.status, 200);
}
