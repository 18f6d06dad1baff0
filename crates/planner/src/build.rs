//! Step generation: turns matched workers into the ordered, dependency-aware steps of a [`Plan`].
//!
//! Steps are emitted in phases, each phase walking workers in employee-ID order, so every dependency points to
//! an earlier step: create groups → restore and create users (managers before reports) → attribute updates and
//! enable/disable → managers → membership adds (≤20 per step) → licences → Exchange steps of accounts that stay
//! (`crate::exchange`) → leaver sequences (disable → reset password → revoke sessions) → removals (memberships,
//! the leaver's mailbox sequence, leaver licences last) → deletes.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use model::{
    Action, AttributeChange, AttributeMap, DesiredAccount, DesiredState, Diagnostic, DirectoryGroup, DirectoryUser,
    GroupKind, GroupRef, LifecycleStage, ObjectId, ObservedState, Plan, SourceLocation, Step, StepId, UserAttribute,
    UserRef, VecSet, WorkerId,
};

use crate::exchange;
use crate::matching::{Disposition, MatchKind, match_workers};

/// The growing list of steps.
#[derive(Default)]
pub(crate) struct Steps {
    pub(crate) steps: Vec<Step>,
}

impl Steps {
    /// Appends a step depending on the given earlier steps (`None`s are skipped).
    pub(crate) fn push(
        &mut self,
        worker: Option<&WorkerId>,
        action: Action,
        deps: impl IntoIterator<Item = Option<StepId>>,
        reason: String,
    ) -> StepId {
        let id = StepId(u32::try_from(self.steps.len()).unwrap_or(u32::MAX));
        let mut depends_on: Vec<StepId> = deps.into_iter().flatten().collect();
        debug_assert!(depends_on.iter().all(|dep| *dep < id), "a dependency of step {id} comes after it");
        depends_on.retain(|dep| *dep < id);
        depends_on.sort_unstable();
        depends_on.dedup();
        self.steps.push(Step { id, worker: worker.cloned(), action, depends_on, reason });
        id
    }
}

/// What the plan does with a worker's account overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The account should exist (pre-hire, active, on leave).
    Keep,
    /// A leaver: disabled, memberships and licences removed, account kept.
    Leaver,
    /// Deleted after the leaver sequence.
    Delete,
}

/// A worker whose account this plan acts on, with its state as the plan goes along.
pub(crate) struct Subject<'a> {
    pub(crate) account: &'a DesiredAccount,
    pub(crate) mode: Mode,
    user: UserRef,
    /// The live (or restored) user; `None` for an account this plan creates.
    pub(crate) object: Option<ObjectId>,
    /// The account's UPN: the observed user's, or the one its `CreateUser` step chooses.
    pub(crate) upn: &'a str,
    how: Option<MatchKind>,
    restored_from: Option<&'a DirectoryUser>,
    /// The step that creates or restores the account.
    pub(crate) base: Option<StepId>,
    /// The account's attributes as they will be after this plan's earlier steps; borrowed from the observed
    /// user until a step changes them (a copy of every account's attributes is most of a no-op plan's memory).
    attributes: Cow<'a, AttributeMap>,
    enabled: bool,
    manager: Option<ObjectId>,
    /// The SKU IDs the account holds before this plan.
    pub(crate) licenses: Cow<'a, VecSet<String>>,
    update: Option<StepId>,
    update_sets_usage_location: bool,
    pub(crate) revoke: Option<StepId>,
    disable: Option<StepId>,
    removals: Vec<StepId>,
    /// This plan's licence step for the account.
    pub(crate) licence: Option<StepId>,
    /// The last step of a leaver's mailbox sequence: the leaver's licence removal waits for it.
    pub(crate) mailbox_gate: Option<StepId>,
    /// Why a leaver's licence removal is held back (the mailbox would lose its mail); `None`: not held.
    pub(crate) licence_hold: Option<&'static str>,
}

/// Where a managed group stands.
enum GroupState<'a> {
    Existing(&'a DirectoryGroup),
    Planned(StepId),
    Unavailable(String),
}

