//! `desired_state`: the HR snapshot and the policy → what every worker's account should be now.
//!
//! Templates are compiled once per call; a template that fails for one worker becomes an error `Diagnostic`
//! (naming the worker's file, line and employee and the template's key) and that worker is left out while the
//! others proceed. HR diagnostics are not copied: the engine shows them separately.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::{Expression, Template, Value};
use model::{
    DesiredAccount, DesiredGroup, DesiredState, Diagnostic, HrSnapshot, LifecycleStage, SecondaryKey, SourceLocation,
    UserAttribute, Worker, WorkerId,
};

use crate::exchange_desired::{self, CompiledExchange};
use crate::lifecycle;
use crate::naming;
use crate::policy::{Policy, SecondaryKeyKind};
use crate::problems::join_key;
use crate::templates::{describe, environment, worker_context};

/// A template failure for one worker: the policy key and the error.
pub(crate) struct Failure {
    key: String,
    message: String,
}

pub(crate) fn fail(key: impl Into<String>, error: &minijinja::Error) -> Failure {
    // The diagnostic quotes the key as a whole, so a quoted part inside it (`attributes."employeeOrgData/…"`)
    // is written with single quotes, as TOML also allows.
    Failure { key: key.into().replace('"', "'"), message: format!("template failed: {}", describe(error)) }
}

/// The compiled templates of a policy.
struct Compiled<'env> {
    /// Each attribute's template, with the variable path when the template is only `{{ a.b }}` (most are:
    /// looking the value up directly is ten times cheaper than a render, which counts at 100,000 workers).
    attributes: Vec<(UserAttribute, String, Template<'env, 'env>, Option<Vec<&'env str>>)>,
    candidates: Vec<(Template<'env, 'env>, bool)>,
    keep_account_when: Option<Expression<'env, 'env>>,
    groups: Vec<(Template<'env, 'env>, Option<Template<'env, 'env>>, Option<Expression<'env, 'env>>)>,
    licences: Vec<Option<Expression<'env, 'env>>>,
    exchange: CompiledExchange<'env>,
}

/// Computes the desired state of every worker in `hr` at instant `now`, with name candidates for every worker.
#[must_use]
pub fn desired_state(hr: &HrSnapshot, policy: &Policy, now: DateTime<Utc>) -> DesiredState {
    desired_state_with_names_for(hr, policy, now, &|_| true)
}

/// Like [`desired_state`], but renders name candidates (and the secondary key) only for the workers for which
/// `needs_names` says yes — in a run, those without an account carrying their employee ID, the only ones the
/// planner may create an account for or adopt one by secondary key. The others get none: rendering a hundred
/// numbered candidates for each of 100,000 existing accounts is most of the work otherwise.
#[must_use]
pub fn desired_state_with_names_for(
    hr: &HrSnapshot,
    policy: &Policy,
    now: DateTime<Utc>,
    needs_names: &dyn Fn(&WorkerId) -> bool,
) -> DesiredState {
    compute(hr.workers.iter().collect(), policy, now, needs_names)
}

/// Like [`desired_state_with_names_for`], but consumes the workers, freeing each one as soon as its account is
/// computed: at 100,000 workers the snapshot and the desired state are then never both whole in memory.
#[must_use]
pub fn desired_state_from_workers(
    workers: Vec<Worker>,
    policy: &Policy,
    now: DateTime<Utc>,
    needs_names: &dyn Fn(&WorkerId) -> bool,
) -> DesiredState {
    compute(workers, policy, now, needs_names)
}

