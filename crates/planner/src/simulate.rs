//! A model of a perfect apply: what the tenant looks like after every step of a plan succeeded.
//!
//! Used by the planner's property tests (plan → apply → plan again must be empty) and by engine tests. New
//! objects get IDs derived from their keys (`new-user-<worker>`, `new-group-<mailNickname>`), so the result is
//! deterministic. Steps whose references cannot be resolved are ignored, as a failed request would be.
//!
//! Exchange steps change `state.exchange` (when it is there): a created list exists, members are found by UPN,
//! awaiting a mailbox finds it provisioned (a perfect tenant), rights land on the named shared mailbox or on the
//! user's own mailbox (whose `access` then counts as read), hiding and converting set the flags; automatic
//! replies and the shared confirmation are not observed, so they change nothing. A deleted user's mailbox and
//! list memberships go with the user.

use std::collections::BTreeMap;

use model::{
    Action, DirectoryGroup, DirectoryUser, GroupRef, MailboxAccess, ObjectId, ObservedMailList, ObservedMailbox,
    ObservedState, Plan, SharedMailboxRight, UserAttribute, UserRef, WorkerId,
};

/// The object ID [`apply_plan`] gives the account created for `worker`.
#[must_use]
pub fn new_user_id(worker: &WorkerId) -> ObjectId {
    ObjectId(format!("new-user-{worker}"))
}

/// The object ID [`apply_plan`] gives the group created with `mail_nickname`.
#[must_use]
pub fn new_group_id(mail_nickname: &str) -> ObjectId {
    ObjectId(format!("new-group-{mail_nickname}"))
}

struct Refs {
    users: BTreeMap<WorkerId, ObjectId>,
    groups: BTreeMap<String, ObjectId>,
}

impl Refs {
    fn user(&self, user: &UserRef) -> Option<ObjectId> {
        match user {
            UserRef::Existing(id) => Some(id.clone()),
            UserRef::Planned(worker) => self.users.get(worker).cloned(),
        }
    }

    fn group(&self, group: &GroupRef) -> Option<ObjectId> {
        match group {
            GroupRef::Existing(id) => Some(id.clone()),
            GroupRef::Planned(nickname) => self.groups.get(nickname).cloned(),
        }
    }
}

/// Applies every step of `plan` to a copy of `observed`, as a perfectly behaving tenant would.
#[must_use]
pub fn apply_plan(plan: &Plan, observed: &ObservedState) -> ObservedState {
    let mut state = observed.clone();
    let mut refs = Refs { users: BTreeMap::new(), groups: BTreeMap::new() };
    for step in &plan.steps {
        match &step.action {
            Action::CreateUser { worker, user_principal_name, mail_nickname, mail, account_enabled, attributes } => {
                let id = new_user_id(worker);
                refs.users.insert(worker.clone(), id.clone());
                let user = DirectoryUser {
                    id: id.clone(),
                    user_principal_name: user_principal_name.clone(),
                    mail: mail.clone(),
                    mail_nickname: Some(mail_nickname.clone()),
                    proxy_addresses: mail.iter().map(|mail| format!("SMTP:{mail}")).collect(),
                    account_enabled: *account_enabled,
                    attributes: attributes.clone(),
                    manager: None,
                    licenses: Default::default(),
                };
                state.users.insert(id, user);
            }
            Action::RestoreUser { user } => {
                if let Some(restored) = state.deleted_users.remove(user) {
                    state.users.insert(user.clone(), restored);
                }
            }
            Action::UpdateUser { user, changes } => {
                if let Some(user) = refs.user(user).and_then(|id| state.users.get_mut(&id)) {
                    for change in changes {
                        match &change.to {
                            Some(value) => user.attributes.insert(change.attribute, value.clone()),
                            None => user.attributes.remove(&change.attribute),
                        };
                    }
                }
            }
            Action::SetManager { user, manager } => {
                let manager = refs.user(manager);
                if let Some(user) = refs.user(user).and_then(|id| state.users.get_mut(&id)) {
                    user.manager = manager;
                }
            }
            Action::RemoveManager { user } => {
                if let Some(user) = state.users.get_mut(user) {
                    user.manager = None;
                }
            }
            Action::EnableAccount { user } | Action::DisableAccount { user } => {
                let enable = matches!(step.action, Action::EnableAccount { .. });
                if let Some(user) = refs.user(user).and_then(|id| state.users.get_mut(&id)) {
                    user.account_enabled = enable;
                }
            }
            Action::ResetPassword { .. } | Action::RevokeSessions { .. } => {}
            Action::CreateGroup { mail_nickname, display_name, kind } => {
                let id = new_group_id(mail_nickname);
                refs.groups.insert(mail_nickname.clone(), id.clone());
                let group = DirectoryGroup {
                    id: id.clone(),
                    display_name: display_name.clone(),
                    mail_nickname: mail_nickname.clone(),
                    kind: *kind,
                    dynamic: false,
                    members: Default::default(),
                };
                state.groups.insert(id, group);
            }
            Action::AddMembers { group, members } => {
                let members: Vec<ObjectId> = members.iter().filter_map(|member| refs.user(member)).collect();
                if let Some(group) = refs.group(group).and_then(|id| state.groups.get_mut(&id)) {
                    group.members.extend(members);
                }
            }
            Action::RemoveMember { group, member } => {
                if let Some(group) = state.groups.get_mut(group) {
                    group.members.remove(member);
                }
            }
            Action::AssignLicenses { user, add, remove } => {
                if let Some(user) = refs.user(user).and_then(|id| state.users.get_mut(&id)) {
                    let usable = user.attributes.contains_key(&UserAttribute::UsageLocation);
                    for sku in remove {
                        if user.licenses.remove(sku)
                            && let Some(entry) = state.skus.iter_mut().find(|entry| entry.sku_id == *sku)
                        {
                            entry.consumed_units = entry.consumed_units.saturating_sub(1);
                        }
                    }
                    for sku in add.iter().filter(|_| usable) {
                        if user.licenses.insert(sku.clone())
                            && let Some(entry) = state.skus.iter_mut().find(|entry| entry.sku_id == *sku)
                        {
                            entry.consumed_units += 1;
                        }
                    }
                }
            }
            Action::CreateMailList { .. }
            | Action::AddMailListMember { .. }
            | Action::RemoveMailListMember { .. }
            | Action::AwaitMailbox { .. }
            | Action::GrantMailboxRight { .. }
            | Action::RevokeMailboxRight { .. }
            | Action::SetMailboxHidden { .. }
            | Action::SetAutoReply { .. }
            | Action::ConvertMailbox { .. }
            | Action::ConfirmMailboxShared { .. } => apply_exchange_step(&step.action, &mut state),
            Action::DeleteUser { user } => {
                if let Some(exchange) = state.exchange.as_mut() {
                    exchange.mailboxes.remove(user);
                    for list in exchange.lists.values_mut() {
                        list.members.remove(user);
                    }
                }
                if let Some(deleted) = state.users.remove(user) {
                    for group in state.groups.values_mut() {
                        group.members.remove(user);
                    }
                    for other in state.users.values_mut() {
                        if other.manager.as_ref() == Some(user) {
                            other.manager = None;
                        }
                    }
                    state.deleted_users.insert(user.clone(), deleted);
                }
            }
        }
    }
    state
}

