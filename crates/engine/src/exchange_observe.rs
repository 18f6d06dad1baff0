//! Observing Exchange Online for a run ([`observe_exchange`]): what the planner compares with the policy's
//! `[exchange]` side, read after the Graph observation and the desired state.
//!
//! - every user and shared mailbox, paged, with only the properties compared (object id, UPN, kind, hidden flag,
//!   Send on Behalf delegates);
//! - the lists the policy names, each with its user members (by `ExternalDirectoryObjectId`);
//! - the shared mailboxes the policy names, with FullAccess (`Get-MailboxPermission`), SendAs
//!   (`Get-RecipientPermission`) and Send on Behalf (`GrantSendOnBehalfTo`);
//! - the rights on a user's own mailbox only where the leaver or rehire sequence needs them: a leaver whose
//!   mailbox is not settled yet (`model::leaver_mailbox_settled`), and an active worker whose mailbox is shared.
//!
//! Reads that do not depend on each other run concurrently, as many at a time as the client's concurrency limit
//! (the client throttles itself besides): with a thousand leavers, their permission reads dominate the time.
//! Trustees are reported by lower-case UPN; a trustee Exchange names otherwise (a mailbox `Name`, an address)
//! is resolved through the mailbox list, and kept lower-cased as named when it is no mailbox.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;

use anyhow::Context as _;
use exchange::ExchangeClient;
use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
use model::{
    DesiredState, Mailbox, MailboxAccess, MailboxKind, MailboxPermission, MailboxRight, ObjectId, ObservedExchange,
    ObservedMailList, ObservedMailbox, ObservedSharedMailbox, ObservedState, SharedMailboxRight,
    leaver_mailbox_settled,
};

/// Reads what Tenure manages in Exchange Online for `desired` (see the module documentation). `observed` is the
/// Graph observation of the same run: it matches workers to users (by employee ID) and tells which users hold a
/// managed licence. When the policy does not enable Exchange nothing is read and the result is empty.
///
/// # Errors
///
/// Any failed read (after the client's retries), naming what was being read; a list or shared mailbox that does
/// not exist is not an error (it is absent from the result).
pub async fn observe_exchange(
    client: &ExchangeClient,
    desired: &DesiredState,
    observed: &ObservedState,
) -> anyhow::Result<ObservedExchange> {
    if !desired.exchange.enabled {
        return Ok(ObservedExchange::default());
    }
    let concurrency = client.stats().concurrency_limit.max(1);
    let (mailboxes, lists, shared) = tokio::try_join!(
        async { client.list_user_and_shared_mailboxes().await.context("reading the mailboxes (Get-EXOMailbox)") },
        read_lists(client, desired.exchange.lists.keys(), concurrency),
        read_shared_mailboxes(client, desired.exchange.shared_mailboxes.iter(), concurrency),
    )?;
    let names = TrusteeNames::new(&mailboxes);

    let mut result = ObservedExchange { lists, ..ObservedExchange::default() };
    let mut delegates: HashMap<ObjectId, Vec<String>> = HashMap::new();
    for mailbox in mailboxes {
        let Some(id) = mailbox.object_id.clone() else { continue };
        let shared = match mailbox.kind {
            MailboxKind::User => false,
            MailboxKind::Shared => true,
            MailboxKind::Other(_) => continue,
        };
        let identity =
            if mailbox.user_principal_name.is_empty() { mailbox.identity } else { mailbox.user_principal_name };
        delegates.insert(id.clone(), mailbox.send_on_behalf);
        let observed_mailbox =
            ObservedMailbox { identity, shared, hidden: mailbox.hidden_from_address_lists, access: None };
        result.mailboxes.insert(id, observed_mailbox);
    }

    for (key, read) in shared {
        let access = names.access(&read.full_access, &read.send_as, &read.mailbox.send_on_behalf);
        let identity = if read.mailbox.user_principal_name.is_empty() {
            read.mailbox.identity
        } else {
            read.mailbox.user_principal_name
        };
        result.shared_mailboxes.insert(key, ObservedSharedMailbox { identity, access });
    }

    let needing_access = mailboxes_needing_access(desired, observed, &result.mailboxes);
    let reads = needing_access.into_iter().filter_map(|id| {
        let identity = result.mailboxes.get(&id)?.identity.clone();
        Some(async move {
            let (full_access, send_as) = read_rights(client, &identity).await?;
            anyhow::Ok((id, full_access, send_as))
        })
    });
    let rights: Vec<_> = stream::iter(reads).buffer_unordered(concurrency).try_collect().await?;
    for (id, full_access, send_as) in rights {
        let send_on_behalf = delegates.remove(&id).unwrap_or_default();
        if let Some(mailbox) = result.mailboxes.get_mut(&id) {
            mailbox.access = Some(names.access(&full_access, &send_as, &send_on_behalf));
        }
    }
    Ok(result)
}

