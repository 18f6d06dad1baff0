//! `Policy` and `parse_policy`: the policy file parsed, checked and kept in a form `desired_state` can use.
//!
//! Parsing has two passes: the structural one (TOML syntax, then every section deserialized on its own, so a
//! mistake in `[scope]` does not hide one in `[[groups]]`), and the semantic one (templates, expressions,
//! attribute names, time zones, kinds, limits). Every problem of a pass is reported at once.

use std::collections::BTreeSet;
use std::ops::Range;

use chrono_tz::Tz;
use model::{GroupKind, Limit, ManagedScope, MatchingOptions, SafetyLimits, UserAttribute};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::document::{
    ExchangeDoc, GroupDoc, LeaveAction, LicenceDoc, LifecycleDoc, LimitDoc, LimitsDoc, MatchingDoc, NamingDoc, ScopeDoc,
};
use crate::exchange::{ExchangeRules, exchange_rules};
use crate::lifecycle::LifecycleRules;
use crate::naming::NamingRules;
use crate::problems::{PathIndex, PolicyProblem, Problems, join_key};
use crate::templates::{Checker, SourceKind};

/// Which value of the first name candidate identifies an account to adopt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecondaryKeyKind {
    UserPrincipalName,
    Mail,
}

/// A `[[groups]]` rule, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupRule {
    pub(crate) id: String,
    pub(crate) key: String,
    pub(crate) name: String,
    pub(crate) display_name: Option<String>,
    pub(crate) kind: GroupKind,
    pub(crate) create: bool,
    pub(crate) when: Option<String>,
}

/// A `[[licences]]` rule, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LicenceRule {
    pub(crate) id: String,
    pub(crate) key: String,
    pub(crate) sku: String,
    pub(crate) when: Option<String>,
}

/// A validated policy file.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) text: String,
    pub(crate) revision: String,
    pub(crate) hr: Option<toml::Table>,
    pub(crate) scope: ManagedScope,
    pub(crate) matching: MatchingOptions,
    pub(crate) secondary_key: Option<SecondaryKeyKind>,
    pub(crate) previous_id_field: Option<String>,
    pub(crate) attributes: Vec<(UserAttribute, String)>,
    pub(crate) naming: NamingRules,
    pub(crate) default_time_zone: Tz,
    pub(crate) lifecycle: LifecycleRules,
    pub(crate) keep_account_when: Option<String>,
    pub(crate) groups: Vec<GroupRule>,
    pub(crate) licences: Vec<LicenceRule>,
    pub(crate) limits: SafetyLimits,
    pub(crate) exchange: ExchangeRules,
}

impl Policy {
    /// The lower-case hex SHA-256 of the policy file text: the revision plans and audit entries name.
    #[must_use]
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// The policy file text, as parsed (stored with the revision).
    #[must_use]
    pub fn source_text(&self) -> &str {
        &self.text
    }

    /// The raw `[hr]` table (the engine deserializes it into `hr_source::CsvMapping`).
    #[must_use]
    pub fn hr_section(&self) -> Option<&toml::Table> {
        self.hr.as_ref()
    }

    /// The time zone of workers without one (`lifecycle.default_time_zone`, else UTC).
    #[must_use]
    pub fn default_time_zone(&self) -> Tz {
        self.default_time_zone
    }

    /// The per-run safety limits.
    #[must_use]
    pub fn limits(&self) -> &SafetyLimits {
        &self.limits
    }
}

const SECTIONS: &str = "hr, scope, matching, attributes, naming, lifecycle, groups, licences, limits, exchange";

/// The sections as deserialized by the structural pass.
#[derive(Default)]
struct Sections {
    hr: Option<toml::Table>,
    scope: Option<ScopeDoc>,
    matching: Option<MatchingDoc>,
    attributes: Vec<(Spanned<String>, Spanned<String>)>,
    naming: Option<NamingDoc>,
    lifecycle: Option<LifecycleDoc>,
    groups: Vec<GroupDoc>,
    licences: Vec<LicenceDoc>,
    limits: Option<LimitsDoc>,
    exchange: ExchangeDoc,
}

/// Parses and checks a policy file; `Err` holds every problem found, ordered by line.
pub fn parse_policy(file_name: &str, text: &str) -> Result<Policy, Vec<PolicyProblem>> {
    let mut problems = Problems::new(file_name, text);
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for error in errors {
            problems.add(error.span(), "", error.message().trim().to_string());
        }
        return Err(problems.into_sorted());
    }
    let mut index = PathIndex::default();
    for (key, value) in root.get_ref().iter() {
        let path = join_key("", key.get_ref());
        index.add_value(&path, value);
    }
    let sections = structural(root.get_ref(), &index, &mut problems);
    let policy = semantic(text, sections, &mut problems);
    if problems.list.is_empty() { Ok(policy) } else { Err(problems.into_sorted()) }
}

