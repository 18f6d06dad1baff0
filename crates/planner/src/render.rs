//! Rendering plans: a Terraform-like text for people (stable, so it can be snapshot-tested and diffed) and
//! pretty JSON for machines.
//!
//! Every step is one line (`+` creates/adds, `~` changes, `-` removes) with its dependencies, followed by an
//! indented `# because …` line; then skipped workers, diagnostics and a summary line. A plan names existing users
//! and groups only by object ID; [`render_text_with_names`] uses the observed tenant to print UPNs, employee IDs,
//! group nicknames and SKU part numbers instead.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use model::{
    Action, GroupKind, GroupRef, MailGroupKind, ObjectId, ObservedState, Plan, SharedMailboxRight, Step, UserRef,
};

/// Names for object IDs, from the observed tenant and the plan's own creates.
#[derive(Debug, Default)]
struct Names {
    users: BTreeMap<ObjectId, String>,
    groups: BTreeMap<ObjectId, String>,
    skus: BTreeMap<String, String>,
    upns: BTreeMap<ObjectId, String>,
}

impl Names {
    fn from_observed(observed: &ObservedState) -> Self {
        let mut names = Self::default();
        for user in observed.users.values().chain(observed.deleted_users.values()) {
            let name = user.employee_id().map_or_else(|| user.user_principal_name.clone(), str::to_string);
            names.users.insert(user.id.clone(), name);
            names.upns.insert(user.id.clone(), user.user_principal_name.clone());
        }
        for group in observed.groups.values() {
            names.groups.insert(group.id.clone(), group.mail_nickname.clone());
        }
        for sku in &observed.skus {
            names.skus.insert(sku.sku_id.clone(), sku.sku_part_number.clone());
        }
        names
    }

    fn user(&self, user: &UserRef) -> String {
        match user {
            UserRef::Planned(worker) => worker.to_string(),
            UserRef::Existing(id) => self.object(id),
        }
    }

    fn object(&self, id: &ObjectId) -> String {
        self.users.get(id).cloned().unwrap_or_else(|| id.to_string())
    }

    /// The step's own user: its worker when known.
    fn subject(&self, step: &Step, user: &UserRef) -> String {
        step.worker.as_ref().map_or_else(|| self.user(user), ToString::to_string)
    }

    fn group(&self, group: &GroupRef) -> String {
        match group {
            GroupRef::Planned(nickname) => nickname.clone(),
            GroupRef::Existing(id) => self.groups.get(id).cloned().unwrap_or_else(|| id.to_string()),
        }
    }

