//! Exchange Online set-up for the engine's end-to-end tests: the policy's `[exchange]` section, an app-only
//! Exchange connection for Contoso's app (a member of the sample's "Tenure Provisioning" role group), the shared
//! mailbox the policy names, and the sandbox's data-loss record read over its admin API.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;

use exchange::ExchangeClient;
use model::{MailboxKind, MailboxRight, Secret};
use sandbox::RunningSandbox;
use serde_json::Value;

use super::{CONTOSO_APP_SECRET, CONTOSO_TENANT, connection};

/// The shared mailbox the policy's rule names (created by [`create_support_mailbox`]).
pub const SUPPORT_MAILBOX: &str = "e2e-support@contoso.com";
/// The leaver delegate: a licensed user of the sample seed, with a mailbox.
pub const DELEGATE: &str = "adele.vance@contoso.com";
/// The list leavers keep (exists in no seed: created by the policy for the managers).
pub const KEPT_LIST: &str = "e2e-managers";

/// The `[exchange]` section appended to the end-to-end policy.
pub const EXCHANGE_POLICY: &str = r#"
[exchange]
enabled = true
default_list = "e2e-everyone"

[[exchange.lists]]
id = "everyone"
name = "e2e-everyone"
kind = "distribution"
create = true
owner = "admin@contoso.com"

[[exchange.lists]]
id = "department list"
name = "e2e-list-{{ worker.department | ascii | lower | replace(' ', '-') }}"
kind = "distribution"
when = "worker.department"
create = true
owner = "admin@contoso.com"
join_restriction = "ApprovalRequired"
depart_restriction = "Closed"

[[exchange.lists]]
id = "managers"
name = "e2e-managers"
kind = "security"
when = "worker.job_title == 'Manager'"
create = true

[[exchange.shared_mailboxes]]
id = "support desk"
mailbox = "e2e-support@contoso.com"
when = "worker.department == 'Customer Support'"
rights = ["FullAccess", "SendAs", "SendOnBehalf"]
auto_mapping = false

[exchange.leaver]
convert_to_shared = true
hide_from_address_lists = true
grant_manager = ["FullAccess", "SendAs"]
delegates = ["adele.vance@contoso.com"]
keep_memberships = ["e2e-managers"]
[exchange.leaver.auto_reply]
internal = "{{ display_name }} has left. Please contact {{ manager_name | default('the service desk') }}."

[exchange.leave]
hide_from_address_lists = true
"#;

/// Exchange settings for leavers only (no lists, no shared mailboxes): the leaver sequence on its own, for the
/// tests and the benchmark that run it at scale.
pub const LEAVER_ONLY_POLICY: &str = r#"
[exchange]
enabled = true

[exchange.leaver]
convert_to_shared = true
hide_from_address_lists = true
grant_manager = ["FullAccess"]
[exchange.leaver.auto_reply]
internal = "{{ display_name }} has left. Please contact {{ manager_name | default('the service desk') }}."
"#;

/// The end-to-end policy with [`EXCHANGE_POLICY`].
pub fn policy() -> String {
    format!("{}\n{EXCHANGE_POLICY}", super::POLICY)
}

/// Writes the policy with Exchange and the HR export for `rows`; returns their paths.
pub fn write_inputs(dir: &std::path::Path, rows: &[super::Row]) -> (std::path::PathBuf, std::path::PathBuf) {
    let policy_path = dir.join("policy.toml");
    std::fs::write(&policy_path, policy()).expect("write policy");
    let hr = dir.join("hr.csv");
    std::fs::write(&hr, super::csv(rows)).expect("write hr");
    (policy_path, hr)
}

/// An app-only Exchange connection for Contoso's app.
pub fn connection_for(sandbox: &RunningSandbox) -> engine::exchange_gate::ExchangeConnection {
    engine::exchange_gate::app_only_connection(
        "exchange",
        &connection(sandbox),
        vault::ClientCredential::Secret(Secret::new(CONTOSO_APP_SECRET)),
        Some(sandbox.ca_pem().as_bytes().to_vec()),
    )
    .expect("exchange connection")
}

/// The shared mailbox the policy's rule names, as a seed entry put before the sample's first user (Contoso's).
pub const SHARED_MAILBOX_SEED: &str = "[[tenants.users]]
upn = \"e2e-support@contoso.com\"
display_name = \"E2E Support Desk\"
password = \"Sandbox!Pass1\"
shared_mailbox = true

[[tenants.users]]";

/// The sandbox's data-loss record of Contoso: (marked for deletion, purged).
pub async fn data_loss(sandbox: &RunningSandbox) -> (u64, u64, Value) {
    let url = format!("{}/_sandbox/tenants/{CONTOSO_TENANT}/exchange/data-loss", sandbox.http_base());
    let body: Value = reqwest::get(&url).await.expect("data-loss record").json().await.expect("JSON");
    (body["marked_for_deletion"].as_u64().unwrap_or(u64::MAX), body["purged"].as_u64().unwrap_or(u64::MAX), body)
}

/// The lower-case UPNs of the members of `list`.
pub async fn list_members(client: &ExchangeClient, list: &str) -> BTreeSet<String> {
    client
        .list_group_members(list)
        .await
        .expect("Get-DistributionGroupMember")
        .into_iter()
        .filter_map(|member| member.primary_smtp_address.map(|address| address.to_lowercase()))
        .collect()
}

/// Whether the mailbox of `upn` is shared, and whether it is hidden.
pub async fn mailbox_state(client: &ExchangeClient, upn: &str) -> (bool, bool) {
    let mailbox = client.get_mailbox(upn).await.expect("Get-Mailbox").expect("the mailbox exists");
    (mailbox.kind == MailboxKind::Shared, mailbox.hidden_from_address_lists)
}

/// The lower-case trustees holding FullAccess on `mailbox` (explicit, not inherited).
pub async fn full_access_holders(client: &ExchangeClient, mailbox: &str) -> BTreeSet<String> {
    client
        .list_mailbox_permissions(mailbox)
        .await
        .expect("Get-MailboxPermission")
        .into_iter()
        .filter(|permission| permission.right == MailboxRight::FullAccess && !permission.inherited && !permission.deny)
        .map(|permission| permission.trustee.to_lowercase())
        .collect()
}
