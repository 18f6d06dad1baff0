//! The typed operations against the sandbox: reads converted to `model` types, and writes that report
//! `AlreadyDone` when repeated — grants, removals, Send on Behalf and group membership.

mod common;

use exchange::{NewDistributionGroup, Outcome};
use model::{MailGroupKind, MailboxKind, MailboxRight, MembershipRestriction, ObjectId};
use sandbox::knobs::Knobs;

#[tokio::test]
async fn a_mailbox_reads_as_the_model_mailbox() {
    let sandbox = common::start(Knobs::default()).await;
    let client = common::client(&sandbox);
    let alex = client.get_mailbox(common::ALEX).await.expect("read").expect("Alex has a mailbox");
    assert_eq!(alex.kind, MailboxKind::User);
    assert_eq!(alex.object_id, Some(ObjectId(common::ALEX_ID.into())));
    assert_eq!(alex.primary_smtp_address.as_deref(), Some(common::ALEX));
    assert_eq!(alex.display_name, "Alex Wilber");
    assert!(!alex.hidden_from_address_lists);
    assert!(alex.send_on_behalf.is_empty());
    assert_eq!(client.get_mailbox(common::MEGAN).await.expect("read"), None, "Megan has no licence, so no mailbox");
}

#[tokio::test]
async fn permission_writes_are_idempotent() {
    let sandbox = common::start(Knobs::default()).await;
    let client = common::client(&sandbox);
    let (mailbox, manager) = (common::ALEX, common::ADELE);

    assert_eq!(client.add_full_access(mailbox, manager, true).await.expect("grant"), Outcome::Done);
    assert_eq!(client.add_full_access(mailbox, manager, true).await.expect("again"), Outcome::AlreadyDone);
    let full_access = client.list_mailbox_permissions(mailbox).await.expect("list");
    assert_eq!(full_access.len(), 1, "the owner's own entry is left out: {full_access:?}");
    assert_eq!((full_access[0].trustee.as_str(), full_access[0].right), (manager, MailboxRight::FullAccess));
    assert!(!full_access[0].inherited && !full_access[0].deny);
    assert_eq!(client.remove_full_access(mailbox, manager).await.expect("remove"), Outcome::Done);
    assert_eq!(client.remove_full_access(mailbox, manager).await.expect("again"), Outcome::AlreadyDone);
    assert!(client.list_mailbox_permissions(mailbox).await.expect("list").is_empty());

    assert_eq!(client.add_send_as(mailbox, manager).await.expect("grant"), Outcome::Done);
    assert_eq!(client.add_send_as(mailbox, manager).await.expect("again"), Outcome::AlreadyDone);
    let send_as = client.list_recipient_permissions(mailbox).await.expect("list");
    assert_eq!(
        send_as.iter().map(|entry| (entry.trustee.as_str(), entry.right)).collect::<Vec<_>>(),
        [(manager, MailboxRight::SendAs)]
    );
    assert_eq!(client.remove_send_as(mailbox, manager).await.expect("remove"), Outcome::Done);
    assert_eq!(client.remove_send_as(mailbox, manager).await.expect("again"), Outcome::AlreadyDone);

    assert_eq!(client.grant_send_on_behalf(mailbox, manager).await.expect("grant"), Outcome::Done);
    assert_eq!(client.grant_send_on_behalf(mailbox, manager).await.expect("again"), Outcome::AlreadyDone);
    let delegates = client.get_mailbox(mailbox).await.expect("read").expect("mailbox").send_on_behalf;
    assert_eq!(delegates.len(), 1, "{delegates:?}");
    assert_eq!(client.revoke_send_on_behalf(mailbox, manager).await.expect("revoke"), Outcome::Done);
    assert_eq!(client.revoke_send_on_behalf(mailbox, manager).await.expect("again"), Outcome::AlreadyDone);
    assert!(client.get_mailbox(mailbox).await.expect("read").expect("mailbox").send_on_behalf.is_empty());
}

#[tokio::test]
async fn membership_writes_are_idempotent_for_both_kinds_of_group() {
    let sandbox = common::start(Knobs::default()).await;
    let client = common::client(&sandbox);
    for group in [common::RETAIL_ANNOUNCEMENTS, common::FINANCE_APPROVERS] {
        assert_eq!(client.add_group_member(group, common::ALEX).await.expect("add"), Outcome::Done, "{group}");
        assert_eq!(client.add_group_member(group, common::ALEX).await.expect("again"), Outcome::AlreadyDone);
        let members = client.list_group_members(group).await.expect("members");
        assert!(members.iter().any(|member| member.object_id == Some(ObjectId(common::ALEX_ID.into()))), "{members:?}");
        assert_eq!(client.remove_group_member(group, common::ALEX).await.expect("remove"), Outcome::Done);
        assert_eq!(client.remove_group_member(group, common::ALEX).await.expect("again"), Outcome::AlreadyDone);
    }
}

