//! A tiny text DSL for planner test fixtures: one line per policy setting, worker, tenant user, group or SKU.
//!
//! ```text
//! policy managed=displayName,jobTitle,department,usageLocation skus=E3 domains=contoso.com exclude=admin@contoso.com leaver_all adopt require_eid
//! group sales kind=security create            # a desired group (rules refer to it)
//! worker 1001 stage=active names=ada.lovelace,a.lovelace display="Ada Lovelace" title=Engineer dept=R&D loc=DE
//!        manager=1000 groups=all-staff,sales licences=E3 prev=C-1 key=mail:ada@contoso.com keep line=12
//! user u1 eid=1001 upn=ada@contoso.com mail=ada@contoso.com nick=ada proxies=smtp:x@contoso.com disabled
//!        title=Analyst manager=u0 licences=sku-e3          # a live user (object id u1)
//! deleted u9 eid=1009 upn=old@contoso.com                  # a soft-deleted user
//! tgroup g1 sales kind=security|m365|other dynamic members=u1,u2
//! sku sku-e3 E3 exchange                                  # `exchange`: the SKU brings a mailbox
//! ```
//! Stages: `active`, `prehire:DATE`, `notyet:DATE`, `leave`, `leave-kept`, `terminated:DATE`, `delete:DATE`.
//! Group rule reasons are `rule "<nickname>"`, licence rule reasons `licence rule "<part>"`.
//!
//! Exchange (the desired side is computed per worker like the policy does: leavers keep only the kept lists and
//! shared mailboxes, hidden per the hide flags, leaver settings with the worker's manager):
//! ```text
//! exchange convert hide_leavers hide_leave leave_drops_lists reply="Ada has left" grant=FullAccess,SendAs
//!          delegates=it@contoso.com keep=Alumni delete_after=30 offline   # enables it; `offline`: no connection
//! list Sales kind=dl|security create owner=boss@contoso.com     # a list rules name (rule "Sales")
//! sharedbox support@contoso.com                                 # a shared mailbox rules name
//! worker 1001 … lists=Sales,All shared=support@contoso.com:FullAccess+SendAs exskip   # exskip: Exchange skipped
//! mailbox u1 shared hidden access=boss@contoso.com:FullAccess   # u1's mailbox (identity: u1's UPN)
//! tlist Sales kind=dl members=u1,u2                             # an existing list
//! tshared support@contoso.com access=ada@contoso.com:FullAccess+SendAs,bob@contoso.com:SendOnBehalf
//! ```
//! Shared mailbox rules are `shared rule "<identity>"` with auto-mapping.

#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use model::{
    AutoReplyText, DesiredAccount, DesiredGroup, DesiredMailAccess, DesiredMailList, DesiredState, DirectoryGroup,
    DirectoryUser, GroupKind, LeaverMailbox, LifecycleStage, MailGroupKind, MailListMembership, MailboxAccess,
    MembershipRestriction, NameCandidate, ObjectId, ObservedExchange, ObservedMailList, ObservedMailbox,
    ObservedSharedMailbox, ObservedState, SecondaryKey, SharedMailboxGrant, SharedMailboxRight, SourceLocation,
    SubscribedSku, UserAttribute, WorkerId,
};

/// The planning instant used by every test.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z").expect("valid instant").with_timezone(&Utc)
}

fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn split(value: &str) -> Vec<String> {
    value.split(',').filter(|part| !part.is_empty()).map(str::to_string).collect()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a YYYY-MM-DD date")
}

fn attribute(key: &str) -> Option<UserAttribute> {
    Some(match key {
        "display" => UserAttribute::DisplayName,
        "given" => UserAttribute::GivenName,
        "surname" => UserAttribute::Surname,
        "title" => UserAttribute::JobTitle,
        "dept" => UserAttribute::Department,
        "loc" => UserAttribute::UsageLocation,
        "cc" => UserAttribute::CostCenter,
        "eid" => UserAttribute::EmployeeId,
        _ => return None,
    })
}

fn kind(text: &str) -> GroupKind {
    match text {
        "security" => GroupKind::Security,
        "m365" => GroupKind::Microsoft365,
        _ => GroupKind::Other,
    }
}

