//! Distribution list and mail-enabled security group cmdlets: `New-DistributionGroup`,
//! `Get-DistributionGroup`, `Set-DistributionGroup`, `Remove-DistributionGroup` — and the rules the member
//! cmdlets share with them (who manages a group, the settings of a seeded group that has none yet).
//!
//! The group itself (display name, alias, addresses, members, type) is the directory's group, written through
//! the tenant so Graph reads, members and delta see every change; Exchange's own settings (`Name`,
//! `ManagedBy`, join/depart restrictions, …) live in `tenant.exchange.groups`. Graph shows these groups as
//! `mailEnabled` and refuses to write them.
//!
//! Reference pages: <https://learn.microsoft.com/powershell/module/exchangepowershell/new-distributiongroup>,
//! <https://learn.microsoft.com/powershell/module/exchangepowershell/get-distributiongroup>,
//! <https://learn.microsoft.com/powershell/module/exchangepowershell/set-distributiongroup>,
//! <https://learn.microsoft.com/powershell/module/exchangepowershell/remove-distributiongroup>.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::{Cmdlet, Invocation, Output, limit_results};
use crate::directory::group::Group;
use crate::directory::tenant::Tenant;
use crate::exchange::error::{ExchangeError, ExchangeResult, exception};
use crate::exchange::model::{GroupSettings, MembershipRestriction};
use crate::exchange::params::{MultiValue, ParamType, Params, mandatory, optional};
use crate::exchange::rbac;
use crate::exchange::recipients::{self, Recipient};

/// `-MemberJoinRestriction` values.
const JOIN_RESTRICTIONS: &[&str] = &["Open", "Closed", "ApprovalRequired"];
/// `-MemberDepartRestriction` values (the documented ones; `ApprovalRequired` applies to joining only).
const DEPART_RESTRICTIONS: &[&str] = &["Open", "Closed"];
/// `-RecipientTypeDetails` values of `Get-DistributionGroup`.
const GROUP_TYPE_DETAILS: &[&str] =
    &["MailUniversalDistributionGroup", "MailUniversalSecurityGroup", "MailNonUniversalGroup", "RoomList"];
/// The longest `Name` and `Alias` Exchange accepts.
const MAX_NAME_LENGTH: usize = 64;
/// The longest `DisplayName` Exchange accepts.
const MAX_DISPLAY_NAME_LENGTH: usize = 256;

/// The distribution group cmdlets.
pub const CMDLETS: &[Cmdlet] = &[
    Cmdlet {
        name: "New-DistributionGroup",
        parameters: &[
            mandatory("Name", ParamType::String),
            optional("Alias", ParamType::String),
            optional("DisplayName", ParamType::String),
            optional("PrimarySmtpAddress", ParamType::String),
            optional("Type", ParamType::Enum(&["Distribution", "Security"])),
            optional("Members", ParamType::StringList),
            optional("ManagedBy", ParamType::StringList),
            optional("MemberJoinRestriction", ParamType::Enum(JOIN_RESTRICTIONS)),
            optional("MemberDepartRestriction", ParamType::Enum(DEPART_RESTRICTIONS)),
            optional("RequireSenderAuthenticationEnabled", ParamType::Bool),
            optional("Notes", ParamType::String),
            optional("IgnoreNamingPolicy", ParamType::Switch),
            optional("CopyOwnerToMember", ParamType::Switch),
        ],
        run: new_distribution_group,
    },
    Cmdlet {
        name: "Get-DistributionGroup",
        parameters: &[
            optional("Identity", ParamType::String),
            optional("RecipientTypeDetails", ParamType::StringList),
            optional("ResultSize", ParamType::ResultSize),
        ],
        run: get_distribution_group,
    },
    Cmdlet {
        name: "Set-DistributionGroup",
        parameters: &[
            mandatory("Identity", ParamType::String),
            optional("Name", ParamType::String),
            optional("DisplayName", ParamType::String),
            optional("Alias", ParamType::String),
            optional("PrimarySmtpAddress", ParamType::String),
            optional("ManagedBy", ParamType::MultiValued),
            optional("MemberJoinRestriction", ParamType::Enum(JOIN_RESTRICTIONS)),
            optional("MemberDepartRestriction", ParamType::Enum(DEPART_RESTRICTIONS)),
            optional("RequireSenderAuthenticationEnabled", ParamType::Bool),
            optional("HiddenFromAddressListsEnabled", ParamType::Bool),
            optional("Notes", ParamType::String),
            optional("BypassSecurityGroupManagerCheck", ParamType::Switch),
        ],
        run: set_distribution_group,
    },
    Cmdlet {
        name: "Remove-DistributionGroup",
        parameters: &[
            mandatory("Identity", ParamType::String),
            optional("BypassSecurityGroupManagerCheck", ParamType::Switch),
        ],
        run: remove_distribution_group,
    },
];