#[tokio::test]
async fn groups_are_created_and_listed_with_members_and_settings() {
    let sandbox = common::start(Knobs::default()).await;
    let client = common::client(&sandbox);
    let spec = NewDistributionGroup {
        name: "Payroll Admins".into(),
        alias: "payroll-admins".into(),
        kind: MailGroupKind::Security,
        managed_by: vec![common::ADELE.into()],
        member_join_restriction: MembershipRestriction::ApprovalRequired,
        member_depart_restriction: MembershipRestriction::Closed,
    };
    let created = client.new_distribution_group(&spec).await.expect("create");
    assert_eq!(created.identity, "Payroll Admins");
    assert_eq!(created.kind, MailGroupKind::Security);
    assert_eq!(created.member_join_restriction, MembershipRestriction::ApprovalRequired);
    assert_eq!(created.managed_by.len(), 1);
    assert_eq!(created.members, Some(Vec::new()));
    let unprovisioned = client.add_group_member("payroll-admins@contoso.com", common::MEGAN).await;
    let error = unprovisioned.expect_err("a user without a mailbox is no recipient yet");
    assert_eq!(error.kind(), &exchange::ErrorKind::NotFound);
    client.add_group_member("payroll-admins@contoso.com", common::ALEX).await.expect("add");

    let groups = client.list_distribution_groups_with_members().await.expect("groups with members");
    assert_eq!(groups.len(), 3);
    let members_of = |name: &str| -> Vec<String> {
        let group = groups.iter().find(|group| group.identity == name).expect(name);
        group.members.as_ref().expect("members read").iter().map(|member| member.identity.clone()).collect()
    };
    assert_eq!(members_of("Payroll Admins").len(), 1);
    assert_eq!(members_of("Finance Approvers").len(), 1, "Adele, from the seed");
    let retail = groups.iter().find(|group| group.identity == "Retail Announcements").expect("retail");
    assert_eq!(retail.kind, MailGroupKind::Distribution);
    assert_eq!(retail.member_depart_restriction, MembershipRestriction::Open);
}

#[tokio::test]
async fn observation_reads_list_mailboxes_lean_and_find_one_mailbox_or_list_by_name() {
    let sandbox = common::start(Knobs::default()).await;
    let client = common::client(&sandbox);
    client.set_hidden_from_address_lists(common::ALEX, true).await.expect("hide");
    client.grant_send_on_behalf(common::ALEX, common::ADELE).await.expect("grant");

    let mailboxes = client.list_user_and_shared_mailboxes().await.expect("list");
    let upns: Vec<&str> = mailboxes.iter().map(|mailbox| mailbox.user_principal_name.as_str()).collect();
    assert_eq!(upns.len(), 3, "the sample's three licensed users: {upns:?}");
    let alex = mailboxes.iter().find(|mailbox| mailbox.user_principal_name == common::ALEX).expect("Alex");
    assert_eq!(alex.object_id, Some(ObjectId(common::ALEX_ID.into())));
    assert_eq!((alex.kind.clone(), alex.hidden_from_address_lists), (MailboxKind::User, true));
    assert_eq!(alex.send_on_behalf.len(), 1, "{alex:?}");

    let read = client.get_exo_mailbox(common::ALEX).await.expect("read").expect("Alex has a mailbox");
    assert_eq!(&read, alex, "one mailbox reads as in the listing");
    assert_eq!(client.get_exo_mailbox(common::MEGAN).await.expect("read"), None, "Megan has no mailbox");

    let retail = client.get_distribution_group("retail announcements").await.expect("read").expect("the list");
    assert_eq!((retail.identity.as_str(), retail.kind), ("Retail Announcements", MailGroupKind::Distribution));
    assert_eq!(client.get_distribution_group("No Such List").await.expect("read"), None);
}

#[tokio::test]
async fn automatic_replies_are_turned_off_keeping_their_text() {
    let sandbox = common::start(Knobs::default()).await;
    let client = common::client(&sandbox);
    let reply = "Alex has left Contoso.";
    client.set_auto_reply(common::ALEX, reply, "", model::AutoReplyState::Enabled).await.expect("on");
    client.disable_auto_reply(common::ALEX).await.expect("off");
    let read = client
        .invoke(
            "Get-MailboxAutoReplyConfiguration",
            serde_json::Map::from_iter([("Identity".into(), common::ALEX.into())]),
        )
        .await
        .expect("read the configuration");
    assert_eq!(read[0]["AutoReplyState"], "Disabled", "{read:?}");
    assert_eq!(read[0]["InternalMessage"], reply, "{read:?}");
}
