//! Exchange Online steps: distribution lists, mail-enabled security groups, shared mailbox rights, the hidden flag,
//! rehires' mailboxes and the leaver's mailbox sequence, planned only when `desired.exchange.enabled`.
//!
//! `build` calls in at three points: [`prepare`] right after matching (the delete guard, and holding leavers'
//! licences back when there is no Exchange connection), [`Exchange::plan_staying`] after the licences of accounts
//! that stay (`staying.rs`: await a new mailbox, then list and shared-mailbox changes, hide or show, convert a
//! rehire's mailbox back) and [`Exchange::plan_leaver`] between a leaver's revoked sessions and their licence
//! removal (`leaver.rs`). Exchange names mailboxes and members by UPN; observed lists hold members by object ID,
//! so an account this plan creates is never a member yet. Only subjects (matched workers in scope) are ever in a
//! step, and a worker whose Exchange access the policy could not compute (`DesiredExchange::skipped`) is left
//! alone.

mod leaver;
mod staying;

use std::collections::{BTreeMap, BTreeSet};

use model::{
    Action, DesiredAccount, DesiredExchange, DesiredMailAccess, DesiredState, ObjectId, ObservedExchange,
    ObservedMailbox, ObservedState, Plan, StepId, SubscribedSku, WorkerId,
};

use crate::build::{Mode, Steps, Subject, tenant_diagnostic, worker_diagnostic};
use crate::matching::Matching;

/// The access of a worker the policy gives nothing in Exchange.
static NO_ACCESS: DesiredMailAccess = DesiredMailAccess {
    lists: BTreeMap::new(),
    shared_mailboxes: BTreeMap::new(),
    hidden_from_address_lists: false,
    leaver: None,
};

/// Where the accounts of leavers' managers are: their UPN, and the step that creates or restores the account.
pub(crate) type LeaverManagers = BTreeMap<WorkerId, (String, Option<StepId>)>;

/// The inputs of Exchange planning, when Exchange is enabled and observed.
pub(crate) struct Exchange<'a> {
    desired: &'a DesiredExchange,
    observed: &'a ObservedExchange,
    directory: &'a ObservedState,
    managed_skus: &'a BTreeSet<String>,
    /// The tenant's SKUs by ID.
    skus: BTreeMap<&'a str, &'a SubscribedSku>,
}

/// Exchange's start of a plan: returns `None` when Exchange is off in the policy (nothing else happens then) or
/// not connected (a diagnostic, and leavers whose mailbox should become shared keep their licences).
///
/// Also the delete guard: an account whose mailbox the policy keeps as a shared mailbox for good (converted,
/// no `delete_after_days`) is never deleted — it is handled as a leaver instead, with a diagnostic.
pub(crate) fn prepare<'a>(
    desired: &'a DesiredState,
    observed: &'a ObservedState,
    subjects: &mut [Subject<'_>],
    out: &mut Plan,
) -> Option<Exchange<'a>> {
    let settings = &desired.exchange;
    if !settings.enabled {
        return None;
    }
    for subject in subjects.iter_mut().filter(|subject| subject.mode == Mode::Delete) {
        let Some(object) = &subject.object else { continue };
        let kept_for_good = settings
            .access(&subject.account.worker_id)
            .and_then(|access| access.leaver.as_ref())
            .is_some_and(|leaver| leaver.convert_to_shared && leaver.delete_after_days.is_none());
        // Without an Exchange connection, any account may have a mailbox.
        let has_mailbox = observed.exchange.as_ref().is_none_or(|exchange| exchange.mailbox(object).is_some());
        if kept_for_good && has_mailbox {
            subject.mode = Mode::Leaver;
            out.diagnostics.push(worker_diagnostic(
                subject.account,
                None,
                "account not deleted: its mailbox is kept as a shared mailbox (exchange.leaver.convert_to_shared) \
                 and exchange.leaver.delete_after_days is not set, so deleting the account would delete the mailbox"
                    .to_string(),
            ));
        }
    }
    let Some(exchange) = &observed.exchange else {
        out.diagnostics.push(tenant_diagnostic(
            "Exchange is enabled in the policy but no Exchange connection is configured (add one, or set \
             exchange.enabled = false): no Exchange step is planned"
                .to_string(),
        ));
        for subject in subjects.iter_mut().filter(|subject| subject.mode == Mode::Leaver) {
            let worker = &subject.account.worker_id;
            let converts = settings
                .access(worker)
                .and_then(|access| access.leaver.as_ref())
                .is_some_and(|leaver| leaver.convert_to_shared);
            if converts || settings.skipped.contains(worker) {
                subject.licence_hold = Some(
                    "the licence removal waits until the mailbox is converted to a shared mailbox, and there is \
                     no Exchange connection to convert it",
                );
            }
        }
        return None;
    };
    for subject in subjects.iter_mut().filter(|subject| subject.mode == Mode::Leaver) {
        let unconverted =
            subject.object.as_ref().and_then(|object| exchange.mailbox(object)).is_some_and(|mailbox| !mailbox.shared);
        if unconverted && settings.skipped.contains(&subject.account.worker_id) {
            subject.licence_hold = Some(
                "the worker's Exchange settings could not be computed (see the policy diagnostic), so the mailbox \
                 is not converted to a shared mailbox yet and would lose its mail",
            );
        }
    }
    Some(Exchange {
        desired: settings,
        observed: exchange,
        directory: observed,
        managed_skus: &desired.managed_skus,
        skus: observed.skus.iter().map(|sku| (sku.sku_id.as_str(), sku)).collect(),
    })
}

