//! Mailbox cmdlets: `Get-Mailbox`, `Get-EXOMailbox`, `Get-Recipient`, `Set-Mailbox`, `New-Mailbox -Shared`.
//!
//! Reads see ready mailboxes only (a mailbox still provisioning "couldn't be found", as in Exchange). Writes
//! validate every argument before they change anything, so a refused cmdlet leaves the tenant as it was.
//! A type change goes through [`lifecycle::after_type_change`] so the data-loss record stays complete.
//!
//! Reference pages: <https://learn.microsoft.com/powershell/module/exchangepowershell/get-mailbox>,
//! `…/get-exomailbox`, `…/get-recipient`, `…/set-mailbox`, `…/new-mailbox`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use http::StatusCode;
use uuid::Uuid;

use super::{Cmdlet, Invocation, Output, limit_results};
use crate::directory::tenant::Tenant;
use crate::directory::user::User;
use crate::exchange::error::{ExchangeError, ExchangeResult, exception};
use crate::exchange::lifecycle;
use crate::exchange::model::{Mailbox, MailboxKind};
use crate::exchange::output;
use crate::exchange::params::{MultiValue, ParamSpec, ParamType, Params, mandatory, optional};
use crate::exchange::recipients::{self, Recipient};

/// `-RecipientTypeDetails` values of `Get-Mailbox` / `Get-EXOMailbox` (the documented mailbox kinds; the
/// sandbox has user and shared mailboxes only, so the others match nothing).
const MAILBOX_TYPE_DETAILS: &[&str] = &[
    "DiscoveryMailbox",
    "EquipmentMailbox",
    "GroupMailbox",
    "LegacyMailbox",
    "LinkedMailbox",
    "LinkedRoomMailbox",
    "RoomMailbox",
    "SchedulingMailbox",
    "SharedMailbox",
    "TeamMailbox",
    "UserMailbox",
];

/// `-RecipientTypeDetails` values of `Get-Recipient` (the common recipient kinds).
const RECIPIENT_TYPE_DETAILS: &[&str] = &[
    "DisabledUser",
    "DiscoveryMailbox",
    "DynamicDistributionGroup",
    "EquipmentMailbox",
    "GroupMailbox",
    "GuestMailUser",
    "LinkedMailbox",
    "MailContact",
    "MailNonUniversalGroup",
    "MailUniversalDistributionGroup",
    "MailUniversalSecurityGroup",
    "MailUser",
    "PublicFolder",
    "RoomList",
    "RoomMailbox",
    "SchedulingMailbox",
    "SharedMailbox",
    "TeamMailbox",
    "User",
    "UserMailbox",
];

/// `Set-Mailbox -Type` values (documented); the sandbox converts between `Regular` and `Shared` only.
const MAILBOX_TYPES: &[&str] = &["Regular", "Room", "Equipment", "Shared", "Workspace", "Desk"];

/// `Get-EXOMailbox -PropertySets` values, as the module's enumeration lists them
/// (<https://github.com/MicrosoftDocs/office-docs-powershell/issues/5815>).
const PROPERTY_SETS: &[&str] = &[
    "All",
    "Minimum",
    "AddressList",
    "Archive",
    "Audit",
    "Custom",
    "Delivery",
    "Hold",
    "Moderation",
    "Move",
    "Policy",
    "PublicFolder",
    "Quota",
    "Resource",
    "Retention",
    "SCL",
    "SoftDelete",
    "StatisticsSeed",
];

/// The properties of each `Get-EXOMailbox` property set that the sandbox renders (the full lists are in
/// <https://learn.microsoft.com/powershell/exchange/cmdlet-property-sets>; the other members are not modelled
/// and so are absent, as a `$select` of an unknown name would be).
const PROPERTY_SET_MEMBERS: &[(&str, &[&str])] = &[
    ("AddressList", &["ExternalDirectoryObjectId", "HiddenFromAddressListsEnabled"]),
    ("Delivery", &["ExternalDirectoryObjectId", "GrantSendOnBehalfTo", "AcceptMessagesOnlyFromWithDisplayNames"]),
    ("Hold", &["ExternalDirectoryObjectId", "LitigationHoldEnabled"]),
    ("StatisticsSeed", &["ExternalDirectoryObjectId", "ExchangeGuid"]),
];

