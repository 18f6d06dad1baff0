//! Mailbox permission cmdlets: FullAccess (`Get-`/`Add-`/`Remove-MailboxPermission`, and
//! `Get-EXOMailboxPermission`) and SendAs (`Get-`/`Add-`/`Remove-RecipientPermission`, and
//! `Get-EXORecipientPermission`).
//!
//! The sandbox stores FullAccess grants and SendAs trustees on the mailbox; the other mailbox rights and
//! `-Deny` entries are refused with a task error that says so. Every mailbox also shows its owner's own
//! entry (`NT AUTHORITY\SELF`), as Exchange lists it.
//!
//! Granting what is already granted and removing what is not there are not errors in Exchange: the cmdlet
//! succeeds with a warning (`@adminapi.warnings`). Public clients of the REST API test for these warnings'
//! wording ("because the ACE doesn't exist on the object", "because the ACE isn't present", "The
//! appropriate access control entry is already present"), e.g. CIPP's `Remove-CIPPMailboxPermissions`.
//!
//! Reference pages: <https://learn.microsoft.com/powershell/module/exchangepowershell/add-mailboxpermission>,
//! `…/remove-mailboxpermission`, `…/get-mailboxpermission`, `…/add-recipientpermission`,
//! `…/remove-recipientpermission`, `…/get-recipientpermission`.

use http::StatusCode;
use uuid::Uuid;

use super::mailbox::enum_values;
use super::{Cmdlet, Invocation, Output, limit_results};
use crate::directory::tenant::Tenant;
use crate::exchange::error::{DOMAIN_CONTROLLER, ExchangeError, ExchangeResult, exception};
use crate::exchange::model::{FullAccessGrant, Mailbox};
use crate::exchange::output::ObjectBuilder;
use crate::exchange::params::{ParamSpec, ParamType, Params, mandatory, optional};
use crate::exchange::recipients;

/// `-AccessRights` values of the mailbox permission cmdlets (`MailboxRights[]`).
const MAILBOX_RIGHTS: &[&str] =
    &["ChangeOwner", "ChangePermission", "DeleteItem", "ExternalAccount", "FullAccess", "ReadPermission"];
/// The one mailbox right the sandbox models.
const FULL_ACCESS: &str = "FullAccess";
/// `-InheritanceType` values (`ActiveDirectorySecurityInheritance`).
const INHERITANCE_TYPES: &[&str] = &["None", "All", "Children", "Descendents", "SelfAndChildren"];
/// `-AccessRights` of the recipient permission cmdlets: SendAs is the only valid value.
const RECIPIENT_RIGHTS: &[&str] = &["SendAs"];
/// How Exchange names a mailbox owner's own entry.
const SELF: &str = "NT AUTHORITY\\SELF";
/// The .NET type of `InheritanceType`.
const INHERITANCE_TYPE_NAME: &str = "System.DirectoryServices.ActiveDirectorySecurityInheritance";

const GET_MAILBOX_PERMISSION: &[ParamSpec] = &[
    mandatory("Identity", ParamType::String),
    optional("User", ParamType::String),
    optional("ResultSize", ParamType::ResultSize),
];

const GET_RECIPIENT_PERMISSION: &[ParamSpec] = &[
    optional("Identity", ParamType::String),
    optional("Trustee", ParamType::String),
    optional("AccessRights", ParamType::StringList),
    optional("ResultSize", ParamType::ResultSize),
];

