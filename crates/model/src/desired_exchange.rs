//! The desired Exchange Online side: which distribution lists and mail-enabled security groups each worker should
//! be in, which shared mailboxes they should reach and with which rights, how a leaver's mailbox is kept, and
//! which lists Tenure manages (and may create).
//!
//! It sits beside the accounts (`DesiredState::exchange`, keyed by employee ID) rather than inside
//! `DesiredAccount`, so that a policy without `[exchange]` leaves everything Exchange-related empty.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{MailGroupKind, MembershipRestriction, WorkerId};

/// A right on a shared mailbox that a rule grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SharedMailboxRight {
    /// Open the mailbox and act in it (`Add-MailboxPermission -AccessRights FullAccess`).
    FullAccess,
    /// Send as the mailbox (`Add-RecipientPermission -AccessRights SendAs`).
    SendAs,
    /// Send on behalf of the mailbox (`Set-Mailbox -GrantSendOnBehalfTo`).
    SendOnBehalf,
}

impl SharedMailboxRight {
    /// The three rights, as the policy file spells them.
    pub const ALL: [SharedMailboxRight; 3] =
        [SharedMailboxRight::FullAccess, SharedMailboxRight::SendAs, SharedMailboxRight::SendOnBehalf];

    /// The policy file's (and Exchange's) spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SharedMailboxRight::FullAccess => "FullAccess",
            SharedMailboxRight::SendAs => "SendAs",
            SharedMailboxRight::SendOnBehalf => "SendOnBehalf",
        }
    }

    /// The right spelled `name` (exactly as Exchange spells it).
    #[must_use]
    pub fn from_name(name: &str) -> Option<SharedMailboxRight> {
        SharedMailboxRight::ALL.into_iter().find(|right| right.as_str() == name)
    }
}

impl fmt::Display for SharedMailboxRight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A distribution list or mail-enabled security group the policy's rules name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredMailList {
    /// Exchange's `Name` (the key rules use).
    pub name: String,
    /// Distribution list or mail-enabled security group.
    pub kind: MailGroupKind,
    /// Whether Tenure may create the list when it does not exist (otherwise: a diagnostic, memberships skipped).
    pub create_if_missing: bool,
    /// The owner (`ManagedBy`) to give a list Tenure creates, as a UPN; `None`: Exchange's default (the caller).
    pub owner: Option<String>,
    /// `MemberJoinRestriction` of a list Tenure creates.
    pub join_restriction: MembershipRestriction,
    /// `MemberDepartRestriction` of a list Tenure creates.
    pub depart_restriction: MembershipRestriction,
}

/// A worker's membership of one list, with the rule that puts them there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailListMembership {
    /// The list's kind (also in [`DesiredExchange::lists`]).
    pub kind: MailGroupKind,
    /// The rule's id.
    pub rule: String,
}

/// Rights a worker should hold on one shared mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedMailboxGrant {
    /// The rights (never empty).
    pub rights: BTreeSet<SharedMailboxRight>,
    /// Whether FullAccess is granted with auto-mapping (the mailbox appears in the holder's Outlook).
    pub auto_mapping: bool,
    /// The rule's id (the first rule naming this mailbox, when several do).
    pub rule: String,
}

/// The automatic replies of a leaver's mailbox, rendered for that leaver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoReplyText {
    /// The reply to senders inside the organisation.
    pub internal: String,
    /// The reply to external senders; `None`: external senders get no reply.
    pub external: Option<String>,
}

/// What happens to a leaver's mailbox, in the order the planner runs it: remove memberships (except the kept
/// ones), hide, set the auto-reply, convert to shared and confirm it, grant access, and only then remove licences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaverMailbox {
    /// Convert the mailbox to a shared mailbox (and confirm it is shared) before the licences go.
    pub convert_to_shared: bool,
    /// The automatic replies to set, if any.
    pub auto_reply: Option<AutoReplyText>,
    /// The leaver's manager (their account's UPN is the planner's to find), granted [`Self::grant_rights`].
    pub manager: Option<WorkerId>,
    /// Further people (UPNs, lower-case) granted [`Self::grant_rights`].
    pub delegates: Vec<String>,
    /// The rights the manager and the delegates get on the mailbox.
    pub grant_rights: BTreeSet<SharedMailboxRight>,
    /// Lists and shared mailboxes (by name) whose membership or grant a leaver keeps.
    pub keep_memberships: BTreeSet<String>,
    /// Days after the last working day after which the converted mailbox (with its account) may be deleted;
    /// `None`: never. The lifecycle stage already folds this in (`Delete` only once it has passed).
    pub delete_after_days: Option<u32>,
}

/// One worker's desired Exchange access.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredMailAccess {
    /// Lists (by `Name`) the worker should be a member of.
    pub lists: BTreeMap<String, MailListMembership>,
    /// Shared mailboxes (by identity) the worker should reach, with the rights.
    pub shared_mailboxes: BTreeMap<String, SharedMailboxGrant>,
    /// Whether the worker's mailbox should be hidden from the address lists (leavers, and workers on a leave that
    /// disables the account, when the policy says so).
    pub hidden_from_address_lists: bool,
    /// For a leaver: what happens to the mailbox.
    pub leaver: Option<LeaverMailbox>,
}

/// The Exchange part of the desired state; all empty (and `enabled` false) when the policy has no `[exchange]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredExchange {
    /// Whether Tenure manages Exchange at all.
    pub enabled: bool,
    /// The lists rules name, by `Name`: Tenure touches the memberships of these lists only, and creates only those
    /// with `create_if_missing` (recording what it created; it never deletes or edits lists it does not own).
    pub lists: BTreeMap<String, DesiredMailList>,
    /// The shared mailboxes rules name: Tenure grants and removes rights on these only.
    pub shared_mailboxes: BTreeSet<String>,
    /// Each worker's desired access, by employee ID (workers without an account to manage are left out).
    pub accounts: BTreeMap<WorkerId, DesiredMailAccess>,
    /// Whether Tenure manages the mailboxes' hidden flag: true when the policy hides leavers' or absent workers'
    /// mailboxes (then a mailbox is shown again on return); false: the flag is never touched.
    #[serde(default)]
    pub manages_hidden: bool,
    /// Workers whose access could not be computed (a template failed; a diagnostic says why): the planner must
    /// leave their Exchange memberships and mailbox alone rather than read the absence as "remove everything".
    pub skipped: BTreeSet<WorkerId>,
}

impl DesiredExchange {
    /// The desired access of `worker` (empty when the worker has none).
    #[must_use]
    pub fn access(&self, worker: &WorkerId) -> Option<&DesiredMailAccess> {
        self.accounts.get(worker)
    }
}