/// Real `Get-EXOMailbox` property names the sandbox does not render: `-Properties` accepts them (the output
/// just lacks them) instead of calling them invalid. Taken from the property-set tables linked above.
const UNMODELLED_EXO_PROPERTIES: &[&str] = &[
    "AddressBookPolicy",
    "AddressListMembership",
    "ArchiveDatabase",
    "ArchiveGuid",
    "ArchiveName",
    "ArchiveQuota",
    "ArchiveStatus",
    "AuditAdmin",
    "AuditDelegate",
    "AuditEnabled",
    "AuditOwner",
    "CustomAttribute1",
    "CustomAttribute2",
    "DeliverToMailboxAndForward",
    "ForwardingAddress",
    "ForwardingSmtpAddress",
    "InPlaceHolds",
    "IssueWarningQuota",
    "LitigationHoldDate",
    "LitigationHoldDuration",
    "MaxReceiveSize",
    "MaxSendSize",
    "MessageCopyForSendOnBehalfEnabled",
    "MessageCopyForSentAsEnabled",
    "ProhibitSendQuota",
    "ProhibitSendReceiveQuota",
    "RetainDeletedItemsFor",
    "RetentionPolicy",
    "SingleItemRecoveryEnabled",
    "WhenSoftDeleted",
];

/// Longest `-Name` and `-Alias` Exchange accepts.
const MAX_NAME_LENGTH: usize = 64;
/// Longest `-DisplayName` Exchange accepts.
const MAX_DISPLAY_NAME_LENGTH: usize = 256;

/// The parameters of `Get-Recipient` and `Get-EXORecipient`.
const GET_RECIPIENT: &[ParamSpec] = &[
    optional("Identity", ParamType::String),
    optional("RecipientTypeDetails", ParamType::StringList),
    optional("ResultSize", ParamType::ResultSize),
];

/// The mailbox cmdlets.
pub const CMDLETS: &[Cmdlet] = &[
    Cmdlet {
        name: "Get-Mailbox",
        parameters: &[
            optional("Identity", ParamType::String),
            optional("RecipientTypeDetails", ParamType::StringList),
            optional("ResultSize", ParamType::ResultSize),
        ],
        run: get_mailbox,
    },
    Cmdlet {
        name: "Get-EXOMailbox",
        parameters: &[
            optional("Identity", ParamType::String),
            optional("ExternalDirectoryObjectId", ParamType::String),
            optional("UserPrincipalName", ParamType::String),
            optional("PrimarySmtpAddress", ParamType::String),
            optional("RecipientTypeDetails", ParamType::StringList),
            optional("ResultSize", ParamType::ResultSize),
            optional("Properties", ParamType::StringList),
            optional("PropertySets", ParamType::StringList),
        ],
        run: get_exo_mailbox,
    },
    Cmdlet { name: "Get-Recipient", parameters: GET_RECIPIENT, run: get_recipient },
    Cmdlet { name: "Get-EXORecipient", parameters: GET_RECIPIENT, run: get_recipient },
    Cmdlet {
        name: "Set-Mailbox",
        parameters: &[
            mandatory("Identity", ParamType::String),
            optional("Type", ParamType::Enum(MAILBOX_TYPES)),
            optional("HiddenFromAddressListsEnabled", ParamType::Bool),
            optional("GrantSendOnBehalfTo", ParamType::MultiValued),
            optional("DisplayName", ParamType::String),
        ],
        run: set_mailbox,
    },
    Cmdlet {
        name: "New-Mailbox",
        parameters: &[
            mandatory("Name", ParamType::String),
            optional("Shared", ParamType::Switch),
            optional("Alias", ParamType::String),
            optional("DisplayName", ParamType::String),
            optional("PrimarySmtpAddress", ParamType::String),
            optional("UserPrincipalName", ParamType::String),
        ],
        run: new_mailbox,
    },
];

/// The values of an enumeration-array parameter (`RecipientTypeDetails[]`, `MailboxRights[]`, …) in their
/// canonical spelling; a value outside `allowed` gets PowerShell's binding error. `None` when absent.
///
/// Binding has no enumeration-list type, so the family files check the items here.
pub(super) fn enum_values(
    params: &Params,
    name: &str,
    allowed: &'static [&'static str],
) -> ExchangeResult<Option<Vec<&'static str>>> {
    let Some(values) = params.list(name) else { return Ok(None) };
    let mut canonical = Vec::new();
    for value in values {
        let found = allowed
            .iter()
            .find(|allowed| allowed.eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| ExchangeError::not_in_set(name, value, allowed))?;
        if !canonical.contains(found) {
            canonical.push(*found);
        }
    }
    Ok(Some(canonical))
}

