//! Matching workers to accounts and choosing names for new ones: the first half of planning.
//!
//! A worker's account is the live in-scope user carrying their employee ID; else one carrying an earlier ID; else
//! a soft-deleted user with their ID (a rehire, restored, never recreated); else, when the policy allows it, a
//! live in-scope user without an employee ID whose UPN or mail equals the worker's secondary key (only for workers
//! whose account should stay: a guess never leads to a disable or delete). Ambiguity is
//! never resolved by guessing: the worker is skipped with the reason. New accounts get the first name candidate
//! whose UPN, mail and mailNickname are free, workers taking names in employee-ID order.

use std::collections::{BTreeMap, BTreeSet};

use model::{
    DesiredAccount, DesiredState, DirectoryUser, LifecycleStage, ManagedScope, NameCandidate, ObjectId, ObservedState,
    SecondaryKey, Skipped, WorkerId,
};

/// How a worker's live account was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MatchKind {
    /// By `employeeId`.
    EmployeeId,
    /// By an earlier employee ID.
    PreviousId(String),
    /// Adopted by secondary key (the account has no employee ID yet).
    SecondaryKey,
}

/// What the planner does with a worker's account.
#[derive(Debug, Clone)]
pub(crate) enum Disposition<'a> {
    /// Act on this live user.
    Live { user: &'a DirectoryUser, how: MatchKind },
    /// Restore this soft-deleted user (a rehire), then act on it.
    Restore { user: &'a DirectoryUser },
    /// Create a new account with this name.
    Create { name: NameCandidate },
    /// Nothing to do (not yet, already gone, or skipped with a reason).
    Nothing,
}

/// One worker and what to do with their account.
#[derive(Debug, Clone)]
pub(crate) struct Matched<'a> {
    pub(crate) account: &'a DesiredAccount,
    pub(crate) disposition: Disposition<'a>,
}

/// The result of matching every worker.
#[derive(Debug, Default)]
pub(crate) struct Matching<'a> {
    /// Workers in employee-ID order (duplicates removed).
    pub(crate) workers: Vec<Matched<'a>>,
    /// Live accounts claimed by a worker, whatever the stage (managers may point at them).
    pub(crate) claimed: BTreeMap<&'a WorkerId, &'a ObjectId>,
}

/// Whether `user` is in `scope`, ignoring the employee-ID requirement (for adoption and soft-deleted users).
fn in_relaxed_scope(scope: &ManagedScope, user: &DirectoryUser) -> bool {
    let upn = user.user_principal_name.to_ascii_lowercase();
    if scope.exclude_upns.contains(&upn) {
        return false;
    }
    let domain = upn.rsplit_once('@').map_or("", |(_, domain)| domain);
    scope.upn_domains.is_empty() || scope.upn_domains.iter().any(|allowed| allowed == domain)
}

fn upns(users: &[&DirectoryUser]) -> String {
    let mut names: Vec<&str> = users.iter().map(|user| user.user_principal_name.as_str()).collect();
    names.sort_unstable();
    names.join(", ")
}

/// The address part of a proxy address (`smtp:a@b` → `a@b`), lower-case.
pub(crate) fn proxy_address(proxy: &str) -> String {
    let lower = proxy.to_ascii_lowercase();
    lower.strip_prefix("smtp:").map_or(lower.clone(), str::to_string)
}

fn secondary_key_matches(key: &SecondaryKey, user: &DirectoryUser) -> bool {
    match key {
        SecondaryKey::UserPrincipalName(upn) => user.user_principal_name.eq_ignore_ascii_case(upn),
        SecondaryKey::Mail(mail) => {
            let wanted = mail.to_ascii_lowercase();
            user.mail.as_ref().is_some_and(|m| m.to_ascii_lowercase() == wanted)
                || user.proxy_addresses.iter().any(|proxy| proxy_address(proxy) == wanted)
        }
    }
}

/// Names already in use in the tenant (and by earlier creates of this plan), lower-case.
#[derive(Debug, Default)]
struct TakenNames {
    addresses: BTreeSet<String>,
    nicknames: BTreeSet<String>,
}

/// The first free candidate, taken (so no later worker gets it); builds the taken-name sets on first use.
fn free_name<'a>(
    taken: &mut Option<TakenNames>,
    observed: &ObservedState,
    candidates: &'a [NameCandidate],
) -> Option<&'a NameCandidate> {
    let taken = taken.get_or_insert_with(|| TakenNames::new(observed));
    let name = candidates.iter().find(|name| taken.is_free(name))?;
    taken.take(name);
    Some(name)
}

impl TakenNames {
    fn new(observed: &ObservedState) -> Self {
        let mut taken = Self::default();
        for user in observed.users.values().chain(observed.deleted_users.values()) {
            taken.addresses.insert(user.user_principal_name.to_ascii_lowercase());
            if let Some(mail) = &user.mail {
                taken.addresses.insert(mail.to_ascii_lowercase());
            }
            if let Some(nickname) = &user.mail_nickname {
                taken.nicknames.insert(nickname.to_ascii_lowercase());
            }
            for proxy in &user.proxy_addresses {
                taken.addresses.insert(proxy_address(proxy));
            }
        }
        taken
    }