/// The Exchange settings of a mail-enabled group: its own, or — for a group Exchange has not written yet (a
/// seeded one) — the defaults `Get-DistributionGroup` shows for it.
pub fn settings_of(tenant: &Tenant, group: &Group) -> GroupSettings {
    tenant.exchange.groups.get(&group.id).cloned().unwrap_or_else(|| GroupSettings {
        name: group.display_name.clone(),
        managed_by: BTreeSet::new(),
        member_join_restriction: MembershipRestriction::Closed,
        member_depart_restriction: default_depart_restriction(group.security_enabled),
        require_sender_authentication: true,
        hidden_from_address_lists: false,
        notes: None,
        // The renderer reports the directory id as `Guid` while there are no settings: keep it stable.
        guid: group.id,
    })
}

/// Refuses a change to `group` by a caller who is not one of its owners (`ManagedBy`), unless it passed
/// `-BypassSecurityGroupManagerCheck` (which RBAC only lets holders of "Security Group Creation and
/// Membership" pass). An app-only caller is never an owner.
pub fn ensure_group_manager(invocation: &Invocation<'_>, params: &Params, group: Uuid) -> ExchangeResult<()> {
    if params.switch("BypassSecurityGroupManagerCheck") {
        return Ok(());
    }
    let manages = invocation.caller.user_id().is_some_and(|user| {
        invocation.tenant.exchange.groups.get(&group).is_some_and(|settings| settings.managed_by.contains(&user))
    });
    if manages { Ok(()) } else { Err(ExchangeError::not_group_manager()) }
}

/// Refuses to create or change a group of a kind the caller's roles do not cover: mail-enabled security
/// groups need "Security Group Creation and Membership", distribution lists need "Distribution Groups"
/// (reference §4.5). The sandbox draws the line by the group's kind; Exchange's exact role entries are not
/// published, and the wording is unconfirmed.
pub fn ensure_group_role(invocation: &Invocation<'_>, security: bool) -> ExchangeResult<()> {
    let (role, kind) = if security {
        (rbac::SECURITY_GROUP_CREATION, "a mail-enabled security group")
    } else {
        (rbac::DISTRIBUTION_GROUPS, "a distribution group")
    };
    if invocation.caller.roles.contains(role) {
        return Ok(());
    }
    Err(ExchangeError::task(format!(
        "You don't have sufficient permissions to create or change {kind}. This operation requires the \"{role}\" role."
    )))
}

/// The live mail-enabled group `id` (resolved a moment ago under the same lock).
pub fn mail_group(tenant: &Tenant, id: Uuid) -> ExchangeResult<&Group> {
    tenant.groups.get(&id).ok_or_else(|| ExchangeError::not_found(&id.to_string()))
}

fn default_depart_restriction(security: bool) -> MembershipRestriction {
    if security { MembershipRestriction::Closed } else { MembershipRestriction::Open }
}

fn restriction(value: &str) -> MembershipRestriction {
    match value {
        "Open" => MembershipRestriction::Open,
        "ApprovalRequired" => MembershipRestriction::ApprovalRequired,
        _ => MembershipRestriction::Closed,
    }
}

/// Security groups may not be open for joining or leaving (reference §4.4). The wording is **unconfirmed**.
fn check_restrictions(
    security: bool,
    join: MembershipRestriction,
    depart: MembershipRestriction,
) -> ExchangeResult<()> {
    if security && join == MembershipRestriction::Open {
        return Err(ExchangeError::validation(
            "Security groups can't be open for members to join. Set MemberJoinRestriction to Closed or ApprovalRequired.",
        ));
    }
    if security && depart == MembershipRestriction::Open {
        return Err(ExchangeError::validation(
            "Security groups can't be open for members to leave. Set MemberDepartRestriction to Closed.",
        ));
    }
    Ok(())
}

