//! `$expand` on users and groups: `manager`, `directReports` and `memberOf` on users; `members` and `owners`
//! on groups — each optionally with a nested `$select` (`$expand=manager($select=id,displayName)`).
//!
//! Expanded collections carry at most 20 objects, as Graph documents for directory relationships
//! (<https://learn.microsoft.com/graph/known-issues#query-parameters>); an expanded `manager` that does not
//! exist is left out. Unknown names get the OData library's "Could not find a property named …" error.
//!
//! [`ReadOptions`] carries a read's query options, its `$expand` and the caller's view, and renders each user
//! or group the read returns with them.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::call::Call;
use super::error::{GraphError, GraphResult};
use super::groups;
use super::members::DirectoryObject;
use super::odata::projection::parse_select;
use super::odata::{EntityKind, ListQuery};
use super::users::UserView;
use crate::directory::group::Group;
use crate::directory::tenant::Tenant;
use crate::directory::user::User;

/// Graph returns at most this many objects in an expanded collection.
pub const MAX_EXPANDED: usize = 20;

/// One `$expand` item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpandItem {
    /// The navigation property, in schema casing.
    pub property: &'static str,
    /// The nested `$select`, if any.
    pub select: Option<Vec<String>>,
}

const USER_NAVIGATION: &[&str] = &["manager", "directReports", "memberOf"];
const GROUP_NAVIGATION: &[&str] = &["members", "owners"];

/// Splits on commas outside parentheses.
fn split_top_level(raw: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0_i32;
    let mut start = 0;
    for (index, c) in raw.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&raw[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&raw[start..]);
    parts.into_iter().map(str::trim).filter(|part| !part.is_empty()).collect()
}

/// Parses `$expand` for `kind`.
pub fn parse_expand(kind: EntityKind, raw: Option<&str>) -> GraphResult<Vec<ExpandItem>> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    let (navigation, type_name) = match kind {
        EntityKind::User => (USER_NAVIGATION, "microsoft.graph.user"),
        EntityKind::Group => (GROUP_NAVIGATION, "microsoft.graph.group"),
    };
    let mut items = Vec::new();
    for part in split_top_level(raw) {
        let (name, options) = match part.split_once('(') {
            Some((name, rest)) => (name.trim(), Some(rest.strip_suffix(')').unwrap_or(rest))),
            None => (part, None),
        };
        let property = navigation.iter().find(|known| known.eq_ignore_ascii_case(name)).copied().ok_or_else(|| {
            GraphError::bad_request(format!("Could not find a property named '{name}' on type '{type_name}'."))
        })?;
        let target_kind = if property == "memberOf" { EntityKind::Group } else { EntityKind::User };
        let mut select = None;
        for option in options.map(split_options).unwrap_or_default() {
            if let Some(value) = option.strip_prefix("$select=").or_else(|| option.strip_prefix("select=")) {
                select = parse_select(target_kind, value)?;
            }
        }
        items.push(ExpandItem { property, select });
    }
    Ok(items)
}

fn split_options(options: &str) -> Vec<&str> {
    options.split(';').map(str::trim).filter(|option| !option.is_empty()).collect()
}

fn collection(objects: impl Iterator<Item = Map<String, Value>>) -> Value {
    Value::Array(objects.take(MAX_EXPANDED).map(Value::Object).collect())
}

/// What a read of users or groups asks for and may see: the OData query options, the parsed `$expand`, and
/// the caller's view of users.
#[derive(Debug)]
pub struct ReadOptions {
    /// The query options.
    pub query: ListQuery,
    /// The `$expand` items.
    pub expansions: Vec<ExpandItem>,
    /// What the caller may see of users.
    pub view: UserView,
    /// The sandbox time of the read (expanded objects inside their replication delay are left out).
    pub now: DateTime<Utc>,
}

impl ReadOptions {
    /// The options of `call` reading `kind` objects with `view`; malformed options answer 400.
    pub fn of(call: &Call, kind: EntityKind, view: UserView) -> GraphResult<ReadOptions> {
        let query = call.list_query(kind)?;
        let expansions = parse_expand(kind, query.expand.as_deref())?;
        Ok(ReadOptions { query, expansions, view, now: call.now })
    }

    /// The `$select` columns, if any.
    pub fn select(&self) -> Option<&[String]> {
        self.query.select.as_deref()
    }

    /// A user with the selected properties and its expanded relationships.
    pub fn user(&self, tenant: &Tenant, user: &User) -> Map<String, Value> {
        let mut object = self.view.render(user, self.select());
        expand_user(&mut object, &self.expansions, tenant, user, &self.view, self.now);
        object
    }

    /// A group with the selected properties and its expanded relationships.
    pub fn group(&self, tenant: &Tenant, group: &Group) -> Map<String, Value> {
        let mut object = groups::render(group, self.select());
        expand_group(&mut object, &self.expansions, tenant, group, &self.view, self.now);
        object
    }
}

/// Adds the expanded relationships of `user` to its rendered `object`.
fn expand_user(
    object: &mut Map<String, Value>,
    items: &[ExpandItem],
    tenant: &Tenant,
    user: &User,
    view: &UserView,
    now: DateTime<Utc>,
) {
    for item in items {
        let select = item.select.as_deref();
        match item.property {
            "manager" => {
                if let Some(manager) = user.manager.and_then(|id| DirectoryObject::live(tenant, id, now)) {
                    object.insert("manager".into(), Value::Object(manager.render(select, view)));
                }
            }
            "directReports" => {
                let reports = tenant
                    .users
                    .values()
                    .filter(|report| report.manager == Some(user.id))
                    .filter_map(|report| DirectoryObject::live(tenant, report.id, now))
                    .map(|report| report.render(select, view));
                object.insert("directReports".into(), collection(reports));
            }
            "memberOf" => {
                let groups = tenant
                    .groups
                    .values()
                    .filter(|group| group.members.contains(&user.id))
                    .filter_map(|group| DirectoryObject::live(tenant, group.id, now))
                    .map(|group| group.render(select, view));
                object.insert("memberOf".into(), collection(groups));
            }
            _ => {}
        }
    }
}

/// Adds the expanded relationships of `group` to its rendered `object`.
fn expand_group(
    object: &mut Map<String, Value>,
    items: &[ExpandItem],
    tenant: &Tenant,
    group: &Group,
    view: &UserView,
    now: DateTime<Utc>,
) {
    for item in items {
        let linked = match item.property {
            "members" => &group.members,
            "owners" => &group.owners,
            _ => continue,
        };
        let objects = linked
            .iter()
            .filter_map(|id| DirectoryObject::live(tenant, *id, now))
            .map(|linked| linked.render(item.select.as_deref(), view));
        object.insert(item.property.into(), collection(objects));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_items_carry_their_nested_select() {
        let items = parse_expand(EntityKind::User, Some("manager($select=id,displayName)")).expect("valid");
        assert_eq!(items[0].property, "manager");
        assert_eq!(items[0].select.as_deref(), Some(&["id".to_string(), "displayName".to_string()][..]));
        let error = parse_expand(EntityKind::User, Some("colleagues")).expect_err("unknown");
        assert_eq!(error.message, "Could not find a property named 'colleagues' on type 'microsoft.graph.user'.");
        assert_eq!(parse_expand(EntityKind::Group, Some("members,owners")).expect("valid").len(), 2);
    }
}