/// Ready mailboxes (user ids) in a stable order, or the one `-Identity` names.
fn mailbox_ids(tenant: &Tenant, identity: Option<&str>, now: DateTime<Utc>) -> ExchangeResult<Vec<Uuid>> {
    Ok(match identity {
        Some(identity) => vec![recipients::resolve_mailbox(tenant, identity, now)?],
        None => tenant
            .users
            .values()
            .filter(|user| !user.is_deleted() && tenant.exchange.ready_mailbox(user.id, now).is_some())
            .map(|user| user.id)
            .collect(),
    })
}

/// The full mailbox objects of `ids` whose `RecipientTypeDetails` is one of `wanted` (all when `None`).
fn mailbox_objects(invocation: &Invocation<'_>, ids: Vec<Uuid>, wanted: Option<&[&str]>) -> Output {
    let tenant = &*invocation.tenant;
    ids.into_iter()
        .filter_map(|id| {
            let user = tenant.users.get(&id)?;
            let mailbox = tenant.exchange.ready_mailbox(id, invocation.now)?;
            wanted
                .is_none_or(|wanted| wanted.contains(&mailbox.kind.recipient_type_details()))
                .then(|| recipients::mailbox_object(tenant, user, mailbox).build())
        })
        .collect()
}

fn get_mailbox(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let wanted = enum_values(params, "RecipientTypeDetails", MAILBOX_TYPE_DETAILS)?;
    let ids = mailbox_ids(invocation.tenant, params.string("Identity"), invocation.now)?;
    let objects = mailbox_objects(invocation, ids, wanted.as_deref());
    if objects.is_empty() && params.has("Identity") {
        return Err(ExchangeError::not_found(params.required("Identity")));
    }
    Ok(limit_results(invocation, params, objects, 1000))
}

/// The identity parameters of `Get-EXOMailbox`; they belong to different parameter sets.
const EXO_IDENTITY_PARAMETERS: &[&str] =
    &["Identity", "ExternalDirectoryObjectId", "UserPrincipalName", "PrimarySmtpAddress"];

/// PowerShell's answer when parameters of different parameter sets are combined.
fn parameter_set_conflict() -> ExchangeError {
    ExchangeError::cmdlet(
        StatusCode::BAD_REQUEST,
        exception::PARAMETER_BINDING,
        "Parameter set cannot be resolved using the specified named parameters. One or more parameters issued cannot be used together or an insufficient number of parameters were provided.",
    )
}

/// The mailbox one of `Get-EXOMailbox`'s identity parameters names: `-Identity` resolves as everywhere,
/// the others match only their own property.
fn exo_mailbox_id(invocation: &Invocation<'_>, params: &Params) -> ExchangeResult<Option<Uuid>> {
    let given: Vec<&str> =
        EXO_IDENTITY_PARAMETERS.iter().copied().filter(|name| params.string(name).is_some()).collect();
    let [parameter] = given.as_slice() else {
        return if given.is_empty() { Ok(None) } else { Err(parameter_set_conflict()) };
    };
    let value = params.required(parameter).trim();
    let tenant = &*invocation.tenant;
    let now = invocation.now;
    let ready = |user: &&User| !user.is_deleted() && tenant.exchange.ready_mailbox(user.id, now).is_some();
    let found = match *parameter {
        "Identity" => return recipients::resolve_mailbox(tenant, value, now).map(Some),
        "ExternalDirectoryObjectId" => {
            let id =
                Uuid::parse_str(value).map_err(|_| ExchangeError::cannot_convert(parameter, value, "System.Guid"))?;
            tenant.users.get(&id).filter(ready).map(|user| user.id)
        }
        "UserPrincipalName" => tenant
            .users
            .values()
            .filter(ready)
            .find(|user| user.user_principal_name.eq_ignore_ascii_case(value))
            .map(|user| user.id),
        _ => tenant
            .users
            .values()
            .filter(ready)
            .find(|user| primary_smtp_address(user).is_some_and(|address| address.eq_ignore_ascii_case(value)))
            .map(|user| user.id),
    };
    found.map(Some).ok_or_else(|| ExchangeError::not_found(value))
}

