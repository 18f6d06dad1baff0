//! Recipients as Exchange sees the one directory: mailboxes (a user with a ready mailbox), mail-enabled
//! groups (distribution lists and mail-enabled security groups, with their Exchange settings), and Microsoft
//! 365 groups (read-only here). This module resolves `-Identity`-style values to objects and renders the
//! objects in Exchange's shapes; every cmdlet uses it, so identities mean the same thing everywhere.
//!
//! An identity may be a GUID (`ExternalDirectoryObjectId`, `ExchangeGuid` or `Guid`), a UPN, any SMTP address
//! (with or without an `SMTP:` prefix), an alias, a name, or a distinguished name — as the cmdlets' reference
//! pages list for `-Identity`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::{ExchangeError, ExchangeResult};
use super::model::{GroupSettings, Mailbox, MailboxKind, MembershipRestriction};
use super::output::ObjectBuilder;
use crate::directory::group::Group;
use crate::directory::tenant::Tenant;
use crate::directory::user::User;

/// `ExchangeVersion` reported on every object.
pub const EXCHANGE_VERSION: &str = "0.20 (15.0.0.0)";

/// A recipient found by identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipient {
    /// A user with a ready mailbox (user or shared), by user id.
    Mailbox(Uuid),
    /// A mail-enabled security group or distribution list, by group id.
    MailGroup(Uuid),
    /// A Microsoft 365 group, by group id.
    UnifiedGroup(Uuid),
    /// A user without a mailbox (a member of a group, say), by user id.
    User(Uuid),
}

impl Recipient {
    /// The directory object id (`ExternalDirectoryObjectId`).
    pub fn id(self) -> Uuid {
        match self {
            Recipient::Mailbox(id) | Recipient::MailGroup(id) | Recipient::UnifiedGroup(id) | Recipient::User(id) => id,
        }
    }
}

/// Strips an `SMTP:`/`smtp:` prefix and surrounding space from an identity.
fn bare(identity: &str) -> &str {
    let identity = identity.trim();
    match identity.split_once(':') {
        Some((kind, address)) if kind.eq_ignore_ascii_case("smtp") => address.trim(),
        _ => identity,
    }
}

/// The distinguished name Exchange Online gives a recipient.
pub fn distinguished_name(tenant: &Tenant, name: &str) -> String {
    format!(
        "CN={name},OU={},OU=Microsoft Exchange Hosted Organizations,DC=NAMPR01A011,DC=PROD,DC=OUTLOOK,DC=COM",
        tenant.initial_domain()
    )
}

/// A mailbox's (or user's) `Name`: the name it was created with, else its alias (Exchange Online names cloud
/// mailboxes after their alias).
pub fn mailbox_name<'a>(tenant: &'a Tenant, user: &'a User) -> &'a str {
    tenant.exchange.mailboxes.get(&user.id).and_then(|mailbox| mailbox.name.as_deref()).unwrap_or(&user.mail_nickname)
}

/// A mail-enabled group's `Name`.
pub fn group_name<'a>(group: &'a Group, settings: Option<&'a GroupSettings>) -> &'a str {
    settings.map_or(group.display_name.as_str(), |settings| settings.name.as_str())
}

fn user_matches(tenant: &Tenant, user: &User, mailbox: Option<&Mailbox>, key: &str) -> bool {
    if let Ok(id) = Uuid::parse_str(key) {
        return user.id == id || mailbox.is_some_and(|mailbox| mailbox.exchange_guid == id || mailbox.guid == id);
    }
    user.user_principal_name.eq_ignore_ascii_case(key)
        || user.mail_nickname.eq_ignore_ascii_case(key)
        || user.smtp_addresses().iter().any(|address| address.eq_ignore_ascii_case(key))
        || mailbox_name(tenant, user).eq_ignore_ascii_case(key)
        || distinguished_name(tenant, mailbox_name(tenant, user)).eq_ignore_ascii_case(key)
}

fn group_matches(tenant: &Tenant, group: &Group, settings: Option<&GroupSettings>, key: &str) -> bool {
    if let Ok(id) = Uuid::parse_str(key) {
        return group.id == id || settings.is_some_and(|settings| settings.guid == id);
    }
    let name = group_name(group, settings);
    name.eq_ignore_ascii_case(key)
        || group.display_name.eq_ignore_ascii_case(key)
        || group.mail_nickname.eq_ignore_ascii_case(key)
        || group.smtp_addresses().iter().any(|address| address.eq_ignore_ascii_case(key))
        || distinguished_name(tenant, name).eq_ignore_ascii_case(key)
}