/// Exchange's "property too long" refusal (wording **unconfirmed**).
fn check_length(value: &str, max: usize) -> ExchangeResult<()> {
    let length = value.chars().count();
    if length > max {
        return Err(ExchangeError::validation(format!(
            "The length of the property is too long. The maximum length is {max} and the length of the value provided is {length}."
        )));
    }
    Ok(())
}

/// A mandatory string parameter given as an empty string (PowerShell refuses it while binding).
fn check_not_empty(parameter: &str, value: &str) -> ExchangeResult<()> {
    if value.trim().is_empty() {
        return Err(ExchangeError::cmdlet(
            http::StatusCode::BAD_REQUEST,
            exception::VALIDATION_METADATA,
            format!("Cannot bind argument to parameter '{parameter}' because it is an empty string."),
        )
        .with_target(parameter));
    }
    Ok(())
}

fn is_alias_character(character: char) -> bool {
    character.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(character)
        || ('\u{a1}'..='\u{ff}').contains(&character)
}

/// `-Alias` as the reference page describes it: letters, digits, a set of symbols, Latin-1 letters, and
/// periods surrounded by other valid characters; at most 64 characters.
fn check_alias(alias: &str) -> ExchangeResult<()> {
    let periods_ok = !alias.starts_with('.') && !alias.ends_with('.') && !alias.contains("..");
    if alias.is_empty()
        || !periods_ok
        || !alias.chars().all(|character| character == '.' || is_alias_character(character))
    {
        return Err(ExchangeError::validation(format!(
            "Property expression \"{alias}\" isn't valid. Valid values are: Strings formed with characters from A to Z (uppercase or lowercase), digits from 0 to 9, !, #, $, %, &, ', *, +, -, /, =, ?, ^, _, `, {{, |, }} or ~. One or more periods may be embedded in an alias, but each period should be preceded and followed by at least one of the other characters. Unicode characters from U+00A1 to U+00FF are also valid in an alias, but they will be mapped to a best-fit US-ASCII string in the email address, which is generated from such an alias."
        )));
    }
    check_length(alias, MAX_NAME_LENGTH)
}

/// The alias Exchange derives from `-Name`: spaces removed, unsupported characters turned into `?`
/// (reference page of `-Alias`); stray periods are dropped so the result is a valid alias (**unconfirmed**).
fn alias_from_name(name: &str) -> String {
    let mapped: String = name
        .chars()
        .filter(|character| !character.is_whitespace())
        .map(|character| if character == '.' || is_alias_character(character) { character } else { '?' })
        .collect();
    let mut alias = String::with_capacity(mapped.len());
    for character in mapped.chars() {
        if character == '.' && (alias.is_empty() || alias.ends_with('.')) {
            continue;
        }
        alias.push(character);
    }
    alias.trim_end_matches('.').to_string()
}

/// The best-fit US-ASCII text of a Latin-1 character in a generated address (`ö` → `oe`, as the `-Alias`
/// reference page gives; the rest of the table is the sandbox's reading).
fn best_fit(character: char) -> &'static str {
    match character {
        'À'..='Ã' | 'Å' => "A",
        'Ä' | 'Æ' => "AE",
        'Ç' => "C",
        'È'..='Ë' => "E",
        'Ì'..='Ï' => "I",
        'Ð' => "D",
        'Ñ' => "N",
        'Ò'..='Õ' | 'Ø' => "O",
        'Ö' => "OE",
        'Ù'..='Û' => "U",
        'Ü' => "UE",
        'Ý' => "Y",
        'Þ' => "TH",
        'ß' => "ss",
        'à'..='ã' | 'å' => "a",
        'ä' | 'æ' => "ae",
        'ç' => "c",
        'è'..='ë' => "e",
        'ì'..='ï' => "i",
        'ð' => "d",
        'ñ' => "n",
        'ò'..='õ' | 'ø' => "o",
        'ö' => "oe",
        'ù'..='û' => "u",
        'ü' => "ue",
        'ý' | 'ÿ' => "y",
        'þ' => "th",
        _ => "",
    }
}