/// A user's primary SMTP address (`SMTP:` proxy, else `mail`).
fn primary_smtp_address(user: &User) -> Option<&str> {
    user.proxy_addresses.iter().find_map(|proxy| proxy.strip_prefix("SMTP:")).or(user.mail.as_deref())
}

/// The property names `Get-EXOMailbox` returns for `-Properties`/`-PropertySets`; `None` means all.
fn exo_properties(params: &Params, full: &Output) -> ExchangeResult<Option<Vec<String>>> {
    let sets = enum_values(params, "PropertySets", PROPERTY_SETS)?.unwrap_or_default();
    if sets.contains(&"All") {
        return Ok(None);
    }
    let mut wanted: Vec<String> = recipients::EXO_MINIMUM_PROPERTIES.iter().map(|name| (*name).to_string()).collect();
    for set in sets {
        let members =
            PROPERTY_SET_MEMBERS.iter().filter(|(name, _)| *name == set).flat_map(|(_, members)| members.iter());
        wanted.extend(members.map(|name| (*name).to_string()));
    }
    let rendered = |name: &str| full.iter().flat_map(|object| object.keys()).any(|key| key.eq_ignore_ascii_case(name));
    let known = |name: &str| {
        rendered(name)
            || recipients::EXO_MINIMUM_PROPERTIES
                .iter()
                .chain(UNMODELLED_EXO_PROPERTIES)
                .any(|known| known.eq_ignore_ascii_case(name))
            || PROPERTY_SET_MEMBERS
                .iter()
                .flat_map(|(_, members)| members.iter())
                .any(|known| known.eq_ignore_ascii_case(name))
    };
    let requested = params.list("Properties").unwrap_or_default();
    let invalid: Vec<&str> = requested.iter().map(|name| name.trim()).filter(|name| !known(name)).collect();
    if !invalid.is_empty() {
        // Wording as the module reports it (https://github.com/MicrosoftDocs/office-docs-powershell/issues/5644);
        // the exception type behind it is unconfirmed.
        return Err(ExchangeError::task(format!(
            "Some of requested properties are not valid. InvalidProperties = {}",
            invalid.join(",")
        )));
    }
    wanted.extend(requested.iter().map(|name| name.trim().to_string()));
    Ok(Some(wanted))
}

fn get_exo_mailbox(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let wanted_types = enum_values(params, "RecipientTypeDetails", MAILBOX_TYPE_DETAILS)?;
    let ids = match exo_mailbox_id(invocation, params)? {
        Some(id) => vec![id],
        None => mailbox_ids(invocation.tenant, None, invocation.now)?,
    };
    let single = ids.len() == 1 && EXO_IDENTITY_PARAMETERS.iter().any(|name| params.has(name));
    let objects = mailbox_objects(invocation, ids, wanted_types.as_deref());
    if objects.is_empty() && single {
        let identity = EXO_IDENTITY_PARAMETERS.iter().find_map(|name| params.string(name)).unwrap_or_default();
        return Err(ExchangeError::not_found(identity));
    }
    let objects = match exo_properties(params, &objects)? {
        Some(wanted) => output::select(objects, &wanted),
        None => objects,
    };
    Ok(limit_results(invocation, params, objects, 1000))
}

fn get_recipient(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let wanted = enum_values(params, "RecipientTypeDetails", RECIPIENT_TYPE_DETAILS)?;
    let tenant = &*invocation.tenant;
    let now = invocation.now;
    let found = match params.string("Identity") {
        Some(identity) => vec![recipients::resolve_recipient(tenant, identity, now)?],
        None => recipients::all_recipients(tenant, now),
    };
    let objects: Output = found
        .into_iter()
        .filter_map(|recipient| recipients::reduced_recipient(tenant, recipient, now))
        .map(|object| object.build())
        .filter(|object| {
            let details = object.get("RecipientTypeDetails").and_then(|value| value.as_str()).unwrap_or_default();
            wanted.as_ref().is_none_or(|wanted| wanted.contains(&details))
        })
        .collect();
    if objects.is_empty() && params.has("Identity") {
        return Err(ExchangeError::not_found(params.required("Identity")));
    }
    Ok(limit_results(invocation, params, objects, 1000))
}

