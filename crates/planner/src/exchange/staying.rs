//! Exchange steps of accounts that stay (joiners, movers, workers on leave or back from it, rehires).
//!
//! Adding someone to a list or giving them rights on a shared mailbox needs their mailbox. A worker who has one
//! gets the steps directly; one who has none but holds, or gets in this plan, a licence that brings one gets an
//! `AwaitMailbox` step after the licence step, and the mailbox steps wait for it; anyone else gets a diagnostic.
//! Removals need no mailbox. Missing lists are created (before anyone is added) when the policy may create them.
//! A staying worker whose mailbox is shared is a rehire: after the licence step, the mailbox becomes a regular one
//! again and the leaver's automatic replies are turned off.

use std::collections::{BTreeMap, BTreeSet};

use model::{Action, LifecycleStage, Plan, SharedMailboxRight, StepId, WorkerId};

use super::Exchange;
use crate::build::{Mode, Steps, Subject, join_ids, origin, stage_text, tenant_diagnostic, worker_diagnostic};

/// Whether a worker's mailbox is there for the steps that need it.
enum Readiness<'a> {
    /// It exists.
    Ready,
    /// It will: a licence that brings one is held or assigned by this plan (its part numbers).
    Coming(Vec<&'a str>),
    /// It does not, and nothing brings one.
    Missing,
}

/// A right to grant on a shared mailbox.
struct Grant<'a> {
    mailbox: &'a str,
    right: SharedMailboxRight,
    auto_mapping: bool,
    rule: &'a str,
}

/// What one staying worker's Exchange objects need.
struct Wanted<'a> {
    /// The subject's position.
    index: usize,
    readiness: Readiness<'a>,
    /// Lists to join: the list's name as the policy spells it, and the rule.
    adds: Vec<(&'a str, &'a str)>,
    /// Lists to leave, as Exchange names them.
    removals: Vec<&'a str>,
    grants: Vec<Grant<'a>>,
    /// Rights to remove: the shared mailbox, the right.
    revokes: Vec<(&'a str, SharedMailboxRight)>,
    /// Hide (`true`) or show the mailbox.
    hidden: Option<bool>,
    /// Convert a shared mailbox back to the worker's own (a rehire).
    rehire: bool,
    /// A rehire's shared mailbox stays shared: no licence that brings a mailbox.
    stays_shared: bool,
    /// The worker is the manager a leaver's mailbox is handed to: the grant needs their mailbox to exist.
    trustee: bool,
}

impl Wanted<'_> {
    fn needs_mailbox(&self) -> bool {
        !self.adds.is_empty() || !self.grants.is_empty() || self.hidden.is_some() || self.trustee
    }

    fn is_empty(&self) -> bool {
        !self.needs_mailbox() && self.removals.is_empty() && self.revokes.is_empty() && !self.rehire
    }
}

