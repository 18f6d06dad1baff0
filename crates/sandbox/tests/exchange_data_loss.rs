//! The mailbox lifecycle and its data-loss record, end to end over HTTPS: licences assigned and removed through
//! Graph, mailboxes seen through Exchange's `Get-Mailbox`, and the record read through the sandbox admin API.
//! Waiting is done by moving the sandbox clock, never by sleeping.

mod common;
mod exchange_api;

use chrono::{DateTime, Duration, Utc};
use exchange_api::{ExchangeApi, assert_cmdlet_error};
use reqwest::Method;
use sandbox::Sandbox;
use sandbox::exchange::model::MailboxKind;
use sandbox::knobs::Knobs;
use serde_json::{Value, json};

use common::{CONTOSO, Reply};

/// Contoso's ENTERPRISEPACK (with the EXCHANGE_S_ENTERPRISE plan).
const ENTERPRISEPACK: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";
/// ENTERPRISEPACK's Exchange plan.
const EXCHANGE_S_ENTERPRISE: &str = "efb87545-963c-4e0d-99df-69c6916d9eb0";
/// Contoso's EXCHANGESTANDARD.
const EXCHANGESTANDARD: &str = "4b9405b0-7788-4568-add1-99614e613b69";
/// Alex Wilber (licensed, a mailbox from the seed).
const ALEX: &str = "0b1c2d3e-0000-4000-8000-000000000003";
const NOT_FOUND: &str = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException";

/// One sandbox, driven through Graph, Exchange and the admin API.
struct Rig {
    api: ExchangeApi,
}

impl Rig {
    async fn start() -> Rig {
        Rig { api: ExchangeApi::start().await }
    }

    /// A sandbox whose mailboxes take `minutes` to provision.
    async fn with_provisioning_delay(minutes: u64) -> Rig {
        let knobs = Knobs { mailbox_provisioning_delay_ms: minutes * 60_000, ..Knobs::default() };
        Rig { api: ExchangeApi::start_with(Sandbox::builder().knobs(knobs)).await }
    }

    fn now(&self) -> DateTime<Utc> {
        self.api.sandbox.state().clock.now()
    }

    fn advance(&self, by: Duration) {
        self.api.sandbox.state().clock.advance(by);
    }

    /// A Graph call with a fresh token of Tenure's app-only connection (tokens expire as the clock moves).
    async fn graph(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let token = common::tenure_app_token(&self.api.sandbox);
        let url = format!("{}/v1.0{path}", self.api.sandbox.https_base());
        let mut request = self.api.client.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }

