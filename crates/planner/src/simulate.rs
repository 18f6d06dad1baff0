//! A model of a perfect apply: what the tenant looks like after every step of a plan succeeded.
//!
//! Used by the planner's property tests (plan → apply → plan again must be empty) and by engine tests. New
//! objects get IDs derived from their keys (`new-user-<worker>`, `new-group-<mailNickname>`), so the result is
//! deterministic. Steps whose references cannot be resolved are ignored, as a failed request would be.

use std::collections::BTreeMap;

use model::{
    Action, DirectoryGroup, DirectoryUser, GroupRef, ObjectId, ObservedState, Plan, UserAttribute, UserRef, WorkerId,
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
            // Exchange steps: see `apply_exchange_step` (the planner's Exchange work lands it).
            Action::CreateMailList { .. }
            | Action::AddMailListMember { .. }
            | Action::RemoveMailListMember { .. }
            | Action::AwaitMailbox { .. }
            | Action::GrantMailboxRight { .. }
            | Action::RevokeMailboxRight { .. }
            | Action::SetMailboxHidden { .. }
            | Action::SetAutoReply { .. }
            | Action::ConvertMailbox { .. }
            | Action::ConfirmMailboxShared { .. } => {}
            Action::DeleteUser { user } => {
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