/// Where the worker's HR record is (`hr.csv:12`), for reasons.
pub(crate) fn origin(account: &DesiredAccount) -> String {
    match account.origin.line {
        Some(line) => format!("{}:{line}", account.origin.file),
        None => account.origin.file.clone(),
    }
}

/// The lifecycle stage in words, for reasons.
pub(crate) fn stage_text(stage: &LifecycleStage) -> String {
    match stage {
        LifecycleStage::NotYet { create_on } => format!("account not due until {create_on}"),
        LifecycleStage::PreHire { start_date } => format!("pre-hire starting {start_date}"),
        LifecycleStage::Active => "active worker".to_string(),
        LifecycleStage::OnLeave { leave_type, keep_enabled } => {
            let kind = leave_type.as_deref().map_or(String::new(), |kind| format!(" ({kind})"));
            let enabled = if *keep_enabled { "kept enabled" } else { "disabled during leave" };
            format!("on leave{kind}, {enabled}")
        }
        LifecycleStage::Terminated { last_day } => format!("last working day {last_day} passed"),
        LifecycleStage::Delete { last_day } => {
            format!("last working day {last_day} passed and the retention period is over")
        }
    }
}

/// A warning about one worker.
pub(crate) fn worker_diagnostic(account: &DesiredAccount, field: Option<&str>, message: String) -> Diagnostic {
    let source = SourceLocation {
        file: account.origin.file.clone(),
        line: account.origin.line,
        record: Some(account.worker_id.to_string()),
    };
    Diagnostic::warning(source, field, message)
}

/// A warning about the tenant (not one worker's record).
pub(crate) fn tenant_diagnostic(message: String) -> Diagnostic {
    Diagnostic::warning(SourceLocation { file: "tenant".to_string(), line: None, record: None }, None, message)
}

/// Employee IDs as a comma-separated list.
pub(crate) fn join_ids(ids: &[&WorkerId]) -> String {
    ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Graph writes `employeeOrgData` as a whole: a member left out of a PATCH is reset to null. So when one of
/// `costCenter` and `division` changes, the other goes along with its current value (a change to itself, which
/// the plan rendering does not show).
fn keep_org_data_whole(changes: &mut Vec<AttributeChange>, current: &AttributeMap) {
    let pair = [UserAttribute::CostCenter, UserAttribute::Division];
    let changed: Vec<UserAttribute> =
        changes.iter().map(|change| change.attribute).filter(|attribute| pair.contains(attribute)).collect();
    if changed.len() != 1 {
        return;
    }
    let companion =
        if changed[0] == UserAttribute::CostCenter { UserAttribute::Division } else { UserAttribute::CostCenter };
    let value = current.get(&companion).cloned();
    changes.push(AttributeChange { attribute: companion, from: value.clone(), to: value });
    changes.sort_by_key(|change| UserAttribute::ALL.iter().position(|attribute| *attribute == change.attribute));
}

/// The value a worker should have for a managed `attribute` (`employeeId` is the worker ID; empty is absent),
/// borrowed: comparing 100,000 accounts must not copy their attributes.
fn wanted_value<'a>(
    desired: &DesiredState,
    account: &'a DesiredAccount,
    attribute: UserAttribute,
) -> Option<Cow<'a, str>> {
    if attribute == UserAttribute::EmployeeId {
        return Some(Cow::Borrowed(account.worker_id.as_str()));
    }
    if !desired.managed_attributes.contains(&attribute) {
        return None;
    }
    account.attributes.get(&attribute).filter(|value| !value.is_empty()).map(|value| Cow::Borrowed(value.as_str()))
}

/// The managed attribute values a worker should have (`employeeId` always managed; empty values are absent).
fn wanted_attributes(desired: &DesiredState, account: &DesiredAccount) -> AttributeMap {
    let mut wanted = AttributeMap::new();
    for attribute in UserAttribute::ALL {
        if attribute == UserAttribute::EmployeeId {
            wanted.insert(attribute, account.worker_id.to_string());
        } else if desired.managed_attributes.contains(&attribute)
            && let Some(value) = account.attributes.get(&attribute).filter(|value| !value.is_empty())
        {
            wanted.insert(attribute, value.clone());
        }
    }
    wanted
}

