//! The leaver's mailbox sequence, between revoked sessions and the licence removal.
//!
//! After the sessions are revoked: off the lists and shared mailboxes the leaver does not keep → hidden from the
//! address lists (if the policy says so) → the automatic replies (if configured) → converted to a shared mailbox
//! → confirmed shared (only then may its licences go without the mail being lost) → the manager and the delegates
//! get their rights → and only then the licence removal, which depends on the sequence's last step
//! (`Subject::mailbox_gate`). Each step depends on the one before, so the order holds across retries and
//! restarts. A leaver whose mailbox is settled (shared, no managed licence left; or, when the policy does not
//! convert, no managed licence left) gets nothing more on it. A leaver without a mailbox gets the plain Graph
//! sequence. Leavers are never added to lists or given rights: the keep-list only keeps what they have.

use std::collections::BTreeSet;

use model::{Action, LeaverMailbox, ObjectId, Plan, SharedMailboxRight, StepId};

use super::{Exchange, LeaverManagers};
use crate::build::{Mode, Steps, Subject, origin, stage_text, worker_diagnostic};

/// Someone who gets rights on a leaver's mailbox.
struct Trustee {
    upn: String,
    /// Who, and the policy setting behind it, for the reason.
    who: String,
    /// The step creating or restoring the trustee's account.
    base: Option<StepId>,
}

