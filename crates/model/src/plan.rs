//! `Plan` and `Step`: the planner's output, a value that can be stored, rendered, diffed, approved and applied.
//!
//! A plan is an ordered list of steps; every step names the steps it depends on (always earlier in the list) and
//! the HR fact or rule that caused it. Steps refer to accounts and groups that the same plan creates by their
//! HR or policy key (`UserRef::Planned`, `GroupRef::Planned`); the executor resolves those to object IDs as the
//! creating steps finish. Plans are serialized on purpose: the store journals them for crash-safe resumption.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    AttributeMap, AutoReplyText, Diagnostic, GroupKind, MailGroupKind, MembershipRestriction, ObjectId,
    SharedMailboxRight, UserAttribute, WorkerId,
};

/// A step's position in its plan (0-based); dependencies always point to lower IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StepId(pub u32);

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0 + 1)
    }
}

/// A user a step acts on: one that exists, or one this plan creates (or restores) for a worker.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UserRef {
    /// An existing (live) user.
    Existing(ObjectId),
    /// The account this plan creates for the worker.
    Planned(WorkerId),
}

/// A group a step acts on: one that exists, or one this plan creates (by `mailNickname`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GroupRef {
    /// An existing group.
    Existing(ObjectId),
    /// The group this plan creates with this `mailNickname`.
    Planned(String),
}

/// One attribute's change: from the observed value to the desired one (`None` = empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    /// Which attribute.
    pub attribute: UserAttribute,
    /// The observed value.
    pub from: Option<String>,
    /// The desired value.
    pub to: Option<String>,
}