/// Every recipient `identity` names at `now`: ready mailboxes, mail-enabled and Microsoft 365 groups, and —
/// when `users_without_mailbox` — live users without a mailbox.
pub fn find_all(tenant: &Tenant, identity: &str, now: DateTime<Utc>, users_without_mailbox: bool) -> Vec<Recipient> {
    let key = bare(identity);
    let mut found = Vec::new();
    for user in tenant.users.values().filter(|user| !user.is_deleted()) {
        let mailbox = tenant.exchange.ready_mailbox(user.id, now);
        if (mailbox.is_some() || users_without_mailbox) && user_matches(tenant, user, mailbox, key) {
            found.push(if mailbox.is_some() { Recipient::Mailbox(user.id) } else { Recipient::User(user.id) });
        }
    }
    for group in tenant.groups.values().filter(|group| !group.is_deleted() && group.mail_enabled) {
        let settings = tenant.exchange.groups.get(&group.id);
        if group_matches(tenant, group, settings, key) {
            found.push(if group.is_unified() {
                Recipient::UnifiedGroup(group.id)
            } else {
                Recipient::MailGroup(group.id)
            });
        }
    }
    found
}

fn one(found: Vec<Recipient>, identity: &str, not_found: fn(&str) -> ExchangeError) -> ExchangeResult<Recipient> {
    match found.as_slice() {
        [] => Err(not_found(identity)),
        [single] => Ok(*single),
        _ => Err(ExchangeError::ambiguous(identity)),
    }
}

/// The mailbox `-Identity` names (user id); 404 when there is none at `now` (not yet provisioned, say).
pub fn resolve_mailbox(tenant: &Tenant, identity: &str, now: DateTime<Utc>) -> ExchangeResult<Uuid> {
    let found: Vec<Recipient> = find_all(tenant, identity, now, false)
        .into_iter()
        .filter(|found| matches!(found, Recipient::Mailbox(_)))
        .collect();
    one(found, identity, ExchangeError::not_found).map(Recipient::id)
}

/// The mail-enabled group (distribution list or mail-enabled security group) `-Identity` names.
pub fn resolve_group(tenant: &Tenant, identity: &str, now: DateTime<Utc>) -> ExchangeResult<Uuid> {
    let found: Vec<Recipient> = find_all(tenant, identity, now, false)
        .into_iter()
        .filter(|found| matches!(found, Recipient::MailGroup(_)))
        .collect();
    one(found, identity, ExchangeError::not_found).map(Recipient::id)
}

/// Any recipient `-Identity` names (mailboxes and groups).
pub fn resolve_recipient(tenant: &Tenant, identity: &str, now: DateTime<Utc>) -> ExchangeResult<Recipient> {
    one(find_all(tenant, identity, now, false), identity, ExchangeError::not_found)
}

/// The recipient another parameter (`-Member`, `-User`, `-Trustee`, `-ManagedBy`, `-GrantSendOnBehalfTo`)
/// names; not-found uses the "Couldn't find object" wording.
pub fn resolve_other(tenant: &Tenant, identity: &str, now: DateTime<Utc>) -> ExchangeResult<Recipient> {
    one(find_all(tenant, identity, now, false), identity, ExchangeError::object_not_found)
}

/// A user (with or without a mailbox) another parameter names — for `-User`/`-Trustee` of permissions and
/// `-ManagedBy`, which accept any user.
pub fn resolve_user(tenant: &Tenant, identity: &str, now: DateTime<Utc>) -> ExchangeResult<Uuid> {
    let found: Vec<Recipient> = find_all(tenant, identity, now, true)
        .into_iter()
        .filter(|found| matches!(found, Recipient::Mailbox(_) | Recipient::User(_)))
        .collect();
    one(found, identity, ExchangeError::object_not_found).map(Recipient::id)
}

/// The `Name` of any recipient or user by id (for lists such as `ManagedBy` and `GrantSendOnBehalfTo`).
pub fn name_of(tenant: &Tenant, id: Uuid) -> String {
    if let Some(user) = tenant.users.get(&id) {
        return mailbox_name(tenant, user).to_string();
    }
    if let Some(group) = tenant.groups.get(&id) {
        return group_name(group, tenant.exchange.groups.get(&id)).to_string();
    }
    id.to_string()
}

fn primary_smtp(addresses: &[String], mail: Option<&str>) -> Option<String> {
    addresses
        .iter()
        .find_map(|proxy| proxy.strip_prefix("SMTP:").map(str::to_string))
        .or_else(|| mail.map(str::to_string))
}