/// Exchange's warning for a `Set-*` that changed nothing (observed wording, e.g. CIPP's
/// `Remove-CIPPMailboxPermissions` tests for "completed successfully but no settings of").
fn nothing_modified(identity: &str) -> String {
    format!("The command completed successfully but no settings of '{identity}' have been modified.")
}

/// Resolves one `-GrantSendOnBehalfTo` entry: a mailbox or a mail-enabled security group (the documented
/// kinds of sender; mail users are not modelled).
fn send_on_behalf_holder(invocation: &Invocation<'_>, entry: &str) -> ExchangeResult<Uuid> {
    let tenant = &*invocation.tenant;
    match recipients::resolve_other(tenant, entry, invocation.now)? {
        Recipient::Mailbox(id) => Ok(id),
        Recipient::MailGroup(id) if tenant.groups.get(&id).is_some_and(|group| group.security_enabled) => Ok(id),
        // Wording unconfirmed: Exchange refuses distribution lists and Microsoft 365 groups here.
        _ => Err(ExchangeError::validation(format!(
            "The recipient \"{entry}\" can't be granted Send on Behalf permission: only mailboxes, mail users and mail-enabled security groups can."
        ))),
    }
}

/// The `GrantSendOnBehalfTo` list after applying a replace or an `@{Add=…;Remove=…}` to `current`.
fn send_on_behalf_after(
    invocation: &Invocation<'_>,
    current: &BTreeSet<Uuid>,
    change: &MultiValue,
) -> ExchangeResult<BTreeSet<Uuid>> {
    let resolve = |entries: &[String]| -> ExchangeResult<Vec<Uuid>> {
        entries.iter().map(|entry| send_on_behalf_holder(invocation, entry)).collect()
    };
    let mut after = match &change.replace {
        Some(list) => resolve(list)?.into_iter().collect(),
        None => current.clone(),
    };
    // Adding a holder already in the list, or removing one that is not, changes nothing (unconfirmed: the
    // sandbox treats both as no-ops, which ends in the "no settings modified" warning when nothing else moved).
    after.extend(resolve(&change.add)?);
    for id in resolve(&change.remove)? {
        after.remove(&id);
    }
    Ok(after)
}

/// The refusal of a blank or over-long display name (wording unconfirmed).
fn display_name_error() -> ExchangeError {
    ExchangeError::validation(format!(
        "The length of the property is too long or empty. The value of DisplayName must be between 1 and {MAX_DISPLAY_NAME_LENGTH} characters."
    ))
    .with_target("DisplayName")
}

/// A display name Exchange accepts: not blank and at most 256 characters.
fn checked_display_name(display_name: &str) -> ExchangeResult<&str> {
    let trimmed = display_name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_DISPLAY_NAME_LENGTH {
        return Err(display_name_error());
    }
    Ok(trimmed)
}

fn set_mailbox(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let now = invocation.now;
    let id = recipients::resolve_mailbox(invocation.tenant, params.required("Identity"), now)?;
    let (user, mailbox) = match (invocation.tenant.users.get(&id), invocation.tenant.exchange.ready_mailbox(id, now)) {
        (Some(user), Some(mailbox)) => (user.clone(), mailbox.clone()),
        _ => return Err(ExchangeError::not_found(params.required("Identity"))),
    };
    let kind = match params.choice("Type") {
        None => mailbox.kind,
        Some("Regular") => MailboxKind::User,
        Some("Shared") => MailboxKind::Shared,
        Some(other) => {
            return Err(ExchangeError::task(format!(
                "The sandbox converts mailboxes only to Regular or Shared; -Type {other} (a resource mailbox) isn't modelled."
            )));
        }
    };
    let hidden = params.bool("HiddenFromAddressListsEnabled").unwrap_or(mailbox.hidden_from_address_lists);
    let send_on_behalf = match params.multi("GrantSendOnBehalfTo") {
        Some(change) => send_on_behalf_after(invocation, &mailbox.grant_send_on_behalf_to, &change)?,
        None => mailbox.grant_send_on_behalf_to.clone(),
    };
    let display_name = match params.string("DisplayName") {
        Some(display_name) => checked_display_name(display_name)?.to_string(),
        None if params.has("DisplayName") => return Err(display_name_error()),
        None => user.display_name.clone(),
    };

    let type_changed = kind != mailbox.kind;
    let mut changed = type_changed
        || hidden != mailbox.hidden_from_address_lists
        || send_on_behalf != mailbox.grant_send_on_behalf_to;
    if let Some(stored) = invocation.tenant.exchange.mailboxes.get_mut(&id) {
        stored.hidden_from_address_lists = hidden;
        stored.grant_send_on_behalf_to = send_on_behalf;
        stored.kind = kind;
    }
    if type_changed {
        lifecycle::after_type_change(invocation.tenant, id, now);
    }
    if hidden != mailbox.hidden_from_address_lists {
        // One directory: Graph shows the address-list flag as the user's `showInAddressList`.
        invocation.tenant.update_user(id, |user| user.show_in_address_list = Some(!hidden));
    }
    if display_name != user.display_name {
        invocation.tenant.update_user(id, |user| user.display_name = display_name);
        changed = true;
    }
    if !changed {
        // Converting a mailbox to the type it already has lands here too: Exchange warns, it does not fail.
        invocation.warnings.push(nothing_modified(recipients::mailbox_name(invocation.tenant, &user)));
    }
    Ok(Vec::new())
}

