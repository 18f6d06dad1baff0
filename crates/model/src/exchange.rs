//! The Exchange Online side of the vocabulary: mailboxes and their permissions, mail-enabled groups (distribution
//! lists and mail-enabled security groups) with their members and settings, and which of the management roles
//! Tenure needs a connection holds.
//!
//! The `exchange` client reads these from the Exchange admin API and converts its JSON into them at its crate
//! boundary; the engine plans and reports in these terms. Objects are named the way Exchange names them
//! (`identity`: the recipient's `Name`), with the Entra object id alongside where Exchange reports it, so an
//! Exchange object can be matched to its directory user or group.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ObjectId;

/// What kind of mailbox a recipient has (Exchange's `RecipientTypeDetails`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MailboxKind {
    /// `UserMailbox`: a licensed user's own mailbox.
    User,
    /// `SharedMailbox`: needs no licence; a leaver's mailbox is converted to this before its licence goes.
    Shared,
    /// Any other kind (`RoomMailbox`, `EquipmentMailbox`, …), as Exchange spells it.
    Other(String),
}

impl MailboxKind {
    /// Exchange's `RecipientTypeDetails` value.
    #[must_use]
    pub fn recipient_type_details(&self) -> &str {
        match self {
            MailboxKind::User => "UserMailbox",
            MailboxKind::Shared => "SharedMailbox",
            MailboxKind::Other(other) => other,
        }
    }

    /// The kind a `RecipientTypeDetails` value names (case-insensitive).
    #[must_use]
    pub fn from_recipient_type_details(value: &str) -> MailboxKind {
        if value.eq_ignore_ascii_case("UserMailbox") {
            MailboxKind::User
        } else if value.eq_ignore_ascii_case("SharedMailbox") {
            MailboxKind::Shared
        } else {
            MailboxKind::Other(value.to_string())
        }
    }
}

impl fmt::Display for MailboxKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.recipient_type_details())
    }
}

/// A mailbox as Exchange reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Exchange's `Identity` (the mailbox's `Name`).
    pub identity: String,
    /// The owning directory user (`ExternalDirectoryObjectId`), when Exchange reports one.
    pub object_id: Option<ObjectId>,
    /// The owner's user principal name.
    pub user_principal_name: String,
    /// The primary SMTP address.
    pub primary_smtp_address: Option<String>,
    /// The display name.
    pub display_name: String,
    /// User, shared or another kind.
    pub kind: MailboxKind,
    /// Whether the mailbox is hidden from the address lists.
    pub hidden_from_address_lists: bool,
    /// Who may send on behalf of this mailbox (`GrantSendOnBehalfTo`), as Exchange names them.
    pub send_on_behalf: Vec<String>,
}

/// Which right a mailbox permission entry grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailboxRight {
    /// Open the mailbox and act in it (`Add-MailboxPermission -AccessRights FullAccess`).
    FullAccess,
    /// Send as the mailbox (`Add-RecipientPermission -AccessRights SendAs`).
    SendAs,
}

impl fmt::Display for MailboxRight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MailboxRight::FullAccess => "FullAccess",
            MailboxRight::SendAs => "SendAs",
        })
    }
}

/// One permission entry on a mailbox. The owner's own entry (`NT AUTHORITY\SELF`) is never listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxPermission {
    /// The mailbox, as Exchange names it.
    pub mailbox: String,
    /// Who holds the right (Exchange shows a user's UPN).
    pub trustee: String,
    /// The right.
    pub right: MailboxRight,
    /// Whether the entry is inherited rather than granted on the mailbox itself (Tenure manages explicit grants).
    pub inherited: bool,
    /// Whether the entry denies rather than allows.
    pub deny: bool,
}

/// Automatic replies ("out of office") of a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoReplyState {
    /// No automatic replies.
    Disabled,
    /// Automatic replies from now on.
    Enabled,
    /// Automatic replies between two instants.
    Scheduled {
        /// When replies start.
        start: DateTime<Utc>,
        /// When they stop (after `start`).
        end: DateTime<Utc>,
    },
}

/// Whether a mail-enabled group is a distribution list or a mail-enabled security group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MailGroupKind {
    /// A distribution list (`MailUniversalDistributionGroup`).
    Distribution,
    /// A mail-enabled security group (`MailUniversalSecurityGroup`).
    Security,
}

impl MailGroupKind {
    /// Exchange's `RecipientTypeDetails` value.
    #[must_use]
    pub fn recipient_type_details(self) -> &'static str {
        match self {
            MailGroupKind::Distribution => "MailUniversalDistributionGroup",
            MailGroupKind::Security => "MailUniversalSecurityGroup",
        }
    }
}

/// Who may join or leave a mail-enabled group without an owner's help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MembershipRestriction {
    /// Anyone may, without approval.
    Open,
    /// Only the group's owners change membership.
    Closed,
    /// Requests need an owner's approval (joining only).
    ApprovalRequired,
}

impl MembershipRestriction {
    /// Exchange's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipRestriction::Open => "Open",
            MembershipRestriction::Closed => "Closed",
            MembershipRestriction::ApprovalRequired => "ApprovalRequired",
        }
    }
}