    /// Creates a user with a usage location (so it can be licensed); returns its id.
    async fn create_user(&self, nickname: &str) -> String {
        let body = json!({
            "accountEnabled": true,
            "displayName": format!("{nickname} Test"),
            "mailNickname": nickname,
            "userPrincipalName": format!("{nickname}@contoso.com"),
            "usageLocation": "US",
            "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Correct-Horse-42!"},
        });
        let reply = self.graph(Method::POST, "/users", Some(body)).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["id"].as_str().expect("id").to_string()
    }

    /// `assignLicense`, asserting success.
    async fn assign(&self, user: &str, add: Value, remove: &[&str]) {
        let body = json!({"addLicenses": add, "removeLicenses": remove});
        let reply = self.graph(Method::POST, &format!("/users/{user}/assignLicense"), Some(body)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }

    async fn license(&self, user: &str, sku: &str) {
        self.assign(user, json!([{"skuId": sku, "disabledPlans": []}]), &[]).await;
    }

    async fn unlicense(&self, user: &str, sku: &str) {
        self.assign(user, json!([]), &[sku]).await;
    }

    async fn delete_user(&self, user: &str) {
        let reply = self.graph(Method::DELETE, &format!("/users/{user}"), None).await;
        assert_eq!(reply.status, 204, "{}", reply.body);
    }

    /// `Get-Mailbox -Identity`, with a fresh app-only Exchange token.
    async fn get_mailbox(&self, identity: &str) -> Reply {
        self.api.invoke(&self.api.app(), "Get-Mailbox", json!({"Identity": identity})).await
    }

    #[track_caller]
    fn assert_no_mailbox(reply: &Reply, identity: &str) {
        assert_cmdlet_error(reply, 404, NOT_FOUND, &format!("'{identity}'"));
    }

    /// A sandbox admin API `GET` under `/_sandbox/tenants/{Contoso}/exchange/`.
    async fn admin(&self, what: &str) -> Value {
        let url = format!("{}/tenants/{CONTOSO}/exchange/{what}", self.api.sandbox.admin_base());
        let response = self.api.client.get(url).send().await.expect("request");
        assert_eq!(response.status(), 200);
        response.json().await.expect("JSON")
    }

    async fn mailbox_entry(&self, upn: &str) -> Option<Value> {
        let listed = self.admin("mailboxes").await;
        listed.as_array().expect("array").iter().find(|mailbox| mailbox["user_principal_name"] == upn).cloned()
    }

    /// Converts a mailbox's type the way `Set-Mailbox -Type` does (the kind, then the lifecycle hook).
    /// Converts a mailbox with `Set-Mailbox -Type Shared|Regular`.
    async fn set_mailbox_type(&self, user: &str, kind: MailboxKind) {
        let kind = match kind {
            MailboxKind::Shared => "Shared",
            MailboxKind::User => "Regular",
        };
        let reply = self.api.invoke(&self.api.app(), "Set-Mailbox", json!({"Identity": user, "Type": kind})).await;
        assert_eq!(reply.status, 204, "{}", reply.body);
    }
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("{value} is not a time")))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_licensed_user_gets_a_mailbox_only_after_the_provisioning_delay() {
    let rig = Rig::with_provisioning_delay(10).await;
    let jordan = rig.create_user("jordan").await;
    rig.advance(Duration::minutes(30));
    Rig::assert_no_mailbox(&rig.get_mailbox("jordan@contoso.com").await, "jordan@contoso.com");
    assert!(rig.mailbox_entry("jordan@contoso.com").await.is_none(), "no licence, no mailbox");

    let licensed_at = rig.now();
    rig.license(&jordan, ENTERPRISEPACK).await;
    Rig::assert_no_mailbox(&rig.get_mailbox("jordan@contoso.com").await, "jordan@contoso.com");
    let pending = rig.mailbox_entry("jordan@contoso.com").await.expect("provisioning");
    assert_eq!(pending["ready"], false, "{pending}");
    let ready_at = time(&pending["ready_at"]);
    assert!(ready_at >= licensed_at + Duration::minutes(10) && ready_at <= rig.now() + Duration::minutes(10));

    rig.advance(Duration::minutes(9));
    Rig::assert_no_mailbox(&rig.get_mailbox("jordan@contoso.com").await, "jordan@contoso.com");
    rig.advance(Duration::minutes(1));
    let found = rig.get_mailbox("jordan@contoso.com").await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["value"][0]["ExternalDirectoryObjectId"], jordan.as_str());
    assert_eq!(found.body["value"][0]["RecipientTypeDetails"], "UserMailbox");
    assert_eq!(found.body["value"][0]["PrimarySmtpAddress"], "jordan@contoso.com");
    assert_eq!(rig.mailbox_entry("jordan@contoso.com").await.expect("listed")["ready"], true);
}

#[tokio::test]
async fn removing_the_last_exchange_licence_marks_the_mailbox_and_it_is_gone_after_30_days() {
    let rig = Rig::start().await;
    let before = rig.get_mailbox("adele.vance@contoso.com").await;
    assert_eq!(before.status, 200, "{}", before.body);
    let old_guid = before.body["value"][0]["ExchangeGuid"].clone();

    let removed_at = rig.now();
    rig.unlicense(common::ADELE, ENTERPRISEPACK).await;
    let record = rig.admin("data-loss").await;
    assert_eq!(
        (record["tenant"].as_str(), &record["marked_for_deletion"], &record["purged"]),
        (Some(CONTOSO), &json!(1), &json!(0))
    );
    let entry = &record["entries"][0];
    assert_eq!(entry["kind"], "marked_for_deletion");
    assert_eq!(entry["user"], common::ADELE);
    assert_eq!(entry["user_principal_name"], "adele.vance@contoso.com");
    assert_eq!(entry["primary_smtp_address"], "adele.vance@contoso.com");
    assert_eq!(entry["recipient_type_details"], "UserMailbox");
    let marked_at = time(&entry["at"]);
    assert!(marked_at >= removed_at && marked_at <= rig.now());
    assert_eq!(time(&entry["deletion_due"]), marked_at + Duration::days(30));
    let listed = rig.mailbox_entry("adele.vance@contoso.com").await.expect("still held");
    assert_eq!(
        (time(&listed["marked_for_deletion"]), time(&listed["deletion_due"])),
        (marked_at, marked_at + Duration::days(30))
    );

    // Exchange keeps the mailbox through the grace period, then deletes it.
    rig.advance(Duration::days(30) - Duration::minutes(1));
    assert_eq!(rig.get_mailbox("adele.vance@contoso.com").await.status, 200, "still within the grace period");
    rig.advance(Duration::minutes(1));
    Rig::assert_no_mailbox(&rig.get_mailbox("adele.vance@contoso.com").await, "adele.vance@contoso.com");
    assert_eq!(rig.mailbox_entry("adele.vance@contoso.com").await.expect("listed")["deleted"], true);

    // A licence after the grace period brings a new, empty mailbox, not the old one.
    rig.license(common::ADELE, ENTERPRISEPACK).await;
    let after = rig.get_mailbox("adele.vance@contoso.com").await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_ne!(after.body["value"][0]["ExchangeGuid"], old_guid);
    assert_eq!(rig.admin("data-loss").await["entries"].as_array().map(Vec::len), Some(1), "nothing further lost");
}

