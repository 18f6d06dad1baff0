//! Exchange RBAC as the sandbox models it: management roles, role groups (built-in and custom), the Entra
//! roles that imply a built-in role group, and which roles grant each cmdlet and each restricted parameter.
//!
//! Microsoft does not publish the cmdlet lists of its roles (reference §4.5); the table here is the
//! documented intent of each role and is written out in `docs/sandbox.md` ("Exchange RBAC"). A caller runs a
//! cmdlet only when one of its roles grants it (otherwise 401 "User is not allowed to call …"), and a
//! restricted parameter only when one of its roles grants that parameter (otherwise the parameter "cannot be
//! found", as RBAC hides it from the caller's session).

use std::collections::BTreeSet;

use super::model::{ExchangeData, RoleGroup, RoleGroupMember};

/// Distribution Groups: create, change, view and remove distribution groups and their members.
pub const DISTRIBUTION_GROUPS: &str = "Distribution Groups";
/// Security Group Creation and Membership: create mail-enabled security groups and manage their members;
/// needed for `-BypassSecurityGroupManagerCheck`.
pub const SECURITY_GROUP_CREATION: &str = "Security Group Creation and Membership";
/// Mail Recipients: manage existing mailboxes (settings, permissions, automatic replies).
pub const MAIL_RECIPIENTS: &str = "Mail Recipients";
/// Mail Recipient Creation: create mailboxes (`New-Mailbox`).
pub const MAIL_RECIPIENT_CREATION: &str = "Mail Recipient Creation";
/// View-Only Recipients: read recipients and groups.
pub const VIEW_ONLY_RECIPIENTS: &str = "View-Only Recipients";

/// Every management role the sandbox knows.
pub const ROLES: &[&str] =
    &[DISTRIBUTION_GROUPS, SECURITY_GROUP_CREATION, MAIL_RECIPIENTS, MAIL_RECIPIENT_CREATION, VIEW_ONLY_RECIPIENTS];

/// Built-in role group holding every role.
pub const ORGANIZATION_MANAGEMENT: &str = "Organization Management";
/// Built-in role group for recipient administrators (everything but security-group management).
pub const RECIPIENT_MANAGEMENT: &str = "Recipient Management";
/// Built-in read-only role group.
pub const VIEW_ONLY_ORGANIZATION_MANAGEMENT: &str = "View-Only Organization Management";

/// The built-in role groups and their roles.
pub fn built_in_role_groups() -> Vec<RoleGroup> {
    let group = |name: &str, roles: &[&str]| RoleGroup {
        name: name.to_string(),
        built_in: true,
        roles: roles.iter().map(|role| (*role).to_string()).collect(),
        members: BTreeSet::new(),
    };
    vec![
        group(ORGANIZATION_MANAGEMENT, ROLES),
        group(
            RECIPIENT_MANAGEMENT,
            &[DISTRIBUTION_GROUPS, MAIL_RECIPIENTS, MAIL_RECIPIENT_CREATION, VIEW_ONLY_RECIPIENTS],
        ),
        group(VIEW_ONLY_ORGANIZATION_MANAGEMENT, &[VIEW_ONLY_RECIPIENTS]),
    ]
}

/// Adds the built-in role groups a tenant's Exchange data lacks (seeded tenants and older state files).
pub fn ensure_built_in(exchange: &mut ExchangeData) {
    for group in built_in_role_groups() {
        if !exchange.role_groups.iter().any(|held| held.name.eq_ignore_ascii_case(&group.name)) {
            exchange.role_groups.push(group);
        }
    }
}

/// The built-in role group an Entra role implies (Exchange grants these without membership).
pub fn role_group_of_entra_role(role: &str) -> Option<&'static str> {
    match role {
        "Global Administrator" | "Exchange Administrator" => Some(ORGANIZATION_MANAGEMENT),
        "Exchange Recipient Administrator" => Some(RECIPIENT_MANAGEMENT),
        "Global Reader" => Some(VIEW_ONLY_ORGANIZATION_MANAGEMENT),
        _ => None,
    }
}