/// The primary address generated from an alias in the tenant's default domain.
fn address_from_alias(tenant: &Tenant, alias: &str) -> String {
    let local: String = alias
        .chars()
        .map(|character| if character.is_ascii() { character.to_string() } else { best_fit(character).to_string() })
        .collect();
    format!("{local}@{}", tenant.default_domain())
}

/// An `SmtpAddress` value: well formed, and in one of the tenant's domains. Returns it trimmed.
fn check_address(tenant: &Tenant, address: &str) -> ExchangeResult<String> {
    let address = address.trim();
    let bare = address.strip_prefix("SMTP:").or_else(|| address.strip_prefix("smtp:")).unwrap_or(address);
    let well_formed = bare.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !bare.chars().any(char::is_whitespace)
    });
    if !well_formed {
        return Err(ExchangeError::cmdlet(
            http::StatusCode::BAD_REQUEST,
            exception::ARGUMENT_TRANSFORMATION,
            format!(
                "Cannot process argument transformation on parameter 'PrimarySmtpAddress'. Cannot convert value \"{address}\" to type \"Microsoft.Exchange.Data.SmtpAddress\". Error: \"The email address \"{address}\" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.\""
            ),
        )
        .with_target("PrimarySmtpAddress"));
    }
    let domain = bare.rsplit_once('@').map_or("", |(_, domain)| domain);
    if tenant.domain(domain).is_none() {
        // Wording unconfirmed: Exchange refuses addresses outside the organisation's accepted domains.
        return Err(ExchangeError::validation(format!(
            "The domain \"{domain}\" of the email address \"{bare}\" isn't an accepted domain for your organization."
        )));
    }
    Ok(bare.to_string())
}

/// Refuses an address another live object holds (naming the holder), ignoring `except`.
fn check_address_free(tenant: &Tenant, address: &str, except: Option<Uuid>) -> ExchangeResult<()> {
    tenant
        .check_unique(None, &[address.to_string()], except)
        .map_err(|conflict| ExchangeError::address_taken(address, &recipients::name_of(tenant, conflict.holder)))
}

/// Refuses a `Name` another recipient (a user, or a mail-enabled group) has, ignoring `except`.
fn check_name_free(tenant: &Tenant, name: &str, except: Option<Uuid>) -> ExchangeResult<()> {
    let users = tenant
        .users
        .values()
        .filter(|user| !user.is_deleted() && Some(user.id) != except)
        .any(|user| recipients::mailbox_name(tenant, user).eq_ignore_ascii_case(name));
    let groups = tenant
        .groups
        .values()
        .filter(|group| !group.is_deleted() && group.mail_enabled && Some(group.id) != except)
        .any(|group| recipients::group_name(group, tenant.exchange.groups.get(&group.id)).eq_ignore_ascii_case(name));
    if users || groups { Err(ExchangeError::name_taken(name)) } else { Ok(()) }
}

/// Checks a `-Name` value (not empty, at most 64 characters, free).
fn check_name(tenant: &Tenant, name: &str, except: Option<Uuid>) -> ExchangeResult<()> {
    check_not_empty("Name", name)?;
    check_length(name, MAX_NAME_LENGTH)?;
    check_name_free(tenant, name, except)
}

/// Resolves `-ManagedBy` values to user ids (owners must be users, with or without a mailbox).
fn resolve_owners(invocation: &Invocation<'_>, identities: &[String]) -> ExchangeResult<BTreeSet<Uuid>> {
    identities.iter().map(|identity| recipients::resolve_user(invocation.tenant, identity, invocation.now)).collect()
}

/// Resolves a `-Member`/`-Members` value to a recipient that may join a distribution group or mail-enabled
/// security group. Microsoft 365 groups cannot be nested in them (wording **unconfirmed**).
pub fn resolve_member(tenant: &Tenant, identity: &str, now: chrono::DateTime<chrono::Utc>) -> ExchangeResult<Uuid> {
    match recipients::resolve_other(tenant, identity, now)? {
        Recipient::UnifiedGroup(id) => Err(ExchangeError::task(format!(
            "The Microsoft 365 Group \"{}\" can't be added as a member of a distribution group or mail-enabled security group.",
            recipients::name_of(tenant, id)
        ))),
        found => Ok(found.id()),
    }
}

