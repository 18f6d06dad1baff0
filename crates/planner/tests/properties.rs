//! Property tests of the planner over random small tenants: convergence through `simulate::apply_plan`, input
//! order independence, dependency order, group references, leaver ordering (a leaver's licences go only after
//! their mailbox is confirmed shared) and scope (Exchange steps included: they name users by UPN).
//!
//! Inputs are generated as fixture-DSL text (see `common`) from a seed, over deliberately small pools of names,
//! groups and licences so that collisions, duplicates and dangling references are frequent.

mod common;

use std::collections::BTreeSet;

use common::{fixture, now};
use model::{
    Action, DesiredState, GroupRef, LifecycleStage, ObjectId, ObservedState, Plan, StepId, UserAttribute, UserRef,
};
use planner::{plan, render_text, simulate};
use proptest::prelude::*;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn subset(&mut self, items: &[&str], percent: usize) -> String {
        items.iter().filter(|_| self.chance(percent)).copied().collect::<Vec<_>>().join(",")
    }
}

const WORKERS: [&str; 8] = ["1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008"];
const STAGES: [&str; 7] = [
    "active",
    "prehire:2026-12-01",
    "notyet:2027-01-01",
    "leave",
    "leave-kept",
    "terminated:2026-11-20",
    "delete:2026-10-01",
];
const NAMES: [&str; 4] = ["ada", "bob", "cy", "dee"];
const TITLES: [&str; 4] = ["Engineer", "Analyst", "", "Clerk"];
const LOCS: [&str; 3] = ["DE", "GB", ""];
const GROUPS: [&str; 6] = ["all-staff", "sales", "eng", "dyn", "dl", "nowhere"];
const SKUS: [&str; 3] = ["E3", "E5", "VISIO"];
const LISTS: [&str; 5] = ["Sales", "Sec", "All", "Alumni", "Ghost"];
const SHARED: [&str; 3] = ["support@contoso.com", "desk@contoso.com", "ghost-box@contoso.com"];
const RIGHTS: [&str; 3] = ["FullAccess", "SendAs", "SendOnBehalf"];

/// Exchange words: `name:Right+Right` for a few of `targets`.
fn rights_of(rng: &mut Rng, targets: &[&str], percent: usize) -> String {
    let mut entries = Vec::new();
    for target in targets {
        if rng.chance(percent) {
            let rights = rng.subset(&RIGHTS, 50);
            let rights = if rights.is_empty() { "FullAccess".to_string() } else { rights.replace(',', "+") };
            entries.push(format!("{target}:{rights}"));
        }
    }
    entries.join(",")
}

/// The `exchange` line and the policy's lists and shared mailboxes (about two fixtures in three).
fn exchange_policy(rng: &mut Rng, text: &mut String) -> bool {
    if !rng.chance(65) {
        return false;
    }
    let mut line = "exchange".to_string();
    for (word, percent) in [
        (" convert", 70),
        (" hide_leavers", 50),
        (" hide_leave", 40),
        (" leave_drops_lists", 40),
        (" reply=\"gone\"", 50),
        (" delegates=it@contoso.com", 40),
        (" keep=Alumni,desk@contoso.com", 40),
        (" delete_after=30", 30),
        (" offline", 10),
    ] {
        if rng.chance(percent) {
            line.push_str(word);
        }
    }
    let grant = rng.subset(&["FullAccess", "SendAs"], 60);
    if !grant.is_empty() {
        line.push_str(&format!(" grant={grant}"));
    }
    text.push_str(&line);
    text.push_str("\nlist Sales kind=dl create owner=boss@contoso.com\nlist Sec kind=security create\n");
    text.push_str("list All kind=dl\nlist Alumni kind=dl\nsharedbox support@contoso.com\nsharedbox desk@contoso.com\n");
    true
}

