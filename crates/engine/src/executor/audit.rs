//! The audit entry of a finished step: who, what, before and after, why, under which policy revision.

use chrono::Utc;
use model::{Action, ObjectId, Step, UserRef};
use serde_json::{Value, json};
use store::NewAuditEntry;

fn user_text(user: &UserRef) -> String {
    match user {
        UserRef::Existing(id) => id.to_string(),
        UserRef::Planned(worker) => format!("worker {worker}"),
    }
}

/// The audit entry for `step`, done with `object_id` (for creates). Passwords are never part of it.
pub(super) fn entry(
    step: &Step,
    object_id: Option<&ObjectId>,
    note: Option<String>,
    policy_revision: &str,
) -> NewAuditEntry {
    let (target, before, after) = match &step.action {
        Action::CreateUser { user_principal_name, mail_nickname, mail, account_enabled, attributes, .. } => {
            let mut after = json!({
                "userPrincipalName": user_principal_name,
                "mailNickname": mail_nickname,
                "mail": mail,
                "accountEnabled": account_enabled,
            });
            for (attribute, value) in attributes {
                after[attribute.graph_name()] = Value::String(value.clone());
            }
            (object_id.map_or_else(|| user_principal_name.clone(), ToString::to_string), Value::Null, after)
        }
        Action::UpdateUser { user, changes } => {
            let mut before = json!({});
            let mut after = json!({});
            for change in changes {
                before[change.attribute.graph_name()] = json!(change.from);
                after[change.attribute.graph_name()] = json!(change.to);
            }
            (user_text(user), before, after)
        }
        Action::SetManager { user, manager } => {
            (user_text(user), Value::Null, json!({ "manager": user_text(manager) }))
        }
        Action::RemoveManager { user } => (user.to_string(), json!({ "manager": "set" }), json!({ "manager": null })),
        Action::EnableAccount { user } => {
            (user_text(user), json!({"accountEnabled": false}), json!({"accountEnabled": true}))
        }
        Action::DisableAccount { user } => {
            (user_text(user), json!({"accountEnabled": true}), json!({"accountEnabled": false}))
        }
        Action::ResetPassword { user } => (user_text(user), Value::Null, json!({ "password": "reset" })),
        Action::RevokeSessions { user } => (user_text(user), Value::Null, json!({ "sessions": "revoked" })),
        Action::RestoreUser { user } => (user.to_string(), json!({ "deleted": true }), json!({ "deleted": false })),
        Action::DeleteUser { user } => (user.to_string(), json!({ "deleted": false }), json!({ "deleted": true })),
        Action::CreateGroup { mail_nickname, display_name, kind } => (
            object_id.map_or_else(|| mail_nickname.clone(), ToString::to_string),
            Value::Null,
            json!({ "mailNickname": mail_nickname, "displayName": display_name, "kind": format!("{kind:?}") }),
        ),
        Action::AddMembers { group, members } => {
            (format!("{group:?}"), Value::Null, json!({ "added": members.iter().map(user_text).collect::<Vec<_>>() }))
        }
        Action::RemoveMember { group, member } => (group.to_string(), json!({ "member": member }), Value::Null),
        Action::AssignLicenses { user, add, remove } => {
            (user_text(user), json!({ "removed": remove }), json!({ "added": add }))
        }
        Action::CreateMailList { name, kind, owner, join_restriction, depart_restriction } => (
            name.clone(),
            Value::Null,
            json!({
                "name": name,
                "kind": format!("{kind:?}"),
                "managedBy": owner,
                "memberJoinRestriction": join_restriction.as_str(),
                "memberDepartRestriction": depart_restriction.as_str(),
                "createdByTenure": true,
            }),
        ),
        Action::AddMailListMember { list, member } => (list.clone(), Value::Null, json!({ "member": member })),
        Action::RemoveMailListMember { list, member } => (list.clone(), json!({ "member": member }), Value::Null),
        Action::AwaitMailbox { mailbox } => (mailbox.clone(), Value::Null, json!({ "mailbox": "exists" })),
        Action::GrantMailboxRight { mailbox, trustee, right, auto_mapping } => (
            mailbox.clone(),
            Value::Null,
            json!({ "trustee": trustee, "right": right.as_str(), "autoMapping": auto_mapping }),
        ),
        Action::RevokeMailboxRight { mailbox, trustee, right } => {
            (mailbox.clone(), json!({ "trustee": trustee, "right": right.as_str() }), Value::Null)
        }
        Action::SetMailboxHidden { mailbox, hidden } => (
            mailbox.clone(),
            json!({ "hiddenFromAddressListsEnabled": !hidden }),
            json!({ "hiddenFromAddressListsEnabled": hidden }),
        ),
        Action::SetAutoReply { mailbox, reply } => (
            mailbox.clone(),
            Value::Null,
            match reply {
                Some(reply) => {
                    json!({ "autoReply": "enabled", "internal": reply.internal, "external": reply.external })
                }
                None => json!({ "autoReply": "disabled" }),
            },
        ),
        Action::ConvertMailbox { mailbox, shared } => {
            let kind = |shared: bool| if shared { "SharedMailbox" } else { "UserMailbox" };
            (mailbox.clone(), json!({ "type": kind(!shared) }), json!({ "type": kind(*shared) }))
        }
        Action::ConfirmMailboxShared { mailbox } => (mailbox.clone(), Value::Null, json!({ "type": "SharedMailbox" })),
    };
    let reason = match note {
        Some(note) => format!("{} ({note})", step.reason),
        None => step.reason.clone(),
    };
    NewAuditEntry {
        worker: step.worker.as_ref().map(ToString::to_string),
        action: step.action.kind().to_string(),
        target,
        before,
        after,
        reason,
        policy_revision: policy_revision.to_string(),
        at: Utc::now(),
    }
}