/// What a step does. Each variant is one Graph write (or one small, fixed sequence of them), or one Exchange Online
/// admin API command (the variants after `DeleteUser`; [`Action::is_exchange`]).
///
/// Exchange steps name mailboxes and members by UPN (Exchange resolves a UPN to its recipient; Tenure never
/// renames a UPN, and the planner knows the UPN of an account the same plan creates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// `POST /users` with a random initial password (generated at apply time, never stored or logged).
    CreateUser {
        /// The worker the account is for.
        worker: WorkerId,
        /// The chosen `userPrincipalName`.
        user_principal_name: String,
        /// The chosen `mailNickname`.
        mail_nickname: String,
        /// The chosen `mail`, when the policy sets one.
        mail: Option<String>,
        /// Whether the account is enabled from the start.
        account_enabled: bool,
        /// The managed attributes (including `displayName` and `employeeId`).
        attributes: AttributeMap,
    },
    /// `POST /directory/deletedItems/{id}/restore`: revive a soft-deleted account (a rehire).
    RestoreUser {
        /// The soft-deleted user.
        user: ObjectId,
    },
    /// `PATCH /users/{id}` with the changed attributes.
    UpdateUser {
        /// The user.
        user: UserRef,
        /// The changes, in `UserAttribute::ALL` order.
        changes: Vec<AttributeChange>,
    },
    /// `PUT /users/{id}/manager/$ref`.
    SetManager {
        /// The user.
        user: UserRef,
        /// Their manager.
        manager: UserRef,
    },
    /// `DELETE /users/{id}/manager/$ref`.
    RemoveManager {
        /// The user.
        user: ObjectId,
    },
    /// `PATCH /users/{id}` `accountEnabled: true`.
    EnableAccount {
        /// The user.
        user: UserRef,
    },
    /// `PATCH /users/{id}` `accountEnabled: false`.
    DisableAccount {
        /// The user.
        user: UserRef,
    },
    /// `PATCH /users/{id}` with a new random `passwordProfile` (never stored or logged).
    ResetPassword {
        /// The user.
        user: UserRef,
    },
    /// `POST /users/{id}/revokeSignInSessions`.
    RevokeSessions {
        /// The user.
        user: UserRef,
    },
    /// `POST /groups`.
    CreateGroup {
        /// `mailNickname`.
        mail_nickname: String,
        /// `displayName`.
        display_name: String,
        /// Security or Microsoft 365.
        kind: GroupKind,
    },
    /// `PATCH /groups/{id}` with `members@odata.bind` (at most 20 members per step).
    AddMembers {
        /// The group.
        group: GroupRef,
        /// The users to add (1–20).
        members: Vec<UserRef>,
    },
    /// `DELETE /groups/{id}/members/{user}/$ref`.
    RemoveMember {
        /// The group.
        group: ObjectId,
        /// The user.
        member: ObjectId,
    },
    /// `POST /users/{id}/assignLicense`.
    AssignLicenses {
        /// The user.
        user: UserRef,
        /// SKU IDs to add.
        add: Vec<String>,
        /// SKU IDs to remove.
        remove: Vec<String>,
    },
    /// `DELETE /users/{id}` (a soft delete; restorable for 30 days).
    DeleteUser {
        /// The user.
        user: ObjectId,
    },
    /// `New-DistributionGroup`: a list (or mail-enabled security group) a rule names and the policy may create.
    CreateMailList {
        /// `Name` (also the alias, sanitised by the executor).
        name: String,
        /// Distribution list or mail-enabled security group.
        kind: MailGroupKind,
        /// `ManagedBy`, a UPN; `None`: Exchange's default.
        owner: Option<String>,
        /// `MemberJoinRestriction`.
        join_restriction: MembershipRestriction,
        /// `MemberDepartRestriction`.
        depart_restriction: MembershipRestriction,
    },
    /// `Add-DistributionGroupMember -BypassSecurityGroupManagerCheck`.
    AddMailListMember {
        /// The list's `Name`.
        list: String,
        /// The member's UPN.
        member: String,
    },
    /// `Remove-DistributionGroupMember -BypassSecurityGroupManagerCheck -Confirm:$false`.
    RemoveMailListMember {
        /// The list's `Name`.
        list: String,
        /// The member's UPN.
        member: String,
    },
    /// Waits (durably: rescheduled, holding no worker) until the user's mailbox exists — Exchange provisions it some
    /// time after an Exchange licence is assigned. A read (`Get-EXOMailbox`); the mailbox steps depend on it.
    AwaitMailbox {
        /// The user's UPN.
        mailbox: String,
    },
    /// Grants a right on a mailbox: `Add-MailboxPermission -AccessRights FullAccess [-AutoMapping]`,
    /// `Add-RecipientPermission -AccessRights SendAs`, or `Set-Mailbox -GrantSendOnBehalfTo @{Add=…}`.
    GrantMailboxRight {
        /// The mailbox (a UPN or the shared mailbox's identity).
        mailbox: String,
        /// Who gets the right (a UPN).
        trustee: String,
        /// Which right.
        right: SharedMailboxRight,
        /// For FullAccess: whether Outlook maps the mailbox automatically.
        auto_mapping: bool,
    },
    /// Removes a right on a mailbox (the inverse cmdlets of [`Action::GrantMailboxRight`]).
    RevokeMailboxRight {
        /// The mailbox.
        mailbox: String,
        /// Who loses the right.
        trustee: String,
        /// Which right.
        right: SharedMailboxRight,
    },
    /// `Set-Mailbox -HiddenFromAddressListsEnabled`.
    SetMailboxHidden {
        /// The user's UPN.
        mailbox: String,
        /// Hidden (a leaver, a leave) or shown again (a return).
        hidden: bool,
    },
    /// `Set-MailboxAutoReplyConfiguration`: on with these texts, or off (`None`).
    SetAutoReply {
        /// The user's UPN.
        mailbox: String,
        /// The replies, or `None` to turn them off.
        reply: Option<AutoReplyText>,
    },
    /// `Set-Mailbox -Type Shared` (a leaver's mailbox kept without a licence) or `-Type Regular` (a rehire).
    ConvertMailbox {
        /// The user's UPN.
        mailbox: String,
        /// To shared (`true`) or back to a regular user mailbox (`false`).
        shared: bool,
    },
    /// Reads the mailbox back and is done only once Exchange reports it shared (`RecipientTypeDetails:
    /// SharedMailbox`); until then it is rescheduled. The leaver's licence removal depends on it: a mailbox that is
    /// not shared loses its mail 30 days after its last Exchange licence goes.
    ConfirmMailboxShared {
        /// The user's UPN.
        mailbox: String,
    },
}

