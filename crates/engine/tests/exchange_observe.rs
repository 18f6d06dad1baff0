//! The Exchange observation against the sandbox over HTTPS: every user and shared mailbox (paged), the lists the
//! policy names with their user members, the shared mailboxes it names with FullAccess, SendAs and Send on
//! Behalf by lower-case UPN, and the rights on a user's own mailbox only for unsettled leavers and rehires.

mod exchange_support;
mod support;

use std::collections::{BTreeMap, BTreeSet};

use engine::observe_exchange;
use exchange::{ExchangeClient, MailboxType};
use exchange_support::{ADELE, ADELE_ID, ALEX, ALEX_ID, ENTERPRISEPACK, RETAIL_ANNOUNCEMENTS, group, object_id, user};
use model::{
    DesiredExchange, DesiredMailAccess, DesiredMailList, DesiredState, LeaverMailbox, MailGroupKind,
    MembershipRestriction, ObjectId, SharedMailboxRight, WorkerId,
};
use sandbox::RunningSandbox;
use sandbox::knobs::Knobs;

const INFO: &str = "info@contoso.com";
const LENA: &str = "lena.leaver@contoso.com";
const LISA: &str = "lisa.licensed@contoso.com";
const SAM: &str = "sam.settled@contoso.com";
const RITA: &str = "rita.rehire@contoso.com";
/// Licensed users beyond the sample's, so that paging has pages to follow.
const EXTRA_USERS: u64 = 12;

/// Contoso with a shared mailbox to be, four leavers and rehires with mailboxes, twelve more licensed users, and
/// a list whose members include a group.
fn extra_seed() -> String {
    let mut text = String::new();
    text.push_str(&user(1, INFO, None, true));
    text.push_str(&user(2, LENA, Some("2001"), true));
    text.push_str(&user(3, LISA, Some("2003"), true));
    text.push_str(&user(4, SAM, Some("2002"), true));
    text.push_str(&user(5, RITA, Some("2004"), true));
    for index in 0..EXTRA_USERS {
        text.push_str(&user(100 + index, &format!("user{index:02}@contoso.com"), None, true));
    }
    text.push_str(&group("Sales Team", "sales-team", "distribution", &[ADELE, ALEX, "Finance Approvers"]));
    text
}

fn leaver() -> LeaverMailbox {
    LeaverMailbox {
        convert_to_shared: true,
        auto_reply: None,
        manager: None,
        delegates: vec![ADELE.into()],
        grant_rights: BTreeSet::from([SharedMailboxRight::FullAccess]),
        keep_memberships: BTreeSet::new(),
        delete_after_days: None,
    }
}

fn list(name: &str, kind: MailGroupKind) -> (String, DesiredMailList) {
    let desired = DesiredMailList {
        name: name.into(),
        kind,
        create_if_missing: false,
        owner: None,
        join_restriction: MembershipRestriction::Closed,
        depart_restriction: MembershipRestriction::Closed,
    };
    (name.to_string(), desired)
}

/// A policy naming two lists that exist and one that does not, `info@contoso.com` and a shared mailbox that does
/// not exist; Lena, Lisa and Sam leave, Rita and Alex are active.
fn desired() -> DesiredState {
    let worker = |id: &str| WorkerId::new(id).expect("worker id");
    let leaving = DesiredMailAccess { leaver: Some(leaver()), ..DesiredMailAccess::default() };
    let accounts = BTreeMap::from([
        (worker("2001"), leaving.clone()),
        (worker("2002"), leaving.clone()),
        (worker("2003"), leaving),
        (worker("2004"), DesiredMailAccess::default()),
        (worker("1002"), DesiredMailAccess::default()),
    ]);
    DesiredState {
        managed_skus: BTreeSet::from(["ENTERPRISEPACK".to_string()]),
        exchange: DesiredExchange {
            enabled: true,
            lists: BTreeMap::from([
                list(RETAIL_ANNOUNCEMENTS, MailGroupKind::Distribution),
                list("sales team", MailGroupKind::Distribution),
                list("Does Not Exist", MailGroupKind::Security),
            ]),
            shared_mailboxes: BTreeSet::from([INFO.to_uppercase(), "nobody@contoso.com".to_string()]),
            accounts,
            ..DesiredExchange::default()
        },
        ..DesiredState::default()
    }
}

/// Makes the mailboxes what the test needs: `info@` shared with rights for Adele and Alex; Sam's mailbox shared
/// and unlicensed (settled), Lisa's and Rita's shared but licensed; FullAccess for Adele on Lena's; Alex hidden.
async fn arrange(sandbox: &RunningSandbox, client: &ExchangeClient, graph: &graph::Client) {
    for mailbox in [INFO, SAM, LISA, RITA] {
        client.set_mailbox_type(mailbox, MailboxType::Shared).await.expect("convert");
    }
    exchange_support::assign_licenses(graph, &object_id(4), &[], &[ENTERPRISEPACK]).await;
    client.add_full_access(INFO, ADELE, true).await.expect("full access");
    client.add_send_as(INFO, ALEX).await.expect("send as");
    client.grant_send_on_behalf(INFO, ADELE).await.expect("send on behalf");
    client.add_full_access(LENA, ADELE, false).await.expect("full access");
    client.add_full_access(SAM, ADELE, false).await.expect("full access");
    client.set_hidden_from_address_lists(ALEX, true).await.expect("hide");
    client.add_group_member(RETAIL_ANNOUNCEMENTS, ALEX).await.expect("add");
    assert_eq!(exchange_support::admin(sandbox, "data-loss").await["entries"], serde_json::json!([]));
}