/// Deserializes `value` into `T`, reporting a failure at the most specific key the error's span names.
fn section<T: for<'de> Deserialize<'de>>(
    value: &Spanned<DeValue<'_>>,
    path: &str,
    index: &PathIndex,
    problems: &mut Problems<'_>,
) -> Option<T> {
    match T::deserialize(ValueDeserializer::from(value.clone())) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            let span = error.span().unwrap_or_else(|| value.span());
            let key = index.path_at(span.start).unwrap_or(path).to_string();
            problems.add(Some(span), key, error.message().trim().to_string());
            None
        }
    }
}

fn array_section<T: for<'de> Deserialize<'de>>(
    value: &Spanned<DeValue<'_>>,
    path: &str,
    index: &PathIndex,
    problems: &mut Problems<'_>,
) -> Vec<T> {
    let Some(items) = value.get_ref().as_array() else {
        problems.at(value, path, format!("expected an array of tables (write [[{path}]])"));
        return Vec::new();
    };
    items.iter().enumerate().filter_map(|(i, item)| section(item, &format!("{path}[{i}]"), index, problems)).collect()
}

fn structural(root: &DeTable<'_>, index: &PathIndex, problems: &mut Problems<'_>) -> Sections {
    let mut sections = Sections::default();
    for (key, value) in root.iter() {
        let name = key.get_ref().as_ref();
        match name {
            "hr" => sections.hr = section(value, name, index, problems),
            "scope" => sections.scope = section(value, name, index, problems),
            "matching" => sections.matching = section(value, name, index, problems),
            "attributes" => {
                let parsed: Option<Vec<(Spanned<String>, Spanned<String>)>> =
                    section::<toml::Table>(value, name, index, problems).and_then(|_| match value.get_ref() {
                        DeValue::Table(table) => Some(
                            table
                                .iter()
                                .filter_map(|(key, template)| match template.get_ref() {
                                    DeValue::String(text) => Some((
                                        Spanned::new(key.span(), key.get_ref().to_string()),
                                        Spanned::new(template.span(), text.to_string()),
                                    )),
                                    other => {
                                        problems.at(
                                            template,
                                            join_key(name, key.get_ref()),
                                            format!("expected a template string, found {}", other.type_str()),
                                        );
                                        None
                                    }
                                })
                                .collect(),
                        ),
                        _ => None,
                    });
                sections.attributes = parsed.unwrap_or_default();
            }
            "naming" => sections.naming = section(value, name, index, problems),
            "lifecycle" => sections.lifecycle = section(value, name, index, problems),
            "groups" => sections.groups = array_section(value, name, index, problems),
            "licences" => sections.licences = array_section(value, name, index, problems),
            "limits" => sections.limits = section(value, name, index, problems),
            "exchange" => sections.exchange = exchange_section(value, index, problems),
            _ => problems.add(
                Some(key.span()),
                join_key("", name),
                format!("unknown section \"{name}\" (expected one of {SECTIONS})"),
            ),
        }
    }
    sections
}

/// `[exchange]`, each sub-table and array deserialized on its own so that every mistake is reported.
fn exchange_section(value: &Spanned<DeValue<'_>>, index: &PathIndex, problems: &mut Problems<'_>) -> ExchangeDoc {
    let mut doc = ExchangeDoc::default();
    let DeValue::Table(table) = value.get_ref() else {
        problems.at(value, "exchange", "expected a table (write [exchange])");
        return doc;
    };
    for (key, child) in table.iter() {
        let name = key.get_ref().as_ref();
        let path = join_key("exchange", name);
        match name {
            "enabled" => doc.keys.enabled = section(child, &path, index, problems).unwrap_or_default(),
            "default_list" => doc.keys.default_list = section(child, &path, index, problems),
            "lists" => doc.lists = array_section(child, &path, index, problems),
            "shared_mailboxes" => doc.shared_mailboxes = array_section(child, &path, index, problems),
            "leaver" => doc.leaver = section(child, &path, index, problems).unwrap_or_default(),
            "leave" => doc.leave = section(child, &path, index, problems).unwrap_or_default(),
            _ => problems.add(
                Some(key.span()),
                path,
                format!(
                    "unknown key \"{name}\" (expected one of enabled, default_list, lists, shared_mailboxes, leaver, leave)"
                ),
            ),
        }
    }
    doc
}

/// Checks one template or expression, reporting each problem at its line and key.
fn check_source(
    checker: &mut Checker,
    problems: &mut Problems<'_>,
    source: &Spanned<String>,
    kind: SourceKind,
    key: &str,
) -> String {
    for message in checker.check(source.get_ref(), kind) {
        problems.at(source, key, message);
    }
    source.get_ref().clone()
}

