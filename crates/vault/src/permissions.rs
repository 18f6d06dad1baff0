//! Which permission each Tenure feature needs, for a delegated link (scopes the signed-in admin consented to)
//! and for an application grant (the customer-owned app's application permissions), and what an admin loses
//! when one is missing — in plain words, e.g. "Directory.AccessAsUser.All is missing: passwords cannot be reset
//! at termination".
//!
//! Pure: no I/O. The table follows the permission matrix of reference §6. Where Microsoft accepts several
//! permissions for an operation any of them satisfies the check, and the one *named* when none is granted is
//! the one of the product's documented set (delegated: `User.ReadWrite.All`, `Group.ReadWrite.All`,
//! `Directory.AccessAsUser.All`; application: `User.ReadWrite.All`, `Group.ReadWrite.All`,
//! `Directory.ReadWrite.All`, `User.EnableDisableAccount.All`). A token shows permissions only: the Entra roles
//! the matrix also asks for (the linking admin's role; User Administrator on an app's service principal for
//! password resets; the Exchange role groups) cannot be read from it and are not checked here.

use std::fmt;

use serde::Serialize;

use crate::claims::GrantedPermissions;

/// Something Tenure does in a tenant that needs a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Feature {
    /// Read users, groups and their changes (every run).
    ReadDirectory,
    /// Create accounts for new hires and update their attributes and managers.
    CreateAndUpdateUsers,
    /// Enable accounts at hire and disable them at termination.
    EnableDisableAccounts,
    /// Reset passwords (at termination, or for new accounts).
    ResetPasswords,
    /// Create groups and change their members.
    ManageGroups,
    /// Assign and remove licences.
    AssignLicenses,
    /// Delete accounts after the retention period.
    DeleteUsers,
    /// Manage distribution lists, mail-enabled security groups and mailbox settings in Exchange Online.
    Exchange,
}

impl Feature {
    /// Every feature.
    pub const ALL: [Self; 8] = [
        Self::ReadDirectory,
        Self::CreateAndUpdateUsers,
        Self::EnableDisableAccounts,
        Self::ResetPasswords,
        Self::ManageGroups,
        Self::AssignLicenses,
        Self::DeleteUsers,
        Self::Exchange,
    ];
}

/// How the permissions were granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum GrantType {
    /// Delegated scopes (`scp`): Tenure acts as the admin who linked.
    Delegated,
    /// Application permissions (`roles`): Tenure acts as the app itself.
    Application,
}

/// A permission a feature needs and the token lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingPermission {
    /// The permission to grant, e.g. `Directory.AccessAsUser.All`.
    pub permission: String,
    /// The feature that needs it.
    pub feature: Feature,
    /// What does not happen without it, e.g. "passwords cannot be reset at termination".
    pub consequence: String,
}

impl fmt::Display for MissingPermission {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} is missing: {}", self.permission, self.consequence)
    }
}

/// One thing a feature needs: any permission of `accepted`, named as `named` when none is held.
struct Requirement {
    named: &'static str,
    accepted: &'static [&'static str],
    consequence: &'static str,
}