fn new_distribution_group(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let tenant = &*invocation.tenant;
    let now = invocation.now;
    let security = params.choice("Type") == Some("Security");
    ensure_group_role(invocation, security)?;
    let name = params.required("Name").trim().to_string();
    check_name(tenant, &name, None)?;
    let display_name = params.string("DisplayName").map_or_else(|| name.clone(), |text| text.trim().to_string());
    check_not_empty("DisplayName", &display_name)?;
    check_length(&display_name, MAX_DISPLAY_NAME_LENGTH)?;
    let alias = match params.string("Alias") {
        Some(alias) => alias.trim().to_string(),
        None => alias_from_name(&name),
    };
    check_alias(&alias)?;
    let address = match params.string("PrimarySmtpAddress") {
        Some(address) => check_address(tenant, address)?,
        None => address_from_alias(tenant, &alias),
    };
    check_address_free(tenant, &address, None)?;
    let join = params.choice("MemberJoinRestriction").map_or(MembershipRestriction::Closed, restriction);
    let depart = params.choice("MemberDepartRestriction").map_or(default_depart_restriction(security), restriction);
    check_restrictions(security, join, depart)?;
    let mut managed_by = resolve_owners(invocation, params.list("ManagedBy").unwrap_or_default())?;
    if managed_by.is_empty() {
        // The creator owns the group (reference page of -ManagedBy). An app-only caller has no user account:
        // what Exchange records then is unconfirmed, and the sandbox leaves ManagedBy empty.
        managed_by.extend(invocation.caller.user_id());
    }
    let mut members = BTreeSet::new();
    for identity in params.list("Members").unwrap_or_default() {
        members.insert(resolve_member(tenant, identity, now)?);
    }
    if params.switch("CopyOwnerToMember") {
        members.extend(managed_by.iter().copied());
    }

    let id = Uuid::new_v4();
    let mut group = Group::new_security(id, &display_name, &alias, now);
    group.mail_enabled = true;
    group.security_enabled = security;
    group.mail = Some(address.clone());
    group.proxy_addresses = vec![format!("SMTP:{address}")];
    group.members = members;
    group.visible_from = invocation.visible_from;
    let settings = GroupSettings {
        name,
        managed_by,
        member_join_restriction: join,
        member_depart_restriction: depart,
        require_sender_authentication: params.bool("RequireSenderAuthenticationEnabled").unwrap_or(true),
        hidden_from_address_lists: false,
        notes: params.string("Notes").map(str::to_string),
        guid: Uuid::new_v4(),
    };
    let tenant = &mut *invocation.tenant;
    tenant.insert_group(group);
    tenant.exchange.groups.insert(id, settings);
    let group = mail_group(tenant, id)?;
    Ok(vec![recipients::group_object(tenant, group).build()])
}

/// The `-RecipientTypeDetails` filter in canonical spelling (`None`: every type).
fn wanted_type_details(params: &Params) -> ExchangeResult<Option<Vec<&'static str>>> {
    let Some(values) = params.list("RecipientTypeDetails") else { return Ok(None) };
    values
        .iter()
        .map(|value| {
            GROUP_TYPE_DETAILS
                .iter()
                .find(|name| name.eq_ignore_ascii_case(value.trim()))
                .copied()
                .ok_or_else(|| ExchangeError::not_in_set("RecipientTypeDetails", value, GROUP_TYPE_DETAILS))
        })
        .collect::<ExchangeResult<Vec<_>>>()
        .map(Some)
}

fn type_details(group: &Group) -> &'static str {
    if group.security_enabled { "MailUniversalSecurityGroup" } else { "MailUniversalDistributionGroup" }
}

