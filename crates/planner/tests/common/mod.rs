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
//! sku sku-e3 E3
//! ```
//! Stages: `active`, `prehire:DATE`, `notyet:DATE`, `leave`, `leave-kept`, `terminated:DATE`, `delete:DATE`.
//! Group rule reasons are `rule "<nickname>"`, licence rule reasons `licence rule "<part>"`.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use model::{
    DesiredAccount, DesiredGroup, DesiredState, DirectoryGroup, DirectoryUser, GroupKind, LifecycleStage,
    NameCandidate, ObjectId, ObservedState, SecondaryKey, SourceLocation, SubscribedSku, UserAttribute, WorkerId,
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

/// Parses a fixture into the planner's two inputs.
pub fn fixture(text: &str) -> (DesiredState, ObservedState) {
    let mut desired = DesiredState { policy_revision: "test".into(), ..DesiredState::default() };
    let mut observed = ObservedState::default();
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
            "worker" => desired.accounts.push(worker(&rest[0], &rest[1..])),
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
