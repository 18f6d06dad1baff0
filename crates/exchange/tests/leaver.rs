//! The leaver's mailbox sequence through the client — hide, automatic reply, convert to shared, confirm it is
//! shared, FullAccess and SendAs for the manager — then the licence removed through Graph: the mailbox survives
//! and the sandbox's data-loss record stays empty. Run twice, the sequence changes nothing the second time.

mod common;

use exchange::{ExchangeClient, MailboxType, Outcome};
use model::{AutoReplyState, MailboxKind};
use sandbox::knobs::Knobs;
use serde_json::json;

/// The leaver sequence for `leaver` with `manager`; the outcome of each write, in order.
async fn leave(client: &ExchangeClient, leaver: &str, manager: &str) -> Vec<Outcome> {
    let mut outcomes = vec![client.set_hidden_from_address_lists(leaver, true).await.expect("hide")];
    let reply = "Alex has left Contoso. Please write to Adele Vance.";
    outcomes.push(client.set_auto_reply(leaver, reply, reply, AutoReplyState::Enabled).await.expect("auto-reply"));
    outcomes.push(client.set_mailbox_type(leaver, MailboxType::Shared).await.expect("convert"));
    let confirmed = client.get_mailbox(leaver).await.expect("read").expect("mailbox");
    assert_eq!(confirmed.kind, MailboxKind::Shared, "confirmed shared before anything depends on it");
    assert!(confirmed.hidden_from_address_lists);
    outcomes.push(client.add_full_access(leaver, manager, true).await.expect("full access"));
    outcomes.push(client.add_send_as(leaver, manager).await.expect("send as"));
    outcomes
}

#[tokio::test]
async fn a_leavers_mailbox_is_kept_as_a_shared_mailbox_for_the_manager() {
    let sandbox = common::start(Knobs::default()).await;
    let client = common::client(&sandbox);

    assert_eq!(leave(&client, common::ALEX, common::ADELE).await, [Outcome::Done; 5]);
    let again = leave(&client, common::ALEX, common::ADELE).await;
    // The sandbox does not warn about an unchanged automatic reply, so its outcome stays Done.
    assert_eq!(
        again,
        [Outcome::AlreadyDone, Outcome::Done, Outcome::AlreadyDone, Outcome::AlreadyDone, Outcome::AlreadyDone]
    );

    let removal = json!({"addLicenses": [], "removeLicenses": [common::ENTERPRISEPACK]});
    let (status, body) =
        common::graph_post(&sandbox, &format!("/users/{}/assignLicense", common::ALEX_ID), removal).await;
    assert_eq!(status, 200, "{body}");

    let shared = client.get_mailbox(common::ALEX).await.expect("read").expect("the shared mailbox survives");
    assert_eq!(shared.kind, MailboxKind::Shared);
    let record = common::admin(&sandbox, "data-loss").await;
    assert_eq!(record["entries"], json!([]), "no mailbox was marked or purged: {record}");
    let mailboxes = common::admin(&sandbox, "mailboxes").await;
    let alex =
        mailboxes.as_array().into_iter().flatten().find(|mailbox| mailbox["user_principal_name"] == common::ALEX);
    let alex = alex.expect("Alex's mailbox in the admin listing");
    assert_eq!(alex["full_access"][0]["user"], common::ADELE, "{alex}");
    assert_eq!(alex["send_as"], json!([common::ADELE]), "{alex}");
}
