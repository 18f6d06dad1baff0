//! Which Exchange management role grants a cmdlet or a restricted parameter, so that a refusal can tell the admin
//! what to add to the connection's role group.
//!
//! Microsoft does not publish the cmdlet lists of its roles (reference §4.5); this is each role's documented
//! purpose: Mail Recipients manages existing mailboxes (settings, permissions, automatic replies), Mail Recipient
//! Creation creates them, Distribution Groups manages distribution lists and their members, Security Group
//! Creation and Membership is needed for `-BypassSecurityGroupManagerCheck`, and View-Only Recipients reads.

/// Mail Recipients.
pub(crate) const MAIL_RECIPIENTS: &str = "Mail Recipients";
/// Mail Recipient Creation.
pub(crate) const MAIL_RECIPIENT_CREATION: &str = "Mail Recipient Creation";
/// Distribution Groups.
pub(crate) const DISTRIBUTION_GROUPS: &str = "Distribution Groups";
/// Security Group Creation and Membership.
pub(crate) const SECURITY_GROUP_CREATION: &str = "Security Group Creation and Membership";
/// View-Only Recipients.
pub(crate) const VIEW_ONLY_RECIPIENTS: &str = "View-Only Recipients";

/// Every role named here, longest first (so a message naming "Mail Recipient Creation" is not read as "Mail
/// Recipients").
const KNOWN_ROLES: &[&str] =
    &[SECURITY_GROUP_CREATION, MAIL_RECIPIENT_CREATION, VIEW_ONLY_RECIPIENTS, DISTRIBUTION_GROUPS, MAIL_RECIPIENTS];

/// The role that grants `cmdlet`, where known.
pub(crate) fn role_for_cmdlet(cmdlet: &str) -> Option<&'static str> {
    let lower = cmdlet.to_ascii_lowercase();
    Some(match lower.as_str() {
        "set-mailbox"
        | "add-mailboxpermission"
        | "remove-mailboxpermission"
        | "add-recipientpermission"
        | "remove-recipientpermission"
        | "set-mailboxautoreplyconfiguration"
        | "get-mailboxautoreplyconfiguration" => MAIL_RECIPIENTS,
        "new-mailbox" => MAIL_RECIPIENT_CREATION,
        _ if lower.contains("distributiongroup") && !lower.starts_with("get-") => DISTRIBUTION_GROUPS,
        _ if lower.starts_with("get-") => VIEW_ONLY_RECIPIENTS,
        _ => return None,
    })
}

/// The role that grants `parameter` of `cmdlet`: the restricted parameter's own role, else the cmdlet's.
pub(crate) fn role_for_parameter(cmdlet: &str, parameter: &str) -> Option<&'static str> {
    if parameter.eq_ignore_ascii_case("BypassSecurityGroupManagerCheck") {
        return Some(SECURITY_GROUP_CREATION);
    }
    role_for_cmdlet(cmdlet)
}

/// The known role a refusal's message names in quotes (`… requires the "Distribution Groups" role.`).
pub(crate) fn role_named_in(message: &str) -> Option<&'static str> {
    KNOWN_ROLES.iter().copied().find(|role| message.contains(&format!("\"{role}\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdlets_map_to_the_roles_that_grant_them() {
        assert_eq!(role_for_cmdlet("Set-Mailbox"), Some(MAIL_RECIPIENTS));
        assert_eq!(role_for_cmdlet("add-recipientpermission"), Some(MAIL_RECIPIENTS));
        assert_eq!(role_for_cmdlet("New-Mailbox"), Some(MAIL_RECIPIENT_CREATION));
        assert_eq!(role_for_cmdlet("New-DistributionGroup"), Some(DISTRIBUTION_GROUPS));
        assert_eq!(role_for_cmdlet("Remove-DistributionGroupMember"), Some(DISTRIBUTION_GROUPS));
        assert_eq!(role_for_cmdlet("Get-DistributionGroup"), Some(VIEW_ONLY_RECIPIENTS));
        assert_eq!(role_for_cmdlet("Invoke-Something"), None);
        assert_eq!(
            role_for_parameter("Add-DistributionGroupMember", "BypassSecurityGroupManagerCheck"),
            Some(SECURITY_GROUP_CREATION)
        );
        assert_eq!(role_for_parameter("Set-Mailbox", "Type"), Some(MAIL_RECIPIENTS));
    }

    #[test]
    fn a_quoted_role_is_found_in_a_message() {
        let message = "This operation requires the \"Distribution Groups\" role.";
        assert_eq!(role_named_in(message), Some(DISTRIBUTION_GROUPS));
        assert_eq!(role_named_in("requires the \"Mail Recipient Creation\" role"), Some(MAIL_RECIPIENT_CREATION));
        assert_eq!(role_named_in("no role here"), None);
    }
}