/// Observed lists and shared mailboxes over the generated users.
fn exchange_tenant(rng: &mut Rng, text: &mut String, users: &[(String, String)]) {
    for name in ["Sales", "Sec", "All", "Alumni"] {
        if rng.chance(60) {
            let members: Vec<&str> = users.iter().filter(|_| rng.chance(35)).map(|(id, _)| id.as_str()).collect();
            text.push_str(&format!("tlist {name} members={}\n", members.join(",")));
        }
    }
    let mut trustees: Vec<&str> = users.iter().map(|(_, upn)| upn.as_str()).collect();
    trustees.push("outsider@contoso.com");
    for identity in ["support@contoso.com", "desk@contoso.com"] {
        if rng.chance(70) {
            text.push_str(&format!("tshared {identity} access={}\n", rights_of(rng, &trustees, 30)));
        }
    }
}

fn generate(seed: u64) -> String {
    let mut rng = Rng(seed | 1);
    let mut text = String::new();
    let leaver_all = if rng.chance(50) { " leaver_all" } else { "" };
    let adopt = if rng.chance(50) { " adopt" } else { "" };
    let require = if rng.chance(50) { " require_eid" } else { "" };
    text.push_str(&format!(
        "policy managed=displayName,jobTitle,usageLocation skus=E3,E5,VISIO domains=contoso.com exclude=root@contoso.com{leaver_all}{adopt}{require}\n"
    ));
    text.push_str("group all-staff kind=security create\ngroup sales kind=m365 create\ngroup eng kind=security\n");
    text.push_str("group dyn kind=security create\ngroup dl kind=other create\n");
    let exchange = exchange_policy(&mut rng, &mut text);
    let e5 = if rng.chance(50) { " exchange" } else { "" };
    text.push_str(&format!("sku sku-e3 E3 exchange\nsku sku-e5 E5{e5}\nsku sku-x UNMANAGED\n"));
    let mut users: Vec<String> = Vec::new();
    let mut upns: Vec<(String, String)> = Vec::new();
    for (index, worker) in WORKERS.iter().enumerate() {
        if rng.chance(85) {
            let name = rng.pick(&NAMES);
            let mut line = format!(
                "worker {worker} stage={} names={name},{name}.x,{name}2 display=\"{name} {worker}\" title={} loc={}",
                rng.pick(&STAGES),
                rng.pick(&TITLES),
                rng.pick(&LOCS)
            );
            if rng.chance(60) {
                line.push_str(&format!(" manager={}", rng.pick(&WORKERS)));
            }
            line.push_str(&format!(" groups={} licences={}", rng.subset(&GROUPS, 35), rng.subset(&SKUS, 35)));
            if rng.chance(20) {
                line.push_str(&format!(" prev=C-{index}"));
            }
            if rng.chance(30) {
                line.push_str(&format!(" key=mail:{name}@contoso.com"));
            }
            if rng.chance(20) {
                line.push_str(" keep");
            }
            if exchange {
                line.push_str(&format!(" lists={}", rng.subset(&LISTS, 35)));
                let shared = rights_of(&mut rng, &SHARED, 35);
                if !shared.is_empty() {
                    line.push_str(&format!(" shared={shared}"));
                }
                if rng.chance(5) {
                    line.push_str(" exskip");
                }
            }
            text.push_str(&line);
            text.push('\n');
        }
        let accounts = match rng.below(10) {
            0..=3 => 0,
            4..=8 => 1,
            _ => 2,
        };
        for copy in 0..accounts {
            let id = format!("u{worker}-{copy}");
            let domain = if rng.chance(10) { "fabrikam.com" } else { "contoso.com" };
            let name = rng.pick(&NAMES);
            let eid = match rng.below(10) {
                0 => String::new(),
                1 => format!(" eid=C-{index}"),
                _ => format!(" eid={worker}"),
            };
            let kind = if rng.chance(25) { "deleted" } else { "user" };
            let upn = format!("{name}.{worker}-{copy}@{domain}");
            let mut line = format!(
                "{kind} {id} upn={upn} mail={name}@{domain}{eid} title={} loc={} licences={}",
                rng.pick(&TITLES),
                rng.pick(&LOCS),
                rng.subset(&["sku-e3", "sku-e5", "sku-x"], 40)
            );
            if rng.chance(40) {
                line.push_str(" disabled");
            }
            if rng.chance(30) {
                line.push_str(&format!(" manager=u{}-0", rng.pick(&WORKERS)));
            }
            if rng.chance(30) {
                line.push_str(&format!(" proxies=smtp:{}@contoso.com", rng.pick(&NAMES)));
            }
            text.push_str(&line);
            text.push('\n');
            if exchange && kind == "user" && rng.chance(65) {
                let shared = if rng.chance(25) { " shared" } else { "" };
                let hidden = if rng.chance(25) { " hidden" } else { "" };
                let access = rights_of(&mut rng, &["it@contoso.com", "ada.1001-0@contoso.com"], 20);
                let access = if access.is_empty() { String::new() } else { format!(" access={access}") };
                text.push_str(&format!("mailbox {id}{shared}{hidden}{access}\n"));
            }
            if kind == "user" {
                users.push(id.clone());
                upns.push((id, upn));
            }
        }
    }
    text.push_str("user u-root upn=root@contoso.com eid=1001\n");
    users.push("u-root".to_string());
    if exchange {
        text.push_str("mailbox u-root\n");
        upns.push(("u-root".to_string(), "root@contoso.com".to_string()));
        exchange_tenant(&mut rng, &mut text, &upns);
    }
    for (nickname, kind) in [
        ("all-staff", "security"),
        ("sales", "m365"),
        ("dyn", "security dynamic"),
        ("dl", "other"),
        ("other-team", "security"),
    ] {
        if rng.chance(70) {
            let members: Vec<&str> = users.iter().filter(|_| rng.chance(40)).map(String::as_str).collect();
            text.push_str(&format!("tgroup g-{nickname} {nickname} kind={kind} members={}\n", members.join(",")));
        }
    }
    text
}