/// A distribution list or mail-enabled security group with its Exchange settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailGroup {
    /// Exchange's `Identity` (the group's `Name`).
    pub identity: String,
    /// The directory group (`ExternalDirectoryObjectId`), when Exchange reports one.
    pub object_id: Option<ObjectId>,
    /// The display name.
    pub display_name: String,
    /// The alias (`mailNickname`).
    pub alias: String,
    /// The primary SMTP address.
    pub primary_smtp_address: Option<String>,
    /// Distribution list or security group.
    pub kind: MailGroupKind,
    /// The owners (`ManagedBy`), as Exchange names them.
    pub managed_by: Vec<String>,
    /// Who may join.
    pub member_join_restriction: MembershipRestriction,
    /// Who may leave.
    pub member_depart_restriction: MembershipRestriction,
    /// Whether only authenticated (internal) senders may mail the group.
    pub require_sender_authentication: bool,
    /// Whether the group is hidden from the address lists.
    pub hidden_from_address_lists: bool,
    /// The members, when they were read (`None`: the listing did not read them).
    pub members: Option<Vec<MailGroupMember>>,
}

/// A member of a mail-enabled group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailGroupMember {
    /// Exchange's `Identity` (the member's `Name`).
    pub identity: String,
    /// The directory object (`ExternalDirectoryObjectId`), when Exchange reports one.
    pub object_id: Option<ObjectId>,
    /// The primary SMTP address, when the member has one.
    pub primary_smtp_address: Option<String>,
    /// Exchange's `RecipientTypeDetails` (`UserMailbox`, `MailUniversalSecurityGroup`, `User`, …).
    pub recipient_type_details: String,
}

/// The Exchange management roles Tenure's connection needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExchangeRole {
    /// Manage existing mailboxes: convert, hide, automatic replies, permissions.
    MailRecipients,
    /// Manage members of mail-enabled security groups (`-BypassSecurityGroupManagerCheck`).
    SecurityGroupCreationAndMembership,
    /// Create distribution lists and change their members.
    DistributionGroups,
}

impl ExchangeRole {
    /// The three roles, in the order Tenure checks them.
    pub const ALL: [ExchangeRole; 3] = [
        ExchangeRole::MailRecipients,
        ExchangeRole::SecurityGroupCreationAndMembership,
        ExchangeRole::DistributionGroups,
    ];

    /// The role's name in Exchange.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ExchangeRole::MailRecipients => "Mail Recipients",
            ExchangeRole::SecurityGroupCreationAndMembership => "Security Group Creation and Membership",
            ExchangeRole::DistributionGroups => "Distribution Groups",
        }
    }
}

impl fmt::Display for ExchangeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a role probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleVerdict {
    /// The caller holds the role.
    Held,
    /// The caller lacks the role.
    Missing,
    /// The probe's answer did not tell (with what it said).
    Unknown(String),
}

/// The verdict on one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleFinding {
    /// The role.
    pub role: ExchangeRole,
    /// Held, missing or unknown.
    pub verdict: RoleVerdict,
}

/// Which of the roles Tenure needs an Exchange connection holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleCheck {
    /// One finding per role, in [`ExchangeRole::ALL`] order.
    pub findings: Vec<RoleFinding>,
}

impl RoleCheck {
    /// The verdict on `role`, if it was checked.
    #[must_use]
    pub fn verdict(&self, role: ExchangeRole) -> Option<&RoleVerdict> {
        self.findings.iter().find(|finding| finding.role == role).map(|finding| &finding.verdict)
    }

    /// The roles found missing.
    pub fn missing(&self) -> impl Iterator<Item = ExchangeRole> + '_ {
        self.findings.iter().filter(|finding| finding.verdict == RoleVerdict::Missing).map(|finding| finding.role)
    }

    /// Whether every role was found held.
    #[must_use]
    pub fn all_held(&self) -> bool {
        !self.findings.is_empty() && self.findings.iter().all(|finding| finding.verdict == RoleVerdict::Held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_kinds_read_exchange_spellings() {
        assert_eq!(MailboxKind::from_recipient_type_details("sharedmailbox"), MailboxKind::Shared);
        assert_eq!(MailboxKind::from_recipient_type_details("UserMailbox"), MailboxKind::User);
        let room = MailboxKind::from_recipient_type_details("RoomMailbox");
        assert_eq!(room.recipient_type_details(), "RoomMailbox");
    }

    #[test]
    fn a_role_check_names_what_is_missing() {
        let check = RoleCheck {
            findings: vec![
                RoleFinding { role: ExchangeRole::MailRecipients, verdict: RoleVerdict::Held },
                RoleFinding { role: ExchangeRole::DistributionGroups, verdict: RoleVerdict::Missing },
            ],
        };
        assert_eq!(check.missing().collect::<Vec<_>>(), vec![ExchangeRole::DistributionGroups]);
        assert!(!check.all_held());
        assert_eq!(check.verdict(ExchangeRole::MailRecipients), Some(&RoleVerdict::Held));
        assert_eq!(
            ExchangeRole::SecurityGroupCreationAndMembership.to_string(),
            "Security Group Creation and Membership"
        );
    }
}