fn stage(text: &str) -> LifecycleStage {
    let (name, day) = text.split_once(':').unwrap_or((text, ""));
    match name {
        "active" => LifecycleStage::Active,
        "prehire" => LifecycleStage::PreHire { start_date: date(day) },
        "notyet" => LifecycleStage::NotYet { create_on: date(day) },
        "leave" => LifecycleStage::OnLeave { leave_type: Some("sabbatical".into()), keep_enabled: false },
        "leave-kept" => LifecycleStage::OnLeave { leave_type: Some("parental".into()), keep_enabled: true },
        "terminated" => LifecycleStage::Terminated { last_day: date(day) },
        "delete" => LifecycleStage::Delete { last_day: date(day) },
        other => panic!("unknown stage {other}"),
    }
}

/// A worker id from text.
pub fn wid(text: &str) -> WorkerId {
    WorkerId::new(text).expect("valid worker id")
}

/// The `exchange` line: what the policy's `[exchange]` section would say.
#[derive(Default)]
struct ExchangeSettings {
    offline: bool,
    hide_leavers: bool,
    hide_leave: bool,
    leave_drops_lists: bool,
    leaver: Option<LeaverMailbox>,
}

/// A worker's Exchange words.
#[derive(Default)]
struct WorkerExchange {
    lists: Vec<String>,
    shared: Vec<(String, BTreeSet<SharedMailboxRight>)>,
    skipped: bool,
}

fn mail_kind(text: &str) -> MailGroupKind {
    match text {
        "security" => MailGroupKind::Security,
        _ => MailGroupKind::Distribution,
    }
}

fn rights(text: &str) -> BTreeSet<SharedMailboxRight> {
    text.split('+').map(|name| SharedMailboxRight::from_name(name).expect("a right")).collect()
}

/// `upn:Right+Right,upn:Right` → rights by lower-case trustee.
fn access(text: &str) -> MailboxAccess {
    split(text)
        .iter()
        .map(|entry| {
            let (trustee, names) = entry.rsplit_once(':').expect("trustee:Right+Right");
            (trustee.to_lowercase(), rights(names))
        })
        .collect()
}

fn exchange_settings(words: &[String]) -> ExchangeSettings {
    let mut settings = ExchangeSettings::default();
    let mut leaver = LeaverMailbox {
        convert_to_shared: false,
        auto_reply: None,
        manager: None,
        delegates: Vec::new(),
        grant_rights: BTreeSet::new(),
        keep_memberships: BTreeSet::new(),
        delete_after_days: None,
    };
    for word in words {
        let (key, value) = word.split_once('=').unwrap_or((word, ""));
        match key {
            "offline" => settings.offline = true,
            "hide_leavers" => settings.hide_leavers = true,
            "hide_leave" => settings.hide_leave = true,
            "leave_drops_lists" => settings.leave_drops_lists = true,
            "convert" => leaver.convert_to_shared = true,
            "reply" => leaver.auto_reply = Some(AutoReplyText { internal: value.to_string(), external: None }),
            "grant" => leaver.grant_rights = split(value).iter().flat_map(|name| rights(name)).collect(),
            "delegates" => leaver.delegates = split(value),
            "keep" => leaver.keep_memberships = split(value).into_iter().collect(),
            "delete_after" => leaver.delete_after_days = Some(value.parse().expect("days")),
            other => panic!("unknown exchange word {other}"),
        }
    }
    settings.leaver = Some(leaver);
    settings
}