#[tokio::test]
async fn relicensing_within_the_grace_period_restores_the_mailbox() {
    let rig = Rig::start().await;
    let before = rig.get_mailbox("adele.vance@contoso.com").await;
    rig.unlicense(common::ADELE, ENTERPRISEPACK).await;
    rig.advance(Duration::days(29));
    rig.license(common::ADELE, EXCHANGESTANDARD).await;
    let listed = rig.mailbox_entry("adele.vance@contoso.com").await.expect("held");
    assert_eq!((&listed["marked_for_deletion"], &listed["deletion_due"]), (&Value::Null, &Value::Null), "{listed}");

    rig.advance(Duration::days(60));
    let after = rig.get_mailbox("adele.vance@contoso.com").await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.body["value"][0]["ExchangeGuid"], before.body["value"][0]["ExchangeGuid"], "the same mailbox");
    // The record keeps the mark as history; only one mark was ever made.
    assert_eq!(rig.admin("data-loss").await["marked_for_deletion"], 1);
}

#[tokio::test]
async fn removing_one_of_two_exchange_licences_loses_nothing() {
    let rig = Rig::start().await;
    rig.license(common::ADELE, EXCHANGESTANDARD).await;
    rig.unlicense(common::ADELE, ENTERPRISEPACK).await;
    assert_eq!(rig.admin("data-loss").await["entries"], json!([]));
    rig.advance(Duration::days(31));
    assert_eq!(rig.get_mailbox("adele.vance@contoso.com").await.status, 200);
}

#[tokio::test]
async fn a_mailbox_converted_to_shared_keeps_its_mail_without_a_licence() {
    let rig = Rig::start().await;
    rig.set_mailbox_type(common::ADELE, MailboxKind::Shared).await;
    rig.unlicense(common::ADELE, ENTERPRISEPACK).await;
    assert_eq!(rig.admin("data-loss").await["entries"], json!([]));
    rig.advance(Duration::days(60));
    let shared = rig.get_mailbox("adele.vance@contoso.com").await;
    assert_eq!(shared.status, 200, "{}", shared.body);
    assert_eq!(shared.body["value"][0]["RecipientTypeDetails"], "SharedMailbox");
    let listed = rig.mailbox_entry("adele.vance@contoso.com").await.expect("held");
    assert_eq!((&listed["kind"], &listed["marked_for_deletion"]), (&json!("Shared"), &Value::Null));

    // Converting it back to a regular mailbox without a licence starts the grace period.
    rig.set_mailbox_type(common::ADELE, MailboxKind::User).await;
    let record = rig.admin("data-loss").await;
    assert_eq!(record["marked_for_deletion"], 1, "{record}");
    assert_eq!(record["entries"][0]["recipient_type_details"], "UserMailbox");
}