const fn need(named: &'static str, accepted: &'static [&'static str], consequence: &'static str) -> Requirement {
    Requirement { named, accepted, consequence }
}

/// Permissions that include reading and writing users.
const USER_WRITE: &[&str] = &["User.ReadWrite.All", "Directory.ReadWrite.All"];
/// Permissions that include reading users.
const USER_READ: &[&str] =
    &["User.ReadWrite.All", "Directory.ReadWrite.All", "User.Read.All", "Directory.Read.All", "User.ReadBasic.All"];
/// Permissions that include reading groups.
const GROUP_READ: &[&str] =
    &["Group.ReadWrite.All", "Directory.ReadWrite.All", "Group.Read.All", "Directory.Read.All", "GroupMember.Read.All"];
/// Permissions that include managing groups and their members.
const GROUP_WRITE: &[&str] = &["Group.ReadWrite.All", "Directory.ReadWrite.All"];
/// Permissions that include enabling and disabling accounts.
const ENABLE_DISABLE: &[&str] = &["User.EnableDisableAccount.All", "User.ReadWrite.All", "Directory.ReadWrite.All"];

/// What `feature` needs under `grant`.
fn requirements(grant: GrantType, feature: Feature) -> Vec<Requirement> {
    use Feature as F;
    use GrantType as G;
    match (grant, feature) {
        (_, F::ReadDirectory) => vec![
            need("User.ReadWrite.All", USER_READ, "users cannot be read, so no run can plan"),
            need("Group.ReadWrite.All", GROUP_READ, "groups and their members cannot be read"),
        ],
        (_, F::CreateAndUpdateUsers) => vec![need(
            "User.ReadWrite.All",
            USER_WRITE,
            "accounts cannot be created for new hires, nor their attributes and managers updated",
        )],
        (G::Delegated, F::EnableDisableAccounts) => {
            vec![need("User.ReadWrite.All", ENABLE_DISABLE, "accounts cannot be disabled at termination")]
        }
        (G::Application, F::EnableDisableAccounts) => {
            vec![need("User.EnableDisableAccount.All", ENABLE_DISABLE, "accounts cannot be disabled at termination")]
        }
        (G::Delegated, F::ResetPasswords) => vec![need(
            "Directory.AccessAsUser.All",
            &["Directory.AccessAsUser.All"],
            "passwords cannot be reset at termination",
        )],
        (G::Application, F::ResetPasswords) => vec![need(
            "Directory.ReadWrite.All",
            &["Directory.ReadWrite.All"],
            "passwords cannot be reset at termination",
        )],
        (_, F::ManageGroups) => {
            vec![need("Group.ReadWrite.All", GROUP_WRITE, "groups cannot be created and memberships cannot be changed")]
        }
        (_, F::AssignLicenses) => {
            vec![need(
                "User.ReadWrite.All",
                USER_WRITE,
                "licences cannot be assigned to new hires or removed from leavers",
            )]
        }
        (_, F::DeleteUsers) => {
            vec![need("User.ReadWrite.All", USER_WRITE, "accounts cannot be deleted after the retention period")]
        }
        (G::Delegated, F::Exchange) => vec![need(
            "Exchange.Manage",
            &["Exchange.Manage"],
            "distribution lists, mail-enabled security groups and mailboxes cannot be managed in Exchange Online",
        )],
        (G::Application, F::Exchange) => vec![need(
            "Exchange.ManageAsApp",
            &["Exchange.ManageAsApp"],
            "distribution lists, mail-enabled security groups and mailboxes cannot be managed in Exchange Online",
        )],
    }
}

/// The permissions `features` need under `grant` that `granted` lacks, in the order of `features`; one entry
/// per feature and missing permission.
#[must_use]
pub fn missing_permissions(
    grant: GrantType,
    granted: &GrantedPermissions,
    features: &[Feature],
) -> Vec<MissingPermission> {
    let held: &[String] = match grant {
        GrantType::Delegated => &granted.scopes,
        GrantType::Application => &granted.roles,
    };
    let holds = |permission: &str| held.iter().any(|name| name.eq_ignore_ascii_case(permission));
    let mut missing = Vec::new();
    for &feature in features {
        for requirement in requirements(grant, feature) {
            if !requirement.accepted.iter().any(|permission| holds(permission)) {
                missing.push(MissingPermission {
                    permission: requirement.named.to_string(),
                    feature,
                    consequence: requirement.consequence.to_string(),
                });
            }
        }
    }
    missing
}

/// The permissions the product asks for under `grant` (what the consent or app registration should hold).
#[must_use]
pub fn documented_permissions(grant: GrantType) -> &'static [&'static str] {
    match grant {
        GrantType::Delegated => &["User.ReadWrite.All", "Group.ReadWrite.All", "Directory.AccessAsUser.All"],
        GrantType::Application => {
            &["User.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All", "User.EnableDisableAccount.All"]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delegated(scopes: &[&str]) -> GrantedPermissions {
        GrantedPermissions { scopes: scopes.iter().map(|scope| (*scope).to_string()).collect(), ..Default::default() }
    }

    fn application(roles: &[&str]) -> GrantedPermissions {
        GrantedPermissions { roles: roles.iter().map(|role| (*role).to_string()).collect(), ..Default::default() }
    }

    const GRAPH_FEATURES: [Feature; 7] = [
        Feature::ReadDirectory,
        Feature::CreateAndUpdateUsers,
        Feature::EnableDisableAccounts,
        Feature::ResetPasswords,
        Feature::ManageGroups,
        Feature::AssignLicenses,
        Feature::DeleteUsers,
    ];

    #[test]
    fn the_documented_sets_cover_every_graph_feature() {
        for grant in [GrantType::Delegated, GrantType::Application] {
            let granted = match grant {
                GrantType::Delegated => delegated(documented_permissions(grant)),
                GrantType::Application => application(documented_permissions(grant)),
            };
            assert_eq!(missing_permissions(grant, &granted, &GRAPH_FEATURES), [], "{grant:?}");
        }
    }

    #[test]
    fn a_delegated_link_without_access_as_user_cannot_reset_passwords() {
        let granted = delegated(&["User.ReadWrite.All", "Group.ReadWrite.All", "openid", "profile"]);
        let missing = missing_permissions(GrantType::Delegated, &granted, &GRAPH_FEATURES);
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0].feature, Feature::ResetPasswords);
        assert_eq!(
            missing[0].to_string(),
            "Directory.AccessAsUser.All is missing: passwords cannot be reset at termination"
        );
    }

    #[test]
    fn application_password_resets_need_directory_read_write() {
        let granted = application(&["User.ReadWrite.All", "Group.ReadWrite.All", "User.EnableDisableAccount.All"]);
        let missing = missing_permissions(GrantType::Application, &granted, &[Feature::ResetPasswords]);
        assert_eq!(
            missing[0].to_string(),
            "Directory.ReadWrite.All is missing: passwords cannot be reset at termination"
        );
        // Delegated scopes do not count for an application grant, and the other way round.
        assert_eq!(
            missing_permissions(
                GrantType::Application,
                &delegated(&["Directory.ReadWrite.All"]),
                &[Feature::ResetPasswords]
            )
            .len(),
            1
        );
    }

    #[test]
    fn any_accepted_permission_satisfies_and_case_does_not_matter() {
        let granted = application(&["directory.readwrite.all"]);
        assert_eq!(missing_permissions(GrantType::Application, &granted, &GRAPH_FEATURES), []);
        let reader = delegated(&["User.Read.All", "Group.Read.All"]);
        assert_eq!(missing_permissions(GrantType::Delegated, &reader, &[Feature::ReadDirectory]), []);
        let missing =
            missing_permissions(GrantType::Delegated, &reader, &[Feature::ManageGroups, Feature::DeleteUsers]);
        let names: Vec<&str> = missing.iter().map(|entry| entry.permission.as_str()).collect();
        assert_eq!(names, ["Group.ReadWrite.All", "User.ReadWrite.All"]);
    }

    #[test]
    fn nothing_granted_names_each_missing_permission() {
        let missing = missing_permissions(GrantType::Delegated, &GrantedPermissions::default(), &Feature::ALL);
        assert_eq!(missing.len(), 9);
        assert!(missing.iter().any(|entry| entry.to_string()
            == "Exchange.Manage is missing: distribution lists, mail-enabled security groups and mailboxes cannot be \
                managed in Exchange Online"));
        let app = missing_permissions(
            GrantType::Application,
            &GrantedPermissions::default(),
            &[Feature::EnableDisableAccounts, Feature::Exchange],
        );
        let names: Vec<&str> = app.iter().map(|entry| entry.permission.as_str()).collect();
        assert_eq!(names, ["User.EnableDisableAccount.All", "Exchange.ManageAsApp"]);
    }
}