/// The FullAccess and SendAs entries on the mailbox `identity`, read together.
async fn read_rights(
    client: &ExchangeClient,
    identity: &str,
) -> anyhow::Result<(Vec<MailboxPermission>, Vec<MailboxPermission>)> {
    let (full_access, send_as) =
        tokio::try_join!(client.list_mailbox_permissions(identity), client.list_recipient_permissions(identity))
            .with_context(|| format!("reading the rights on the mailbox {identity}"))?;
    Ok((full_access, send_as))
}

/// Runs `read` for every item, `concurrency` at a time, and keeps the answers that found something.
async fn read_each<'a, Item, Found, Read, Reading>(
    items: impl Iterator<Item = Item>,
    concurrency: usize,
    read: Read,
) -> anyhow::Result<Vec<Found>>
where
    Read: Fn(Item) -> Reading,
    Reading: Future<Output = anyhow::Result<Option<Found>>> + 'a,
{
    let found: Vec<Option<Found>> = stream::iter(items.map(read)).buffer_unordered(concurrency).try_collect().await?;
    Ok(found.into_iter().flatten().collect())
}

/// The lists `names` names that exist, each with the Entra object IDs of its user members, by lower-case name.
async fn read_lists<'a>(
    client: &ExchangeClient,
    names: impl Iterator<Item = &'a String>,
    concurrency: usize,
) -> anyhow::Result<BTreeMap<String, ObservedMailList>> {
    let found = read_each(names, concurrency, |name| async move {
        let context = || format!("reading the list \"{name}\"");
        let Some(group) = client.get_distribution_group(name).await.with_context(context)? else {
            return Ok(None);
        };
        let identity = group.object_id.as_ref().map_or_else(|| group.identity.clone(), |id| id.0.clone());
        let members = client.list_group_members(&identity).await.with_context(context)?;
        let members = members
            .into_iter()
            .filter(|member| is_user_recipient(&member.recipient_type_details))
            .filter_map(|member| member.object_id)
            .collect();
        Ok(Some((name.to_lowercase(), ObservedMailList { name: group.identity, kind: group.kind, members })))
    })
    .await?;
    Ok(found.into_iter().collect())
}

/// Whether a member of `RecipientTypeDetails` is a user (with a mailbox or not) rather than a group or contact.
fn is_user_recipient(recipient_type_details: &str) -> bool {
    let details = recipient_type_details.to_ascii_lowercase();
    !(details.contains("group") || details.contains("contact") || details == "roomlist" || details.is_empty())
}

/// A shared mailbox the policy names, as read.
struct SharedMailboxRead {
    mailbox: Mailbox,
    full_access: Vec<MailboxPermission>,
    send_as: Vec<MailboxPermission>,
}

/// The shared mailboxes `identities` names that exist, with their rights, by lower-case identity as the policy
/// spells it.
async fn read_shared_mailboxes<'a>(
    client: &ExchangeClient,
    identities: impl Iterator<Item = &'a String>,
    concurrency: usize,
) -> anyhow::Result<Vec<(String, SharedMailboxRead)>> {
    read_each(identities, concurrency, |identity| async move {
        let found =
            client.get_exo_mailbox(identity).await.with_context(|| format!("reading the shared mailbox {identity}"))?;
        let Some(mailbox) = found else { return Ok(None) };
        let (full_access, send_as) = read_rights(client, identity).await?;
        Ok(Some((identity.to_lowercase(), SharedMailboxRead { mailbox, full_access, send_as })))
    })
    .await
}

/// The users whose own mailbox's rights the planner needs: leavers whose sequence was cut short after the
/// conversion (shared, but a managed licence still to remove — the grants come after the conversion, so only then
/// can some be in place already), and active workers whose mailbox is shared (a rehire).
///
/// A leaver whose mailbox is not shared yet is not read: nothing of the sequence's grants can be there, and the
/// planner grants what it does not know to be held (granting is idempotent). That saves two reads per leaver,
/// a fifth of the sequence's cost.
fn mailboxes_needing_access(
    desired: &DesiredState,
    observed: &ObservedState,
    mailboxes: &BTreeMap<ObjectId, ObservedMailbox>,
) -> BTreeSet<ObjectId> {
    let workers: HashSet<&str> = desired.exchange.accounts.keys().map(model::WorkerId::as_str).collect();
    let mut users_by_worker: HashMap<&str, Vec<&model::DirectoryUser>> = HashMap::new();
    for user in observed.users.values() {
        if let Some(employee_id) = user.employee_id().filter(|id| workers.contains(id)) {
            users_by_worker.entry(employee_id).or_default().push(user);
        }
    }
    let part_numbers: HashMap<String, &str> =
        observed.skus.iter().map(|sku| (sku.sku_id.to_ascii_lowercase(), sku.sku_part_number.as_str())).collect();
    let holds_managed_licence = |user: &model::DirectoryUser| {
        user.licenses.iter().any(|sku_id| {
            part_numbers
                .get(&sku_id.to_ascii_lowercase())
                .is_some_and(|part_number| desired.managed_skus.contains(*part_number))
        })
    };
    let mut needing = BTreeSet::new();
    for (worker, access) in &desired.exchange.accounts {
        for user in users_by_worker.get(worker.as_str()).into_iter().flatten() {
            let Some(mailbox) = mailboxes.get(&user.id) else { continue };
            let needs = match &access.leaver {
                Some(_) => mailbox.shared && !leaver_mailbox_settled(mailbox, holds_managed_licence(user)),
                None => mailbox.shared,
            };
            if needs {
                needing.insert(user.id.clone());
            }
        }
    }
    needing
}