fn is_managed(desired: &DesiredState, attribute: UserAttribute) -> bool {
    attribute == UserAttribute::EmployeeId || desired.managed_attributes.contains(&attribute)
}

/// Builds the plan (see the crate docs).
pub(crate) fn plan(desired: &DesiredState, observed: &ObservedState) -> Plan {
    let mut out = Plan {
        managed_accounts: observed.users.values().filter(|user| desired.scope.contains(user)).count(),
        ..Plan::default()
    };
    let matching = match_workers(desired, observed, &mut out.skipped);
    let mut steps = Steps::default();

    // Subjects, in employee-ID order.
    let mut subjects: Vec<Subject<'_>> = Vec::with_capacity(matching.workers.len());
    let mut creates: BTreeMap<WorkerId, (Action, String)> = BTreeMap::new();
    for matched in &matching.workers {
        let account = matched.account;
        let mode = match account.stage {
            LifecycleStage::Terminated { .. } => Mode::Leaver,
            LifecycleStage::Delete { .. } if account.keep_account => Mode::Leaver,
            LifecycleStage::Delete { .. } => Mode::Delete,
            _ => Mode::Keep,
        };
        let (user, how, restored) = match &matched.disposition {
            Disposition::Nothing => continue,
            Disposition::Live { user, how } => (*user, Some(how.clone()), None),
            Disposition::Restore { user } => (*user, None, Some(*user)),
            Disposition::Create { name } => {
                let mut attributes = wanted_attributes(desired, account);
                attributes.get_or_insert_with(UserAttribute::DisplayName, || name.mail_nickname.clone());
                let enabled = account.stage.account_enabled();
                let reason = match &account.stage {
                    LifecycleStage::PreHire { start_date } => format!("new hire starting {start_date}"),
                    LifecycleStage::Active => "new hire".to_string(),
                    other => format!("worker without an account, {}", stage_text(other)),
                };
                creates.insert(
                    account.worker_id.clone(),
                    (
                        Action::CreateUser {
                            worker: account.worker_id.clone(),
                            user_principal_name: name.user_principal_name.clone(),
                            mail_nickname: name.mail_nickname.clone(),
                            mail: name.mail.clone(),
                            account_enabled: enabled,
                            attributes: attributes.clone(),
                        },
                        format!("{reason} ({})", origin(account)),
                    ),
                );
                subjects.push(Subject {
                    account,
                    mode,
                    user: UserRef::Planned(account.worker_id.clone()),
                    object: None,
                    upn: &name.user_principal_name,
                    how: None,
                    restored_from: None,
                    base: None,
                    attributes: Cow::Owned(attributes),
                    enabled,
                    manager: None,
                    licenses: Cow::Owned(VecSet::new()),
                    update: None,
                    update_sets_usage_location: false,
                    revoke: None,
                    disable: None,
                    removals: Vec::new(),
                    licence: None,
                    mailbox_gate: None,
                    licence_hold: None,
                });
                continue;
            }
        };
        subjects.push(Subject {
            account,
            mode,
            user: UserRef::Existing(user.id.clone()),
            object: Some(user.id.clone()),
            upn: &user.user_principal_name,
            how,
            restored_from: restored,
            base: None,
            attributes: Cow::Borrowed(&user.attributes),
            enabled: user.account_enabled,
            manager: user.manager.clone(),
            licenses: Cow::Borrowed(&user.licenses),
            update: None,
            update_sets_usage_location: false,
            revoke: None,
            disable: None,
            removals: Vec::new(),
            licence: None,
            mailbox_gate: None,
            licence_hold: None,
        });
    }
    let exchange = exchange::prepare(desired, observed, &mut subjects, &mut out);

    // Phase 0: groups.
    let mut observed_groups: BTreeMap<String, Vec<&DirectoryGroup>> = BTreeMap::new();
    for group in observed.groups.values() {
        observed_groups.entry(group.mail_nickname.to_ascii_lowercase()).or_default().push(group);
    }
    let mut nicknames: BTreeSet<&str> = desired.groups.keys().map(String::as_str).collect();
    for subject in &subjects {
        nicknames.extend(subject.account.groups.keys().map(String::as_str));
    }
    // Missing groups are created only when someone is to become a member.
    let needed: BTreeSet<&str> = subjects
        .iter()
        .filter(|subject| subject.mode != Mode::Delete)
        .flat_map(|subject| subject.account.groups.keys().map(String::as_str))
        .collect();
    let mut groups: BTreeMap<&str, GroupState<'_>> = BTreeMap::new();
    for nickname in &nicknames {
        let state = match observed_groups.get(&nickname.to_ascii_lowercase()).map(Vec::as_slice) {
            Some([group]) if group.dynamic => GroupState::Unavailable("has dynamic membership".to_string()),
            Some([group]) if group.kind == GroupKind::Other => GroupState::Unavailable(
                "is neither a security group nor a Microsoft 365 group (Exchange manages it)".to_string(),
            ),
            Some([group]) => GroupState::Existing(group),
            Some(many) if many.len() > 1 => {
                GroupState::Unavailable(format!("is the mailNickname of {} groups", many.len()))
            }
            _ => match desired.groups.get(*nickname) {
                Some(_) if !needed.contains(nickname) => continue,
                Some(wanted) if wanted.create_if_missing && wanted.kind != GroupKind::Other => {
                    GroupState::Planned(steps.push(
                        None,
                        Action::CreateGroup {
                            mail_nickname: wanted.mail_nickname.clone(),
                            display_name: wanted.display_name.clone(),
                            kind: wanted.kind,
                        },
                        [],
                        "a group rule refers to it and the policy may create it".to_string(),
                    ))
                }
                Some(_) => GroupState::Unavailable("does not exist and the policy does not create it".to_string()),
                None => GroupState::Unavailable("does not exist and no group rule describes it".to_string()),
            },
        };
        groups.insert(nickname, state);
    }

    // Phase 1: restores, then creates (managers before reports).
    for subject in &mut subjects {
        if let Some(user) = subject.restored_from {
            subject.base = Some(steps.push(
                Some(&subject.account.worker_id),
                Action::RestoreUser { user: user.id.clone() },
                [],
                format!(
                    "rehire: soft-deleted account {} carries employee ID {} ({})",
                    user.user_principal_name,
                    subject.account.worker_id,
                    origin(subject.account)
                ),
            ));
        }
    }
    let mut create_steps: BTreeMap<WorkerId, StepId> = BTreeMap::new();
    let managers: BTreeMap<&WorkerId, &WorkerId> = subjects
        .iter()
        .filter_map(|subject| subject.account.manager.as_ref().map(|manager| (&subject.account.worker_id, manager)))
        .collect();
    let pending: Vec<WorkerId> = creates.keys().cloned().collect();
    for worker in pending {
        let mut chain = vec![worker.clone()];
        let mut current = &worker;
        while let Some(manager) = managers.get(current) {
            if chain.contains(manager) || !creates.contains_key(*manager) {
                break;
            }
            chain.push((*manager).clone());
            current = manager;
        }
        for worker in chain.into_iter().rev() {
            if let Some((action, reason)) = creates.remove(&worker) {
                let id = steps.push(Some(&worker), action, [], reason);
                create_steps.insert(worker, id);
            }
        }
    }
    for subject in &mut subjects {
        if let Some(id) = create_steps.get(&subject.account.worker_id) {
            subject.base = Some(*id);
        }
    }

    // Phase 2: attribute updates, enable/disable of accounts that stay.
    for subject in &mut subjects {
        if subject.mode == Mode::Delete {
            continue;
        }
        let account = subject.account;
        let mut changes = Vec::new();
        for attribute in UserAttribute::ALL {
            if !is_managed(desired, attribute) {
                continue;
            }
            let to = wanted_value(desired, account, attribute);
            let from = subject.attributes.get(&attribute);
            if to.as_deref() == from.map(String::as_str) || (to.is_none() && attribute == UserAttribute::DisplayName) {
                continue;
            }
            changes.push(AttributeChange { attribute, from: from.cloned(), to: to.map(Cow::into_owned) });
        }
        keep_org_data_whole(&mut changes, &subject.attributes);
        if !changes.is_empty() {
            let why = match (&subject.how, subject.restored_from) {
                (_, Some(_)) => "rehire: bring the restored account up to date".to_string(),
                (Some(MatchKind::PreviousId(old)), _) => format!("employee ID changed from {old}"),
                (Some(MatchKind::SecondaryKey), _) => "adopting an existing account by secondary key".to_string(),
                _ => "HR record differs from the account".to_string(),
            };
            subject.update_sets_usage_location =
                changes.iter().any(|change| change.attribute == UserAttribute::UsageLocation);
            for change in &changes {
                match &change.to {
                    Some(value) => subject.attributes.to_mut().insert(change.attribute, value.clone()),
                    None => subject.attributes.to_mut().remove(&change.attribute),
                };
            }
            subject.update = Some(steps.push(
                Some(&account.worker_id),
                Action::UpdateUser { user: subject.user.clone(), changes },
                [subject.base],
                format!("{why} ({})", origin(account)),
            ));
        }
        if subject.mode == Mode::Keep && subject.enabled != account.stage.account_enabled() {
            let action = if account.stage.account_enabled() {
                Action::EnableAccount { user: subject.user.clone() }
            } else {
                Action::DisableAccount { user: subject.user.clone() }
            };
            subject.enabled = account.stage.account_enabled();
            steps.push(
                Some(&account.worker_id),
                action,
                [subject.base],
                format!("{} ({})", stage_text(&account.stage), origin(account)),
            );
        }
    }

    // Phase 3: managers.
    let mut manager_refs: BTreeMap<&WorkerId, (UserRef, Option<StepId>)> = BTreeMap::new();
    for subject in &subjects {
        if subject.mode != Mode::Delete {
            manager_refs.insert(&subject.account.worker_id, (subject.user.clone(), subject.base));
        }
    }
    let leaving: BTreeSet<&WorkerId> = matching
        .workers
        .iter()
        .filter(|matched| {
            matches!(matched.account.stage, LifecycleStage::Delete { .. }) && !matched.account.keep_account
        })
        .map(|matched| &matched.account.worker_id)
        .collect();
    // Built on first need: in a resync every manager is one of the subjects.
    let mut live_by_employee_id: Option<BTreeMap<&str, Vec<&ObjectId>>> = None;
    for subject in &subjects {
        if subject.mode == Mode::Delete {
            continue;
        }
        let account = subject.account;
        match &account.manager {
            Some(manager) if *manager != account.worker_id => {
                let resolved = manager_refs.get(manager).cloned().or_else(|| {
                    if leaving.contains(manager) {
                        return None;
                    }
                    if let Some(id) = matching.claimed.get(manager) {
                        return Some((UserRef::Existing((*id).clone()), None));
                    }
                    let live_by_employee_id = live_by_employee_id.get_or_insert_with(|| {
                        let mut by_employee_id: BTreeMap<&str, Vec<&ObjectId>> = BTreeMap::new();
                        for user in observed.users.values() {
                            if let Some(eid) = user.employee_id() {
                                by_employee_id.entry(eid).or_default().push(&user.id);
                            }
                        }
                        by_employee_id
                    });
                    match live_by_employee_id.get(manager.as_str()).map(Vec::as_slice) {
                        Some([id]) => Some((UserRef::Existing((*id).clone()), None)),
                        _ => None,
                    }
                });
                let Some((manager_ref, manager_step)) = resolved else { continue };
                let current = subject.manager.as_ref().map(|id| UserRef::Existing(id.clone()));
                if current.as_ref() != Some(&manager_ref) {
                    steps.push(
                        Some(&account.worker_id),
                        Action::SetManager { user: subject.user.clone(), manager: manager_ref },
                        [subject.base, manager_step],
                        format!("manager is employee {manager} ({})", origin(account)),
                    );
                }
            }
            Some(_) => {}
            None => {
                if let (Some(object), Some(_)) = (&subject.object, &subject.manager) {
                    steps.push(
                        Some(&account.worker_id),
                        Action::RemoveManager { user: object.clone() },
                        [subject.base],
                        format!("HR record names no manager ({})", origin(account)),
                    );
                }
            }
        }
    }

    // Phase 4: membership adds.
    for (nickname, state) in &groups {
        let mut wanting: Vec<(UserRef, Option<StepId>, &WorkerId, &str)> = Vec::new();
        for subject in &subjects {
            if subject.mode == Mode::Delete {
                continue;
            }
            let Some(rule) = subject.account.groups.get(*nickname) else { continue };
            let already = match (state, &subject.object) {
                (GroupState::Existing(group), Some(object)) => group.members.contains(object),
                _ => false,
            };
            if !already {
                wanting.push((subject.user.clone(), subject.base, &subject.account.worker_id, rule.as_str()));
            }
        }
        if wanting.is_empty() {
            continue;
        }
        let (group_ref, group_step) = match state {
            GroupState::Existing(group) => (GroupRef::Existing(group.id.clone()), None),
            GroupState::Planned(step) => (GroupRef::Planned((*nickname).to_string()), Some(*step)),
            GroupState::Unavailable(why) => {
                let workers: Vec<&WorkerId> = wanting.iter().map(|(_, _, worker, _)| *worker).collect();
                out.diagnostics.push(tenant_diagnostic(format!(
                    "group \"{nickname}\" {why}: memberships of {} skipped",
                    join_ids(&workers)
                )));
                continue;
            }
        };
        wanting.sort_by(|a, b| a.0.cmp(&b.0));
        for chunk in wanting.chunks(20) {
            let rules: BTreeSet<&str> = chunk.iter().map(|(_, _, _, rule)| *rule).collect();
            let workers: BTreeSet<&WorkerId> = chunk.iter().map(|(_, _, worker, _)| *worker).collect();
            let worker = if workers.len() == 1 { workers.first().copied() } else { None };
            let deps = chunk.iter().map(|(_, base, _, _)| *base).chain([group_step]);
            steps.push(
                worker,
                Action::AddMembers {
                    group: group_ref.clone(),
                    members: chunk.iter().map(|(user, _, _, _)| user.clone()).collect(),
                },
                deps.collect::<Vec<_>>(),
                rules.into_iter().collect::<Vec<_>>().join("; "),
            );
        }
    }

    // Licences: SKU lookups.
    let mut skus: Vec<_> = observed.skus.iter().collect();
    skus.sort_by(|a, b| (&a.sku_part_number, &a.sku_id).cmp(&(&b.sku_part_number, &b.sku_id)));
    let mut part_to_id: BTreeMap<&str, &str> = BTreeMap::new();
    let mut id_to_part: BTreeMap<&str, &str> = BTreeMap::new();
    for sku in &skus {
        part_to_id.entry(sku.sku_part_number.as_str()).or_insert(sku.sku_id.as_str());
        id_to_part.entry(sku.sku_id.as_str()).or_insert(sku.sku_part_number.as_str());
    }
    let mut unknown_skus: BTreeMap<String, Vec<WorkerId>> = BTreeMap::new();
    let mut licence_step = |subject: &mut Subject<'_>, steps: &mut Steps, out: &mut Plan| {
        let account = subject.account;
        let mut wanted: BTreeMap<&str, &str> = BTreeMap::new();
        if subject.mode != Mode::Delete {
            for (part, rule) in &account.licenses {
                if !desired.managed_skus.contains(part) {
                    continue;
                }
                match part_to_id.get(part.as_str()) {
                    Some(id) => {
                        wanted.insert(id, rule.as_str());
                    }
                    None => unknown_skus.entry(part.clone()).or_default().push(account.worker_id.clone()),
                }
            }
        }
        let mut add: Vec<String> =
            wanted.keys().filter(|id| !subject.licenses.contains(**id)).map(|id| (*id).to_string()).collect();
        let mut remove: Vec<String> = subject
            .licenses
            .iter()
            .filter(|id| {
                !wanted.contains_key(id.as_str())
                    && id_to_part.get(id.as_str()).is_some_and(|part| desired.managed_skus.contains(*part))
            })
            .cloned()
            .collect();
        if let Some(hold) = &subject.licence_hold
            && !remove.is_empty()
        {
            let parts: Vec<&str> = remove.iter().filter_map(|id| id_to_part.get(id.as_str()).copied()).collect();
            out.diagnostics.push(worker_diagnostic(
                account,
                None,
                format!("licences {} kept: {hold}", parts.join(", ")),
            ));
            remove.clear();
        }
        if !add.is_empty() && !subject.attributes.contains_key(&UserAttribute::UsageLocation) {
            let parts: Vec<&str> = add.iter().filter_map(|id| id_to_part.get(id.as_str()).copied()).collect();
            out.diagnostics.push(worker_diagnostic(
                account,
                Some("usageLocation"),
                format!("no usage location: licences {} not assigned until one is set", parts.join(", ")),
            ));
            add.clear();
        }
        if add.is_empty() && remove.is_empty() {
            return;
        }
        let mut reasons: Vec<String> =
            add.iter().filter_map(|id| wanted.get(id.as_str())).map(|rule| (*rule).to_string()).collect();
        reasons.dedup();
        if !remove.is_empty() {
            let parts: Vec<&str> = remove.iter().filter_map(|id| id_to_part.get(id.as_str()).copied()).collect();
            reasons.push(match subject.mode {
                Mode::Keep => format!("no licence rule assigns {} any more", parts.join(", ")),
                _ => format!("leaver: {}", stage_text(&account.stage)),
            });
        }
        let usage_step = if subject.update_sets_usage_location { subject.update } else { None };
        let id = steps.push(
            Some(&account.worker_id),
            Action::AssignLicenses { user: subject.user.clone(), add, remove },
            [subject.base, usage_step, subject.revoke, subject.mailbox_gate],
            format!("{} ({})", reasons.join("; "), origin(account)),
        );
        subject.licence = Some(id);
        subject.removals.push(id);
    };

    // Phase 5: licences of accounts that stay.
    for subject in subjects.iter_mut().filter(|subject| subject.mode == Mode::Keep) {
        licence_step(subject, &mut steps, &mut out);
    }

    // Phase 5b: Exchange steps of accounts that stay (mailboxes, lists, shared mailboxes, rehires).
    let mailbox_ready = match &exchange {
        Some(exchange) => {
            let trustees = exchange.leaver_trustees(&subjects);
            exchange.plan_staying(&subjects, &trustees, &mut steps, &mut out)
        }
        None => BTreeMap::new(),
    };

    // Phase 6: leaver sequences.
    for subject in subjects.iter_mut().filter(|subject| subject.mode != Mode::Keep) {
        if !subject.enabled {
            continue;
        }
        let account = subject.account;
        let reason = format!("{} ({})", stage_text(&account.stage), origin(account));
        let worker = Some(&account.worker_id);
        let disable = steps.push(
            worker,
            Action::DisableAccount { user: subject.user.clone() },
            [subject.base, subject.update],
            reason.clone(),
        );
        let reset =
            steps.push(worker, Action::ResetPassword { user: subject.user.clone() }, [Some(disable)], reason.clone());
        let revoke = steps.push(worker, Action::RevokeSessions { user: subject.user.clone() }, [Some(reset)], reason);
        subject.enabled = false;
        subject.disable = Some(disable);
        subject.revoke = Some(revoke);
    }

    // Phase 7: removals.
    let leaver_managers =
        exchange.as_ref().map(|exchange| exchange.leaver_managers(&subjects, &matching, &mailbox_ready));
    for subject in &mut subjects {
        let Some(object) = subject.object.clone() else { continue };
        let account = subject.account;
        let leaver = subject.mode != Mode::Keep;
        let wanted: BTreeSet<String> = account.groups.keys().map(|nick| nick.to_ascii_lowercase()).collect();
        let mut removals: BTreeMap<(String, ObjectId), &str> = BTreeMap::new();
        for (nickname, state) in &groups {
            if let GroupState::Existing(group) = state
                && group.members.contains(&object)
                && (!account.groups.contains_key(*nickname) || subject.mode == Mode::Delete)
            {
                removals.insert((group.mail_nickname.clone(), group.id.clone()), "managed");
            }
        }
        if leaver && desired.matching.leaver_removes_all_memberships {
            for group in observed.groups.values() {
                if group.members.contains(&object)
                    && !group.dynamic
                    && matches!(group.kind, GroupKind::Security | GroupKind::Microsoft365)
                    && (!wanted.contains(&group.mail_nickname.to_ascii_lowercase()) || subject.mode == Mode::Delete)
                {
                    removals.entry((group.mail_nickname.clone(), group.id.clone())).or_insert("all");
                }
            }
        }
        for ((nickname, group), _) in removals {
            let reason = if leaver {
                format!("leaver: {} ({})", stage_text(&account.stage), origin(account))
            } else {
                format!("no group rule puts this worker in {nickname} any more ({})", origin(account))
            };
            let id = steps.push(
                Some(&account.worker_id),
                Action::RemoveMember { group, member: object.clone() },
                [subject.base, subject.revoke],
                reason,
            );
            subject.removals.push(id);
        }
        if leaver {
            if let (Some(exchange), Some(managers)) = (&exchange, &leaver_managers) {
                exchange.plan_leaver(subject, managers, &mut steps, &mut out);
            }
            licence_step(subject, &mut steps, &mut out);
        }
    }

    // Phase 8: deletes.
    for subject in subjects.iter().filter(|subject| subject.mode == Mode::Delete) {
        let Some(object) = subject.object.clone() else { continue };
        let account = subject.account;
        let deps: Vec<Option<StepId>> =
            [subject.disable, subject.revoke].into_iter().chain(subject.removals.iter().copied().map(Some)).collect();
        steps.push(
            Some(&account.worker_id),
            Action::DeleteUser { user: object },
            deps,
            format!("{} ({})", stage_text(&account.stage), origin(account)),
        );
    }

    for (part, workers) in unknown_skus {
        out.diagnostics.push(tenant_diagnostic(format!(
            "licence \"{part}\" is not subscribed in the tenant: not assigned to {}",
            join_ids(&workers.iter().collect::<Vec<_>>())
        )));
    }
    out.steps = steps.steps;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cost_centre_change_carries_the_unchanged_division_and_vice_versa() {
        let current = AttributeMap::from([
            (UserAttribute::CostCenter, "CC-1".to_string()),
            (UserAttribute::Division, "North".to_string()),
        ]);
        let mut changes = vec![AttributeChange {
            attribute: UserAttribute::CostCenter,
            from: Some("CC-1".into()),
            to: Some("CC-2".into()),
        }];
        keep_org_data_whole(&mut changes, &current);
        assert_eq!(
            changes,
            [
                AttributeChange {
                    attribute: UserAttribute::CostCenter,
                    from: Some("CC-1".into()),
                    to: Some("CC-2".into())
                },
                AttributeChange {
                    attribute: UserAttribute::Division,
                    from: Some("North".into()),
                    to: Some("North".into())
                },
            ]
        );

        // Both changing, or neither: nothing added.
        let mut both = changes.clone();
        both[1].to = Some("South".into());
        keep_org_data_whole(&mut both, &current);
        assert_eq!(both.len(), 2);
        let mut none = vec![AttributeChange { attribute: UserAttribute::City, from: None, to: Some("Oslo".into()) }];
        keep_org_data_whole(&mut none, &current);
        assert_eq!(none.len(), 1);
    }
}
