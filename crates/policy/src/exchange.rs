//! `[exchange]` checked: list rules (distribution lists and mail-enabled security groups, with what Tenure may
//! create), shared mailbox rules, the default list, and the leaver and leave-of-absence settings.
//!
//! Every problem is reported at its line and key, like the other sections; membership restrictions follow
//! Exchange's own rules (`Open` is not allowed on security groups, departing needs no approval).

use std::collections::BTreeSet;

use model::{MailGroupKind, MembershipRestriction, SharedMailboxRight};
use toml::Spanned;

use crate::document::{ExchangeDoc, MailListDoc};
use crate::problems::Problems;
use crate::templates::{Checker, SourceKind};

/// The variables an auto-reply template may use besides the worker's.
pub(crate) const AUTO_REPLY_VARIABLES: [&str; 2] = ["display_name", "manager_name"];

/// A `[[exchange.lists]]` rule (or the default list), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MailListRule {
    pub(crate) id: String,
    pub(crate) key: String,
    /// The list's `Name`: a template.
    pub(crate) name: String,
    pub(crate) kind: MailGroupKind,
    pub(crate) when: Option<String>,
    pub(crate) create: bool,
    /// The owner's UPN: a template.
    pub(crate) owner: Option<String>,
    pub(crate) join_restriction: MembershipRestriction,
    pub(crate) depart_restriction: MembershipRestriction,
}

/// A `[[exchange.shared_mailboxes]]` rule, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedMailboxRule {
    pub(crate) id: String,
    pub(crate) key: String,
    pub(crate) mailbox: String,
    pub(crate) when: Option<String>,
    pub(crate) rights: BTreeSet<SharedMailboxRight>,
    pub(crate) auto_mapping: bool,
}

/// `[exchange.leaver]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MailLeaverRules {
    pub(crate) convert_to_shared: bool,
    pub(crate) hide_from_address_lists: bool,
    /// Internal and external auto-reply templates.
    pub(crate) auto_reply: Option<(String, Option<String>)>,
    pub(crate) grant_rights: BTreeSet<SharedMailboxRight>,
    pub(crate) delegates: Vec<String>,
    pub(crate) keep_memberships: BTreeSet<String>,
    pub(crate) delete_after_days: Option<u32>,
}

/// `[exchange.leave]`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MailLeaveRules {
    pub(crate) hide_from_address_lists: bool,
    pub(crate) remove_list_memberships: bool,
}

/// The whole `[exchange]` section, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExchangeRules {
    pub(crate) enabled: bool,
    /// The list rules, the default list last.
    pub(crate) lists: Vec<MailListRule>,
    pub(crate) shared_mailboxes: Vec<SharedMailboxRule>,
    pub(crate) leaver: MailLeaverRules,
    pub(crate) leave: MailLeaveRules,
}

/// Whether a template renders the same for everyone (no `{{ … }}` or `{% … %}`).
pub(crate) fn is_literal(template: &str) -> bool {
    !template.contains("{{") && !template.contains("{%")
}

fn check(checker: &mut Checker, problems: &mut Problems<'_>, source: &Spanned<String>, kind: SourceKind, key: &str) {
    for message in checker.check(source.get_ref(), kind) {
        problems.at(source, key, message);
    }
}

fn rights(list: &[Spanned<String>], key: &str, problems: &mut Problems<'_>) -> BTreeSet<SharedMailboxRight> {
    let mut rights = BTreeSet::new();
    for (i, name) in list.iter().enumerate() {
        match SharedMailboxRight::from_name(name.get_ref().trim()) {
            Some(right) => {
                rights.insert(right);
            }
            None => problems.at(
                name,
                format!("{key}[{i}]"),
                format!("unknown right \"{}\" (expected FullAccess, SendAs or SendOnBehalf)", name.get_ref()),
            ),
        }
    }
    rights
}

fn restriction(
    value: Option<&Spanned<String>>,
    kind: MailGroupKind,
    joining: bool,
    key: &str,
    problems: &mut Problems<'_>,
) -> MembershipRestriction {
    // Exchange's defaults (New-DistributionGroup): joining Closed; departing Open for distribution lists and
    // Closed for security groups.
    let default = match (joining, kind) {
        (true, _) | (false, MailGroupKind::Security) => MembershipRestriction::Closed,
        (false, MailGroupKind::Distribution) => MembershipRestriction::Open,
    };
    let Some(value) = value else { return default };
    let parsed = match value.get_ref().as_str() {
        "Open" => MembershipRestriction::Open,
        "Closed" => MembershipRestriction::Closed,
        "ApprovalRequired" if joining => MembershipRestriction::ApprovalRequired,
        other => {
            let expected = if joining { "Open, Closed or ApprovalRequired" } else { "Open or Closed" };
            problems.at(value, key, format!("\"{other}\" is not a membership restriction here (use {expected})"));
            return default;
        }
    };
    if kind == MailGroupKind::Security && parsed == MembershipRestriction::Open {
        problems.at(value, key, "a mail-enabled security group cannot be Open (Exchange allows Closed here)");
        return default;
    }
    parsed
}