fn get_distribution_group(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let tenant = &*invocation.tenant;
    let wanted = wanted_type_details(params)?;
    let ids: Vec<Uuid> = match params.string("Identity") {
        Some(identity) => vec![recipients::resolve_group(tenant, identity, invocation.now)?],
        None => tenant
            .groups
            .values()
            .filter(|group| !group.is_deleted() && group.is_exchange_managed())
            .map(|group| group.id)
            .collect(),
    };
    let objects: Output = ids
        .into_iter()
        .filter_map(|id| tenant.groups.get(&id))
        .filter(|group| wanted.as_ref().is_none_or(|wanted| wanted.contains(&type_details(group))))
        .map(|group| recipients::group_object(tenant, group).build())
        .collect();
    if objects.is_empty() && params.has("Identity") {
        return Err(ExchangeError::not_found(params.required("Identity")));
    }
    Ok(limit_results(invocation, params, objects, 1000))
}

/// Applies a `-ManagedBy` multi-valued change to `owners`.
fn change_owners(invocation: &Invocation<'_>, owners: &mut BTreeSet<Uuid>, change: &MultiValue) -> ExchangeResult<()> {
    if let Some(replace) = &change.replace {
        *owners = resolve_owners(invocation, replace)?;
    }
    owners.extend(resolve_owners(invocation, &change.add)?);
    for removed in resolve_owners(invocation, &change.remove)? {
        owners.remove(&removed);
    }
    Ok(())
}

/// Whether two settings of the same group hold the same values.
fn same_settings(left: &GroupSettings, right: &GroupSettings) -> bool {
    left.name == right.name
        && left.managed_by == right.managed_by
        && left.member_join_restriction == right.member_join_restriction
        && left.member_depart_restriction == right.member_depart_restriction
        && left.require_sender_authentication == right.require_sender_authentication
        && left.hidden_from_address_lists == right.hidden_from_address_lists
        && left.notes == right.notes
        && left.guid == right.guid
}

/// The directory-side changes of a `Set-DistributionGroup`.
#[derive(Default)]
struct DirectoryChange {
    display_name: Option<String>,
    alias: Option<String>,
    primary_address: Option<String>,
}

/// Makes `address` the primary SMTP address, keeping the previous primary as a secondary one.
fn make_primary(group: &mut Group, address: &str) {
    for proxy in &mut group.proxy_addresses {
        if let Some(rest) = proxy.strip_prefix("SMTP:") {
            *proxy = format!("smtp:{rest}");
        }
    }
    let existing = group.proxy_addresses.iter().position(|proxy| {
        proxy
            .split_once(':')
            .is_some_and(|(kind, rest)| kind.eq_ignore_ascii_case("smtp") && rest.eq_ignore_ascii_case(address))
    });
    match existing {
        Some(index) => group.proxy_addresses[index] = format!("SMTP:{address}"),
        None => group.proxy_addresses.insert(0, format!("SMTP:{address}")),
    }
    group.mail = Some(address.to_string());
}

