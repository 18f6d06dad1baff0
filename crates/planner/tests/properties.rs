//! Property tests of the planner over random small tenants: convergence through `simulate::apply_plan`, input
//! order independence, dependency order, group references, leaver ordering and scope.
//!
//! Inputs are generated as fixture-DSL text (see `common`) from a seed, over deliberately small pools of names,
//! groups and licences so that collisions, duplicates and dangling references are frequent.

mod common;

use std::collections::BTreeSet;

use common::{fixture, now};
use model::{Action, DesiredState, GroupRef, ObjectId, ObservedState, Plan, UserAttribute, UserRef};
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
    text.push_str("sku sku-e3 E3\nsku sku-e5 E5\nsku sku-x UNMANAGED\n");
    let mut users: Vec<String> = Vec::new();
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
            let mut line = format!(
                "{kind} {id} upn={name}.{worker}@{domain} mail={name}@{domain}{eid} title={} loc={} licences={}",
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
            if kind == "user" {
                users.push(id);
            }
        }
    }
    text.push_str("user u-root upn=root@contoso.com eid=1001\n");
    users.push("u-root".to_string());
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

fn touched(action: &Action) -> Vec<ObjectId> {
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
        // Exchange commands name users by UPN (the fixtures plan none yet).
        Action::CreateMailList { .. }
        | Action::AddMailListMember { .. }
        | Action::RemoveMailListMember { .. }
        | Action::AwaitMailbox { .. }
        | Action::GrantMailboxRight { .. }
        | Action::RevokeMailboxRight { .. }
        | Action::SetMailboxHidden { .. }
        | Action::SetAutoReply { .. }
        | Action::ConvertMailbox { .. }
        | Action::ConfirmMailboxShared { .. } => vec![],
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
        for id in touched(&step.action) {
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
        prop_assert_eq!(expected, render_text(&plan(&shuffled, &reordered, now())));
    }
}