fn email_addresses(addresses: &[String], mail: Option<&str>) -> Vec<String> {
    if addresses.is_empty() {
        return mail.map(|mail| vec![format!("SMTP:{mail}")]).unwrap_or_default();
    }
    addresses.to_vec()
}

/// What every recipient shape shows about its object.
struct Names<'a> {
    name: &'a str,
    alias: &'a str,
    display_name: &'a str,
    addresses: &'a [String],
    mail: Option<&'a str>,
    object_id: Uuid,
    guid: Uuid,
}

impl<'a> Names<'a> {
    fn of_user(tenant: &'a Tenant, user: &'a User, guid: Uuid) -> Names<'a> {
        Names {
            name: mailbox_name(tenant, user),
            alias: &user.mail_nickname,
            display_name: &user.display_name,
            addresses: &user.proxy_addresses,
            mail: user.mail.as_deref(),
            object_id: user.id,
            guid,
        }
    }

    fn of_group(group: &'a Group, name: &'a str, guid: Uuid) -> Names<'a> {
        Names {
            name,
            alias: &group.mail_nickname,
            display_name: &group.display_name,
            addresses: &group.proxy_addresses,
            mail: group.mail.as_deref(),
            object_id: group.id,
            guid,
        }
    }
}

/// The properties every recipient shape shares.
fn common(tenant: &Tenant, names: &Names<'_>) -> ObjectBuilder {
    let Names { name, alias, display_name, addresses, mail, object_id, guid } = *names;
    ObjectBuilder::new()
        .string("Name", Some(name))
        .string("Identity", Some(name))
        .string("Id", Some(name))
        .string("Alias", Some(alias))
        .string("DisplayName", Some(display_name))
        .string("PrimarySmtpAddress", primary_smtp(addresses, mail).as_deref())
        .strings("EmailAddresses", email_addresses(addresses, mail))
        .string("ExternalDirectoryObjectId", Some(&object_id.to_string()))
        .guid("Guid", Some(guid))
        .string("DistinguishedName", Some(&distinguished_name(tenant, name)))
        .string("OrganizationId", Some(&format!("{} - {}", tenant.initial_domain(), tenant.initial_domain())))
        .string("ExchangeVersion", Some(EXCHANGE_VERSION))
}

/// A mailbox as `Get-Mailbox` returns it.
pub fn mailbox_object(tenant: &Tenant, user: &User, mailbox: &Mailbox) -> ObjectBuilder {
    let details = mailbox.kind.recipient_type_details();
    common(tenant, &Names::of_user(tenant, user, mailbox.guid))
        .string("UserPrincipalName", Some(&user.user_principal_name))
        .string("WindowsLiveID", Some(&user.user_principal_name))
        .string("MicrosoftOnlineServicesID", Some(&user.user_principal_name))
        .enumeration("RecipientType", "Microsoft.Exchange.Data.Directory.Recipient.RecipientType", "UserMailbox")
        .enumeration(
            "RecipientTypeDetails",
            "Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails",
            details,
        )
        .guid("ExchangeGuid", Some(mailbox.exchange_guid))
        .bool("HiddenFromAddressListsEnabled", mailbox.hidden_from_address_lists)
        .strings("GrantSendOnBehalfTo", mailbox.grant_send_on_behalf_to.iter().map(|id| name_of(tenant, *id)))
        .bool("IsMailboxEnabled", true)
        .bool("IsShared", mailbox.kind == MailboxKind::Shared)
        .bool("AccountDisabled", !user.account_enabled)
        .time("WhenMailboxCreated", Some(mailbox.ready_at))
        .time("WhenCreated", Some(user.created))
        .strings("AcceptMessagesOnlyFromWithDisplayNames", Vec::<String>::new())
        .bool("LitigationHoldEnabled", false)
}

/// The property names of `Get-EXOMailbox`'s minimum property set.
pub const EXO_MINIMUM_PROPERTIES: &[&str] = &[
    "ExternalDirectoryObjectId",
    "UserPrincipalName",
    "Alias",
    "DisplayName",
    "EmailAddresses",
    "PrimarySmtpAddress",
    "RecipientType",
    "RecipientTypeDetails",
    "Identity",
    "Id",
    "ExchangeVersion",
    "Name",
    "OrganizationId",
    "DistinguishedName",
    "Guid",
];