fn list_rule(doc: &MailListDoc, key: String, checker: &mut Checker, problems: &mut Problems<'_>) -> MailListRule {
    let name = doc.name.get_ref().trim().to_string();
    if name.is_empty() {
        problems.at(&doc.name, format!("{key}.name"), "the list name is empty");
    } else {
        check(checker, problems, &doc.name, SourceKind::Template, &format!("{key}.name"));
    }
    if let Some(when) = &doc.when {
        check(checker, problems, when, SourceKind::Expression, &format!("{key}.when"));
    }
    let kind = match doc.kind.get_ref().as_str() {
        "distribution" => MailGroupKind::Distribution,
        "security" => MailGroupKind::Security,
        other => {
            problems.at(
                &doc.kind,
                format!("{key}.kind"),
                format!("\"{other}\" is not a list kind (use distribution or security)"),
            );
            MailGroupKind::Distribution
        }
    };
    let owner = doc.owner.as_ref().map(|owner| {
        check(checker, problems, owner, SourceKind::Template, &format!("{key}.owner"));
        if is_literal(owner.get_ref()) && !is_upn(owner.get_ref().trim()) {
            problems.at(owner, format!("{key}.owner"), format!("\"{}\" is not a user principal name", owner.get_ref()));
        }
        owner.get_ref().trim().to_string()
    });
    let join_restriction =
        restriction(doc.join_restriction.as_ref(), kind, true, &format!("{key}.join_restriction"), problems);
    let depart_restriction =
        restriction(doc.depart_restriction.as_ref(), kind, false, &format!("{key}.depart_restriction"), problems);
    if !doc.create {
        let creation_only = [("owner", &doc.owner), ("join_restriction", &doc.join_restriction)];
        let depart = [("depart_restriction", &doc.depart_restriction)];
        for (field, value) in creation_only.iter().chain(&depart) {
            if let Some(value) = value {
                problems.at(
                    value,
                    format!("{key}.{field}"),
                    "applies only to a list Tenure creates (set create = true); Tenure never edits lists it did not create",
                );
            }
        }
    }
    MailListRule {
        id: doc.id.clone().unwrap_or_else(|| key.clone()),
        key,
        name,
        kind,
        when: doc.when.as_ref().map(|when| when.get_ref().clone()),
        create: doc.create,
        owner,
        join_restriction,
        depart_restriction,
    }
}