impl Exchange<'_> {
    /// Plans a leaver's mailbox sequence and sets the subject's `mailbox_gate` to its last step.
    pub(crate) fn plan_leaver(
        &self,
        subject: &mut Subject<'_>,
        managers: &LeaverManagers,
        steps: &mut Steps,
        out: &mut Plan,
    ) {
        let account = subject.account;
        if subject.mode != Mode::Leaver || self.skips(&account.worker_id) {
            return;
        }
        let Some(object) = subject.object.as_ref() else { return };
        let before = self.leave_memberships(subject, object, steps);
        let access = self.access(&account.worker_id);
        let worker = Some(&account.worker_id);
        let upn = subject.upn;
        let from = origin(account);
        let Some(mailbox) = self.mailbox(subject) else { return };
        // The licences the leaver's licence step removes (managed ones no rule gives them).
        let holds_licence = subject.licenses.iter().any(|id| self.is_removed_from(id, account));
        let settings = access.leaver.as_ref();
        let convert = settings.is_some_and(|leaver| leaver.convert_to_shared);
        if !holds_licence && (mailbox.shared || !convert) {
            // Settled (`model::leaver_mailbox_settled`), or not converted and already without licences.
            return;
        }

        let mut last: Option<StepId> = None;
        let mut chain = |steps: &mut Steps, action: Action, extra: Option<StepId>, reason: String| {
            let deps: Vec<Option<StepId>> = match last {
                Some(previous) => vec![Some(previous), extra],
                None => before.iter().copied().chain([extra]).collect(),
            };
            last = Some(steps.push(worker, action, deps, reason));
        };
        if access.hidden_from_address_lists && !mailbox.hidden {
            chain(
                steps,
                Action::SetMailboxHidden { mailbox: upn.to_string(), hidden: true },
                None,
                format!(
                    "leaver: hide the mailbox from the address lists (policy \
                     exchange.leaver.hide_from_address_lists; {from})"
                ),
            );
        } else if !access.hidden_from_address_lists && mailbox.hidden && self.desired.manages_hidden {
            chain(
                steps,
                Action::SetMailboxHidden { mailbox: upn.to_string(), hidden: false },
                None,
                format!("leaver: the policy does not hide leavers' mailboxes, so it is shown again ({from})"),
            );
        }
        if let Some(reply) = settings.and_then(|leaver| leaver.auto_reply.as_ref()) {
            chain(
                steps,
                Action::SetAutoReply { mailbox: upn.to_string(), reply: Some(reply.clone()) },
                None,
                format!("leaver: tell senders the person has left (policy exchange.leaver.auto_reply; {from})"),
            );
        }
        if convert && !mailbox.shared {
            chain(
                steps,
                Action::ConvertMailbox { mailbox: upn.to_string(), shared: true },
                None,
                format!(
                    "leaver: keep the mailbox without a licence (policy exchange.leaver.convert_to_shared; {from})"
                ),
            );
        }
        if convert && holds_licence {
            chain(
                steps,
                Action::ConfirmMailboxShared { mailbox: upn.to_string() },
                None,
                format!(
                    "leaver: the licences go only once Exchange reports the mailbox shared, so no mail is lost \
                     ({from})"
                ),
            );
        }
        if let Some(settings) = settings {
            for trustee in self.trustees(subject, settings, managers, out) {
                let held = mailbox.access.as_ref().and_then(|access| access.get(&trustee.upn.to_lowercase()));
                for right in &settings.grant_rights {
                    if held.is_some_and(|rights| rights.contains(right)) {
                        continue;
                    }
                    chain(
                        steps,
                        Action::GrantMailboxRight {
                            mailbox: upn.to_string(),
                            trustee: trustee.upn.clone(),
                            right: *right,
                            auto_mapping: *right == SharedMailboxRight::FullAccess,
                        },
                        trustee.base,
                        format!("leaver: {} takes over the mailbox ({from})", trustee.who),
                    );
                }
            }
        }
        subject.mailbox_gate = last;
    }

    /// Takes the leaver off the lists and shared mailboxes they do not keep (the desired access holds the kept
    /// ones), after their sessions are revoked; returns what the mailbox sequence waits for.
    fn leave_memberships(&self, subject: &Subject<'_>, object: &ObjectId, steps: &mut Steps) -> Vec<Option<StepId>> {
        let account = subject.account;
        let access = self.access(&account.worker_id);
        let worker = Some(&account.worker_id);
        let upn = subject.upn;
        let upn_lower = upn.to_lowercase();
        let stage = stage_text(&account.stage);
        let from = origin(account);
        let mut before: Vec<Option<StepId>> = vec![subject.base, subject.revoke];
        for (key, list) in &self.observed.lists {
            if list.members.contains(object) && !access.lists.keys().any(|name| name.eq_ignore_ascii_case(key)) {
                before.push(Some(steps.push(
                    worker,
                    Action::RemoveMailListMember { list: list.name.clone(), member: upn.to_string() },
                    [subject.base, subject.revoke],
                    format!("leaver: {stage}; {} is not in exchange.leaver.keep_memberships ({from})", list.name),
                )));
            }
        }
        for (key, shared) in &self.observed.shared_mailboxes {
            let Some(held) = shared.access.get(&upn_lower) else { continue };
            let kept = access.shared_mailboxes.iter().find(|(identity, _)| identity.eq_ignore_ascii_case(key));
            let identity = self.shared_identity(key, &shared.identity);
            for right in held {
                if !kept.is_some_and(|(_, grant)| grant.rights.contains(right)) {
                    before.push(Some(steps.push(
                        worker,
                        Action::RevokeMailboxRight {
                            mailbox: identity.to_string(),
                            trustee: upn.to_string(),
                            right: *right,
                        },
                        [subject.base, subject.revoke],
                        format!("leaver: {stage}; {identity} is not in exchange.leaver.keep_memberships ({from})"),
                    )));
                }
            }
        }
        before
    }

    /// The manager (when their account is known; otherwise a diagnostic) and the delegates, without the leaver
    /// and without repeats.
    fn trustees(
        &self,
        subject: &Subject<'_>,
        settings: &LeaverMailbox,
        managers: &LeaverManagers,
        out: &mut Plan,
    ) -> Vec<Trustee> {
        let mut trustees = Vec::new();
        if settings.grant_rights.is_empty() {
            return trustees;
        }
        let mut seen: BTreeSet<String> = BTreeSet::from([subject.upn.to_lowercase()]);
        if let Some(manager) = &settings.manager {
            match managers.get(manager) {
                Some((upn, base)) => {
                    if seen.insert(upn.to_lowercase()) {
                        trustees.push(Trustee {
                            upn: upn.clone(),
                            who: format!("their manager (employee {manager}; policy exchange.leaver.grant_rights)"),
                            base: *base,
                        });
                    }
                }
                None => {
                    let others = if settings.delegates.is_empty() {
                        "nobody is given access to the mailbox"
                    } else {
                        "the mailbox is shared with the delegates only"
                    };
                    out.diagnostics.push(worker_diagnostic(
                        subject.account,
                        None,
                        format!("the manager (employee {manager}) has no account Tenure can find: {others}"),
                    ));
                }
            }
        }
        for delegate in &settings.delegates {
            if seen.insert(delegate.to_lowercase()) {
                trustees.push(Trustee {
                    upn: delegate.clone(),
                    who: format!("delegate {delegate} (policy exchange.leaver.delegates)"),
                    base: None,
                });
            }
        }
        trustees
    }
}