/// The permission cmdlets.
pub const CMDLETS: &[Cmdlet] = &[
    Cmdlet { name: "Get-MailboxPermission", parameters: GET_MAILBOX_PERMISSION, run: get_mailbox_permission },
    Cmdlet { name: "Get-EXOMailboxPermission", parameters: GET_MAILBOX_PERMISSION, run: get_mailbox_permission },
    Cmdlet {
        name: "Add-MailboxPermission",
        parameters: &[
            mandatory("Identity", ParamType::String),
            mandatory("User", ParamType::String),
            mandatory("AccessRights", ParamType::StringList),
            optional("AutoMapping", ParamType::Bool),
            optional("InheritanceType", ParamType::Enum(INHERITANCE_TYPES)),
            optional("Deny", ParamType::Switch),
        ],
        run: add_mailbox_permission,
    },
    Cmdlet {
        name: "Remove-MailboxPermission",
        parameters: &[
            mandatory("Identity", ParamType::String),
            mandatory("User", ParamType::String),
            mandatory("AccessRights", ParamType::StringList),
            optional("InheritanceType", ParamType::Enum(INHERITANCE_TYPES)),
            optional("Deny", ParamType::Switch),
        ],
        run: remove_mailbox_permission,
    },
    Cmdlet { name: "Get-RecipientPermission", parameters: GET_RECIPIENT_PERMISSION, run: get_recipient_permission },
    Cmdlet { name: "Get-EXORecipientPermission", parameters: GET_RECIPIENT_PERMISSION, run: get_recipient_permission },
    Cmdlet {
        name: "Add-RecipientPermission",
        parameters: &[
            mandatory("Identity", ParamType::String),
            mandatory("Trustee", ParamType::String),
            mandatory("AccessRights", ParamType::StringList),
        ],
        run: add_recipient_permission,
    },
    Cmdlet {
        name: "Remove-RecipientPermission",
        parameters: &[
            mandatory("Identity", ParamType::String),
            mandatory("Trustee", ParamType::String),
            mandatory("AccessRights", ParamType::StringList),
            optional("Deny", ParamType::Switch),
        ],
        run: remove_recipient_permission,
    },
];

/// The ready mailbox `-Identity` names, with its owner's id.
fn target_mailbox(invocation: &Invocation<'_>, params: &Params) -> ExchangeResult<(Uuid, Mailbox)> {
    let identity = params.required("Identity");
    let id = recipients::resolve_mailbox(invocation.tenant, identity, invocation.now)?;
    let mailbox = invocation.tenant.exchange.ready_mailbox(id, invocation.now).cloned();
    mailbox.map(|mailbox| (id, mailbox)).ok_or_else(|| ExchangeError::not_found(identity))
}

/// The mailbox's `Identity` in output objects (its `Name`).
fn mailbox_identity(tenant: &Tenant, owner: Uuid) -> String {
    recipients::name_of(tenant, owner)
}

/// How a trustee shows in output: its UPN.
fn trustee_name(tenant: &Tenant, user: Uuid) -> String {
    tenant.users.get(&user).map_or_else(|| user.to_string(), |user| user.user_principal_name.clone())
}

/// The account an ACE names in Exchange's warnings (`<forest domain>\<alias>`; the shape is unconfirmed).
fn ace_account(tenant: &Tenant, user: Uuid) -> String {
    let forest = DOMAIN_CONTROLLER.split('.').nth(1).unwrap_or("NAMPR01A011");
    format!("{forest}\\{}", recipients::name_of(tenant, user))
}

/// The object an ACE sits on, as Exchange's warnings name it (the mailbox's distinguished name).
fn ace_object(tenant: &Tenant, owner: Uuid) -> String {
    recipients::distinguished_name(tenant, &recipients::name_of(tenant, owner))
}

/// Warning for a grant that is already there.
fn ace_already_present(tenant: &Tenant, owner: Uuid, user: Uuid) -> String {
    format!(
        "The appropriate access control entry is already present on the object \"{}\" for account \"{}\".",
        ace_object(tenant, owner),
        ace_account(tenant, user)
    )
}

/// The task error for rights or `-Deny` entries the sandbox does not store.
fn not_modelled(what: &str) -> ExchangeError {
    ExchangeError::task(format!("The sandbox models FullAccess grants only (Allow entries); {what} isn't modelled."))
}

/// PowerShell's refusal of an empty array for a mandatory parameter.
fn empty_array(parameter: &str) -> ExchangeError {
    ExchangeError::cmdlet(
        StatusCode::BAD_REQUEST,
        exception::VALIDATION_METADATA,
        format!("Cannot bind argument to parameter '{parameter}' because it is an empty array."),
    )
    .with_target(parameter)
}

/// `-AccessRights` of the mailbox permission cmdlets, checked: valid names, and FullAccess only.
fn full_access_rights(params: &Params) -> ExchangeResult<()> {
    let rights = enum_values(params, "AccessRights", MAILBOX_RIGHTS)?.unwrap_or_default();
    if rights.is_empty() {
        return Err(empty_array("AccessRights"));
    }
    if let Some(other) = rights.iter().find(|right| **right != FULL_ACCESS) {
        return Err(not_modelled(&format!("-AccessRights {other}")));
    }
    if params.switch("Deny") {
        return Err(not_modelled("-Deny"));
    }
    Ok(())
}

