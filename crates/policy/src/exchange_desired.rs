//! The `[exchange]` rules applied to one worker: their lists, shared mailbox rights, whether their mailbox is
//! hidden, and for a leaver what happens to the mailbox (auto-reply rendered, who gets access, what is kept).
//!
//! Called by `desired_state` after the worker's account is computed; a template failure becomes a diagnostic and
//! puts the worker in `DesiredExchange::skipped`, so the planner leaves their Exchange objects alone.

use std::collections::BTreeMap;

use minijinja::{Environment, Expression, Template, Value, context};
use model::{
    AutoReplyText, DesiredAccount, DesiredExchange, DesiredMailAccess, DesiredMailList, LeaverMailbox, LifecycleStage,
    MailListMembership, SharedMailboxGrant, Worker, WorkerId,
};

use crate::desired::{Failure, fail, truthy};
use crate::exchange::{ExchangeRules, MailListRule};

/// The compiled templates and expressions of `[exchange]`.
pub(crate) struct CompiledExchange<'env> {
    /// Per list rule: name, owner, when.
    lists: Vec<(Template<'env, 'env>, Option<Template<'env, 'env>>, Option<Expression<'env, 'env>>)>,
    shared_mailboxes: Vec<Option<Expression<'env, 'env>>>,
    auto_reply: Option<(Template<'env, 'env>, Option<Template<'env, 'env>>)>,
}

impl CompiledExchange<'_> {
    /// Whether the leaver settings have an auto-reply.
    pub(crate) fn has_auto_reply(&self) -> bool {
        self.auto_reply.is_some()
    }
}

/// Compiles `rules`' templates (the parse already checked them; a failure here is reported for the whole policy).
pub(crate) fn compile<'env>(
    env: &'env Environment<'env>,
    rules: &'env ExchangeRules,
) -> Result<CompiledExchange<'env>, Failure> {
    let template = |key: &str, source: &'env str| env.template_from_str(source).map_err(|error| fail(key, &error));
    let expression = |key: &str, source: &'env str| env.compile_expression(source).map_err(|error| fail(key, &error));
    let mut compiled = CompiledExchange { lists: Vec::new(), shared_mailboxes: Vec::new(), auto_reply: None };
    for rule in &rules.lists {
        let name = template(&format!("{}.name", rule.key), &rule.name)?;
        let owner = rule.owner.as_deref().map(|s| template(&format!("{}.owner", rule.key), s)).transpose()?;
        let when = rule.when.as_deref().map(|s| expression(&format!("{}.when", rule.key), s)).transpose()?;
        compiled.lists.push((name, owner, when));
    }
    for rule in &rules.shared_mailboxes {
        compiled
            .shared_mailboxes
            .push(rule.when.as_deref().map(|s| expression(&format!("{}.when", rule.key), s)).transpose()?);
    }
    if let Some((internal, external)) = &rules.leaver.auto_reply {
        let internal = template("exchange.leaver.auto_reply.internal", internal)?;
        let external = external.as_deref().map(|s| template("exchange.leaver.auto_reply.external", s)).transpose()?;
        compiled.auto_reply = Some((internal, external));
    }
    Ok(compiled)
}

/// The Exchange part of the state before any worker: the flag, the shared mailboxes, and the lists whose names
/// (and owners) are the same for everyone, so the planner can remove stale members even when no worker matches.
pub(crate) fn seed(rules: &ExchangeRules, compiled: &CompiledExchange<'_>) -> DesiredExchange {
    let mut exchange = DesiredExchange { enabled: rules.enabled, ..DesiredExchange::default() };
    if !rules.enabled {
        return exchange;
    }
    exchange.manages_hidden = rules.leaver.hide_from_address_lists || rules.leave.hide_from_address_lists;
    exchange.shared_mailboxes = rules.shared_mailboxes.iter().map(|rule| rule.mailbox.clone()).collect();
    for (rule, (name, owner, _)) in rules.lists.iter().zip(&compiled.lists) {
        let constant = name.undeclared_variables(false).is_empty()
            && owner.as_ref().is_none_or(|owner| owner.undeclared_variables(false).is_empty());
        if constant && let Ok(name) = name.render(()) {
            let owner = owner.as_ref().and_then(|owner| owner.render(()).ok());
            insert_list(&mut exchange.lists, rule, name.trim(), owner);
        }
    }
    exchange
}

fn insert_list(lists: &mut BTreeMap<String, DesiredMailList>, rule: &MailListRule, name: &str, owner: Option<String>) {
    if name.is_empty() {
        return;
    }
    let list = lists.entry(name.to_string()).or_insert_with(|| DesiredMailList {
        name: name.to_string(),
        kind: rule.kind,
        create_if_missing: false,
        owner: None,
        join_restriction: rule.join_restriction,
        depart_restriction: rule.depart_restriction,
    });
    // Any rule that may create the list (with the same kind) makes it creatable, with that rule's settings.
    if rule.create && !list.create_if_missing && list.kind == rule.kind {
        list.create_if_missing = true;
        list.owner = owner.map(|owner| owner.trim().to_lowercase()).filter(|owner| !owner.is_empty());
        list.join_restriction = rule.join_restriction;
        list.depart_restriction = rule.depart_restriction;
    }
}