/// Lower-case UPNs of mailbox owners by every name Exchange may use for them in a permission entry.
struct TrusteeNames {
    upn_by_name: HashMap<String, String>,
}

impl TrusteeNames {
    fn new(mailboxes: &[Mailbox]) -> TrusteeNames {
        let mut upn_by_name = HashMap::new();
        for mailbox in mailboxes.iter().filter(|mailbox| !mailbox.user_principal_name.is_empty()) {
            let upn = mailbox.user_principal_name.to_lowercase();
            let names = [Some(&mailbox.identity), mailbox.primary_smtp_address.as_ref()];
            for name in names.into_iter().flatten().filter(|name| !name.is_empty()) {
                upn_by_name.entry(name.to_lowercase()).or_insert_with(|| upn.clone());
            }
            upn_by_name.insert(upn.clone(), upn);
        }
        TrusteeNames { upn_by_name }
    }

    /// The lower-case UPN of the trustee Exchange names `name`, or the name lower-cased when it is no mailbox.
    fn resolve(&self, name: &str) -> String {
        let name = name.trim().to_lowercase();
        self.upn_by_name.get(&name).cloned().unwrap_or(name)
    }

    /// The explicit, allowing, non-inherited rights of the entries and delegates, by trustee.
    fn access(
        &self,
        full_access: &[MailboxPermission],
        send_as: &[MailboxPermission],
        send_on_behalf: &[String],
    ) -> MailboxAccess {
        let mut access = MailboxAccess::new();
        for entry in full_access.iter().chain(send_as).filter(|entry| !entry.inherited && !entry.deny) {
            let right = match entry.right {
                MailboxRight::FullAccess => SharedMailboxRight::FullAccess,
                MailboxRight::SendAs => SharedMailboxRight::SendAs,
            };
            access.entry(self.resolve(&entry.trustee)).or_default().insert(right);
        }
        for delegate in send_on_behalf.iter().filter(|delegate| !delegate.trim().is_empty()) {
            access.entry(self.resolve(delegate)).or_default().insert(SharedMailboxRight::SendOnBehalf);
        }
        access
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(identity: &str, upn: &str) -> Mailbox {
        Mailbox {
            identity: identity.into(),
            object_id: None,
            user_principal_name: upn.into(),
            primary_smtp_address: Some(upn.to_uppercase()),
            display_name: identity.into(),
            kind: MailboxKind::User,
            hidden_from_address_lists: false,
            send_on_behalf: Vec::new(),
        }
    }

    fn entry(trustee: &str, right: MailboxRight, inherited: bool, deny: bool) -> MailboxPermission {
        MailboxPermission { mailbox: "Shared".into(), trustee: trustee.into(), right, inherited, deny }
    }

    #[test]
    fn trustees_become_lower_case_upns_and_only_explicit_allowing_rights_count() {
        let names = TrusteeNames::new(&[mailbox("AdeleV", "Adele.Vance@contoso.com")]);
        let full_access = [
            entry("ADELE.VANCE@contoso.com", MailboxRight::FullAccess, false, false),
            entry("inherited@contoso.com", MailboxRight::FullAccess, true, false),
            entry("denied@contoso.com", MailboxRight::FullAccess, false, true),
        ];
        let send_as = [entry("adele.vance@CONTOSO.com", MailboxRight::SendAs, false, false)];
        let access = names.access(&full_access, &send_as, &["AdeleV".into(), "Finance Approvers".into()]);
        let adele = BTreeSet::from(SharedMailboxRight::ALL);
        assert_eq!(access.get("adele.vance@contoso.com"), Some(&adele), "{access:?}");
        assert_eq!(
            access.get("finance approvers"),
            Some(&BTreeSet::from([SharedMailboxRight::SendOnBehalf])),
            "a delegate that is no mailbox keeps its name"
        );
        assert_eq!(access.len(), 2, "{access:?}");
    }

    #[test]
    fn only_users_count_as_list_members() {
        for user in ["UserMailbox", "SharedMailbox", "MailUser", "User", "GuestMailUser"] {
            assert!(is_user_recipient(user), "{user}");
        }
        for other in ["MailUniversalSecurityGroup", "MailUniversalDistributionGroup", "MailContact", "RoomList", ""] {
            assert!(!is_user_recipient(other), "{other}");
        }
    }
}