fn compute<W: std::borrow::Borrow<Worker>>(
    mut workers: Vec<W>,
    policy: &Policy,
    now: DateTime<Utc>,
    needs_names: &dyn Fn(&WorkerId) -> bool,
) -> DesiredState {
    let env = environment();
    let mut state = DesiredState {
        managed_attributes: policy.attributes.iter().map(|(attribute, _)| *attribute).collect(),
        managed_skus: policy.licences.iter().map(|rule| rule.sku.clone()).collect(),
        scope: policy.scope.clone(),
        limits: policy.limits,
        matching: policy.matching,
        policy_revision: policy.revision.clone(),
        ..DesiredState::default()
    };
    state.managed_attributes.insert(UserAttribute::EmployeeId);
    let compiled = match compile(&env, policy) {
        Ok(compiled) => compiled,
        Err(failure) => {
            let source = SourceLocation { file: "policy".to_string(), line: None, record: None };
            state.diagnostics.push(Diagnostic::error(source, Some(&failure.key), failure.message));
            return state;
        }
    };
    // Groups whose names are constant exist in the desired state even when no worker matches them, so the
    // planner can remove stale members.
    for (rule, (name, display, _)) in policy.groups.iter().zip(&compiled.groups) {
        let constant = name.undeclared_variables(false).is_empty()
            && display.as_ref().is_none_or(|display| display.undeclared_variables(false).is_empty());
        if constant
            && let Ok(nickname) = name.render(())
            && !nickname.trim().is_empty()
        {
            let display_name = display.as_ref().and_then(|d| d.render(()).ok()).unwrap_or_else(|| nickname.clone());
            insert_group(&mut state.groups, rule, nickname.trim(), display_name.trim());
        }
    }
    state.exchange = exchange_desired::seed(&policy.exchange, &compiled.exchange);
    let manager_names = manager_names(&workers, policy, &compiled);
    workers.sort_by(|a, b| a.borrow().employee_id.cmp(&b.borrow().employee_id));
    // Collected in place when the workers are owned (an account is smaller than a worker, so the workers' buffer
    // is reused): at 100,000 workers a second buffer, grown by doubling, was tens of megabytes at the peak.
    let accounts: Vec<DesiredAccount> = workers
        .into_iter()
        .filter_map(|worker| {
            let worker: &Worker = worker.borrow();
            // Only a diagnostic needs the record's location (most workers have none).
            let source = || {
                let mut source = worker.origin.clone();
                source.record = Some(worker.employee_id.to_string());
                source
            };
            let tz = match worker.time_zone.as_deref() {
                None => policy.default_time_zone,
                Some(name) => name.parse::<Tz>().unwrap_or_else(|_| {
                    state.diagnostics.push(Diagnostic::warning(
                        source(),
                        Some("time_zone"),
                        format!("unknown time zone \"{name}\"; using {}", policy.default_time_zone.name()),
                    ));
                    policy.default_time_zone
                }),
            };
            let today = now.with_timezone(&tz).date_naive();
            let needs_names = needs_names(&worker.employee_id);
            match account(worker, policy, &compiled, today, needs_names, &mut state) {
                Ok(account) if !policy.exchange.enabled => Some(account),
                Ok(account) => {
                    let context = worker_context(worker);
                    let access = exchange_desired::access(
                        worker,
                        &account,
                        &context,
                        &policy.exchange,
                        &compiled.exchange,
                        &manager_names,
                        &mut state.exchange,
                    );
                    match access {
                        Ok(Some(access)) => {
                            state.exchange.accounts.insert(account.worker_id.clone(), access);
                        }
                        Ok(None) => {}
                        Err(failure) => {
                            state.exchange.skipped.insert(account.worker_id.clone());
                            state.diagnostics.push(Diagnostic::error(source(), Some(&failure.key), failure.message));
                        }
                    }
                    Some(account)
                }
                Err(failure) => {
                    state.diagnostics.push(Diagnostic::error(source(), Some(&failure.key), failure.message));
                    None
                }
            }
        })
        .collect();
    state.accounts = accounts;
    state
}

fn compile<'env>(env: &'env minijinja::Environment<'env>, policy: &'env Policy) -> Result<Compiled<'env>, Failure> {
    let template = |key: &str, source: &'env str| env.template_from_str(source).map_err(|error| fail(key, &error));
    let expression = |key: &str, source: &'env str| env.compile_expression(source).map_err(|error| fail(key, &error));
    let mut compiled = Compiled {
        attributes: Vec::new(),
        candidates: Vec::new(),
        keep_account_when: None,
        groups: Vec::new(),
        licences: Vec::new(),
        exchange: exchange_desired::compile(env, &policy.exchange)?,
    };
    for (attribute, source) in &policy.attributes {
        let key = join_key("attributes", attribute.graph_name());
        compiled.attributes.push((*attribute, key.clone(), template(&key, source)?, plain_variable(source)));
    }
    for (i, source) in policy.naming.candidates.iter().enumerate() {
        let candidate = template(&format!("naming.candidates[{i}]"), source)?;
        let uses_counter = candidate.undeclared_variables(false).contains("counter");
        compiled.candidates.push((candidate, uses_counter));
    }
    if let Some(source) = &policy.keep_account_when {
        compiled.keep_account_when = Some(expression("lifecycle.keep_account_when", source)?);
    }
    for rule in &policy.groups {
        let name = template(&format!("{}.name", rule.key), &rule.name)?;
        let display =
            rule.display_name.as_deref().map(|s| template(&format!("{}.display_name", rule.key), s)).transpose()?;
        let when = rule.when.as_deref().map(|s| expression(&format!("{}.when", rule.key), s)).transpose()?;
        compiled.groups.push((name, display, when));
    }
    for rule in &policy.licences {
        compiled.licences.push(rule.when.as_deref().map(|s| expression(&format!("{}.when", rule.key), s)).transpose()?);
    }
    Ok(compiled)
}

