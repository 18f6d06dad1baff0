//! What Tenure observed in Exchange Online, in the terms the planner needs: the mailboxes of managed users (kind,
//! hidden flag, and — where it was read — who holds rights on them), the lists the policy names with their user
//! members, and the shared mailboxes the policy names with their rights.
//!
//! It is part of [`crate::ObservedState`] (`exchange`, absent when no Exchange connection is configured) and so is
//! cached with the Graph snapshot. Keys are lower-case (UPNs, list names, mailbox identities as the policy spells
//! them), because Exchange compares them without regard to case.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{MailGroupKind, ObjectId, SharedMailboxRight};

/// Rights on one mailbox, by trustee (a lower-case UPN or, for trustees Exchange reports by another name, that
/// name lower-cased). Only explicit, allowing, non-inherited rights are kept.
pub type MailboxAccess = BTreeMap<String, BTreeSet<SharedMailboxRight>>;

/// A user's mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedMailbox {
    /// Exchange's identity for it (what cmdlets take as `-Identity`); Tenure uses the UPN.
    pub identity: String,
    /// Whether it is a shared mailbox (`RecipientTypeDetails: SharedMailbox`); otherwise a user mailbox (other
    /// kinds — rooms, equipment — are not observed).
    pub shared: bool,
    /// `HiddenFromAddressListsEnabled`.
    pub hidden: bool,
    /// Rights others hold on it (FullAccess, SendAs, SendOnBehalf); `None` when they were not read this time (the
    /// observer reads them only for mailboxes whose leaver or rehire handling may need them).
    pub access: Option<MailboxAccess>,
}

/// A distribution list or mail-enabled security group the policy names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedMailList {
    /// Exchange's `Name`.
    pub name: String,
    /// Distribution list or mail-enabled security group.
    pub kind: MailGroupKind,
    /// The Entra object IDs of its members that are users (`ExternalDirectoryObjectId`).
    pub members: BTreeSet<ObjectId>,
}

/// A shared mailbox the policy names, with the rights on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedSharedMailbox {
    /// Exchange's identity for it.
    pub identity: String,
    /// Who holds which rights on it.
    pub access: MailboxAccess,
}

/// Everything observed in Exchange Online.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedExchange {
    /// Mailboxes of users, by the user's Entra object ID. A licensed user without an entry has no mailbox yet.
    pub mailboxes: BTreeMap<ObjectId, ObservedMailbox>,
    /// The lists the policy names that exist, by lower-case name.
    pub lists: BTreeMap<String, ObservedMailList>,
    /// The shared mailboxes the policy names that exist, by lower-case identity as the policy spells it.
    pub shared_mailboxes: BTreeMap<String, ObservedSharedMailbox>,
}

impl ObservedExchange {
    /// The mailbox of the user `id`, if it has one.
    #[must_use]
    pub fn mailbox(&self, id: &ObjectId) -> Option<&ObservedMailbox> {
        self.mailboxes.get(id)
    }

    /// The list named `name` (any case), if it exists.
    #[must_use]
    pub fn list(&self, name: &str) -> Option<&ObservedMailList> {
        self.lists.get(&name.to_lowercase())
    }

    /// The shared mailbox `identity` (any case), if it exists.
    #[must_use]
    pub fn shared_mailbox(&self, identity: &str) -> Option<&ObservedSharedMailbox> {
        self.shared_mailboxes.get(&identity.to_lowercase())
    }
}

/// Whether a leaver's mailbox has been through the whole leaver sequence: it is shared and the user holds none of
/// the managed licences (licences are removed last, only after the mailbox was confirmed shared and access
/// granted). The planner plans the remaining sequence only when this is false; the observer reads the rights of a
/// leaver's mailbox only when it is shared and this is false (a sequence cut short after the conversion).
#[must_use]
pub fn leaver_mailbox_settled(mailbox: &ObservedMailbox, holds_managed_licence: bool) -> bool {
    mailbox.shared && !holds_managed_licence
}