/// A FullAccess entry as `Get-MailboxPermission` returns it.
fn mailbox_permission_object(identity: &str, user: &str, rights: &[&str], inheritance_type: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .string("Identity", Some(identity))
        .string("User", Some(user))
        .strings("AccessRights", rights.iter().copied())
        .bool("IsInherited", false)
        .bool("Deny", false)
        .enumeration("InheritanceType", INHERITANCE_TYPE_NAME, inheritance_type)
        .bool("IsValid", true)
}

fn grant_object(tenant: &Tenant, owner: Uuid, grant: &FullAccessGrant) -> ObjectBuilder {
    mailbox_permission_object(
        &mailbox_identity(tenant, owner),
        &trustee_name(tenant, grant.user),
        &[FULL_ACCESS],
        &grant.inheritance_type,
    )
}

fn get_mailbox_permission(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let (owner, mailbox) = target_mailbox(invocation, params)?;
    let tenant = &*invocation.tenant;
    let user = params.string("User").map(|user| recipients::resolve_user(tenant, user, invocation.now)).transpose()?;
    let mut objects = Output::new();
    if user.is_none() {
        let identity = mailbox_identity(tenant, owner);
        objects.push(mailbox_permission_object(&identity, SELF, &[FULL_ACCESS, "ReadPermission"], "All").build());
    }
    objects.extend(
        mailbox
            .full_access
            .iter()
            .filter(|grant| user.is_none_or(|user| grant.user == user))
            .map(|grant| grant_object(tenant, owner, grant).build()),
    );
    Ok(limit_results(invocation, params, objects, 1000))
}

fn add_mailbox_permission(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    full_access_rights(params)?;
    let (owner, mailbox) = target_mailbox(invocation, params)?;
    let user = recipients::resolve_user(invocation.tenant, params.required("User"), invocation.now)?;
    if let Some(existing) = mailbox.full_access.iter().find(|grant| grant.user == user) {
        // Exchange answers with a warning, not an error. Whether it also outputs the entry is unconfirmed: the
        // sandbox returns the existing entry, unchanged (its AutoMapping and InheritanceType stay).
        let warning = ace_already_present(invocation.tenant, owner, user);
        invocation.warnings.push(warning);
        return Ok(vec![grant_object(invocation.tenant, owner, existing).build()]);
    }
    let grant = FullAccessGrant {
        user,
        auto_mapping: params.bool("AutoMapping").unwrap_or(true),
        inheritance_type: params.choice("InheritanceType").unwrap_or("All").to_string(),
    };
    let object = grant_object(invocation.tenant, owner, &grant).build();
    if let Some(stored) = invocation.tenant.exchange.mailboxes.get_mut(&owner) {
        stored.full_access.push(grant);
    }
    Ok(vec![object])
}

fn remove_mailbox_permission(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    full_access_rights(params)?;
    let (owner, mailbox) = target_mailbox(invocation, params)?;
    let user = recipients::resolve_user(invocation.tenant, params.required("User"), invocation.now)?;
    let inheritance = params.choice("InheritanceType");
    let matches = |grant: &FullAccessGrant| {
        grant.user == user && inheritance.is_none_or(|wanted| grant.inheritance_type == wanted)
    };
    if !mailbox.full_access.iter().any(matches) {
        // A warning, not an error, in Exchange Online (the BypassMasterAccountSid section of the reference page
        // quotes this wording).
        let warning = format!(
            "Can't remove the access control entry on the object \"{}\" for account \"{}\" because the ACE doesn't exist on the object.",
            ace_object(invocation.tenant, owner),
            ace_account(invocation.tenant, user)
        );
        invocation.warnings.push(warning);
        return Ok(Vec::new());
    }
    if let Some(stored) = invocation.tenant.exchange.mailboxes.get_mut(&owner) {
        stored.full_access.retain(|grant| !matches(grant));
    }
    Ok(Vec::new())
}