/// The text a name falls back to when the policy has no `displayName` template: given and family name.
pub(crate) fn plain_display_name(worker: &Worker) -> String {
    let given = worker.preferred_given_name.as_deref().or(worker.legal_given_name.as_deref()).unwrap_or_default();
    let family = worker.preferred_family_name.as_deref().or(worker.legal_family_name.as_deref()).unwrap_or_default();
    format!("{given} {family}").trim().to_string()
}

/// One worker's desired Exchange access (`None`: nothing to manage for them), adding the lists it names to
/// `exchange` only when the whole worker succeeded.
pub(crate) fn access(
    worker: &Worker,
    account: &DesiredAccount,
    context: &Value,
    rules: &ExchangeRules,
    compiled: &CompiledExchange<'_>,
    manager_names: &BTreeMap<WorkerId, String>,
    exchange: &mut DesiredExchange,
) -> Result<Option<DesiredMailAccess>, Failure> {
    if !rules.enabled || !account.stage.account_exists() && !matches!(account.stage, LifecycleStage::Delete { .. }) {
        return Ok(None);
    }
    let leaver = matches!(account.stage, LifecycleStage::Terminated { .. } | LifecycleStage::Delete { .. });
    let disabled_leave = matches!(account.stage, LifecycleStage::OnLeave { keep_enabled: false, .. });
    let keep = |name: &str| rules.leaver.keep_memberships.iter().any(|kept| kept.eq_ignore_ascii_case(name));

    let mut access = DesiredMailAccess::default();
    let mut new_lists = Vec::new();
    let drop_lists = leaver || disabled_leave && rules.leave.remove_list_memberships;
    for (rule, (name, owner, when)) in rules.lists.iter().zip(&compiled.lists) {
        if !truthy(when.as_ref(), context, format!("{}.when", rule.key))? {
            continue;
        }
        let name = name.render(context).map_err(|error| fail(format!("{}.name", rule.key), &error))?;
        let name = name.trim().to_string();
        if name.is_empty() || drop_lists && !keep(&name) {
            continue;
        }
        let owner = match owner {
            Some(owner) if rule.create && !exchange.lists.get(&name).is_some_and(|list| list.create_if_missing) => {
                Some(owner.render(context).map_err(|error| fail(format!("{}.owner", rule.key), &error))?)
            }
            _ => None,
        };
        access
            .lists
            .entry(name.clone())
            .or_insert_with(|| MailListMembership { kind: rule.kind, rule: rule.id.clone() });
        new_lists.push((rule, name, owner));
    }
    for (rule, when) in rules.shared_mailboxes.iter().zip(&compiled.shared_mailboxes) {
        if !truthy(when.as_ref(), context, format!("{}.when", rule.key))? || leaver && !keep(&rule.mailbox) {
            continue;
        }
        let grant = access.shared_mailboxes.entry(rule.mailbox.clone()).or_insert_with(|| SharedMailboxGrant {
            rights: Default::default(),
            auto_mapping: rule.auto_mapping,
            rule: rule.id.clone(),
        });
        grant.rights.extend(rule.rights.iter().copied());
    }
    access.hidden_from_address_lists =
        leaver && rules.leaver.hide_from_address_lists || disabled_leave && rules.leave.hide_from_address_lists;
    if leaver {
        access.leaver = Some(leaver_mailbox(worker, account, context, rules, compiled, manager_names)?);
    }
    for (rule, name, owner) in new_lists {
        insert_list(&mut exchange.lists, rule, &name, owner);
    }
    Ok(Some(access))
}

fn leaver_mailbox(
    worker: &Worker,
    account: &DesiredAccount,
    context: &Value,
    rules: &ExchangeRules,
    compiled: &CompiledExchange<'_>,
    manager_names: &BTreeMap<WorkerId, String>,
) -> Result<LeaverMailbox, Failure> {
    let auto_reply = match &compiled.auto_reply {
        None => None,
        Some((internal, external)) => {
            let display_name = account
                .attributes
                .get(&model::UserAttribute::DisplayName)
                .cloned()
                .unwrap_or_else(|| plain_display_name(worker));
            let manager_name = worker.manager_id.as_ref().and_then(|id| manager_names.get(id)).map(String::as_str);
            let context = context! {
                display_name => display_name,
                manager_name => manager_name.map_or(Value::UNDEFINED, Value::from),
                ..context.clone()
            };
            let internal = internal
                .render(&context)
                .map_err(|error| fail("exchange.leaver.auto_reply.internal", &error))?
                .trim()
                .to_string();
            let external = external
                .as_ref()
                .map(|external| external.render(&context))
                .transpose()
                .map_err(|error| fail("exchange.leaver.auto_reply.external", &error))?
                .map(|text| text.trim().to_string())
                .filter(|text| !text.is_empty());
            Some(AutoReplyText { internal, external })
        }
    };
    Ok(LeaverMailbox {
        convert_to_shared: rules.leaver.convert_to_shared,
        auto_reply,
        manager: worker.manager_id.clone().filter(|manager| *manager != worker.employee_id),
        delegates: rules.leaver.delegates.clone(),
        grant_rights: rules.leaver.grant_rights.clone(),
        keep_memberships: rules.leaver.keep_memberships.clone(),
        delete_after_days: rules.leaver.delete_after_days,
    })
}