/// The display names of the managers of workers who may be leavers (those with a termination date or status),
/// for the leaver's auto-reply (`{{ manager_name }}`); empty unless Exchange is on with an auto-reply.
fn manager_names<W: std::borrow::Borrow<Worker>>(
    workers: &[W],
    policy: &Policy,
    compiled: &Compiled<'_>,
) -> BTreeMap<WorkerId, String> {
    let mut names = BTreeMap::new();
    if !policy.exchange.enabled || !compiled.exchange.has_auto_reply() {
        return names;
    }
    for worker in workers {
        let worker = worker.borrow();
        if (worker.termination_date.is_some() || worker.status == Some(model::WorkerStatus::Terminated))
            && let Some(manager) = &worker.manager_id
        {
            names.insert(manager.clone(), String::new());
        }
    }
    let display = compiled.attributes.iter().find(|(attribute, ..)| *attribute == UserAttribute::DisplayName);
    for worker in workers {
        let worker = worker.borrow();
        if let Some(name) = names.get_mut(&worker.employee_id) {
            let rendered = display.and_then(|(_, _, template, _)| template.render(worker_context(worker)).ok());
            *name = rendered
                .map(|text| text.trim().to_string())
                .filter(|text| !text.is_empty())
                .unwrap_or_else(|| exchange_desired::plain_display_name(worker));
        }
    }
    names.retain(|_, name| !name.is_empty());
    names
}

/// The variable path of a template that is exactly `{{ name }}` or `{{ a.b.c }}` (identifiers only), if it is.
fn plain_variable(source: &str) -> Option<Vec<&str>> {
    let inner = source.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let path: Vec<&str> = inner.split('.').collect();
    let identifier = |part: &&str| {
        let mut characters = part.chars();
        characters.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && characters.all(|character| character.is_ascii_alphanumeric() || character == '_')
    };
    path.iter().all(identifier).then_some(path)
}

/// The value at `path` in `context` when it is text or absent (rendered as-is or empty); `None` when rendering
/// could differ (numbers, lists, …), so the caller renders the template instead.
fn plain_value(context: &Value, path: &[&str]) -> Option<String> {
    let mut value = context.clone();
    for part in path {
        value = value.get_attr(part).ok()?;
    }
    if value.is_undefined() { Some(String::new()) } else { value.as_str().map(str::to_string) }
}

fn insert_group(
    groups: &mut BTreeMap<String, DesiredGroup>,
    rule: &crate::policy::GroupRule,
    nickname: &str,
    display: &str,
) {
    groups.entry(nickname.to_string()).or_insert_with(|| DesiredGroup {
        mail_nickname: nickname.to_string(),
        display_name: if display.is_empty() { nickname.to_string() } else { display.to_string() },
        kind: rule.kind,
        create_if_missing: rule.create,
    });
}

pub(crate) fn truthy(expression: Option<&Expression<'_, '_>>, context: &Value, key: String) -> Result<bool, Failure> {
    match expression {
        None => Ok(true),
        Some(expression) => expression.eval(context).map(|value| value.is_true()).map_err(|error| fail(key, &error)),
    }
}

/// Graph wants `employeeHireDate` / `employeeLeaveDateTime` as instants; a bare date becomes midnight UTC.
fn normalize(attribute: UserAttribute, value: String) -> String {
    let is_date_attribute = matches!(attribute, UserAttribute::EmployeeHireDate | UserAttribute::EmployeeLeaveDateTime);
    if is_date_attribute && chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d").is_ok() {
        format!("{value}T00:00:00Z")
    } else if attribute == UserAttribute::UsageLocation {
        value.to_uppercase()
    } else {
        value
    }
}

