//! Exchange Online's own data about a tenant's recipients, kept beside the directory (one directory: users
//! and groups live in [`crate::directory::tenant::Tenant`], and this holds only what Exchange adds): mailboxes
//! with their permissions and settings, the Exchange-side settings of mail-enabled groups, RBAC role groups,
//! and the data-loss record.
//!
//! Writers go through [`crate::exchange::lifecycle`] for anything that creates, marks or purges a mailbox, so
//! that every loss of mail is recorded.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Days a mailbox that lost its last Exchange licence is kept before Exchange deletes it (Microsoft: 30).
pub const LICENCE_GRACE_DAYS: i64 = 30;

/// `RecipientTypeDetails` of a mailbox the sandbox models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailboxKind {
    /// `UserMailbox` (`-Type Regular`).
    User,
    /// `SharedMailbox` (`-Type Shared`).
    Shared,
}

impl MailboxKind {
    /// The `RecipientTypeDetails` value.
    pub fn recipient_type_details(self) -> &'static str {
        match self {
            MailboxKind::User => "UserMailbox",
            MailboxKind::Shared => "SharedMailbox",
        }
    }
}

/// One FullAccess grant on a mailbox (`Add-MailboxPermission -AccessRights FullAccess`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullAccessGrant {
    /// The user given access.
    pub user: Uuid,
    /// Whether Outlook adds the mailbox to the user's profile (`-AutoMapping`, default true).
    pub auto_mapping: bool,
    /// `-InheritanceType` (default `All`).
    pub inheritance_type: String,
}

/// `Set-MailboxAutoReplyConfiguration` settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoReply {
    /// `Disabled` (default), `Enabled` or `Scheduled`.
    pub state: String,
    /// `InternalMessage`.
    pub internal_message: Option<String>,
    /// `ExternalMessage`.
    pub external_message: Option<String>,
    /// `ExternalAudience`: `None`, `Known` or `All` (default `All`).
    pub external_audience: String,
    /// `StartTime` (for `Scheduled`).
    pub start_time: Option<DateTime<Utc>>,
    /// `EndTime` (for `Scheduled`).
    pub end_time: Option<DateTime<Utc>>,
}

/// A mailbox, belonging to the directory user with the same id (its `ExternalDirectoryObjectId`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mailbox {
    /// The user's object id.
    pub user: Uuid,
    /// `ExchangeGuid`.
    pub exchange_guid: Uuid,
    /// `Guid` (the mailbox's own object guid in Exchange).
    pub guid: Uuid,
    /// User or shared.
    pub kind: MailboxKind,
    /// `Name`, when it was given (`New-Mailbox -Name`); otherwise Exchange names the mailbox after its alias.
    #[serde(default)]
    pub name: Option<String>,
    /// When provisioning began (`WhenMailboxCreated` once ready).
    pub created: DateTime<Utc>,
    /// The mailbox exists for Exchange cmdlets from this instant on (provisioning delay).
    pub ready_at: DateTime<Utc>,
    /// `HiddenFromAddressListsEnabled`.
    pub hidden_from_address_lists: bool,
    /// `GrantSendOnBehalfTo` (user ids).
    pub grant_send_on_behalf_to: BTreeSet<Uuid>,
    /// FullAccess grants.
    pub full_access: Vec<FullAccessGrant>,
    /// SendAs trustees (user ids).
    pub send_as: BTreeSet<Uuid>,
    /// Automatic replies.
    pub auto_reply: AutoReply,
    /// When its last Exchange licence was removed while it was not shared: Exchange deletes it
    /// [`LICENCE_GRACE_DAYS`] later unless a licence comes back or it is converted to shared.
    pub marked_for_deletion: Option<DateTime<Utc>>,
}

impl Mailbox {
    /// A mailbox for `user` that is ready at `ready_at`.
    pub fn new(user: Uuid, kind: MailboxKind, now: DateTime<Utc>, ready_at: DateTime<Utc>) -> Mailbox {
        Mailbox {
            user,
            exchange_guid: Uuid::new_v4(),
            guid: Uuid::new_v4(),
            kind,
            name: None,
            created: now,
            ready_at,
            hidden_from_address_lists: false,
            grant_send_on_behalf_to: BTreeSet::new(),
            full_access: Vec::new(),
            send_as: BTreeSet::new(),
            auto_reply: AutoReply { state: "Disabled".into(), external_audience: "All".into(), ..AutoReply::default() },
            marked_for_deletion: None,
        }
    }

    /// Whether Exchange cmdlets see the mailbox at `now` (provisioned, and not deleted after its grace).
    pub fn is_ready(&self, now: DateTime<Utc>) -> bool {
        now >= self.ready_at && !self.is_gone(now)
    }