/// Drops the steps that need a mailbox the worker does not have and will not get; returns what was skipped (empty
/// when nothing was: being a leaver's manager alone needs no word here — the grant is tried, and fails with
/// Exchange's answer).
fn skip_without_mailbox(changes: &mut Wanted<'_>) -> Vec<&'static str> {
    let mut what = Vec::new();
    if !changes.adds.is_empty() {
        what.push("lists");
    }
    if !changes.grants.is_empty() {
        what.push("shared-mailbox rights");
    }
    if changes.hidden.is_some() {
        what.push("hiding the mailbox");
    }
    changes.adds.clear();
    changes.grants.clear();
    changes.hidden = None;
    changes.trustee = false;
    what
}

impl<'a> Exchange<'a> {
    /// Plans the Exchange steps of every staying subject (after their licence steps).
    ///
    /// `trustees` are the workers a leaver's mailbox is handed to (their managers): a trustee whose mailbox is still
    /// coming gets an `AwaitMailbox` too. Returns the step after which each staying worker's mailbox is ready, for
    /// those where that is a step of this plan (the await, or a rehire's conversion).
    pub(crate) fn plan_staying<'s>(
        &self,
        subjects: &[Subject<'s>],
        trustees: &BTreeSet<&WorkerId>,
        steps: &mut Steps,
        out: &mut Plan,
    ) -> BTreeMap<WorkerId, StepId> {
        let mut ready_steps = BTreeMap::new();
        let mut wanted: Vec<Wanted<'a>> = Vec::new();
        // Workers without a mailbox and without a licence that brings one (contractors, usually), by what is
        // skipped for them: one line each, not one per worker and run.
        let mut without_mailbox: BTreeMap<Vec<&'static str>, Vec<&'s WorkerId>> = BTreeMap::new();
        let mut missing_shared: BTreeMap<String, (&'a str, Vec<&'s WorkerId>)> = BTreeMap::new();
        for (index, subject) in subjects.iter().enumerate() {
            if subject.mode != Mode::Keep || self.skips(&subject.account.worker_id) {
                continue;
            }
            let mut changes = self.compare(index, subject, steps, &mut missing_shared);
            changes.trustee = trustees.contains(&subject.account.worker_id);
            if changes.stays_shared {
                out.diagnostics.push(worker_diagnostic(
                    subject.account,
                    None,
                    "the mailbox stays a shared mailbox: no licence rule gives this worker a licence that brings \
                     a mailbox"
                        .to_string(),
                ));
            }
            if let Readiness::Missing = changes.readiness
                && changes.needs_mailbox()
            {
                let skipped = skip_without_mailbox(&mut changes);
                if !skipped.is_empty() {
                    without_mailbox.entry(skipped).or_default().push(&subject.account.worker_id);
                }
            }
            if !changes.is_empty() {
                wanted.push(changes);
            }
        }
        for (identity, workers) in missing_shared.values() {
            out.diagnostics.push(tenant_diagnostic(format!(
                "shared mailbox \"{identity}\" does not exist: rights of {} skipped",
                join_ids(workers)
            )));
        }
        for (skipped, workers) in &without_mailbox {
            out.diagnostics.push(tenant_diagnostic(format!(
                "no mailbox, and no licence that brings one: {} of {} skipped until they have one",
                skipped.join(", "),
                join_ids(workers)
            )));
        }
        let lists = self.create_lists(subjects, &wanted, steps, out);
        for changes in &mut wanted {
            changes.adds.retain(|(name, _)| lists.get(&name.to_lowercase()).is_none_or(Option::is_some));
            let subject = &subjects[changes.index];
            if let Some(ready) = self.push_staying(subject, changes, &lists, steps) {
                ready_steps.insert(subject.account.worker_id.clone(), ready);
            }
        }
        ready_steps
    }

    /// What a staying subject's lists, shared mailbox rights and mailbox need (nothing pushed yet).
    fn compare<'s>(
        &self,
        index: usize,
        subject: &Subject<'s>,
        steps: &Steps,
        missing_shared: &mut BTreeMap<String, (&'a str, Vec<&'s WorkerId>)>,
    ) -> Wanted<'a> {
        let account = subject.account;
        let access = self.access(&account.worker_id);
        let mailbox = self.mailbox(subject);
        let object = subject.object.as_ref();
        let upn = subject.upn.to_lowercase();
        let mut changes = Wanted {
            index,
            readiness: Readiness::Ready,
            adds: Vec::new(),
            removals: Vec::new(),
            grants: Vec::new(),
            revokes: Vec::new(),
            hidden: None,
            rehire: false,
            stays_shared: false,
            trustee: false,
        };
        for (name, membership) in &access.lists {
            let member = self.observed.list(name).zip(object).is_some_and(|(list, id)| list.members.contains(id));
            if !member {
                changes.adds.push((name.as_str(), membership.rule.as_str()));
            }
        }
        if let Some(object) = object {
            for (key, list) in &self.observed.lists {
                if list.members.contains(object) && !access.lists.keys().any(|name| name.eq_ignore_ascii_case(key)) {
                    changes.removals.push(list.name.as_str());
                }
            }
        }
        for (identity, grant) in &access.shared_mailboxes {
            let Some(shared) = self.observed.shared_mailbox(identity) else {
                missing_shared
                    .entry(identity.to_lowercase())
                    .or_insert_with(|| (identity.as_str(), Vec::new()))
                    .1
                    .push(&account.worker_id);
                continue;
            };
            let held = object.and_then(|_| shared.access.get(&upn));
            for right in &grant.rights {
                if !held.is_some_and(|rights| rights.contains(right)) {
                    changes.grants.push(Grant {
                        mailbox: identity.as_str(),
                        right: *right,
                        auto_mapping: grant.auto_mapping,
                        rule: grant.rule.as_str(),
                    });
                }
            }
        }
        if object.is_some() {
            for (key, shared) in &self.observed.shared_mailboxes {
                let Some(held) = shared.access.get(&upn) else { continue };
                let desired = access.shared_mailboxes.iter().find(|(identity, _)| identity.eq_ignore_ascii_case(key));
                let identity = self.shared_identity(key, &shared.identity);
                for right in held {
                    if !desired.is_some_and(|(_, grant)| grant.rights.contains(right)) {
                        changes.revokes.push((identity, *right));
                    }
                }
            }
        }
        let hidden = mailbox.is_some_and(|mailbox| mailbox.hidden);
        if access.hidden_from_address_lists && !hidden {
            changes.hidden = Some(true);
        } else if !access.hidden_from_address_lists && hidden && self.desired.manages_hidden {
            changes.hidden = Some(false);
        }
        // The licences are looked at only when they matter: a missing mailbox, or a rehire's shared one.
        match mailbox {
            Some(mailbox) if mailbox.shared => {
                let licensed = !self.mailbox_licences_after(subject, steps).is_empty();
                changes.rehire = licensed;
                changes.stays_shared = !licensed;
            }
            Some(_) => {}
            None => {
                let licences = self.mailbox_licences_after(subject, steps);
                changes.readiness = if licences.is_empty() { Readiness::Missing } else { Readiness::Coming(licences) };
            }
        }
        changes
    }

    /// Creates the lists someone is to join that do not exist, when the policy may; returns, by lower-case name,
    /// the creating step of each missing list (`None`: not creatable, with a diagnostic).
    fn create_lists(
        &self,
        subjects: &[Subject<'_>],
        wanted: &[Wanted<'a>],
        steps: &mut Steps,
        out: &mut Plan,
    ) -> BTreeMap<String, Option<StepId>> {
        let mut missing: BTreeMap<String, (&str, Vec<&WorkerId>)> = BTreeMap::new();
        for changes in wanted {
            for (name, _) in &changes.adds {
                if self.observed.list(name).is_none() {
                    let entry = missing.entry(name.to_lowercase()).or_insert_with(|| (*name, Vec::new()));
                    entry.1.push(&subjects[changes.index].account.worker_id);
                }
            }
        }
        let mut lists = BTreeMap::new();
        for (key, (name, workers)) in missing {
            let rule = self
                .desired
                .lists
                .get(name)
                .or_else(|| self.desired.lists.values().find(|list| list.name.eq_ignore_ascii_case(name)));
            let step = match rule {
                Some(list) if list.create_if_missing => Some(steps.push(
                    None,
                    Action::CreateMailList {
                        name: list.name.clone(),
                        kind: list.kind,
                        owner: list.owner.clone(),
                        join_restriction: list.join_restriction,
                        depart_restriction: list.depart_restriction,
                    },
                    [],
                    "a list rule puts workers on it and the policy may create it".to_string(),
                )),
                Some(_) => {
                    out.diagnostics.push(tenant_diagnostic(format!(
                        "list \"{name}\" does not exist and the policy does not create it: memberships of {} \
                         skipped",
                        join_ids(&workers)
                    )));
                    None
                }
                None => {
                    out.diagnostics.push(tenant_diagnostic(format!(
                        "list \"{name}\" does not exist and no list rule describes it: memberships of {} skipped",
                        join_ids(&workers)
                    )));
                    None
                }
            };
            lists.insert(key, step);
        }
        lists
    }

    /// Pushes one staying subject's steps; returns the step after which their mailbox is ready, when it is one of
    /// this plan's.
    fn push_staying(
        &self,
        subject: &Subject<'_>,
        changes: &Wanted<'_>,
        lists: &BTreeMap<String, Option<StepId>>,
        steps: &mut Steps,
    ) -> Option<StepId> {
        let account = subject.account;
        let worker = Some(&account.worker_id);
        let upn = subject.upn;
        let from = origin(account);
        let mut ready = subject.base;
        if let Readiness::Coming(licences) = &changes.readiness
            && changes.needs_mailbox()
        {
            ready = Some(steps.push(
                worker,
                Action::AwaitMailbox { mailbox: upn.to_string() },
                [subject.base, subject.licence],
                format!(
                    "licence {} brings a mailbox: its list and mailbox steps wait until Exchange has created it ({from})",
                    licences.join(", ")
                ),
            ));
        }
        if changes.rehire {
            let convert = steps.push(
                worker,
                Action::ConvertMailbox { mailbox: upn.to_string(), shared: false },
                [subject.base, subject.licence],
                format!("rehire: the shared mailbox kept since leaving becomes the worker's own again ({from})"),
            );
            steps.push(
                worker,
                Action::SetAutoReply { mailbox: upn.to_string(), reply: None },
                [Some(convert)],
                format!("rehire: turn off the automatic replies set when the worker left ({from})"),
            );
            ready = Some(convert);
        }
        if let Some(hidden) = changes.hidden {
            let reason = if hidden {
                format!(
                    "{}: hide the mailbox from the address lists (policy exchange.leave.hide_from_address_lists; \
                     {from})",
                    stage_text(&account.stage)
                )
            } else {
                format!("{}: show the mailbox in the address lists again ({from})", stage_text(&account.stage))
            };
            steps.push(worker, Action::SetMailboxHidden { mailbox: upn.to_string(), hidden }, [ready], reason);
        }
        for (name, rule) in &changes.adds {
            let created = lists.get(&name.to_lowercase()).copied().flatten();
            steps.push(
                worker,
                Action::AddMailListMember { list: (*name).to_string(), member: upn.to_string() },
                [ready, created],
                format!("list rule \"{rule}\" ({from})"),
            );
        }
        for name in &changes.removals {
            let reason = match &account.stage {
                LifecycleStage::OnLeave { .. } => format!(
                    "{}: no list rule puts this worker on {name} during the leave ({from})",
                    stage_text(&account.stage)
                ),
                _ => format!("no list rule puts this worker on {name} any more ({from})"),
            };
            steps.push(
                worker,
                Action::RemoveMailListMember { list: (*name).to_string(), member: upn.to_string() },
                [subject.base],
                reason,
            );
        }
        for grant in &changes.grants {
            steps.push(
                worker,
                Action::GrantMailboxRight {
                    mailbox: grant.mailbox.to_string(),
                    trustee: upn.to_string(),
                    right: grant.right,
                    auto_mapping: grant.auto_mapping,
                },
                [ready],
                format!("shared mailbox rule \"{}\" ({from})", grant.rule),
            );
        }
        for (mailbox, right) in &changes.revokes {
            steps.push(
                worker,
                Action::RevokeMailboxRight { mailbox: (*mailbox).to_string(), trustee: upn.to_string(), right: *right },
                [subject.base],
                format!("no shared mailbox rule gives this worker {right} on {mailbox} any more ({from})"),
            );
        }
        ready.filter(|step| Some(*step) != subject.base)
    }
}