fn account(
    worker: &Worker,
    policy: &Policy,
    compiled: &Compiled<'_>,
    today: chrono::NaiveDate,
    needs_names: bool,
    state: &mut DesiredState,
) -> Result<DesiredAccount, Failure> {
    let context = worker_context(worker);
    let keep_account = match &compiled.keep_account_when {
        None => false,
        Some(_) => truthy(compiled.keep_account_when.as_ref(), &context, "lifecycle.keep_account_when".to_string())?,
    };
    let stage = lifecycle::stage(worker, today, &policy.lifecycle, keep_account);

    let mut attributes = model::AttributeMap::new();
    for (attribute, key, template, variable) in &compiled.attributes {
        let looked_up = variable.as_deref().and_then(|path| plain_value(&context, path));
        let rendered = match looked_up {
            Some(value) => value,
            None => template.render(&context).map_err(|error| fail(key.clone(), &error))?,
        };
        let value = rendered.trim();
        if !value.is_empty() {
            attributes.insert(*attribute, normalize(*attribute, value.to_string()));
        }
    }
    attributes.insert(UserAttribute::EmployeeId, worker.employee_id.to_string());

    let name_candidates = if needs_names {
        naming::candidates(&policy.naming, &compiled.candidates, &context)
            .map_err(|(i, error)| fail(format!("naming.candidates[{i}]"), &error))?
    } else {
        Vec::new()
    };

    let leaver = matches!(stage, LifecycleStage::Terminated { .. } | LifecycleStage::Delete { .. });
    let mut groups = model::VecMap::new();
    let mut licenses = model::VecMap::new();
    let mut new_groups = Vec::new();
    if !leaver {
        for (rule, (name, display, when)) in policy.groups.iter().zip(&compiled.groups) {
            if !truthy(when.as_ref(), &context, format!("{}.when", rule.key))? {
                continue;
            }
            let nickname = name.render(&context).map_err(|error| fail(format!("{}.name", rule.key), &error))?;
            let nickname = nickname.trim().to_string();
            if nickname.is_empty() {
                continue;
            }
            // The display name matters only for a group not seen yet (the first worker's rendering names it).
            let display_name = match display {
                Some(_) if state.groups.contains_key(&nickname) => String::new(),
                Some(display) => {
                    display.render(&context).map_err(|error| fail(format!("{}.display_name", rule.key), &error))?
                }
                None => nickname.clone(),
            };
            if !groups.contains_key(&nickname) {
                groups.insert(nickname.clone(), rule.id.clone());
            }
            new_groups.push((rule, nickname, display_name));
        }
        for (rule, when) in policy.licences.iter().zip(&compiled.licences) {
            if truthy(when.as_ref(), &context, format!("{}.when", rule.key))? && !licenses.contains_key(&rule.sku) {
                licenses.insert(rule.sku.clone(), rule.id.clone());
            }
        }
    }
    // Only a worker who succeeded adds groups to the state.
    for (rule, nickname, display_name) in new_groups {
        insert_group(&mut state.groups, rule, &nickname, display_name.trim());
    }

    let mut previous_ids = Vec::new();
    if let Some(field) = &policy.previous_id_field
        && let Some(value) = worker.custom_fields.get(field)
    {
        for part in value.split([',', ';']) {
            if let Ok(id) = WorkerId::new(part)
                && id != worker.employee_id
                && !previous_ids.contains(&id)
            {
                previous_ids.push(id);
            }
        }
    }
    let secondary_key = policy.secondary_key.and_then(|kind| {
        let first = name_candidates.first()?;
        Some(match kind {
            SecondaryKeyKind::UserPrincipalName => SecondaryKey::UserPrincipalName(first.user_principal_name.clone()),
            SecondaryKeyKind::Mail => {
                SecondaryKey::Mail(first.mail.clone().unwrap_or_else(|| first.user_principal_name.clone()))
            }
        })
    });

    Ok(DesiredAccount {
        worker_id: worker.employee_id.clone(),
        origin: worker.origin.clone(),
        stage,
        name_candidates,
        attributes,
        manager: worker.manager_id.clone(),
        groups,
        licenses,
        previous_ids,
        secondary_key,
        keep_account,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_variable_templates_take_the_lookup_shortcut() {
        assert_eq!(plain_variable("{{ worker.job_title }}"), Some(vec!["worker", "job_title"]));
        assert_eq!(plain_variable(" {{given_name}} "), Some(vec!["given_name"]));
        assert_eq!(plain_variable("{{ worker.job_title | upper }}"), None);
        assert_eq!(plain_variable("{{ given_name }} {{ family_name }}"), None);
        assert_eq!(plain_variable("{{ worker['job_title'] }}"), None);
        assert_eq!(plain_variable("Dept {{ worker.department }}"), None);
    }

    #[test]
    fn the_shortcut_gives_what_a_render_gives() {
        let context = minijinja::context! { worker => minijinja::context! { job_title => "Analyst", age => 3 } };
        assert_eq!(plain_value(&context, &["worker", "job_title"]), Some("Analyst".to_string()));
        assert_eq!(plain_value(&context, &["worker", "missing"]), Some(String::new()));
        // Numbers render through minijinja, so the shortcut declines them.
        assert_eq!(plain_value(&context, &["worker", "age"]), None);
    }
}