/// A mail-enabled group as `Get-DistributionGroup` returns it.
pub fn group_object(tenant: &Tenant, group: &Group) -> ObjectBuilder {
    let settings = tenant.exchange.groups.get(&group.id);
    let name = group_name(group, settings);
    let details = if group.security_enabled { "MailUniversalSecurityGroup" } else { "MailUniversalDistributionGroup" };
    let guid = settings.map_or(group.id, |settings| settings.guid);
    let restriction =
        |value: Option<MembershipRestriction>, default: MembershipRestriction| value.unwrap_or(default).as_str();
    let depart_default =
        if group.security_enabled { MembershipRestriction::Closed } else { MembershipRestriction::Open };
    common(tenant, &Names::of_group(group, name, guid))
        .enumeration("RecipientType", "Microsoft.Exchange.Data.Directory.Recipient.RecipientType", details)
        .enumeration(
            "RecipientTypeDetails",
            "Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails",
            details,
        )
        .string("GroupType", Some(if group.security_enabled { "Universal, SecurityEnabled" } else { "Universal" }))
        .strings(
            "ManagedBy",
            settings.into_iter().flat_map(|settings| settings.managed_by.iter()).map(|id| name_of(tenant, *id)),
        )
        .string(
            "MemberJoinRestriction",
            Some(restriction(settings.map(|settings| settings.member_join_restriction), MembershipRestriction::Closed)),
        )
        .string(
            "MemberDepartRestriction",
            Some(restriction(settings.map(|settings| settings.member_depart_restriction), depart_default)),
        )
        .bool(
            "RequireSenderAuthenticationEnabled",
            settings.is_none_or(|settings| settings.require_sender_authentication),
        )
        .bool("HiddenFromAddressListsEnabled", settings.is_some_and(|settings| settings.hidden_from_address_lists))
        .string("Notes", settings.and_then(|settings| settings.notes.as_deref()).or(group.description.as_deref()))
        .time("WhenCreated", Some(group.created))
        .bool("IsDirSynced", false)
}

/// Any recipient in the reduced shape `Get-Recipient` and `Get-DistributionGroupMember` return.
pub fn reduced_recipient(tenant: &Tenant, recipient: Recipient, now: DateTime<Utc>) -> Option<ObjectBuilder> {
    let (type_name, details) = (
        "Microsoft.Exchange.Data.Directory.Recipient.RecipientType",
        "Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails",
    );
    match recipient {
        Recipient::Mailbox(id) | Recipient::User(id) => {
            let user = tenant.users.get(&id)?;
            let mailbox = tenant.exchange.ready_mailbox(id, now);
            let guid = mailbox.map_or(user.id, |mailbox| mailbox.guid);
            let (kind, detail) = match mailbox {
                Some(mailbox) => ("UserMailbox", mailbox.kind.recipient_type_details()),
                None => ("User", if user.account_enabled { "User" } else { "DisabledUser" }),
            };
            Some(
                common(tenant, &Names::of_user(tenant, user, guid))
                    .enumeration("RecipientType", type_name, kind)
                    .enumeration("RecipientTypeDetails", details, detail)
                    .guid("ExchangeGuid", mailbox.map(|mailbox| mailbox.exchange_guid))
                    .bool(
                        "HiddenFromAddressListsEnabled",
                        mailbox.is_some_and(|mailbox| mailbox.hidden_from_address_lists),
                    ),
            )
        }
        Recipient::MailGroup(id) => tenant.groups.get(&id).map(|group| group_object(tenant, group)),
        Recipient::UnifiedGroup(id) => {
            let group = tenant.groups.get(&id)?;
            Some(
                common(tenant, &Names::of_group(group, &group.display_name, group.id))
                    .enumeration("RecipientType", type_name, "MailUniversalDistributionGroup")
                    .enumeration("RecipientTypeDetails", details, "GroupMailbox"),
            )
        }
    }
}

/// Every recipient at `now` (ready mailboxes, then mail-enabled groups), in a stable order: for listings.
pub fn all_recipients(tenant: &Tenant, now: DateTime<Utc>) -> Vec<Recipient> {
    let mut found: Vec<Recipient> = tenant
        .users
        .values()
        .filter(|user| !user.is_deleted() && tenant.exchange.ready_mailbox(user.id, now).is_some())
        .map(|user| Recipient::Mailbox(user.id))
        .collect();
    found.extend(tenant.groups.values().filter(|group| !group.is_deleted() && group.mail_enabled).map(|group| {
        if group.is_unified() { Recipient::UnifiedGroup(group.id) } else { Recipient::MailGroup(group.id) }
    }));
    found
}