    /// Whether the grace period after losing its licence has run out.
    pub fn is_gone(&self, now: DateTime<Utc>) -> bool {
        self.marked_for_deletion.is_some_and(|at| now >= at + Duration::days(LICENCE_GRACE_DAYS))
    }
}

/// `MemberJoinRestriction` / `MemberDepartRestriction` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MembershipRestriction {
    /// Anyone may join/leave without approval.
    Open,
    /// Only the group's owners may add/remove members.
    Closed,
    /// Joining needs an owner's approval (join only).
    ApprovalRequired,
}

impl MembershipRestriction {
    /// The value as Exchange writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipRestriction::Open => "Open",
            MembershipRestriction::Closed => "Closed",
            MembershipRestriction::ApprovalRequired => "ApprovalRequired",
        }
    }
}

/// Exchange-side settings of a mail-enabled security group or distribution list (the group itself, with its
/// name, addresses and members, is the directory's [`crate::directory::group::Group`] of the same id).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GroupSettings {
    /// `Name` (unique among recipients; defaults to the display name).
    pub name: String,
    /// `ManagedBy` (owners: user ids).
    pub managed_by: BTreeSet<Uuid>,
    /// `MemberJoinRestriction`.
    pub member_join_restriction: MembershipRestriction,
    /// `MemberDepartRestriction`.
    pub member_depart_restriction: MembershipRestriction,
    /// `RequireSenderAuthenticationEnabled`.
    pub require_sender_authentication: bool,
    /// `HiddenFromAddressListsEnabled`.
    pub hidden_from_address_lists: bool,
    /// `Notes`.
    pub notes: Option<String>,
    /// The group's own Exchange object guid (`Guid`).
    pub guid: Uuid,
}

/// Who belongs to a role group.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum RoleGroupMember {
    /// A user (delegated callers), by object id.
    User(Uuid),
    /// An application's service principal (app-only callers), by app (client) id.
    App(Uuid),
}

/// An RBAC role group: a set of management roles and the principals that hold them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGroup {
    /// Name, e.g. `Organization Management` or a custom one.
    pub name: String,
    /// Whether it is one of Exchange's built-in role groups.
    pub built_in: bool,
    /// Management role names (see [`crate::exchange::rbac::ROLES`]).
    pub roles: BTreeSet<String>,
    /// Members.
    pub members: BTreeSet<RoleGroupMember>,
}

/// What happened to a mailbox's mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Its last Exchange licence was removed while it was not shared: deleted after the grace period.
    MarkedForDeletion,
    /// Purged with its user (the user was deleted).
    Purged,
}

/// One entry of the data-loss record: a mailbox whose mail was marked for deletion or purged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxLoss {
    /// Sandbox time it happened.
    pub at: DateTime<Utc>,
    /// Marked or purged.
    pub kind: LossKind,
    /// The user's object id.
    pub user: Uuid,
    /// The user's UPN at the time.
    pub user_principal_name: String,
    /// The mailbox's primary SMTP address at the time, if any.
    pub primary_smtp_address: Option<String>,
    /// `UserMailbox` or `SharedMailbox` at the time.
    pub recipient_type_details: String,
    /// Why, in words (which write caused it).
    pub reason: String,
    /// When Exchange deletes the mail for good (the end of the grace period for a marked mailbox).
    pub deletion_due: DateTime<Utc>,
}

/// Exchange's data for one tenant.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExchangeData {
    /// Mailboxes by user id (pending, ready, or marked for deletion).
    pub mailboxes: BTreeMap<Uuid, Mailbox>,
    /// Settings of mail-enabled groups, by group id.
    pub groups: BTreeMap<Uuid, GroupSettings>,
    /// RBAC role groups (the built-in ones are added when missing, see [`crate::exchange::rbac`]).
    pub role_groups: Vec<RoleGroup>,
    /// Every mailbox marked for deletion or purged, oldest first.
    pub data_loss: Vec<MailboxLoss>,
    /// Moves on every Exchange-side write (cmdlets, role-group changes), so the state file's autosave sees
    /// changes that touch no directory object.
    #[serde(default)]
    pub revision: u64,
}

impl ExchangeData {
    /// Records that Exchange-side data changed.
    pub fn touch(&mut self) {
        self.revision = self.revision.wrapping_add(1);
    }

    /// The mailbox of `user` if Exchange sees it at `now`.
    pub fn ready_mailbox(&self, user: Uuid, now: DateTime<Utc>) -> Option<&Mailbox> {
        self.mailboxes.get(&user).filter(|mailbox| mailbox.is_ready(now))
    }
}