impl<'a> Exchange<'a> {
    /// The desired access of a worker (nothing, when the policy gives them none).
    fn access(&self, worker: &WorkerId) -> &'a DesiredMailAccess {
        self.desired.access(worker).unwrap_or(&NO_ACCESS)
    }

    /// Whether Exchange planning leaves this worker alone.
    fn skips(&self, worker: &WorkerId) -> bool {
        self.desired.skipped.contains(worker)
    }

    /// The mailbox of a subject, when it has one.
    fn mailbox(&self, subject: &Subject<'_>) -> Option<&'a ObservedMailbox> {
        subject.object.as_ref().and_then(|object| self.observed.mailbox(object))
    }

    /// Whether the licence step takes the SKU `id` from a leaver: Tenure manages it and no rule gives it to them.
    fn is_removed_from(&self, id: &str, account: &DesiredAccount) -> bool {
        self.skus.get(id).is_some_and(|sku| {
            self.managed_skus.contains(&sku.sku_part_number) && !account.licenses.contains_key(&sku.sku_part_number)
        })
    }

    /// The spelling of a shared mailbox the policy uses (the observed key is its lower-case form).
    fn shared_identity(&self, key: &str, observed: &'a str) -> &'a str {
        self.desired
            .shared_mailboxes
            .iter()
            .find(|identity| identity.eq_ignore_ascii_case(key))
            .map_or(observed, String::as_str)
    }

    /// The licences with a mailbox the account will hold after this plan's licence step, by part number; empty
    /// when it will hold none. Those the step adds come first (they are why a mailbox is on its way).
    fn mailbox_licences_after(&self, subject: &Subject<'_>, steps: &Steps) -> Vec<&'a str> {
        let (add, remove): (&[String], &[String]) =
            match subject.licence.and_then(|id| steps.steps.get(id.0 as usize)).map(|step| &step.action) {
                Some(Action::AssignLicenses { add, remove, .. }) => (add, remove),
                _ => (&[], &[]),
            };
        let held = subject.licenses.iter().filter(|id| !remove.contains(id));
        let mut parts: Vec<&'a str> = Vec::new();
        for id in add.iter().chain(held) {
            if let Some(sku) = self.skus.get(id.as_str()).filter(|sku| sku.includes_exchange)
                && !parts.contains(&sku.sku_part_number.as_str())
            {
                parts.push(&sku.sku_part_number);
            }
        }
        parts
    }

    /// Where the managers of this plan's leavers have their accounts: a subject (its UPN, possibly one this plan
    /// creates), an account claimed by the manager's employee ID, or the one live account carrying it. Managers
    /// whose account is being deleted, or who have none, are left out.
    /// The managers a leaver's mailbox is handed to this time (leavers whose sequence is planned, with rights to
    /// grant): their mailbox must be ready before the grant.
    pub(crate) fn leaver_trustees<'s>(&self, subjects: &[Subject<'s>]) -> BTreeSet<&'s WorkerId> {
        let managers: BTreeSet<&WorkerId> = subjects
            .iter()
            .filter(|subject| subject.mode == Mode::Leaver)
            .filter_map(|subject| self.desired.accounts.get(&subject.account.worker_id))
            .filter_map(|access| access.leaver.as_ref())
            .filter(|leaver| !leaver.grant_rights.is_empty())
            .filter_map(|leaver| leaver.manager.as_ref())
            .collect();
        if managers.is_empty() {
            return BTreeSet::new();
        }
        subjects.iter().map(|subject| &subject.account.worker_id).filter(|worker| managers.contains(worker)).collect()
    }

    /// The account (UPN, and the step after which its mailbox is ready, when that is one of this plan's) of every
    /// leaver's manager.
    pub(crate) fn leaver_managers(
        &self,
        subjects: &[Subject<'_>],
        matching: &Matching<'_>,
        mailbox_ready: &BTreeMap<WorkerId, StepId>,
    ) -> LeaverManagers {
        let mut managers = LeaverManagers::new();
        let mut subject_index: Option<BTreeMap<&WorkerId, usize>> = None;
        let mut by_employee_id: Option<BTreeMap<&str, Vec<&ObjectId>>> = None;
        for subject in subjects.iter().filter(|subject| subject.mode == Mode::Leaver) {
            let Some(manager) =
                self.access(&subject.account.worker_id).leaver.as_ref().and_then(|l| l.manager.as_ref())
            else {
                continue;
            };
            if managers.contains_key(manager) {
                continue;
            }
            let index = subject_index.get_or_insert_with(|| {
                subjects.iter().enumerate().map(|(index, subject)| (&subject.account.worker_id, index)).collect()
            });
            let found = match index.get(manager).map(|index| &subjects[*index]) {
                Some(account) if account.mode == Mode::Delete => None,
                Some(account) => {
                    let ready = mailbox_ready.get(manager).copied().or(account.base);
                    Some((account.upn.to_string(), ready))
                }
                None => {
                    let claimed = matching.claimed.get(manager).copied();
                    let object = claimed.or_else(|| {
                        let by_employee_id = by_employee_id.get_or_insert_with(|| {
                            let mut map: BTreeMap<&str, Vec<&ObjectId>> = BTreeMap::new();
                            for user in self.directory.users.values() {
                                if let Some(eid) = user.employee_id() {
                                    map.entry(eid).or_default().push(&user.id);
                                }
                            }
                            map
                        });
                        match by_employee_id.get(manager.as_str()).map(Vec::as_slice) {
                            Some([id]) => Some(*id),
                            _ => None,
                        }
                    });
                    object
                        .and_then(|id| self.directory.users.get(id))
                        .map(|user| (user.user_principal_name.clone(), None))
                }
            };
            if let Some(found) = found {
                managers.insert(manager.clone(), found);
            }
        }
        managers
    }
}