/// The desired access of one worker, the way the policy computes it.
fn desired_access(
    settings: &ExchangeSettings,
    account: &DesiredAccount,
    words: &WorkerExchange,
    exchange: &mut model::DesiredExchange,
) -> Option<DesiredMailAccess> {
    let leaver = matches!(account.stage, LifecycleStage::Terminated { .. } | LifecycleStage::Delete { .. });
    if !account.stage.account_exists() && !leaver {
        return None;
    }
    let disabled_leave = matches!(account.stage, LifecycleStage::OnLeave { keep_enabled: false, .. });
    let template = settings.leaver.as_ref().expect("leaver settings");
    let keep = |name: &str| template.keep_memberships.iter().any(|kept| kept.eq_ignore_ascii_case(name));
    let drop_lists = leaver || disabled_leave && settings.leave_drops_lists;
    let mut access = DesiredMailAccess::default();
    for name in &words.lists {
        exchange.lists.entry(name.clone()).or_insert_with(|| DesiredMailList {
            name: name.clone(),
            kind: MailGroupKind::Distribution,
            create_if_missing: false,
            owner: None,
            join_restriction: MembershipRestriction::Closed,
            depart_restriction: MembershipRestriction::Open,
        });
        if drop_lists && !keep(name) {
            continue;
        }
        let kind = exchange.lists[name].kind;
        access.lists.insert(name.clone(), MailListMembership { kind, rule: name.clone() });
    }
    for (identity, rights) in &words.shared {
        exchange.shared_mailboxes.insert(identity.clone());
        if leaver && !keep(identity) {
            continue;
        }
        access.shared_mailboxes.insert(
            identity.clone(),
            SharedMailboxGrant { rights: rights.clone(), auto_mapping: true, rule: identity.clone() },
        );
    }
    access.hidden_from_address_lists = leaver && settings.hide_leavers || disabled_leave && settings.hide_leave;
    if leaver {
        let mut mailbox = template.clone();
        mailbox.manager = account.manager.clone().filter(|manager| *manager != account.worker_id);
        access.leaver = Some(mailbox);
    }
    Some(access)
}