/// Whether `alias` is a valid Exchange alias: letters, digits and ``!#$%&'*+-/=?^_`{|}~``, with periods
/// allowed between other characters (<https://learn.microsoft.com/powershell/module/exchangepowershell/new-mailbox>).
fn is_valid_alias(alias: &str) -> bool {
    let allowed = |character: char| character.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(character);
    !alias.is_empty()
        && alias.chars().count() <= MAX_NAME_LENGTH
        && alias.chars().all(allowed)
        && !alias.starts_with('.')
        && !alias.ends_with('.')
        && !alias.contains("..")
}

/// The id of the live user or group whose alias (`mailNickname`) is `alias`.
fn alias_holder(tenant: &Tenant, alias: &str) -> Option<Uuid> {
    let user = tenant
        .users
        .values()
        .filter(|user| !user.is_deleted())
        .find(|user| user.mail_nickname.eq_ignore_ascii_case(alias));
    let group = || {
        tenant
            .groups
            .values()
            .filter(|group| !group.is_deleted())
            .find(|group| group.mail_nickname.eq_ignore_ascii_case(alias))
    };
    user.map(|user| user.id).or_else(|| group().map(|group| group.id))
}

/// Whether `name` is already the `Name` of a mailbox (any state) or a mail-enabled group.
fn name_in_use(tenant: &Tenant, name: &str) -> bool {
    let mailbox_names = tenant
        .users
        .values()
        .filter(|user| !user.is_deleted() && tenant.exchange.mailboxes.contains_key(&user.id))
        .map(|user| recipients::mailbox_name(tenant, user));
    let group_names = tenant
        .groups
        .values()
        .filter(|group| !group.is_deleted() && group.mail_enabled)
        .map(|group| recipients::group_name(group, tenant.exchange.groups.get(&group.id)));
    mailbox_names.chain(group_names).any(|taken| taken.eq_ignore_ascii_case(name))
}

/// An address (`local@domain`) in one of the tenant's accepted domains, lower-cased domain kept as given.
fn accepted_address<'a>(tenant: &Tenant, address: &'a str, parameter: &str) -> ExchangeResult<&'a str> {
    let address = address.trim();
    let Some((local, domain)) = address.split_once('@') else {
        return Err(ExchangeError::cannot_convert(parameter, address, "Microsoft.Exchange.Data.SmtpAddress"));
    };
    if local.is_empty() || domain.contains('@') || !is_valid_alias(local) {
        return Err(ExchangeError::cannot_convert(parameter, address, "Microsoft.Exchange.Data.SmtpAddress"));
    }
    if tenant.domain(domain).is_none() {
        // Wording unconfirmed: Exchange Online refuses addresses outside its accepted domains.
        return Err(ExchangeError::validation(format!(
            "The domain '{domain}' of the address '{address}' isn't an accepted domain for your organization."
        ))
        .with_target(parameter));
    }
    Ok(address)
}

/// What `New-Mailbox -Shared` creates, checked.
struct NewSharedMailbox {
    name: String,
    alias: String,
    display_name: String,
    primary_smtp_address: String,
    user_principal_name: String,
}

