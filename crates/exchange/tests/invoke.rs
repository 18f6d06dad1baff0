//! `invoke` against the sandbox over HTTPS: paging by `@odata.nextLink`, warnings, and the mapping of Exchange's
//! error answers to typed errors — with no token ever in an error's text.

mod common;

use exchange::{ErrorKind, ExchangeConfig, NewDistributionGroup, Outcome};
use model::{MailGroupKind, MailboxKind, MembershipRestriction};
use sandbox::knobs::Knobs;
use serde_json::{Map, Value, json};

fn parameters(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn distribution_list(name: &str) -> NewDistributionGroup {
    NewDistributionGroup {
        name: name.to_string(),
        alias: name.to_lowercase(),
        kind: MailGroupKind::Distribution,
        managed_by: Vec::new(),
        member_join_restriction: MembershipRestriction::Closed,
        member_depart_restriction: MembershipRestriction::Open,
    }
}

#[tokio::test]
async fn listings_follow_next_links_to_the_last_page() {
    let sandbox = common::start(Knobs::default()).await;
    let creator = common::client(&sandbox);
    for index in 1..=5 {
        let created =
            creator.new_distribution_group(&distribution_list(&format!("Team{index}"))).await.expect("create");
        assert_eq!(created.kind, MailGroupKind::Distribution);
        assert_eq!(created.primary_smtp_address.as_deref(), Some(format!("team{index}@contoso.com").as_str()));
    }
    let (paged, _) = common::client_with(&sandbox, ExchangeConfig { page_size: 2, ..common::config(&sandbox) });
    let groups = paged.list_distribution_groups().await.expect("list groups");
    assert_eq!(groups.len(), 7, "the sample's two groups and the five new ones");
    assert_eq!(paged.stats().pages, 4, "7 groups at 2 a page");
    let finance = groups.iter().find(|group| group.identity == "Finance Approvers").expect("Finance Approvers");
    assert_eq!(finance.kind, MailGroupKind::Security);
    assert_eq!(finance.members, None, "a plain listing does not read members");

    let (single, _) = common::client_with(&sandbox, ExchangeConfig { page_size: 1, ..common::config(&sandbox) });
    let mailboxes = single.list_mailboxes(None).await.expect("list mailboxes");
    let mut names: Vec<&str> = mailboxes.iter().map(|mailbox| mailbox.user_principal_name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["adele.vance@contoso.com", "admin@contoso.com", "alex.wilber@contoso.com"]);
    assert_eq!(single.stats().pages, 3);
    assert!(single.list_mailboxes(Some(&MailboxKind::Shared)).await.expect("shared").is_empty());
}

#[tokio::test]
async fn warnings_are_returned_with_the_objects() {
    let sandbox = common::start(Knobs::default()).await;
    let client = common::client(&sandbox);
    let output = client
        .invoke_with_warnings(
            "New-DistributionGroup",
            parameters(json!({"Name": "Probe", "Type": "Distribution", "WhatIf": true})),
        )
        .await
        .expect("what-if");
    assert_eq!(output.objects.len(), 1);
    assert!(output.warnings.iter().any(|warning| warning.starts_with("What if:")), "{:?}", output.warnings);
    assert!(client.list_distribution_groups().await.expect("list").iter().all(|group| group.identity != "Probe"));
}

#[tokio::test]
async fn exchange_errors_become_typed_errors() {
    let sandbox = common::start(Knobs::default()).await;
    let client = common::client(&sandbox);

    let missing = client
        .invoke(
            "Set-Mailbox",
            parameters(json!({"Identity": "nobody@contoso.com", "HiddenFromAddressListsEnabled": true})),
        )
        .await
        .expect_err("no such mailbox");
    assert_eq!(missing.kind(), &ErrorKind::NotFound);
    assert_eq!(missing.status(), Some(404));
    assert!(missing.exception_type().is_some_and(|kind| kind.ends_with("ManagementObjectNotFoundException")));
    assert!(missing.message().contains("'nobody@contoso.com'"), "{missing}");
    assert!(missing.request_id().is_some());
    assert_eq!(client.get_mailbox("nobody@contoso.com").await.expect("read"), None);

    let add = json!({"Identity": common::RETAIL_ANNOUNCEMENTS, "Member": common::ALEX, "BypassSecurityGroupManagerCheck": true});
    client.invoke("Add-DistributionGroupMember", parameters(add.clone())).await.expect("first add");
    let twice = client.invoke("Add-DistributionGroupMember", parameters(add)).await.expect_err("second add");
    assert_eq!(twice.kind(), &ErrorKind::AlreadyExists);

    let remove = json!({"Identity": common::RETAIL_ANNOUNCEMENTS, "Member": common::MEGAN, "BypassSecurityGroupManagerCheck": true});
    let absent = client.invoke("Remove-DistributionGroupMember", parameters(remove)).await.expect_err("not a member");
    assert_eq!(absent.kind(), &ErrorKind::NotMember);

    let wrong = client
        .invoke("Set-Mailbox", parameters(json!({"Identity": common::ALEX, "Type": "Kitchen"})))
        .await
        .expect_err("no such type");
    assert_eq!(wrong.kind(), &ErrorKind::Other);
    assert!(!wrong.is_transient());

    let taken = client.new_distribution_group(&distribution_list("Retail Announcements")).await.expect_err("taken");
    assert_eq!(taken.kind(), &ErrorKind::AlreadyExists);

    let usage = client.invoke("Get-Mailbox; rm", Map::new()).await.expect_err("not a cmdlet name");
    assert_eq!(usage.kind(), &ErrorKind::Usage);
}

#[tokio::test]
async fn rbac_refusals_name_the_role_that_grants_the_call() {
    let sandbox = common::start_without_role("Mail Recipients").await;
    let client = common::client(&sandbox);
    let denied = client.set_hidden_from_address_lists(common::ALEX, true).await.expect_err("no Mail Recipients");
    assert_eq!(denied.kind(), &ErrorKind::RbacDenied { cmdlet: "Set-Mailbox".into() });
    assert_eq!(denied.required_role(), Some("Mail Recipients"));
    assert!(denied.to_string().contains("add the \"Mail Recipients\" role"), "{denied}");
    assert_eq!(client.stats().requests, 1, "an RBAC refusal is neither retried nor answered with a new token");

    let sandbox = common::start_without_role("Security Group Creation and Membership").await;
    let client = common::client(&sandbox);
    let hidden = client.add_group_member(common::FINANCE_APPROVERS, common::ALEX).await.expect_err("switch hidden");
    assert_eq!(hidden.kind(), &ErrorKind::ParameterHidden { parameter: "BypassSecurityGroupManagerCheck".into() });
    assert!(hidden.to_string().contains("\"Security Group Creation and Membership\""), "{hidden}");

    let sandbox = common::start_without_role("Distribution Groups").await;
    let client = common::client(&sandbox);
    let refused = client.new_distribution_group(&distribution_list("Sales")).await.expect_err("no Distribution Groups");
    assert_eq!(refused.kind(), &ErrorKind::RbacDenied { cmdlet: "New-DistributionGroup".into() });
    assert_eq!(refused.required_role(), Some("Distribution Groups"));
    assert_eq!(
        client.add_group_member(common::FINANCE_APPROVERS, common::ALEX).await.expect("security groups still"),
        Outcome::Done
    );
}

#[tokio::test]
async fn no_token_appears_in_errors_or_debug_output() {
    let sandbox = common::start(Knobs::default()).await;
    let (client, tokens) = common::client_with(&sandbox, common::config(&sandbox));
    let mut errors = vec![
        client.invoke("Set-Mailbox", parameters(json!({"Identity": "nobody@contoso.com"}))).await.expect_err("404"),
        client
            .invoke("Set-Mailbox", parameters(json!({"Identity": common::ALEX, "Colour": "red"})))
            .await
            .expect_err("400"),
        client.invoke("Get-Nothing", Map::new()).await.expect_err("unknown cmdlet"),
    ];
    // A real token Exchange refuses (Graph's audience): refused, then refused again with a fresh one.
    let graph_tokens = std::sync::Arc::new(common::SandboxTokens::new(&sandbox, common::GRAPH_SCOPE));
    let refused_client = exchange::ExchangeClient::new(common::config(&sandbox), graph_tokens.clone()).expect("client");
    let refused = refused_client.get_mailbox(common::ALEX).await.expect_err("wrong audience");
    assert_eq!(refused.kind(), &ErrorKind::Unauthenticated);
    assert_eq!(refused_client.stats().requests, 2, "one more try with a fresh token, then the error");
    errors.push(refused);
    let mut issued = tokens.issued.lock().expect("lock").clone();
    issued.extend(graph_tokens.issued.lock().expect("lock").iter().cloned());
    assert_eq!(issued.len(), 3, "one Exchange token, two Graph tokens");
    let client_debug = format!("{client:?} {refused_client:?}");
    for token in &issued {
        for error in &errors {
            for text in [error.to_string(), format!("{error:?}")] {
                assert!(!text.contains(token.as_str()), "a token leaked: {text}");
            }
        }
        assert!(!client_debug.contains(token.as_str()), "{client_debug}");
    }
    for error in &errors {
        assert!(error.to_string().ends_with('.'), "one sentence: {error}");
    }
}