    fn sku(&self, id: &str) -> String {
        self.skus.get(id).cloned().unwrap_or_else(|| id.to_string())
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

fn quoted(value: Option<&String>) -> String {
    value.map_or_else(|| "(empty)".to_string(), |value| format!("{value:?}"))
}

/// The symbol and the text of one step's line.
fn describe(step: &Step, names: &Names) -> (char, String) {
    match &step.action {
        Action::CreateUser { worker, user_principal_name, account_enabled, .. } => {
            let state = if *account_enabled { "" } else { ", disabled" };
            ('+', format!("create user {user_principal_name} (worker {worker}{state})"))
        }
        Action::RestoreUser { user } => {
            let upn = names.upns.get(user).cloned().unwrap_or_else(|| user.to_string());
            let worker = step.worker.as_ref().map_or(String::new(), |worker| format!(" (worker {worker})"));
            ('+', format!("restore deleted user {upn}{worker}"))
        }
        Action::UpdateUser { user, changes } => {
            // A change from a value to itself is carried only because Graph needs it on the wire (the other half
            // of `employeeOrgData`); it is not a change anyone needs to review.
            let changes: Vec<String> = changes
                .iter()
                .filter(|change| change.from != change.to)
                .map(|change| {
                    format!("{} {} → {}", change.attribute, quoted(change.from.as_ref()), quoted(change.to.as_ref()))
                })
                .collect();
            ('~', format!("update user {}: {}", names.subject(step, user), changes.join(", ")))
        }
        Action::SetManager { user, manager } => {
            ('~', format!("set manager of {} to {}", names.subject(step, user), names.user(manager)))
        }
        Action::RemoveManager { user } => {
            ('-', format!("remove manager of {}", names.subject(step, &UserRef::Existing(user.clone()))))
        }
        Action::EnableAccount { user } => ('~', format!("enable account {}", names.subject(step, user))),
        Action::DisableAccount { user } => ('~', format!("disable account {}", names.subject(step, user))),
        Action::ResetPassword { user } => ('~', format!("reset password of {}", names.subject(step, user))),
        Action::RevokeSessions { user } => ('~', format!("revoke sessions of {}", names.subject(step, user))),
        Action::CreateGroup { mail_nickname, display_name, kind } => {
            let kind = match kind {
                GroupKind::Security => "security",
                GroupKind::Microsoft365 => "microsoft365",
                GroupKind::Other => "other",
            };
            ('+', format!("create group {mail_nickname} ({display_name:?}, {kind})"))
        }
        Action::AddMembers { group, members } => {
            let members: Vec<String> = members.iter().map(|member| names.user(member)).collect();
            ('+', format!("add members to {}: {}", names.group(group), members.join(", ")))
        }
        Action::RemoveMember { group, member } => {
            let member = names.subject(step, &UserRef::Existing(member.clone()));
            ('-', format!("remove member {member} from {}", names.group(&GroupRef::Existing(group.clone()))))
        }
        Action::AssignLicenses { user, add, remove } => {
            let symbol = match (add.is_empty(), remove.is_empty()) {
                (false, true) => '+',
                (true, false) => '-',
                _ => '~',
            };
            let changes: Vec<String> = add
                .iter()
                .map(|id| format!("+{}", names.sku(id)))
                .chain(remove.iter().map(|id| format!("-{}", names.sku(id))))
                .collect();
            (symbol, format!("assign licences {}: {}", names.subject(step, user), changes.join(" ")))
        }
        Action::DeleteUser { user } => {
            ('-', format!("delete user {}", names.subject(step, &UserRef::Existing(user.clone()))))
        }
        Action::CreateMailList { name, kind, owner, .. } => {
            let kind = match kind {
                MailGroupKind::Distribution => "distribution list",
                MailGroupKind::Security => "mail-enabled security group",
            };
            let owner = owner.as_ref().map_or(String::new(), |owner| format!(", owner {owner}"));
            ('+', format!("exchange: create {kind} {name}{owner}"))
        }
        Action::AddMailListMember { list, member } => ('+', format!("exchange: add {member} to list {list}")),
        Action::RemoveMailListMember { list, member } => ('-', format!("exchange: remove {member} from list {list}")),
        Action::AwaitMailbox { mailbox } => ('~', format!("exchange: wait for the mailbox of {mailbox}")),
        Action::GrantMailboxRight { mailbox, trustee, right, auto_mapping } => {
            let mapping = match right {
                SharedMailboxRight::FullAccess if !auto_mapping => " (no auto-mapping)",
                _ => "",
            };
            ('+', format!("exchange: grant {trustee} {right}{mapping} on mailbox {mailbox}"))
        }
        Action::RevokeMailboxRight { mailbox, trustee, right } => {
            ('-', format!("exchange: revoke {right} of {trustee} on mailbox {mailbox}"))
        }
        Action::SetMailboxHidden { mailbox, hidden } => {
            let what = if *hidden { "hide" } else { "show" };
            ('~', format!("exchange: {what} mailbox {mailbox} in the address lists"))
        }
        Action::SetAutoReply { mailbox, reply } => match reply {
            Some(reply) => ('~', format!("exchange: set the auto-reply of {mailbox}: {:?}", reply.internal)),
            None => ('~', format!("exchange: turn off the auto-reply of {mailbox}")),
        },
        Action::ConvertMailbox { mailbox, shared } => {
            let to = if *shared { "a shared mailbox" } else { "a regular mailbox" };
            ('~', format!("exchange: convert mailbox {mailbox} to {to}"))
        }
        Action::ConfirmMailboxShared { mailbox } => {
            ('~', format!("exchange: confirm mailbox {mailbox} is shared before its licences go"))
        }
    }
}

fn render(plan: &Plan, names: &Names) -> String {
    let mut text = String::new();
    let (mut created, mut changed, mut removed) = (0, 0, 0);
    if plan.steps.is_empty() {
        text.push_str("No changes: the tenant matches the desired state.\n");
    } else {
        let _ = writeln!(
            text,
            "Tenure will perform the following {} ({}):\n",
            plural(plan.steps.len(), "step"),
            plural(plan.managed_accounts, "managed account")
        );
    }
    for step in &plan.steps {
        let (symbol, line) = describe(step, names);
        match symbol {
            '+' => created += 1,
            '-' => removed += 1,
            _ => changed += 1,
        }
        let after = if step.depends_on.is_empty() {
            String::new()
        } else {
            let deps: Vec<String> = step.depends_on.iter().map(ToString::to_string).collect();
            format!(" (after {})", deps.join(", "))
        };
        let _ = writeln!(text, "  {symbol} {} {line}{after}", step.id);
        let _ = writeln!(text, "      # because {}", step.reason);
    }
    if !plan.skipped.is_empty() {
        text.push_str("\nSkipped:\n");
        for skipped in &plan.skipped {
            let _ = writeln!(text, "  ! {}: {}", skipped.worker, skipped.reason);
        }
    }
    if !plan.diagnostics.is_empty() {
        text.push_str("\nDiagnostics:\n");
        for diagnostic in &plan.diagnostics {
            let _ = writeln!(text, "  {diagnostic}");
        }
    }
    let _ = writeln!(
        text,
        "\nPlan: {created} to create, {changed} to change, {removed} to remove, {} skipped.",
        plan.skipped.len()
    );
    text
}

/// The plan as stable, Terraform-like text; existing users and groups appear by employee ID (from the steps'
/// worker) or object ID.
#[must_use]
pub fn render_text(plan: &Plan) -> String {
    render(plan, &Names::default())
}

/// Like [`render_text`], but names existing users (employee ID, else UPN), groups (mailNickname) and licences
/// (SKU part number) from the tenant the plan was made against.
#[must_use]
pub fn render_text_with_names(plan: &Plan, observed: &ObservedState) -> String {
    render(plan, &Names::from_observed(observed))
}

/// The plan as pretty-printed JSON (the `model::Plan` serialization).
#[must_use]
pub fn render_json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}