/// The live user whose UPN is `upn` (ignoring case).
fn user_by_upn(state: &ObservedState, upn: &str) -> Option<ObjectId> {
    state.users.values().find(|user| user.user_principal_name.eq_ignore_ascii_case(upn)).map(|user| user.id.clone())
}

/// The rights on the mailbox `identity`: a shared mailbox the policy names, else the mailbox of the user with that
/// UPN (its rights counting as read from now on).
fn access_of<'s>(state: &'s mut ObservedState, identity: &str) -> Option<&'s mut MailboxAccess> {
    let owner = user_by_upn(state, identity);
    let exchange = state.exchange.as_mut()?;
    if let Some(shared) = exchange.shared_mailboxes.get_mut(&identity.to_lowercase()) {
        return Some(&mut shared.access);
    }
    let mailbox = exchange.mailboxes.get_mut(&owner?)?;
    Some(mailbox.access.get_or_insert_with(MailboxAccess::new))
}

/// The mailbox of the user with this UPN.
fn mailbox_of<'s>(state: &'s mut ObservedState, upn: &str) -> Option<&'s mut ObservedMailbox> {
    let owner = user_by_upn(state, upn)?;
    state.exchange.as_mut()?.mailboxes.get_mut(&owner)
}

fn set_right(state: &mut ObservedState, mailbox: &str, trustee: &str, right: SharedMailboxRight, granted: bool) {
    let Some(access) = access_of(state, mailbox) else { return };
    let key = trustee.to_lowercase();
    if granted {
        access.entry(key).or_default().insert(right);
    } else if let Some(rights) = access.get_mut(&key) {
        rights.remove(&right);
        if rights.is_empty() {
            access.remove(&key);
        }
    }
}

/// Applies one Exchange step to `state.exchange`, as a perfectly behaving Exchange Online would.
fn apply_exchange_step(action: &Action, state: &mut ObservedState) {
    if state.exchange.is_none() {
        return;
    }
    match action {
        Action::CreateMailList { name, kind, .. } => {
            if let Some(exchange) = state.exchange.as_mut() {
                exchange.lists.entry(name.to_lowercase()).or_insert_with(|| ObservedMailList {
                    name: name.clone(),
                    kind: *kind,
                    members: Default::default(),
                });
            }
        }
        Action::AddMailListMember { list, member } | Action::RemoveMailListMember { list, member } => {
            let adding = matches!(action, Action::AddMailListMember { .. });
            let Some(member) = user_by_upn(state, member) else { return };
            if let Some(list) =
                state.exchange.as_mut().and_then(|exchange| exchange.lists.get_mut(&list.to_lowercase()))
            {
                if adding {
                    list.members.insert(member);
                } else {
                    list.members.remove(&member);
                }
            }
        }
        Action::AwaitMailbox { mailbox } => {
            let Some(owner) = user_by_upn(state, mailbox) else { return };
            if let Some(exchange) = state.exchange.as_mut() {
                exchange.mailboxes.entry(owner).or_insert_with(|| ObservedMailbox {
                    identity: mailbox.clone(),
                    shared: false,
                    hidden: false,
                    access: None,
                });
            }
        }
        Action::GrantMailboxRight { mailbox, trustee, right, .. } => set_right(state, mailbox, trustee, *right, true),
        Action::RevokeMailboxRight { mailbox, trustee, right } => set_right(state, mailbox, trustee, *right, false),
        Action::SetMailboxHidden { mailbox, hidden } => {
            if let Some(mailbox) = mailbox_of(state, mailbox) {
                mailbox.hidden = *hidden;
            }
        }
        Action::ConvertMailbox { mailbox, shared } => {
            if let Some(mailbox) = mailbox_of(state, mailbox) {
                mailbox.shared = *shared;
            }
        }
        _ => {}
    }
}