/// Checks `[exchange]`; `lifecycle_delete_after_days` is `[lifecycle] delete_after_days`.
pub(crate) fn exchange_rules(
    doc: &ExchangeDoc,
    lifecycle_delete_after_days: Option<u32>,
    checker: &mut Checker,
    problems: &mut Problems<'_>,
) -> ExchangeRules {
    let mut lists: Vec<MailListRule> = Vec::new();
    for (i, list) in doc.lists.iter().enumerate() {
        let rule = list_rule(list, format!("exchange.lists[{i}]"), checker, problems);
        if is_literal(&rule.name)
            && let Some(earlier) =
                lists.iter().find(|earlier| is_literal(&earlier.name) && earlier.name.eq_ignore_ascii_case(&rule.name))
            && earlier.kind != rule.kind
        {
            problems.at(
                &list.kind,
                format!("{}.kind", rule.key),
                format!("list \"{}\" has another kind in {}", rule.name, earlier.key),
            );
        }
        lists.push(rule);
    }
    if let Some(default_list) = &doc.keys.default_list {
        let name = default_list.get_ref().trim().to_string();
        if name.is_empty() || !is_literal(&name) {
            problems.at(default_list, "exchange.default_list", "the default list is a list name, not a template");
        }
        // A list rule with the same name says what the default list is; otherwise it is a distribution list
        // Tenure does not create.
        let same = lists.iter().find(|rule| is_literal(&rule.name) && rule.name.eq_ignore_ascii_case(&name));
        let rule = match same {
            Some(rule) => MailListRule {
                id: "default list".to_string(),
                key: "exchange.default_list".to_string(),
                when: None,
                ..rule.clone()
            },
            None => MailListRule {
                id: "default list".to_string(),
                key: "exchange.default_list".to_string(),
                name,
                kind: MailGroupKind::Distribution,
                when: None,
                create: false,
                owner: None,
                join_restriction: MembershipRestriction::Closed,
                depart_restriction: MembershipRestriction::Open,
            },
        };
        lists.push(rule);
    }

    let mut shared_mailboxes = Vec::new();
    for (i, rule) in doc.shared_mailboxes.iter().enumerate() {
        let key = format!("exchange.shared_mailboxes[{i}]");
        let mailbox = rule.mailbox.get_ref().trim().to_string();
        if mailbox.is_empty() || !is_literal(&mailbox) {
            problems.at(&rule.mailbox, format!("{key}.mailbox"), "the mailbox is its identity (a name or address)");
        }
        if let Some(when) = &rule.when {
            check(checker, problems, when, SourceKind::Expression, &format!("{key}.when"));
        }
        if rule.rights.get_ref().is_empty() {
            problems.at(&rule.rights, format!("{key}.rights"), "at least one right is needed");
        }
        let rights = rights(rule.rights.get_ref(), &format!("{key}.rights"), problems);
        shared_mailboxes.push(SharedMailboxRule {
            id: rule.id.clone().unwrap_or_else(|| key.clone()),
            key,
            mailbox,
            when: rule.when.as_ref().map(|when| when.get_ref().clone()),
            rights,
            auto_mapping: rule.auto_mapping,
        });
    }

    let leaver_doc = &doc.leaver;
    let auto_reply = leaver_doc.auto_reply.as_ref().map(|reply| {
        for (source, field) in [(Some(&reply.internal), "internal"), (reply.external.as_ref(), "external")] {
            if let Some(source) = source {
                let key = format!("exchange.leaver.auto_reply.{field}");
                for message in checker.check_with(source.get_ref(), SourceKind::Template, &AUTO_REPLY_VARIABLES) {
                    problems.at(source, key.as_str(), message);
                }
            }
        }
        (reply.internal.get_ref().clone(), reply.external.as_ref().map(|external| external.get_ref().clone()))
    });
    let grant_rights = match &leaver_doc.grant_manager {
        None => BTreeSet::from([SharedMailboxRight::FullAccess]),
        Some(list) => rights(list.get_ref(), "exchange.leaver.grant_manager", problems),
    };
    let mut delegates = Vec::new();
    for (i, upn) in leaver_doc.delegates.iter().enumerate() {
        let value = upn.get_ref().trim().to_lowercase();
        if !is_upn(&value) {
            problems.at(
                upn,
                format!("exchange.leaver.delegates[{i}]"),
                format!("\"{value}\" is not a user principal name"),
            );
        }
        if !delegates.contains(&value) {
            delegates.push(value);
        }
    }
    let mut keep_memberships = BTreeSet::new();
    for (i, name) in leaver_doc.keep_memberships.iter().enumerate() {
        let value = name.get_ref().trim().to_string();
        if value.is_empty() {
            problems.at(name, format!("exchange.leaver.keep_memberships[{i}]"), "the list name is empty");
        }
        keep_memberships.insert(value);
    }
    let delete_after_days = leaver_doc.delete_after_days.as_ref().map(|days| {
        if !leaver_doc.convert_to_shared {
            problems.at(
                days,
                "exchange.leaver.delete_after_days",
                "applies only to converted mailboxes (set convert_to_shared = true)",
            );
        } else if lifecycle_delete_after_days.is_none() {
            problems.at(
                days,
                "exchange.leaver.delete_after_days",
                "has no effect: lifecycle.delete_after_days is not set, so accounts are never deleted",
            );
        }
        *days.get_ref()
    });

    ExchangeRules {
        enabled: doc.keys.enabled,
        lists,
        shared_mailboxes,
        leaver: MailLeaverRules {
            convert_to_shared: leaver_doc.convert_to_shared,
            hide_from_address_lists: leaver_doc.hide_from_address_lists,
            auto_reply,
            grant_rights,
            delegates,
            keep_memberships,
            delete_after_days,
        },
        leave: MailLeaveRules {
            hide_from_address_lists: doc.leave.hide_from_address_lists,
            remove_list_memberships: doc.leave.remove_list_memberships,
        },
    }
}

impl ExchangeRules {
    /// Days after the last working day after which a leaver's account may be deleted, once Exchange is taken into
    /// account: deleting the account purges a converted mailbox, so with conversion on, an account is deleted
    /// only when `exchange.leaver.delete_after_days` is also set, and not before it has passed.
    pub(crate) fn account_delete_after_days(&self, lifecycle: Option<u32>) -> Option<u32> {
        if !self.enabled || !self.leaver.convert_to_shared {
            return lifecycle;
        }
        Some(lifecycle?.max(self.leaver.delete_after_days?))
    }
}

/// Whether `text` looks like a user principal name (`someone@contoso.com`).
pub(crate) fn is_upn(text: &str) -> bool {
    text.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && domain.split('.').all(|label| !label.is_empty())
    })
}