impl Action {
    /// A short verb for summaries and logs (`create user`, `add members`, …).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CreateUser { .. } => "create user",
            Self::RestoreUser { .. } => "restore user",
            Self::UpdateUser { .. } => "update user",
            Self::SetManager { .. } => "set manager",
            Self::RemoveManager { .. } => "remove manager",
            Self::EnableAccount { .. } => "enable account",
            Self::DisableAccount { .. } => "disable account",
            Self::ResetPassword { .. } => "reset password",
            Self::RevokeSessions { .. } => "revoke sessions",
            Self::CreateGroup { .. } => "create group",
            Self::AddMembers { .. } => "add members",
            Self::RemoveMember { .. } => "remove member",
            Self::AssignLicenses { .. } => "assign licences",
            Self::DeleteUser { .. } => "delete user",
            Self::CreateMailList { .. } => "create list",
            Self::AddMailListMember { .. } => "add list member",
            Self::RemoveMailListMember { .. } => "remove list member",
            Self::AwaitMailbox { .. } => "await mailbox",
            Self::GrantMailboxRight { .. } => "grant mailbox right",
            Self::RevokeMailboxRight { .. } => "revoke mailbox right",
            Self::SetMailboxHidden { hidden: true, .. } => "hide mailbox",
            Self::SetMailboxHidden { hidden: false, .. } => "show mailbox",
            Self::SetAutoReply { .. } => "set auto-reply",
            Self::ConvertMailbox { shared: true, .. } => "convert to shared",
            Self::ConvertMailbox { shared: false, .. } => "convert to regular",
            Self::ConfirmMailboxShared { .. } => "confirm shared",
        }
    }

    /// Whether the action is an Exchange Online admin API command (the executor sends it through the Exchange
    /// client, one command per step) rather than a Graph request.
    #[must_use]
    pub fn is_exchange(&self) -> bool {
        matches!(
            self,
            Self::CreateMailList { .. }
                | Self::AddMailListMember { .. }
                | Self::RemoveMailListMember { .. }
                | Self::AwaitMailbox { .. }
                | Self::GrantMailboxRight { .. }
                | Self::RevokeMailboxRight { .. }
                | Self::SetMailboxHidden { .. }
                | Self::SetAutoReply { .. }
                | Self::ConvertMailbox { .. }
                | Self::ConfirmMailboxShared { .. }
        )
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Its position in the plan.
    pub id: StepId,
    /// The worker it is for, when it is for one.
    pub worker: Option<WorkerId>,
    /// What it does.
    pub action: Action,
    /// Steps that must be done first (all with lower IDs).
    pub depends_on: Vec<StepId>,
    /// Why: the HR fact or policy rule that caused it, as a sentence fragment.
    pub reason: String,
}

/// A worker the planner could not act on, and why (a UPN with no free candidate, an account outside the
/// managed scope, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The worker.
    pub worker: WorkerId,
    /// Why, as a sentence fragment.
    pub reason: String,
}

/// The planner's output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The steps, in an order that satisfies every dependency.
    pub steps: Vec<Step>,
    /// Workers left alone, with the reason.
    pub skipped: Vec<Skipped>,
    /// Problems found while planning.
    pub diagnostics: Vec<Diagnostic>,
    /// How many live accounts are inside the managed scope (the base for the limits' shares).
    pub managed_accounts: usize,
}

impl Plan {
    /// Whether the plan changes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}
