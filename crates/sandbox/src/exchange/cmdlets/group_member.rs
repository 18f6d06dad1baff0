//! Membership of distribution lists and mail-enabled security groups: `Get-DistributionGroupMember`,
//! `Add-DistributionGroupMember`, `Remove-DistributionGroupMember`.
//!
//! Members are the directory group's members, changed through the tenant so Graph's `/members` and delta see
//! every change. Changing them needs the caller to own the group (`ManagedBy`) or to pass
//! `-BypassSecurityGroupManagerCheck` (reference §4.4).
//!
//! Reference pages: <https://learn.microsoft.com/powershell/module/exchangepowershell/get-distributiongroupmember>,
//! <https://learn.microsoft.com/powershell/module/exchangepowershell/add-distributiongroupmember>,
//! <https://learn.microsoft.com/powershell/module/exchangepowershell/remove-distributiongroupmember>.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::distribution_group::{ensure_group_manager, ensure_group_role, mail_group, resolve_member, settings_of};
use super::{Cmdlet, Invocation, Output, limit_results};
use crate::directory::tenant::Tenant;
use crate::exchange::error::{ExchangeError, ExchangeResult};
use crate::exchange::params::{ParamType, Params, mandatory, optional};
use crate::exchange::recipients::{self, Recipient};

/// The error id Exchange Online gave `Add-DistributionGroupMember` for a member not (yet) provisioned in
/// Exchange, as public clients match it (reference §4.2).
const MEMBER_NOT_PROVISIONED_ERROR_ID: &str = "Ex94914C";

/// The member cmdlets.
pub const CMDLETS: &[Cmdlet] = &[
    Cmdlet {
        name: "Get-DistributionGroupMember",
        parameters: &[mandatory("Identity", ParamType::String), optional("ResultSize", ParamType::ResultSize)],
        run: get_distribution_group_member,
    },
    Cmdlet {
        name: "Add-DistributionGroupMember",
        parameters: &[
            mandatory("Identity", ParamType::String),
            mandatory("Member", ParamType::String),
            optional("BypassSecurityGroupManagerCheck", ParamType::Switch),
        ],
        run: add_distribution_group_member,
    },
    Cmdlet {
        name: "Remove-DistributionGroupMember",
        parameters: &[
            mandatory("Identity", ParamType::String),
            mandatory("Member", ParamType::String),
            optional("BypassSecurityGroupManagerCheck", ParamType::Switch),
        ],
        run: remove_distribution_group_member,
    },
];

/// A member id as the recipient Exchange shows: a mailbox, a user without one, or a group. Security groups
/// that are not mail-enabled have no recipient shape here and are left out.
fn member_recipient(tenant: &Tenant, member: Uuid, now: DateTime<Utc>) -> Option<Recipient> {
    if let Some(user) = tenant.users.get(&member) {
        if user.is_deleted() {
            return None;
        }
        return Some(if tenant.exchange.ready_mailbox(member, now).is_some() {
            Recipient::Mailbox(member)
        } else {
            Recipient::User(member)
        });
    }
    let group = tenant.groups.get(&member).filter(|group| !group.is_deleted() && group.mail_enabled)?;
    Some(if group.is_unified() { Recipient::UnifiedGroup(member) } else { Recipient::MailGroup(member) })
}

fn get_distribution_group_member(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let tenant = &*invocation.tenant;
    let now = invocation.now;
    let id = recipients::resolve_group(tenant, params.required("Identity"), now)?;
    let group = mail_group(tenant, id)?;
    let objects: Output = group
        .members
        .iter()
        .filter_map(|member| member_recipient(tenant, *member, now))
        .filter_map(|recipient| recipients::reduced_recipient(tenant, recipient, now))
        .map(|object| object.build())
        .collect();
    Ok(limit_results(invocation, params, objects, 1000))
}

/// The group's `Name` and the member's, for the membership errors.
fn names(tenant: &Tenant, group: Uuid, member: Uuid) -> ExchangeResult<(String, String)> {
    let group = mail_group(tenant, group)?;
    Ok((recipients::name_of(tenant, member), settings_of(tenant, group).name))
}

fn add_distribution_group_member(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let now = invocation.now;
    let id = recipients::resolve_group(invocation.tenant, params.required("Identity"), now)?;
    let identity = params.required("Member");
    let member = resolve_member(invocation.tenant, identity, now).map_err(|mut error| {
        // A user whose mailbox is not provisioned yet is "Couldn't find object" with this id (reference §4.2).
        if let Some(detail) = &mut error.detail
            && detail.exception_type == crate::exchange::error::exception::NOT_FOUND
        {
            detail.error_id = MEMBER_NOT_PROVISIONED_ERROR_ID.to_string();
        }
        error
    })?;
    ensure_group_role(invocation, mail_group(invocation.tenant, id)?.security_enabled)?;
    ensure_group_manager(invocation, params, id)?;
    let tenant = &mut *invocation.tenant;
    if member == id {
        // Wording unconfirmed.
        return Err(ExchangeError::task(format!(
            "The group \"{}\" can't be a member of itself.",
            recipients::name_of(tenant, id)
        )));
    }
    if mail_group(tenant, id)?.members.contains(&member) {
        let (member_name, group_name) = names(tenant, id, member)?;
        return Err(ExchangeError::already_member(&member_name, &group_name));
    }
    tenant.update_group(id, |group| {
        group.members.insert(member);
    });
    Ok(Vec::new())
}

/// A `-Member` to remove: any recipient, including a user whose mailbox is gone (a leaver's), so that such a
/// member can still be taken out.
fn resolve_removable_member(tenant: &Tenant, identity: &str, now: DateTime<Utc>) -> ExchangeResult<Uuid> {
    match recipients::find_all(tenant, identity, now, true).as_slice() {
        [] => Err(ExchangeError::object_not_found(identity)),
        [found] => Ok(found.id()),
        _ => Err(ExchangeError::ambiguous(identity)),
    }
}

fn remove_distribution_group_member(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let now = invocation.now;
    let id = recipients::resolve_group(invocation.tenant, params.required("Identity"), now)?;
    let member = resolve_removable_member(invocation.tenant, params.required("Member"), now)?;
    ensure_group_role(invocation, mail_group(invocation.tenant, id)?.security_enabled)?;
    ensure_group_manager(invocation, params, id)?;
    let tenant = &mut *invocation.tenant;
    if !mail_group(tenant, id)?.members.contains(&member) {
        let (member_name, group_name) = names(tenant, id, member)?;
        return Err(ExchangeError::not_member(&member_name, &group_name));
    }
    tenant.update_group(id, |group| {
        group.members.remove(&member);
    });
    Ok(Vec::new())
}