/// Parses a fixture into the planner's two inputs.
pub fn fixture(text: &str) -> (DesiredState, ObservedState) {
    let mut desired = DesiredState { policy_revision: "test".into(), ..DesiredState::default() };
    let mut observed = ObservedState::default();
    let mut settings: Option<ExchangeSettings> = None;
    let mut worker_exchange: BTreeMap<WorkerId, WorkerExchange> = BTreeMap::new();
    let mut mailboxes: Vec<(ObjectId, ObservedMailbox)> = Vec::new();
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or_default();
        let words = tokens(line);
        let Some((head, rest)) = words.split_first() else { continue };
        match head.as_str() {
            "policy" => {
                for word in rest {
                    let (key, value) = word.split_once('=').unwrap_or((word, ""));
                    match key {
                        "managed" => {
                            desired.managed_attributes = split(value)
                                .iter()
                                .map(|name| UserAttribute::from_graph_name(name).expect("known attribute"))
                                .collect();
                        }
                        "skus" => desired.managed_skus = split(value).into_iter().collect(),
                        "domains" => desired.scope.upn_domains = split(value),
                        "exclude" => desired.scope.exclude_upns = split(value).into_iter().collect(),
                        "require_eid" => desired.scope.require_employee_id = true,
                        "leaver_all" => desired.matching.leaver_removes_all_memberships = true,
                        "adopt" => desired.matching.adopt_by_secondary_key = true,
                        other => panic!("unknown policy key {other}"),
                    }
                }
            }
            "group" => {
                let nickname = rest[0].clone();
                let mut group = DesiredGroup {
                    mail_nickname: nickname.clone(),
                    display_name: nickname.clone(),
                    kind: GroupKind::Security,
                    create_if_missing: false,
                };
                for word in &rest[1..] {
                    match word.split_once('=') {
                        Some(("kind", value)) => group.kind = kind(value),
                        Some(("display", value)) => group.display_name = value.to_string(),
                        _ if word == "create" => group.create_if_missing = true,
                        _ => panic!("unknown group word {word}"),
                    }
                }
                desired.groups.insert(nickname, group);
            }
            "worker" => {
                let mut exchange = WorkerExchange::default();
                let mut others = Vec::new();
                for word in &rest[1..] {
                    match word.split_once('=') {
                        Some(("lists", value)) => exchange.lists = split(value),
                        Some(("shared", value)) => {
                            for entry in split(value) {
                                let (identity, names) = entry.rsplit_once(':').expect("identity:Right+Right");
                                exchange.shared.push((identity.to_string(), rights(names)));
                            }
                        }
                        _ if word == "exskip" => exchange.skipped = true,
                        _ => others.push(word.clone()),
                    }
                }
                let account = worker(&rest[0], &others);
                if !exchange.lists.is_empty() || !exchange.shared.is_empty() || exchange.skipped {
                    worker_exchange.insert(account.worker_id.clone(), exchange);
                }
                desired.accounts.push(account);
            }
            "exchange" => {
                settings = Some(exchange_settings(rest));
                observed.exchange.get_or_insert_with(ObservedExchange::default);
            }
            "list" => {
                let mut list = DesiredMailList {
                    name: rest[0].clone(),
                    kind: MailGroupKind::Distribution,
                    create_if_missing: false,
                    owner: None,
                    join_restriction: MembershipRestriction::Closed,
                    depart_restriction: MembershipRestriction::Open,
                };
                for word in &rest[1..] {
                    match word.split_once('=') {
                        Some(("kind", value)) => list.kind = mail_kind(value),
                        Some(("owner", value)) => list.owner = Some(value.to_string()),
                        _ if word == "create" => list.create_if_missing = true,
                        _ => panic!("unknown list word {word}"),
                    }
                }
                desired.exchange.lists.insert(list.name.clone(), list);
            }
            "sharedbox" => {
                desired.exchange.shared_mailboxes.insert(rest[0].clone());
            }
            "mailbox" => {
                let mut mailbox =
                    ObservedMailbox { identity: rest[0].clone(), shared: false, hidden: false, access: None };
                for word in &rest[1..] {
                    match word.split_once('=') {
                        Some(("access", value)) => mailbox.access = Some(access(value)),
                        _ if word == "shared" => mailbox.shared = true,
                        _ if word == "hidden" => mailbox.hidden = true,
                        _ => panic!("unknown mailbox word {word}"),
                    }
                }
                mailboxes.push((ObjectId(rest[0].clone()), mailbox));
            }
            "tlist" => {
                let mut list = ObservedMailList {
                    name: rest[0].clone(),
                    kind: MailGroupKind::Distribution,
                    members: BTreeSet::new(),
                };
                for word in &rest[1..] {
                    match word.split_once('=') {
                        Some(("kind", value)) => list.kind = mail_kind(value),
                        Some(("members", value)) => list.members = split(value).into_iter().map(ObjectId).collect(),
                        _ => panic!("unknown tlist word {word}"),
                    }
                }
                let exchange = observed.exchange.get_or_insert_with(ObservedExchange::default);
                exchange.lists.insert(list.name.to_lowercase(), list);
            }
            "tshared" => {
                let mut shared = ObservedSharedMailbox { identity: rest[0].clone(), access: MailboxAccess::new() };
                for word in &rest[1..] {
                    match word.split_once('=') {
                        Some(("access", value)) => shared.access = access(value),
                        _ => panic!("unknown tshared word {word}"),
                    }
                }
                let exchange = observed.exchange.get_or_insert_with(ObservedExchange::default);
                exchange.shared_mailboxes.insert(shared.identity.to_lowercase(), shared);
            }
            "user" | "deleted" => {
                let user = user(&rest[0], &rest[1..]);
                let map = if head == "user" { &mut observed.users } else { &mut observed.deleted_users };
                map.insert(user.id.clone(), user);
            }
            "tgroup" => {
                let mut group = DirectoryGroup {
                    id: ObjectId(rest[0].clone()),
                    display_name: rest[1].clone(),
                    mail_nickname: rest[1].clone(),
                    kind: GroupKind::Security,
                    dynamic: false,
                    members: BTreeSet::new(),
                };
                for word in &rest[2..] {
                    match word.split_once('=') {
                        Some(("kind", value)) => group.kind = kind(value),
                        Some(("members", value)) => group.members = split(value).into_iter().map(ObjectId).collect(),
                        _ if word == "dynamic" => group.dynamic = true,
                        _ => panic!("unknown tgroup word {word}"),
                    }
                }
                observed.groups.insert(group.id.clone(), group);
            }
            "sku" => observed.skus.push(SubscribedSku {
                sku_id: rest[0].clone(),
                sku_part_number: rest[1].clone(),
                enabled_units: 100,
                consumed_units: 0,
                includes_exchange: rest.get(2).is_some_and(|flag| flag == "exchange"),
            }),
            other => panic!("unknown fixture line {other}"),
        }
    }
    for (id, mut mailbox) in mailboxes {
        if let Some(user) = observed.users.get(&id) {
            mailbox.identity = user.user_principal_name.clone();
        }
        observed.exchange.get_or_insert_with(ObservedExchange::default).mailboxes.insert(id, mailbox);
    }
    if let Some(settings) = settings {
        let exchange = &mut desired.exchange;
        exchange.enabled = true;
        exchange.manages_hidden = settings.hide_leavers || settings.hide_leave;
        for account in &desired.accounts {
            let words = worker_exchange.remove(&account.worker_id).unwrap_or_default();
            if words.skipped {
                exchange.skipped.insert(account.worker_id.clone());
                continue;
            }
            if let Some(access) = desired_access(&settings, account, &words, exchange) {
                exchange.accounts.insert(account.worker_id.clone(), access);
            }
        }
        if settings.offline {
            observed.exchange = None;
        }
    }
    (desired, observed)
}