fn id(text: &str) -> ObjectId {
    ObjectId(text.to_string())
}

fn rights(entries: &[(&str, &[SharedMailboxRight])]) -> model::MailboxAccess {
    entries.iter().map(|(trustee, rights)| (trustee.to_string(), rights.iter().copied().collect())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailboxes_lists_shared_mailboxes_and_leaver_rights_are_observed() {
    let sandbox = exchange_support::start(&extra_seed(), Knobs::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = exchange_support::engine_context(&sandbox, dir.path(), engine::config::ApplyConfig::default()).await;
    let client = exchange_support::exchange_client(&sandbox, 1000);
    arrange(&sandbox, &client, &ctx.graph).await;
    let (observed, _) = ctx.graph.observe_full().await.expect("graph observation");
    let desired = desired();

    let found = observe_exchange(&client, &desired, &observed).await.expect("observe");

    // Mailboxes: the sample's licensed users, the test's, and the shared ones, by object id with UPN identity.
    let licensed_in_sample = 3;
    assert_eq!(found.mailboxes.len(), licensed_in_sample + 5 + EXTRA_USERS as usize, "{:?}", found.mailboxes.keys());
    let info = found.mailbox(&id(&object_id(1))).expect("info@ has a mailbox");
    assert_eq!((info.identity.as_str(), info.shared, info.hidden), (INFO, true, false));
    let alex = found.mailbox(&id(ALEX_ID)).expect("Alex has a mailbox");
    assert!(!alex.shared && alex.hidden, "{alex:?}");
    assert_eq!(found.mailbox(&id("0b1c2d3e-0000-4000-8000-000000000004")), None, "Megan has no licence");

    // Lists: by lower-case name, users only, Exchange's spelling of the name; a missing list is absent.
    let retail = found.list("retail announcements").expect("Retail Announcements");
    assert_eq!(retail.members, BTreeSet::from([id(ADELE_ID), id(ALEX_ID)]));
    assert_eq!(retail.kind, MailGroupKind::Distribution);
    let sales = found.list("Sales Team").expect("Sales Team");
    assert_eq!(sales.name, "Sales Team");
    assert_eq!(sales.members, BTreeSet::from([id(ADELE_ID), id(ALEX_ID)]), "the group member is left out");
    assert_eq!(found.lists.len(), 2, "{:?}", found.lists.keys());

    // The named shared mailbox, keyed as the policy spells it (lower-cased), with every kind of right.
    use SharedMailboxRight::{FullAccess, SendAs, SendOnBehalf};
    let shared = found.shared_mailbox(INFO).expect("info@ is observed");
    assert_eq!(shared.identity, INFO);
    assert_eq!(shared.access, rights(&[(ADELE, &[FullAccess, SendOnBehalf]), (ALEX, &[SendAs])]));
    assert_eq!(found.shared_mailboxes.len(), 1, "a shared mailbox that does not exist is absent");

    // Rights on users' own mailboxes only where the leaver or rehire sequence needs them.
    let access = |object: &str| found.mailbox(&id(object)).expect("mailbox").access.clone();
    assert_eq!(access(&object_id(2)), None, "Lena: a leaver not converted yet (nothing of Tenure's granted)");
    assert_eq!(access(&object_id(3)), Some(rights(&[])), "Lisa: shared but still licensed");
    assert_eq!(access(&object_id(4)), None, "Sam: shared and unlicensed, settled (though Adele has a right)");
    assert_eq!(access(&object_id(5)), Some(rights(&[])), "Rita: active with a shared mailbox, a rehire");
    assert_eq!(access(ALEX_ID), None, "Alex: active with his own mailbox");
    assert_eq!(access(&object_id(1)), None, "info@ is no worker's");

    // The same observation read three mailboxes a page gives the same result, over many pages.
    let paged = exchange_support::exchange_client(&sandbox, 3);
    let found_paged = observe_exchange(&paged, &desired, &observed).await.expect("observe paged");
    assert_eq!(found_paged, found);
    let pages_of_mailboxes = found.mailboxes.len().div_ceil(3) as u64;
    assert!(paged.stats().pages > pages_of_mailboxes, "{:?}", paged.stats());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_read_when_the_policy_does_not_manage_exchange() {
    let sandbox = exchange_support::start("", Knobs::default()).await;
    let client = exchange_support::exchange_client(&sandbox, 1000);
    let mut desired = desired();
    desired.exchange.enabled = false;
    let found = observe_exchange(&client, &desired, &model::ObservedState::default()).await.expect("observe");
    assert_eq!(found, model::ObservedExchange::default());
    assert_eq!(client.stats().requests, 0);
    sandbox.shutdown().await;
}