fn set_distribution_group(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let id = recipients::resolve_group(invocation.tenant, params.required("Identity"), invocation.now)?;
    ensure_group_role(invocation, mail_group(invocation.tenant, id)?.security_enabled)?;
    ensure_group_manager(invocation, params, id)?;
    let tenant = &*invocation.tenant;
    let group = mail_group(tenant, id)?;
    let before = settings_of(tenant, group);
    let mut settings = before.clone();
    let mut directory = DirectoryChange::default();

    if let Some(name) = params.string("Name") {
        let name = name.trim();
        check_name(tenant, name, Some(id))?;
        settings.name = name.to_string();
    }
    if let Some(display_name) = params.string("DisplayName") {
        let display_name = display_name.trim();
        check_not_empty("DisplayName", display_name)?;
        check_length(display_name, MAX_DISPLAY_NAME_LENGTH)?;
        directory.display_name = (display_name != group.display_name).then(|| display_name.to_string());
    }
    if let Some(alias) = params.string("Alias") {
        // Exchange Online does not rewrite the addresses of a group when its alias changes (no email address
        // policy applies to them), as the -Alias reference page describes.
        let alias = alias.trim();
        check_alias(alias)?;
        directory.alias = (alias != group.mail_nickname).then(|| alias.to_string());
    }
    if let Some(address) = params.string("PrimarySmtpAddress") {
        let address = check_address(tenant, address)?;
        check_address_free(tenant, &address, Some(id))?;
        directory.primary_address = (group.mail.as_deref() != Some(address.as_str())).then_some(address);
    }
    if let Some(change) = params.multi("ManagedBy") {
        change_owners(invocation, &mut settings.managed_by, &change)?;
    }
    if let Some(join) = params.choice("MemberJoinRestriction") {
        settings.member_join_restriction = restriction(join);
    }
    if let Some(depart) = params.choice("MemberDepartRestriction") {
        settings.member_depart_restriction = restriction(depart);
    }
    check_restrictions(group.security_enabled, settings.member_join_restriction, settings.member_depart_restriction)?;
    if let Some(required) = params.bool("RequireSenderAuthenticationEnabled") {
        settings.require_sender_authentication = required;
    }
    if let Some(hidden) = params.bool("HiddenFromAddressListsEnabled") {
        settings.hidden_from_address_lists = hidden;
    }
    if params.has("Notes") {
        settings.notes = params.string("Notes").map(str::to_string);
    }

    let settings_changed = !same_settings(&settings, &before);
    let directory_changed =
        directory.display_name.is_some() || directory.alias.is_some() || directory.primary_address.is_some();
    if !settings_changed && !directory_changed {
        // Exchange's warning for a Set-* cmdlet that changed nothing.
        invocation.warnings.push(format!(
            "The command completed successfully but no settings of '{}' have been modified.",
            before.name
        ));
        return Ok(Vec::new());
    }
    let tenant = &mut *invocation.tenant;
    if directory_changed {
        tenant.update_group(id, |group| {
            if let Some(display_name) = directory.display_name {
                group.display_name = display_name;
            }
            if let Some(alias) = directory.alias {
                group.mail_nickname = alias;
            }
            if let Some(address) = directory.primary_address {
                make_primary(group, &address);
            }
        });
    }
    tenant.exchange.groups.insert(id, settings);
    Ok(Vec::new())
}

fn remove_distribution_group(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let id = recipients::resolve_group(invocation.tenant, params.required("Identity"), invocation.now)?;
    ensure_group_role(invocation, mail_group(invocation.tenant, id)?.security_enabled)?;
    ensure_group_manager(invocation, params, id)?;
    let tenant = &mut *invocation.tenant;
    // Distribution lists and mail-enabled security groups are not soft-deleted (reference §3.1.3).
    tenant.purge_group(id);
    tenant.exchange.groups.remove(&id);
    // A mail-enabled security group may hold mailbox permissions; they go with it.
    for mailbox in tenant.exchange.mailboxes.values_mut() {
        mailbox.send_as.remove(&id);
        mailbox.grant_send_on_behalf_to.remove(&id);
        mailbox.full_access.retain(|grant| grant.user != id);
    }
    for settings in tenant.exchange.groups.values_mut() {
        settings.managed_by.remove(&id);
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_alias_drops_spaces_and_replaces_unsupported_characters() {
        assert_eq!(alias_from_name("Sales Team EMEA"), "SalesTeamEMEA");
        assert_eq!(alias_from_name("R&D (Berlin)"), "R&D?Berlin?");
        assert_eq!(alias_from_name(".Ops..Team."), "Ops.Team");
    }

    #[test]
    fn aliases_follow_the_documented_character_rules() {
        assert!(check_alias("help.desk").is_ok());
        assert!(check_alias("Zürich").is_ok());
        assert!(check_alias("two words").is_err());
        assert!(check_alias(".lead").is_err());
        assert!(check_alias("a..b").is_err());
        assert!(check_alias(&"a".repeat(65)).is_err());
    }

    #[test]
    fn security_groups_cannot_be_open() {
        use MembershipRestriction::{ApprovalRequired, Closed, Open};
        assert!(check_restrictions(true, Open, Closed).is_err());
        assert!(check_restrictions(true, Closed, Open).is_err());
        assert!(check_restrictions(true, ApprovalRequired, Closed).is_ok());
        assert!(check_restrictions(false, Open, Open).is_ok());
    }

    #[test]
    fn latin_1_letters_get_a_best_fit_in_addresses() {
        let local: String =
            "Zürich-Øst".chars().map(|c| if c.is_ascii() { c.to_string() } else { best_fit(c).into() }).collect();
        assert_eq!(local, "Zuerich-Ost");
    }
}