fn span_or_none(span: Range<usize>) -> Option<Range<usize>> {
    (span.end > 0).then_some(span)
}

fn limit(doc: &LimitDoc, key: &str, problems: &mut Problems<'_>) -> Limit {
    let share = doc.share.as_ref().map(|share| {
        let value = *share.get_ref();
        if !(0.0..=1.0).contains(&value) {
            problems.at(share, format!("limits.{key}.share"), format!("share {value} is not between 0 and 1"));
        }
        value
    });
    Limit { max_count: doc.count, max_share: share }
}

fn semantic(text: &str, sections: Sections, problems: &mut Problems<'_>) -> Policy {
    let mut checker = Checker::new();

    let scope_doc = sections.scope.unwrap_or_default();
    let mut scope = ManagedScope { require_employee_id: scope_doc.require_employee_id, ..ManagedScope::default() };
    for (i, domain) in scope_doc.upn_domains.iter().enumerate() {
        let value = domain.get_ref().trim().to_lowercase();
        if !is_domain(&value) {
            problems.at(
                domain,
                format!("scope.upn_domains[{i}]"),
                format!("\"{value}\" is not a domain name (write contoso.com, without @)"),
            );
        }
        scope.upn_domains.push(value);
    }
    for (i, upn) in scope_doc.exclude_upns.iter().enumerate() {
        let value = upn.get_ref().trim().to_lowercase();
        if !value.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && is_domain(domain)) {
            problems.at(upn, format!("scope.exclude_upns[{i}]"), format!("\"{value}\" is not a user principal name"));
        }
        scope.exclude_upns.insert(value);
    }

    let matching_doc = sections.matching.unwrap_or_default();
    let secondary_key = matching_doc.secondary_key.as_ref().and_then(|key| match key.get_ref().as_str() {
        "userPrincipalName" => Some(SecondaryKeyKind::UserPrincipalName),
        "mail" => Some(SecondaryKeyKind::Mail),
        other => {
            problems.at(
                key,
                "matching.secondary_key",
                format!("\"{other}\" is not a secondary key (use userPrincipalName or mail)"),
            );
            None
        }
    });
    if matching_doc.adopt_by_secondary_key && matching_doc.secondary_key.is_none() {
        problems.add(None, "matching.adopt_by_secondary_key", "adopting by secondary key needs matching.secondary_key");
    }
    let previous_id_field = matching_doc.previous_id_field.as_ref().map(|field| {
        let name = field.get_ref().trim();
        let name = name.strip_prefix(hr_custom_prefix()).unwrap_or(name).to_string();
        if name.is_empty() {
            problems.at(field, "matching.previous_id_field", "the custom field name is empty");
        }
        name
    });

    let mut attributes = Vec::new();
    let mut seen = BTreeSet::new();
    for (name, template) in &sections.attributes {
        let key = join_key("attributes", name.get_ref());
        let source = check_source(&mut checker, problems, template, SourceKind::Template, &key);
        match UserAttribute::from_graph_name(name.get_ref()) {
            Some(attribute) if seen.insert(attribute) => attributes.push((attribute, source)),
            Some(_) => {}
            None => {
                let known: Vec<&str> = UserAttribute::ALL.iter().map(|attribute| attribute.graph_name()).collect();
                problems.at(
                    name,
                    key,
                    format!("unknown attribute \"{}\" (expected one of {})", name.get_ref(), known.join(", ")),
                );
            }
        }
    }

    let naming = match sections.naming {
        None => {
            problems.add(None, "naming", "missing section [naming] (name candidates are needed to create accounts)");
            NamingRules {
                domain: String::new(),
                candidates: Vec::new(),
                counter_start: 2,
                max_counter: 99,
                set_mail: false,
            }
        }
        Some(doc) => {
            let domain = doc.domain.get_ref().trim().to_lowercase();
            if !is_domain(&domain) {
                problems.at(
                    &doc.domain,
                    "naming.domain",
                    format!("\"{domain}\" is not a domain name (write contoso.com, without @)"),
                );
            }
            if doc.candidates.get_ref().is_empty() {
                problems.at(&doc.candidates, "naming.candidates", "at least one name candidate is needed");
            }
            let candidates = doc
                .candidates
                .get_ref()
                .iter()
                .enumerate()
                .map(|(i, template)| {
                    check_source(
                        &mut checker,
                        problems,
                        template,
                        SourceKind::Template,
                        &format!("naming.candidates[{i}]"),
                    )
                })
                .collect();
            let (start, max) = (*doc.counter_start.get_ref(), *doc.max_counter.get_ref());
            if start > max {
                problems.add(
                    span_or_none(doc.max_counter.span()),
                    "naming.max_counter",
                    format!("max_counter {max} is below counter_start {start}"),
                );
            } else if max - start > 9_999 {
                problems.add(
                    span_or_none(doc.max_counter.span()),
                    "naming.max_counter",
                    "at most 10000 counter values are allowed",
                );
            }
            NamingRules { domain, candidates, counter_start: start, max_counter: max, set_mail: doc.set_mail }
        }
    };

    let lifecycle_doc = sections.lifecycle.unwrap_or_default();
    let default_time_zone = match &lifecycle_doc.default_time_zone {
        None => Tz::UTC,
        Some(name) => name.get_ref().parse::<Tz>().unwrap_or_else(|_| {
            problems.at(name, "lifecycle.default_time_zone", format!("unknown time zone \"{}\"", name.get_ref()));
            Tz::UTC
        }),
    };
    let keep_account_when = lifecycle_doc.keep_account_when.as_ref().map(|expression| {
        check_source(&mut checker, problems, expression, SourceKind::Expression, "lifecycle.keep_account_when")
    });
    let exchange = exchange_rules(&sections.exchange, lifecycle_doc.delete_after_days, &mut checker, problems);
    let lifecycle = LifecycleRules {
        create_days_before_start: lifecycle_doc.create_days_before_start,
        delete_after_days: exchange.account_delete_after_days(lifecycle_doc.delete_after_days),
        leave_default_keep: lifecycle_doc.leave.default == LeaveAction::Keep,
        leave_types: lifecycle_doc
            .leave
            .types
            .iter()
            .map(|(name, action)| (name.trim().to_lowercase(), *action == LeaveAction::Keep))
            .collect(),
    };
    let matching = MatchingOptions {
        adopt_by_secondary_key: matching_doc.adopt_by_secondary_key,
        leaver_removes_all_memberships: lifecycle_doc.leaver_removes_all_memberships,
    };

    let mut groups = Vec::new();
    for (i, doc) in sections.groups.iter().enumerate() {
        let key = format!("groups[{i}]");
        let name = check_source(&mut checker, problems, &doc.name, SourceKind::Template, &format!("{key}.name"));
        let display_name = doc.display_name.as_ref().map(|template| {
            check_source(&mut checker, problems, template, SourceKind::Template, &format!("{key}.display_name"))
        });
        let when = doc.when.as_ref().map(|expression| {
            check_source(&mut checker, problems, expression, SourceKind::Expression, &format!("{key}.when"))
        });
        let kind = match doc.kind.get_ref().as_str() {
            "security" => GroupKind::Security,
            "microsoft365" => GroupKind::Microsoft365,
            other => {
                problems.at(
                    &doc.kind,
                    format!("{key}.kind"),
                    format!("\"{other}\" is not a group kind (use security or microsoft365)"),
                );
                GroupKind::Security
            }
        };
        let id = doc.id.clone().unwrap_or_else(|| key.clone());
        groups.push(GroupRule { id, key, name, display_name, kind, create: doc.create, when });
    }

    let mut licences = Vec::new();
    for (i, doc) in sections.licences.iter().enumerate() {
        let key = format!("licences[{i}]");
        let sku = doc.sku.get_ref().trim().to_string();
        if sku.is_empty() || !sku.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.')) {
            problems.at(
                &doc.sku,
                format!("{key}.sku"),
                format!("\"{sku}\" is not a SKU part number (like ENTERPRISEPACK)"),
            );
        }
        let when = doc.when.as_ref().map(|expression| {
            check_source(&mut checker, problems, expression, SourceKind::Expression, &format!("{key}.when"))
        });
        let id = doc.id.clone().unwrap_or_else(|| key.clone());
        licences.push(LicenceRule { id, key, sku, when });
    }

    let limits_doc = sections.limits.unwrap_or_default();
    let limits = SafetyLimits {
        disables: limit(&limits_doc.disables, "disables", problems),
        deletes: limit(&limits_doc.deletes, "deletes", problems),
        license_removals: limit(&limits_doc.license_removals, "license_removals", problems),
        membership_removals: limit(&limits_doc.membership_removals, "membership_removals", problems),
    };

    Policy {
        text: text.to_string(),
        revision: format!("{:x}", Sha256::digest(text.as_bytes())),
        hr: sections.hr,
        scope,
        matching,
        secondary_key,
        previous_id_field,
        attributes,
        naming,
        default_time_zone,
        lifecycle,
        keep_account_when,
        groups,
        licences,
        limits,
        exchange,
    }
}

/// The prefix HR mappings use for custom fields; `previous_id_field` may be written either way.
fn hr_custom_prefix() -> &'static str {
    "custom."
}

/// Whether `text` looks like a DNS domain name (`contoso.com`).
fn is_domain(text: &str) -> bool {
    text.contains('.')
        && text.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