fn inputs(seed: u64) -> (DesiredState, ObservedState) {
    fixture(&generate(seed))
}

/// Whether `user` lies inside the scope when the employee-ID requirement is ignored (domain and exclusions).
fn in_domain_scope(desired: &DesiredState, observed: &ObservedState, id: &ObjectId) -> bool {
    let Some(user) = observed.users.get(id).or_else(|| observed.deleted_users.get(id)) else { return false };
    let upn = user.user_principal_name.to_ascii_lowercase();
    let domain = upn.rsplit_once('@').map_or("", |(_, domain)| domain);
    !desired.scope.exclude_upns.contains(&upn)
        && (desired.scope.upn_domains.is_empty() || desired.scope.upn_domains.iter().any(|d| d == domain))
}

/// The live users with this UPN (an Exchange step's mailbox or member); none for an account the plan creates.
fn by_upn(observed: &ObservedState, upn: &str) -> Vec<ObjectId> {
    let live = observed.users.values().chain(observed.deleted_users.values());
    live.filter(|user| user.user_principal_name.eq_ignore_ascii_case(upn)).map(|user| user.id.clone()).collect()
}

/// The users a step writes to (a shared mailbox's rights touch the trustee; a user mailbox's, its owner).
fn touched(action: &Action, observed: &ObservedState) -> Vec<ObjectId> {
    let existing = |user: &UserRef| match user {
        UserRef::Existing(id) => vec![id.clone()],
        UserRef::Planned(_) => vec![],
    };
    match action {
        Action::UpdateUser { user, .. }
        | Action::SetManager { user, .. }
        | Action::EnableAccount { user }
        | Action::DisableAccount { user }
        | Action::ResetPassword { user }
        | Action::RevokeSessions { user }
        | Action::AssignLicenses { user, .. } => existing(user),
        Action::RemoveManager { user } | Action::DeleteUser { user } | Action::RestoreUser { user } => {
            vec![user.clone()]
        }
        Action::RemoveMember { member, .. } => vec![member.clone()],
        Action::AddMembers { members, .. } => members.iter().flat_map(existing).collect(),
        Action::CreateUser { .. } | Action::CreateGroup { .. } => vec![],
        Action::CreateMailList { .. } => vec![],
        Action::AddMailListMember { member, .. } | Action::RemoveMailListMember { member, .. } => {
            by_upn(observed, member)
        }
        Action::AwaitMailbox { mailbox }
        | Action::SetMailboxHidden { mailbox, .. }
        | Action::SetAutoReply { mailbox, .. }
        | Action::ConvertMailbox { mailbox, .. }
        | Action::ConfirmMailboxShared { mailbox } => by_upn(observed, mailbox),
        Action::GrantMailboxRight { mailbox, trustee, .. } | Action::RevokeMailboxRight { mailbox, trustee, .. } => {
            let owner = by_upn(observed, mailbox);
            if owner.is_empty() { by_upn(observed, trustee) } else { owner }
        }
    }
}

