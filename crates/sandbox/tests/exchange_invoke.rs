//! The Exchange admin API's request handling: authentication, RBAC, parameter binding, the answer shape,
//! paging and limits — exercised with `Get-Mailbox` over real HTTPS.

mod common;
mod exchange_api;

use exchange_api::{ExchangeApi, assert_cmdlet_error};
use serde_json::json;

#[tokio::test]
async fn get_mailbox_answers_in_the_services_shape() {
    let api = ExchangeApi::start().await;
    let reply = api.invoke(&api.app(), "Get-Mailbox", json!({"Identity": "adele.vance@contoso.com"})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.headers["content-type"].to_str().unwrap().starts_with("application/json;odata.metadata=minimal"));
    assert_eq!(reply.headers["rate-limit-limit"], "30000");
    assert!(
        reply.body["@odata.context"].as_str().unwrap().ends_with("/$metadata#Collection(Exchange.GenericHashTable)")
    );
    assert_eq!(reply.body["@adminapi.warnings"], json!([]));
    let mailbox = &reply.body["value"][0];
    assert_eq!(mailbox["UserPrincipalName"], "adele.vance@contoso.com");
    assert_eq!(mailbox["RecipientTypeDetails"], "UserMailbox");
    assert_eq!(mailbox["ExternalDirectoryObjectId"], common::ADELE);
    assert_eq!(mailbox["ExchangeGuid@data.type"], "System.Guid");
    assert_eq!(mailbox["EmailAddresses@odata.type"], "#Collection(String)");
}

#[tokio::test]
async fn the_tenant_in_the_url_may_be_its_domain_and_must_be_the_tokens() {
    let api = ExchangeApi::start().await;
    let body = json!({"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {}}}).to_string().into_bytes();
    let url = format!("{}/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", api.sandbox.https_base());
    assert_eq!(api.post(&url, &api.app(), "Get-Mailbox", body.clone(), None).await.status, 200);
    let url = api.url(common::FABRIKAM);
    let reply = api.post(&url, &api.app(), "Get-Mailbox", body, None).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
}

#[tokio::test]
async fn a_caller_without_roles_is_not_allowed_to_call_the_cmdlet() {
    let api = ExchangeApi::start().await;
    let adele = common::exchange_user_token(&api.sandbox, common::ADELE);
    let reply = api.invoke(&adele, "Get-Mailbox", json!({})).await;
    reply.assert_error(401, "Unauthorized", "User is not allowed to call Get-Mailbox");
}

#[tokio::test]
async fn bad_input_gets_exchanges_binding_errors() {
    let api = ExchangeApi::start().await;
    let token = api.app();
    let unknown = api.invoke(&token, "Get-Mailbocks", json!({})).await;
    assert_cmdlet_error(&unknown, 400, "System.Management.Automation.CommandNotFoundException", "'Get-Mailbocks'");
    let parameter = api.invoke(&token, "Get-Mailbox", json!({"Colour": "red"})).await;
    assert_cmdlet_error(&parameter, 400, "System.Management.Automation.ParameterBindingException", "'Colour'");
    let wrong_type = api.invoke(&token, "Get-Mailbox", json!({"ResultSize": "lots"})).await;
    assert_cmdlet_error(
        &wrong_type,
        400,
        "System.Management.Automation.ParameterBindingArgumentTransformationException",
        "ResultSize",
    );
    let missing = api.invoke(&token, "Get-Mailbox", json!({"Identity": "nobody@contoso.com"})).await;
    assert_cmdlet_error(
        &missing,
        404,
        "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
        "'nobody@contoso.com'",
    );
    let body = api.post(&api.url(common::CONTOSO), &token, "Get-Mailbox", b"{\"CmdletInput\":".to_vec(), None).await;
    assert_eq!(body.status, 400);
    assert_eq!(body.code(), "BadRequest");
}

#[tokio::test]
async fn listings_page_by_next_link() {
    let api = ExchangeApi::start().await;
    let everything = api.invoke(&api.app(), "Get-Mailbox", json!({})).await;
    let all = everything.body["value"].as_array().unwrap().len();
    assert!(all >= 2);
    let paged = api.invoke_all(&api.app(), "Get-Mailbox", json!({}), 1).await;
    assert_eq!(paged.len(), all);
    let first = api
        .post(
            &api.url(common::CONTOSO),
            &api.app(),
            "Get-Mailbox",
            json!({"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {}}}).to_string().into_bytes(),
            Some(1),
        )
        .await;
    let next = first.body["@odata.nextLink"].as_str().unwrap().to_string();
    let other_body =
        json!({"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {"ResultSize": 5}}}).to_string().into_bytes();
    let mismatched = api.post(&next, &api.app(), "Get-Mailbox", other_body, Some(1)).await;
    assert_eq!(mismatched.status, 400, "a next link belongs to its own request");
}