fn checked_new_mailbox(tenant: &Tenant, params: &Params) -> ExchangeResult<NewSharedMailbox> {
    let name = params.required("Name").trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LENGTH {
        // Wording unconfirmed.
        return Err(ExchangeError::validation(format!(
            "The length of the property is too long or empty. The value of Name must be between 1 and {MAX_NAME_LENGTH} characters."
        ))
        .with_target("Name"));
    }
    let alias = match params.string("Alias") {
        Some(alias) => alias.trim().to_string(),
        None => name.chars().filter(|character| !character.is_whitespace()).collect(),
    };
    if !is_valid_alias(&alias) {
        // Exchange would turn unsupported characters of a derived alias into '?'; the sandbox refuses them
        // (wording unconfirmed).
        return Err(ExchangeError::validation(format!(
            "The alias \"{alias}\" isn't valid: use up to {MAX_NAME_LENGTH} letters, digits and the characters !#$%&'*+-/=?^_`{{|}}~, with periods only between other characters."
        ))
        .with_target("Alias"));
    }
    let display_name = match params.string("DisplayName") {
        Some(display_name) => checked_display_name(display_name)?.to_string(),
        None => name.to_string(),
    };
    let primary_smtp_address = match params.string("PrimarySmtpAddress") {
        Some(address) => accepted_address(tenant, address, "PrimarySmtpAddress")?.to_string(),
        None => format!("{alias}@{}", tenant.default_domain()),
    };
    let user_principal_name = match params.string("UserPrincipalName") {
        Some(upn) => accepted_address(tenant, upn, "UserPrincipalName")?.to_string(),
        None => primary_smtp_address.clone(),
    };
    if name_in_use(tenant, name) {
        return Err(ExchangeError::name_taken(name));
    }
    if let Some(holder) = alias_holder(tenant, &alias) {
        return Err(ExchangeError::address_taken(&primary_smtp_address, &recipients::name_of(tenant, holder)));
    }
    if let Err(conflict) =
        tenant.check_unique(Some(&user_principal_name), std::slice::from_ref(&primary_smtp_address), None)
    {
        let taken = if conflict.property == "userPrincipalName" { &user_principal_name } else { &primary_smtp_address };
        return Err(ExchangeError::address_taken(taken, &recipients::name_of(tenant, conflict.holder)));
    }
    Ok(NewSharedMailbox { name: name.to_string(), alias, display_name, primary_smtp_address, user_principal_name })
}

fn new_mailbox(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    if !params.switch("Shared") {
        return Err(ExchangeError::task(
            "The sandbox creates only shared mailboxes with New-Mailbox (use -Shared): a user mailbox comes from licensing the user in Microsoft Graph.",
        ));
    }
    let new = checked_new_mailbox(invocation.tenant, params)?;
    let now = invocation.now;
    let id = Uuid::new_v4();
    // A shared mailbox's account is disabled and nobody knows its password (Microsoft: "A shared mailbox is
    // backed by a disabled user account").
    let unusable_password = format!("{}{}!Aa1", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let mut user = User::new(id, &new.user_principal_name, &new.display_name, &unusable_password, now);
    user.account_enabled = false;
    user.mail = Some(new.primary_smtp_address.clone());
    user.mail_nickname = new.alias;
    user.proxy_addresses = vec![format!("SMTP:{}", new.primary_smtp_address)];
    // Exchange also stamps an address in the tenant's initial (onmicrosoft) domain when it is free.
    let routing = format!("{}@{}", user.mail_nickname, invocation.tenant.initial_domain());
    if !routing.eq_ignore_ascii_case(&new.primary_smtp_address) && invocation.tenant.address_holder(&routing).is_none()
    {
        user.proxy_addresses.push(format!("smtp:{routing}"));
    }
    user.visible_from = invocation.visible_from;
    invocation.tenant.insert_user(user);
    let mut mailbox = Mailbox::new(id, MailboxKind::Shared, now, now);
    mailbox.name = Some(new.name);
    invocation.tenant.exchange.mailboxes.insert(id, mailbox);
    let tenant = &*invocation.tenant;
    let object = match (tenant.users.get(&id), tenant.exchange.mailboxes.get(&id)) {
        (Some(user), Some(mailbox)) => recipients::mailbox_object(tenant, user, mailbox).build(),
        _ => return Err(ExchangeError::not_found(&new.primary_smtp_address)),
    };
    Ok(vec![object])
}