    fn is_free(&self, name: &NameCandidate) -> bool {
        let upn = name.user_principal_name.to_ascii_lowercase();
        if upn.is_empty() || name.mail_nickname.is_empty() || self.addresses.contains(&upn) {
            return false;
        }
        if self.nicknames.contains(&name.mail_nickname.to_ascii_lowercase()) {
            return false;
        }
        name.mail.as_ref().is_none_or(|mail| !self.addresses.contains(&mail.to_ascii_lowercase()))
    }

    fn take(&mut self, name: &NameCandidate) {
        self.addresses.insert(name.user_principal_name.to_ascii_lowercase());
        self.nicknames.insert(name.mail_nickname.to_ascii_lowercase());
        if let Some(mail) = &name.mail {
            self.addresses.insert(mail.to_ascii_lowercase());
        }
    }
}

/// Found account before the stage decides what to do with it.
enum Found<'a> {
    Live(&'a DirectoryUser, MatchKind),
    Deleted(&'a DirectoryUser),
    None,
    Skip(String),
}

/// Matches every worker of `desired` to an account of `observed`; workers that cannot be matched safely are
/// added to `skipped`.
pub(crate) fn match_workers<'a>(
    desired: &'a DesiredState,
    observed: &'a ObservedState,
    skipped: &mut Vec<Skipped>,
) -> Matching<'a> {
    let scope = &desired.scope;
    let mut counts: BTreeMap<&WorkerId, usize> = BTreeMap::new();
    for account in &desired.accounts {
        *counts.entry(&account.worker_id).or_default() += 1;
    }
    let mut accounts: Vec<&DesiredAccount> = Vec::new();
    for account in &desired.accounts {
        if counts[&account.worker_id] == 1 {
            accounts.push(account);
        }
    }
    accounts.sort_by(|a, b| a.worker_id.cmp(&b.worker_id));
    for (worker, count) in &counts {
        if *count > 1 {
            skipped.push(Skipped {
                worker: (*worker).clone(),
                reason: format!("employee ID appears {count} times in the HR data; fix the duplicate records"),
            });
        }
    }

    let mut live_in: BTreeMap<&str, Vec<&DirectoryUser>> = BTreeMap::new();
    let mut live_out: BTreeMap<&str, Vec<&DirectoryUser>> = BTreeMap::new();
    let mut adoptable: Vec<&DirectoryUser> = Vec::new();
    for user in observed.users.values() {
        match user.employee_id() {
            Some(eid) if scope.contains(user) => live_in.entry(eid).or_default().push(user),
            Some(eid) => live_out.entry(eid).or_default().push(user),
            None if in_relaxed_scope(scope, user) => adoptable.push(user),
            None => {}
        }
    }
    let mut deleted: BTreeMap<&str, Vec<&DirectoryUser>> = BTreeMap::new();
    for user in observed.deleted_users.values() {
        if let Some(eid) = user.employee_id()
            && in_relaxed_scope(scope, user)
        {
            deleted.entry(eid).or_default().push(user);
        }
    }

    // Round 1: direct employee-ID matches claim their accounts first.
    let mut found: Vec<Option<Found<'a>>> = Vec::with_capacity(accounts.len());
    for account in &accounts {
        match live_in.get(account.worker_id.as_str()).map(Vec::as_slice) {
            Some([user]) => found.push(Some(Found::Live(user, MatchKind::EmployeeId))),
            Some(users) if users.len() > 1 => found.push(Some(Found::Skip(format!(
                "{} live accounts carry employee ID {} ({}); resolve the duplicate by hand",
                users.len(),
                account.worker_id,
                upns(users)
            )))),
            _ => found.push(None),
        }
    }
    // Round 2: earlier IDs, out-of-scope holders, soft-deleted accounts, secondary keys — for the workers round 1
    // left unmatched (none, in a resync of a converged tenant: the claimed set is built only for them).
    let mut claimed_ids: BTreeSet<&ObjectId> = BTreeSet::new();
    if found.iter().any(Option::is_none) {
        claimed_ids = found
            .iter()
            .filter_map(|slot| match slot {
                Some(Found::Live(user, _)) => Some(&user.id),
                _ => None,
            })
            .collect();
    }
    let mut adopting: Vec<usize> = Vec::new();
    for (index, (account, slot)) in accounts.iter().zip(found.iter_mut()).enumerate() {
        if slot.is_some() {
            continue;
        }
        let mut by_previous: Vec<&DirectoryUser> = Vec::new();
        for previous in &account.previous_ids {
            for user in live_in.get(previous.as_str()).into_iter().flatten() {
                if !claimed_ids.contains(&user.id) && !by_previous.iter().any(|u| u.id == user.id) {
                    by_previous.push(user);
                }
            }
        }
        // Adoption by secondary key is only for accounts that should stay (never to disable or delete a guess).
        let adopts = desired.matching.adopt_by_secondary_key
            && matches!(
                account.stage,
                LifecycleStage::PreHire { .. } | LifecycleStage::Active | LifecycleStage::OnLeave { .. }
            );
        let already_deleted = matches!(account.stage, LifecycleStage::Delete { .. }) && !account.keep_account;
        let result = if let (true, Some([user])) =
            (already_deleted, deleted.get(account.worker_id.as_str()).map(Vec::as_slice))
        {
            // The account under the current ID is already deleted; leftovers under earlier IDs wait for a human.
            Found::Deleted(user)
        } else if let [user] = by_previous.as_slice() {
            claimed_ids.insert(&user.id);
            Found::Live(user, MatchKind::PreviousId(user.employee_id().unwrap_or_default().to_string()))
        } else if by_previous.len() > 1 {
            Found::Skip(format!(
                "{} live accounts carry earlier employee IDs of this worker ({}); resolve by hand",
                by_previous.len(),
                upns(&by_previous)
            ))
        } else if let Some(users) = live_out.get(account.worker_id.as_str()) {
            Found::Skip(format!(
                "the account carrying employee ID {} ({}) is outside the managed scope",
                account.worker_id,
                upns(users)
            ))
        } else if let Some(users) = deleted.get(account.worker_id.as_str()) {
            if let [user] = users.as_slice() {
                Found::Deleted(user)
            } else {
                Found::Skip(format!(
                    "{} soft-deleted accounts carry employee ID {} ({}); restore one by hand",
                    users.len(),
                    account.worker_id,
                    upns(users)
                ))
            }
        } else if adopts && account.secondary_key.is_some() {
            adopting.push(index);
            Found::None
        } else {
            Found::None
        };
        *slot = Some(result);
    }

    // Round 3: adoption by secondary key, only where worker and account match each other and nothing else.
    let candidates: Vec<(usize, Vec<&DirectoryUser>)> = adopting
        .into_iter()
        .map(|index| {
            let key = accounts[index].secondary_key.as_ref();
            let users = adoptable
                .iter()
                .copied()
                .filter(|user| {
                    !claimed_ids.contains(&user.id) && key.is_some_and(|key| secondary_key_matches(key, user))
                })
                .collect();
            (index, users)
        })
        .collect();
    let mut suitors: BTreeMap<&ObjectId, Vec<&WorkerId>> = BTreeMap::new();
    for (index, users) in &candidates {
        for user in users {
            suitors.entry(&user.id).or_default().push(&accounts[*index].worker_id);
        }
    }
    for (index, users) in &candidates {
        found[*index] = Some(match users.as_slice() {
            [] => Found::None,
            [user] if suitors[&user.id].len() == 1 => Found::Live(user, MatchKind::SecondaryKey),
            [user] => Found::Skip(format!(
                "the account {} also matches the secondary key of {}; adopt it by hand",
                user.user_principal_name,
                suitors[&user.id].iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            )),
            many => Found::Skip(format!(
                "{} accounts without employee ID match the secondary key ({}); adopt one by hand",
                many.len(),
                upns(many)
            )),
        });
    }

    // Built on first need: a resync of a converged tenant creates nobody, and lower-casing every name and
    // address of 100,000 accounts would be most of its planning time.
    let mut taken: Option<TakenNames> = None;
    let mut matching = Matching { workers: Vec::with_capacity(accounts.len()), claimed: BTreeMap::new() };
    for (account, result) in accounts.into_iter().zip(found) {
        let result = result.unwrap_or(Found::None);
        if let Found::Live(user, _) = &result {
            matching.claimed.insert(&account.worker_id, &user.id);
        }
        let disposition = match (&account.stage, result) {
            (_, Found::Skip(reason)) => {
                skipped.push(Skipped { worker: account.worker_id.clone(), reason });
                Disposition::Nothing
            }
            (LifecycleStage::NotYet { .. }, _) => Disposition::Nothing,
            (_, Found::Live(user, how)) => Disposition::Live { user, how },
            (LifecycleStage::Terminated { .. } | LifecycleStage::Delete { .. }, Found::Deleted(_) | Found::None) => {
                Disposition::Nothing
            }
            (_, Found::Deleted(user)) => Disposition::Restore { user },
            (_, Found::None) => match free_name(&mut taken, observed, &account.name_candidates) {
                Some(name) => Disposition::Create { name: name.clone() },
                None => {
                    let reason = if account.name_candidates.is_empty() {
                        "no naming candidates: the policy rendered no usable name".to_string()
                    } else {
                        let first: Vec<&str> = account
                            .name_candidates
                            .iter()
                            .take(3)
                            .map(|name| name.user_principal_name.as_str())
                            .collect();
                        let more = account.name_candidates.len().saturating_sub(3);
                        let tail = if more > 0 { format!(", … ({more} more)") } else { String::new() };
                        format!("no free name: every naming candidate is taken ({}{tail})", first.join(", "))
                    };
                    skipped.push(Skipped { worker: account.worker_id.clone(), reason });
                    Disposition::Nothing
                }
            },
        };
        matching.workers.push(Matched { account, disposition });
    }
    matching
}