fn check_structure(desired: &DesiredState, observed: &ObservedState, plan: &Plan) {
    let text = render_text(plan);
    for (index, step) in plan.steps.iter().enumerate() {
        assert_eq!(step.id.0 as usize, index, "step ids are positions\n{text}");
        assert!(step.depends_on.iter().all(|dep| dep.0 < step.id.0), "dependency after {}\n{text}", step.id);
        match &step.action {
            Action::AddMembers { group, members } => {
                assert!((1..=20).contains(&members.len()));
                match group {
                    GroupRef::Existing(id) => assert!(observed.groups.contains_key(id), "unknown group\n{text}"),
                    GroupRef::Planned(nickname) => assert!(
                        step.depends_on.iter().any(|dep| matches!(&plan.steps[dep.0 as usize].action,
                            Action::CreateGroup { mail_nickname, .. } if mail_nickname == nickname)),
                        "add to a group not created earlier\n{text}"
                    ),
                }
                if let GroupRef::Existing(id) = group {
                    let group = &observed.groups[id];
                    assert!(!group.dynamic && group.kind != model::GroupKind::Other, "wrote to {id}\n{text}");
                }
            }
            Action::RemoveMember { group, .. } => {
                let group = observed.groups.get(group).expect("removal from an existing group");
                assert!(!group.dynamic && group.kind != model::GroupKind::Other, "wrote to {}\n{text}", group.id);
            }
            Action::DeleteUser { user } => {
                let was_enabled = observed.users.get(user).is_some_and(|u| u.account_enabled);
                if was_enabled {
                    assert!(
                        step.depends_on.iter().any(|dep| matches!(&plan.steps[dep.0 as usize].action,
                            Action::DisableAccount { user: UserRef::Existing(id) } if id == user)),
                        "deleted {user} without disabling it first\n{text}"
                    );
                }
            }
            _ => {}
        }
        // Nothing outside the scope is touched; accounts without employee ID only when adopted here.
        for id in touched(&step.action, observed) {
            assert!(in_domain_scope(desired, observed, &id), "touched out-of-scope {id}\n{text}");
            let has_eid = observed
                .users
                .get(&id)
                .or_else(|| observed.deleted_users.get(&id))
                .is_some_and(|u| u.employee_id().is_some());
            if !has_eid {
                let adopted = plan.steps.iter().any(|s| {
                    matches!(&s.action, Action::UpdateUser { user: UserRef::Existing(u), changes }
                    if *u == id && changes.iter().any(|c| c.attribute == UserAttribute::EmployeeId))
                });
                assert!(adopted && desired.matching.adopt_by_secondary_key, "touched unmatched {id}\n{text}");
            }
        }
    }
    let creates: BTreeSet<&str> = plan
        .steps
        .iter()
        .filter_map(|step| match &step.action {
            Action::CreateUser { user_principal_name, .. } => Some(user_principal_name.as_str()),
            _ => None,
        })
        .collect();
    let count = plan.steps.iter().filter(|step| matches!(step.action, Action::CreateUser { .. })).count();
    assert_eq!(creates.len(), count, "two creates share a UPN\n{text}");
    check_mailbox_before_licences(desired, observed, plan, &text);
}

/// The UPN of a live or soft-deleted user.
fn upn_of(observed: &ObservedState, id: &ObjectId) -> String {
    let user = observed.users.get(id).or_else(|| observed.deleted_users.get(id));
    user.map(|user| user.user_principal_name.clone()).unwrap_or_default()
}

/// Every step `id` depends on, directly or not.
fn ancestors(plan: &Plan, id: StepId) -> BTreeSet<StepId> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![id];
    while let Some(current) = stack.pop() {
        for dep in &plan.steps[current.0 as usize].depends_on {
            if seen.insert(*dep) {
                stack.push(*dep);
            }
        }
    }
    seen
}