/// `-AccessRights` of the recipient permission cmdlets, checked (SendAs is the only valid value).
fn send_as_rights(params: &Params) -> ExchangeResult<()> {
    let rights = enum_values(params, "AccessRights", RECIPIENT_RIGHTS)?.unwrap_or_default();
    if rights.is_empty() {
        return Err(empty_array("AccessRights"));
    }
    Ok(())
}

/// A SendAs entry as `Get-RecipientPermission` returns it.
fn recipient_permission_object(identity: &str, trustee: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .string("Identity", Some(identity))
        .string("Trustee", Some(trustee))
        .enumeration("AccessControlType", "System.Security.AccessControl.AccessControlType", "Allow")
        .strings("AccessRights", RECIPIENT_RIGHTS.iter().copied())
        .bool("IsInherited", false)
        .enumeration("InheritanceType", INHERITANCE_TYPE_NAME, "None")
}

fn send_as_object(tenant: &Tenant, owner: Uuid, trustee: Uuid) -> ObjectBuilder {
    recipient_permission_object(&mailbox_identity(tenant, owner), &trustee_name(tenant, trustee))
}

fn get_recipient_permission(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    if params.has("AccessRights") {
        send_as_rights(params)?;
    }
    let tenant = &*invocation.tenant;
    let now = invocation.now;
    let owners = match params.string("Identity") {
        Some(identity) => vec![recipients::resolve_mailbox(tenant, identity, now)?],
        None => tenant
            .users
            .values()
            .filter(|user| !user.is_deleted() && tenant.exchange.ready_mailbox(user.id, now).is_some())
            .map(|user| user.id)
            .collect(),
    };
    let trustee = params.string("Trustee").map(|trustee| recipients::resolve_user(tenant, trustee, now)).transpose()?;
    let mut objects = Output::new();
    for owner in owners {
        let Some(mailbox) = tenant.exchange.ready_mailbox(owner, now) else { continue };
        let identity = mailbox_identity(tenant, owner);
        // Exchange lists the owner's own SendAs right (NT AUTHORITY\SELF) on every mailbox.
        if trustee.is_none() {
            objects.push(recipient_permission_object(&identity, SELF).build());
        }
        objects.extend(
            mailbox
                .send_as
                .iter()
                .filter(|holder| trustee.is_none_or(|trustee| **holder == trustee))
                .map(|holder| send_as_object(tenant, owner, *holder).build()),
        );
    }
    Ok(limit_results(invocation, params, objects, 1000))
}

fn add_recipient_permission(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    send_as_rights(params)?;
    let (owner, mailbox) = target_mailbox(invocation, params)?;
    let trustee = recipients::resolve_user(invocation.tenant, params.required("Trustee"), invocation.now)?;
    let object = send_as_object(invocation.tenant, owner, trustee).build();
    if mailbox.send_as.contains(&trustee) {
        // A warning in Exchange (public scripts read it with -WarningVariable); returning the entry as well is
        // the sandbox's choice, unconfirmed.
        let warning = ace_already_present(invocation.tenant, owner, trustee);
        invocation.warnings.push(warning);
        return Ok(vec![object]);
    }
    if let Some(stored) = invocation.tenant.exchange.mailboxes.get_mut(&owner) {
        stored.send_as.insert(trustee);
    }
    Ok(vec![object])
}

fn remove_recipient_permission(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    send_as_rights(params)?;
    if params.switch("Deny") {
        return Err(not_modelled("-Deny"));
    }
    let (owner, mailbox) = target_mailbox(invocation, params)?;
    let trustee = recipients::resolve_user(invocation.tenant, params.required("Trustee"), invocation.now)?;
    if !mailbox.send_as.contains(&trustee) {
        // A warning in Exchange; CIPP tests for "because the ACE isn't present". The start of the sentence is
        // the sandbox's reading (unconfirmed).
        let warning = format!(
            "Can't remove the access control entry on the object \"{}\" for account \"{}\" because the ACE isn't present.",
            ace_object(invocation.tenant, owner),
            ace_account(invocation.tenant, trustee)
        );
        invocation.warnings.push(warning);
        return Ok(Vec::new());
    }
    if let Some(stored) = invocation.tenant.exchange.mailboxes.get_mut(&owner) {
        stored.send_as.remove(&trustee);
    }
    Ok(Vec::new())
}