/// The management roles held by `member`, through role-group membership and through its Entra roles.
pub fn effective_roles<'a>(
    exchange: &ExchangeData,
    member: &RoleGroupMember,
    entra_roles: impl IntoIterator<Item = &'a String>,
) -> BTreeSet<String> {
    let implied: BTreeSet<&str> = entra_roles.into_iter().filter_map(|role| role_group_of_entra_role(role)).collect();
    let mut roles = BTreeSet::new();
    for group in &exchange.role_groups {
        if group.members.contains(member) || implied.iter().any(|name| name.eq_ignore_ascii_case(&group.name)) {
            roles.extend(group.roles.iter().cloned());
        }
    }
    // A built-in group removed from a state file still applies to the Entra roles that imply it.
    for name in implied {
        if !exchange.role_groups.iter().any(|group| group.name.eq_ignore_ascii_case(name)) {
            for group in built_in_role_groups().into_iter().filter(|group| group.name == name) {
                roles.extend(group.roles);
            }
        }
    }
    roles
}

const READ_ROLES: &[&str] =
    &[MAIL_RECIPIENTS, MAIL_RECIPIENT_CREATION, DISTRIBUTION_GROUPS, SECURITY_GROUP_CREATION, VIEW_ONLY_RECIPIENTS];
const GROUP_ROLES: &[&str] = &[DISTRIBUTION_GROUPS, SECURITY_GROUP_CREATION];

/// The roles that grant a cmdlet (canonical name); any one of them suffices. `None` for a cmdlet the sandbox
/// does not have.
pub fn roles_for_cmdlet(cmdlet: &str) -> Option<&'static [&'static str]> {
    Some(match cmdlet {
        "Get-Mailbox"
        | "Get-EXOMailbox"
        | "Get-Recipient"
        | "Get-EXORecipient"
        | "Get-MailboxPermission"
        | "Get-EXOMailboxPermission"
        | "Get-RecipientPermission"
        | "Get-EXORecipientPermission"
        | "Get-DistributionGroup"
        | "Get-DistributionGroupMember"
        | "Get-MailboxAutoReplyConfiguration" => READ_ROLES,
        "Set-Mailbox"
        | "Add-MailboxPermission"
        | "Remove-MailboxPermission"
        | "Add-RecipientPermission"
        | "Remove-RecipientPermission"
        | "Set-MailboxAutoReplyConfiguration" => &[MAIL_RECIPIENTS],
        "New-Mailbox" => &[MAIL_RECIPIENT_CREATION],
        "New-DistributionGroup"
        | "Set-DistributionGroup"
        | "Remove-DistributionGroup"
        | "Add-DistributionGroupMember"
        | "Remove-DistributionGroupMember" => GROUP_ROLES,
        _ => return None,
    })
}

/// The roles that grant a restricted parameter of a cmdlet; `None` when any role granting the cmdlet grants
/// the parameter too.
pub fn roles_for_parameter(cmdlet: &str, parameter: &str) -> Option<&'static [&'static str]> {
    match (cmdlet, parameter) {
        ("Add-DistributionGroupMember" | "Remove-DistributionGroupMember", "BypassSecurityGroupManagerCheck")
        | ("Set-DistributionGroup" | "Remove-DistributionGroup", "BypassSecurityGroupManagerCheck") => {
            Some(&[SECURITY_GROUP_CREATION])
        }
        _ => None,
    }
}

/// Whether `roles` may run `cmdlet`.
pub fn may_run(roles: &BTreeSet<String>, cmdlet: &str) -> bool {
    roles_for_cmdlet(cmdlet).is_some_and(|needed| needed.iter().any(|role| roles.contains(*role)))
}

/// Whether `roles` may pass `parameter` to `cmdlet`.
pub fn may_use_parameter(roles: &BTreeSet<String>, cmdlet: &str, parameter: &str) -> bool {
    roles_for_parameter(cmdlet, parameter).is_none_or(|needed| needed.iter().any(|role| roles.contains(*role)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_management_lacks_the_security_group_role() {
        let mut exchange = ExchangeData::default();
        ensure_built_in(&mut exchange);
        let admin = effective_roles(
            &exchange,
            &RoleGroupMember::App(uuid::Uuid::nil()),
            &["Exchange Recipient Administrator".to_string()],
        );
        assert!(may_run(&admin, "Add-DistributionGroupMember"));
        assert!(!may_use_parameter(&admin, "Add-DistributionGroupMember", "BypassSecurityGroupManagerCheck"));
        let org =
            effective_roles(&exchange, &RoleGroupMember::App(uuid::Uuid::nil()), &["Global Administrator".to_string()]);
        assert!(may_use_parameter(&org, "Add-DistributionGroupMember", "BypassSecurityGroupManagerCheck"));
        let nobody = effective_roles(&exchange, &RoleGroupMember::App(uuid::Uuid::nil()), &[]);
        assert!(!may_run(&nobody, "Get-Mailbox"));
    }
}