/// A leaver's licences go only after their mailbox is confirmed shared (when the policy converts it and the
/// mailbox exists), and not at all without an Exchange connection.
fn check_mailbox_before_licences(desired: &DesiredState, observed: &ObservedState, plan: &Plan, text: &str) {
    if !desired.exchange.enabled {
        return;
    }
    for step in &plan.steps {
        let Action::AssignLicenses { user: UserRef::Existing(id), remove, .. } = &step.action else { continue };
        let Some(worker) = &step.worker else { continue };
        let converts = desired
            .exchange
            .access(worker)
            .and_then(|access| access.leaver.as_ref())
            .is_some_and(|leaver| leaver.convert_to_shared);
        let kept = desired.accounts.iter().any(|account| {
            account.worker_id == *worker
                && (matches!(account.stage, LifecycleStage::Terminated { .. })
                    || matches!(account.stage, LifecycleStage::Delete { .. }) && account.keep_account)
        });
        if remove.is_empty() || !converts || !kept {
            continue;
        }
        let Some(exchange) = &observed.exchange else {
            panic!("licences of leaver {worker} removed without an Exchange connection\n{text}");
        };
        let Some(mailbox) = exchange.mailbox(id) else { continue };
        let upn = &upn_of(observed, id);
        let confirmed = ancestors(plan, step.id).into_iter().any(|dep| {
            matches!(&plan.steps[dep.0 as usize].action,
                Action::ConfirmMailboxShared { mailbox } if mailbox.eq_ignore_ascii_case(upn))
        });
        assert!(
            confirmed,
            "licences of leaver {worker} removed without confirming {} is shared first\n{text}",
            mailbox.identity
        );
    }
    // And every confirmation comes before the licence removal of the same mailbox.
    for step in &plan.steps {
        let Action::ConfirmMailboxShared { mailbox } = &step.action else { continue };
        let removal = plan.steps.iter().find(|later| {
            matches!(&later.action, Action::AssignLicenses { user: UserRef::Existing(id), remove, .. }
                if !remove.is_empty() && upn_of(observed, id).eq_ignore_ascii_case(mailbox))
        });
        let removal = removal.unwrap_or_else(|| panic!("{mailbox} confirmed shared but no licence removed\n{text}"));
        assert!(ancestors(plan, removal.id).contains(&step.id), "licence removal before confirming {mailbox}\n{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn planning_converges_after_a_perfect_apply(seed in any::<u64>()) {
        let (desired, observed) = inputs(seed);
        let first = plan(&desired, &observed, now());
        let after = simulate::apply_plan(&first, &observed);
        let second = plan(&desired, &after, now());
        prop_assert!(
            second.is_empty(),
            "fixture:\n{}\nfirst:\n{}\nsecond:\n{}", generate(seed), render_text(&first), render_text(&second)
        );
    }

    #[test]
    fn plans_are_well_formed_and_stay_in_scope(seed in any::<u64>()) {
        let (desired, observed) = inputs(seed);
        let plan = plan(&desired, &observed, now());
        check_structure(&desired, &observed, &plan);
    }

    #[test]
    fn input_order_does_not_matter(seed in any::<u64>(), shuffle in any::<u64>()) {
        let (desired, observed) = inputs(seed);
        let expected = render_text(&plan(&desired, &observed, now()));
        let mut rng = Rng(shuffle | 1);
        let mut shuffled = desired.clone();
        for index in (1..shuffled.accounts.len()).rev() {
            shuffled.accounts.swap(index, rng.below(index + 1));
        }
        let mut reordered = ObservedState::default();
        let mut users: Vec<_> = observed.users.clone().into_iter().collect();
        users.reverse();
        reordered.users.extend(users);
        let mut groups: Vec<_> = observed.groups.clone().into_iter().collect();
        groups.reverse();
        reordered.groups.extend(groups);
        reordered.deleted_users = observed.deleted_users.clone();
        reordered.skus = observed.skus.iter().rev().cloned().collect();
        reordered.exchange = observed.exchange.clone();
        prop_assert_eq!(expected, render_text(&plan(&shuffled, &reordered, now())));
    }
}