fn worker(id: &str, words: &[String]) -> DesiredAccount {
    let mut account = DesiredAccount {
        worker_id: wid(id),
        origin: SourceLocation { file: "hr.csv".into(), line: None, record: Some(id.to_string()) },
        stage: LifecycleStage::Active,
        name_candidates: Vec::new(),
        attributes: model::AttributeMap::new(),
        manager: None,
        groups: model::VecMap::new(),
        licenses: model::VecMap::new(),
        previous_ids: Vec::new(),
        secondary_key: None,
        keep_account: false,
    };
    for word in words {
        let (key, value) = word.split_once('=').unwrap_or((word, ""));
        match key {
            "stage" => account.stage = stage(value),
            "names" => {
                account.name_candidates = split(value)
                    .into_iter()
                    .map(|local| NameCandidate {
                        user_principal_name: format!("{local}@contoso.com"),
                        mail_nickname: local.clone(),
                        mail: Some(format!("{local}@contoso.com")),
                    })
                    .collect();
            }
            "manager" => account.manager = Some(wid(value)),
            "groups" => {
                account.groups = split(value).into_iter().map(|g| (g.clone(), format!("rule \"{g}\""))).collect();
            }
            "licences" => {
                account.licenses =
                    split(value).into_iter().map(|l| (l.clone(), format!("licence rule \"{l}\""))).collect();
            }
            "prev" => account.previous_ids = split(value).iter().map(|p| wid(p)).collect(),
            "key" => {
                account.secondary_key = Some(match value.split_once(':') {
                    Some(("upn", v)) => SecondaryKey::UserPrincipalName(v.to_string()),
                    Some(("mail", v)) => SecondaryKey::Mail(v.to_string()),
                    _ => panic!("key=upn:… or key=mail:…"),
                });
            }
            "keep" => account.keep_account = true,
            "line" => account.origin.line = Some(value.parse().expect("a line number")),
            other => match attribute(other) {
                Some(attribute) => {
                    account.attributes.insert(attribute, value.to_string());
                }
                None => panic!("unknown worker key {other}"),
            },
        }
    }
    account
}

fn user(id: &str, words: &[String]) -> DirectoryUser {
    let mut user = DirectoryUser {
        id: ObjectId(id.to_string()),
        user_principal_name: format!("{id}@contoso.com"),
        mail: None,
        mail_nickname: None,
        proxy_addresses: Vec::new(),
        account_enabled: true,
        attributes: model::AttributeMap::new(),
        manager: None,
        licenses: model::VecSet::new(),
    };
    for word in words {
        let (key, value) = word.split_once('=').unwrap_or((word, ""));
        match key {
            "upn" => user.user_principal_name = value.to_string(),
            "mail" => user.mail = Some(value.to_string()),
            "nick" => user.mail_nickname = Some(value.to_string()),
            "proxies" => user.proxy_addresses = split(value),
            "disabled" => user.account_enabled = false,
            "manager" => user.manager = Some(ObjectId(value.to_string())),
            "licences" => user.licenses = split(value).into_iter().collect(),
            other => match attribute(other) {
                Some(attribute) => {
                    user.attributes.insert(attribute, value.to_string());
                }
                None => panic!("unknown user key {other}"),
            },
        }
    }
    user
}

/// Plans `fixture_text`, checks the rendered plan against `expected`, and checks that a perfect apply converges
/// (planning again after `simulate::apply_plan` gives an empty plan).
pub fn check_converging_plan(fixture_text: &str, expected: expect_test::Expect) {
    let (desired, observed) = fixture(fixture_text);
    let plan = planner::plan(&desired, &observed, now());
    expected.assert_eq(&planner::render_text_with_names(&plan, &observed));
    let after = planner::simulate::apply_plan(&plan, &observed);
    let again = planner::plan(&desired, &after, now());
    assert!(again.is_empty(), "plan does not converge:\n{}", planner::render_text(&again));
}