#[tokio::test]
async fn deleting_a_user_purges_its_mailbox_shared_or_not() {
    let rig = Rig::start().await;
    rig.delete_user(ALEX).await;
    Rig::assert_no_mailbox(&rig.get_mailbox("alex.wilber@contoso.com").await, "alex.wilber@contoso.com");
    assert!(rig.mailbox_entry("alex.wilber@contoso.com").await.is_none());

    rig.set_mailbox_type(common::ADELE, MailboxKind::Shared).await;
    rig.delete_user(common::ADELE).await;
    Rig::assert_no_mailbox(&rig.get_mailbox("adele.vance@contoso.com").await, "adele.vance@contoso.com");

    let record = rig.admin("data-loss").await;
    assert_eq!((&record["marked_for_deletion"], &record["purged"]), (&json!(0), &json!(2)), "{record}");
    let entries = record["entries"].as_array().expect("entries");
    let kinds: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|entry| {
            (
                entry["kind"].as_str().unwrap_or(""),
                entry["user_principal_name"].as_str().unwrap_or(""),
                entry["recipient_type_details"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("purged", "alex.wilber@contoso.com", "UserMailbox"), ("purged", "adele.vance@contoso.com", "SharedMailbox")]
    );
    for entry in entries {
        assert_eq!(entry["deletion_due"], entry["at"], "a purge is immediate");
    }
}

#[tokio::test]
async fn a_licence_with_the_exchange_plan_disabled_gives_no_mailbox() {
    let rig = Rig::with_provisioning_delay(5).await;
    let sam = rig.create_user("sam").await;
    rig.assign(&sam, json!([{"skuId": ENTERPRISEPACK, "disabledPlans": [EXCHANGE_S_ENTERPRISE]}]), &[]).await;
    rig.advance(Duration::hours(1));
    Rig::assert_no_mailbox(&rig.get_mailbox("sam@contoso.com").await, "sam@contoso.com");
    assert!(rig.mailbox_entry("sam@contoso.com").await.is_none());

    // Enabling the plan provisions one; disabling it again is losing the last Exchange licence.
    rig.assign(&sam, json!([{"skuId": ENTERPRISEPACK, "disabledPlans": []}]), &[]).await;
    rig.advance(Duration::minutes(5));
    assert_eq!(rig.get_mailbox("sam@contoso.com").await.status, 200);
    rig.assign(&sam, json!([{"skuId": ENTERPRISEPACK, "disabledPlans": [EXCHANGE_S_ENTERPRISE]}]), &[]).await;
    let record = rig.admin("data-loss").await;
    assert_eq!(record["marked_for_deletion"], 1, "{record}");
    assert_eq!(record["entries"][0]["user_principal_name"], "sam@contoso.com");
}

#[tokio::test]
async fn losing_a_licence_or_the_user_before_provisioning_finished_loses_nothing() {
    let rig = Rig::with_provisioning_delay(10).await;
    let kim = rig.create_user("kim").await;
    rig.license(&kim, EXCHANGESTANDARD).await;
    rig.advance(Duration::minutes(5));
    rig.unlicense(&kim, EXCHANGESTANDARD).await;
    assert!(rig.mailbox_entry("kim@contoso.com").await.is_none(), "provisioning is cancelled");
    rig.advance(Duration::minutes(10));
    Rig::assert_no_mailbox(&rig.get_mailbox("kim@contoso.com").await, "kim@contoso.com");

    let lee = rig.create_user("lee").await;
    rig.license(&lee, EXCHANGESTANDARD).await;
    rig.delete_user(&lee).await;
    rig.advance(Duration::minutes(10));
    assert!(rig.mailbox_entry("lee@contoso.com").await.is_none());
    assert_eq!(rig.admin("data-loss").await["entries"], json!([]));
}

#[tokio::test]
async fn mail_enabled_groups_are_recipients_but_not_mailboxes() {
    let rig = Rig::start().await;
    for identity in ["Finance Approvers", "finance-approvers@contoso.com", "Retail Announcements"] {
        Rig::assert_no_mailbox(&rig.get_mailbox(identity).await, identity);
    }
    let all = rig.api.invoke(&rig.api.app(), "Get-Mailbox", json!({})).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let mut names: Vec<&str> = all.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|mailbox| mailbox["UserPrincipalName"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["adele.vance@contoso.com", "admin@contoso.com", "alex.wilber@contoso.com"]);
    let listed = rig.admin("mailboxes").await;
    let listed: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|mailbox| mailbox["user_principal_name"].as_str())
        .collect();
    assert_eq!(listed, ["adele.vance@contoso.com", "admin@contoso.com", "alex.wilber@contoso.com"]);
    // The groups themselves are Graph's, visible and read-only there.
    let groups = rig.graph(Method::GET, "/groups?$select=displayName,mail", None).await;
    assert_eq!(groups.status, 200, "{}", groups.body);
    let mails: Vec<&str> =
        groups.body["value"].as_array().expect("value").iter().filter_map(|group| group["mail"].as_str()).collect();
    for mail in ["finance-approvers@contoso.com", "retail-announcements@contoso.com"] {
        assert!(mails.contains(&mail), "{mails:?}");
    }
}
