//! Graph JSON → `model` directory types, written as "apply this object to what we knew" so one code path
//! serves the first delta round (applied to an empty state), later rounds (applied to the cached state,
//! possibly with only the changed properties), deleted-items lists and plain `GET /users` reads.
//!
//! Rules: a property present in the object overwrites (null or empty clears it); an absent one keeps the old
//! value. `businessPhones` maps to its first entry, `employeeOrgData` to `costCenter`/`division`, dates are
//! kept as Graph writes them. `manager@delta` entries are applied in order (a removed link clears the manager
//! it names, an added one sets it); an expanded `manager` object (from `$expand=manager`) sets it directly.

use model::{DirectoryGroup, DirectoryUser, GroupKind, ObjectId, ObservedState, SubscribedSku, UserAttribute};
use serde_json::{Map, Value};

/// The user properties every read selects: the managed attributes (nested ones by their parent) plus naming,
/// state and licence properties.
pub(crate) fn user_select() -> String {
    let mut names: Vec<&str> =
        vec!["id", "userPrincipalName", "mail", "mailNickname", "proxyAddresses", "accountEnabled", "assignedLicenses"];
    for attribute in UserAttribute::ALL {
        let name = attribute.graph_name().split('/').next().unwrap_or_default();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join(",")
}

/// The group properties the groups delta selects (`members` is the tracked relationship).
pub(crate) const GROUP_SELECT: &str =
    "displayName,mailNickname,groupTypes,securityEnabled,mailEnabled,membershipRule,members";

fn object_id(object: &Map<String, Value>) -> Option<ObjectId> {
    object.get("id").and_then(Value::as_str).map(|id| ObjectId(id.to_ascii_lowercase()))
}

/// A string property as text (numbers and booleans as their JSON text); `None` for null or empty.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// An empty user with this id (the base for a user seen for the first time).
fn empty_user(id: ObjectId) -> DirectoryUser {
    DirectoryUser {
        id,
        user_principal_name: String::new(),
        mail: None,
        mail_nickname: None,
        proxy_addresses: Vec::new(),
        account_enabled: false,
        attributes: model::AttributeMap::new(),
        manager: None,
        licenses: Default::default(),
    }
}

fn set_attribute(user: &mut DirectoryUser, attribute: UserAttribute, value: Option<String>) {
    match value {
        Some(value) => user.attributes.insert(attribute, value),
        None => user.attributes.remove(&attribute),
    };
}

/// Applies the properties present in `object` to `base` (or to a new user).
pub(crate) fn merge_user(base: Option<DirectoryUser>, object: &Map<String, Value>) -> Option<DirectoryUser> {
    let id = object_id(object)?;
    let mut user = base.unwrap_or_else(|| empty_user(id.clone()));
    user.id = id;
    if let Some(value) = object.get("userPrincipalName") {
        user.user_principal_name = text(value).unwrap_or_default();
    }
    if let Some(value) = object.get("mail") {
        user.mail = text(value);
    }
    if let Some(value) = object.get("mailNickname") {
        user.mail_nickname = text(value);
    }
    if let Some(value) = object.get("proxyAddresses") {
        user.proxy_addresses =
            value.as_array().map(|values| values.iter().filter_map(text).collect()).unwrap_or_default();
    }
    if let Some(value) = object.get("accountEnabled") {
        user.account_enabled = value.as_bool().unwrap_or(false);
    }
    if let Some(value) = object.get("assignedLicenses") {
        user.licenses = value
            .as_array()
            .map(|licences| {
                licences.iter().filter_map(|licence| licence["skuId"].as_str()).map(str::to_ascii_lowercase).collect()
            })
            .unwrap_or_default();
    }
    for attribute in UserAttribute::ALL {
        match attribute {
            UserAttribute::BusinessPhone => {
                if let Some(value) = object.get("businessPhones") {
                    set_attribute(
                        &mut user,
                        attribute,
                        value.as_array().and_then(|phones| phones.first()).and_then(text),
                    );
                }
            }
            UserAttribute::CostCenter | UserAttribute::Division => {
                if let Some(value) = object.get("employeeOrgData") {
                    let member = if attribute == UserAttribute::CostCenter { "costCenter" } else { "division" };
                    set_attribute(&mut user, attribute, text(&value[member]));
                }
            }
            _ => {
                if let Some(value) = object.get(attribute.graph_name()) {
                    set_attribute(&mut user, attribute, text(value));
                }
            }
        }
    }
    if let Some(entries) = object.get("manager@delta").and_then(Value::as_array) {
        for entry in entries {
            let Some(manager) = entry["id"].as_str().map(|id| ObjectId(id.to_ascii_lowercase())) else { continue };
            if entry.get("@removed").is_some() {
                if user.manager.as_ref() == Some(&manager) {
                    user.manager = None;
                }
            } else {
                user.manager = Some(manager);
            }
        }
    }
    if let Some(manager) = object.get("manager") {
        user.manager = manager["id"].as_str().map(|id| ObjectId(id.to_ascii_lowercase()));
    }
    Some(user)
}

/// Applies one entry of a users delta round to `state`.
pub(crate) fn apply_user_entry(state: &mut ObservedState, entry: &Value) {
    let Some(object) = entry.as_object() else { return };
    let Some(id) = object_id(object) else { return };
    if let Some(removed) = object.get("@removed") {
        let cached = state.users.remove(&id);
        if removed["reason"] == "changed" {
            // Soft-deleted: restorable from deleted items (which the caller re-reads as well).
            if let Some(user) = cached {
                state.deleted_users.insert(id, user);
            }
        } else {
            state.deleted_users.remove(&id);
        }
        return;
    }
    let base = state.users.remove(&id).or_else(|| state.deleted_users.remove(&id));
    if let Some(user) = merge_user(base, object) {
        state.users.insert(id, user);
    }
}

fn group_kind(object: &Map<String, Value>) -> Option<GroupKind> {
    let types = object.get("groupTypes")?.as_array()?;
    let unified = types.iter().any(|kind| kind.as_str().is_some_and(|kind| kind.eq_ignore_ascii_case("Unified")));
    let mail_enabled = object.get("mailEnabled")?.as_bool().unwrap_or(false);
    let security_enabled = object.get("securityEnabled")?.as_bool().unwrap_or(false);
    Some(if unified {
        GroupKind::Microsoft365
    } else if security_enabled && !mail_enabled {
        GroupKind::Security
    } else {
        GroupKind::Other
    })
}

/// Applies one entry of a groups delta round to `state`.
pub(crate) fn apply_group_entry(state: &mut ObservedState, entry: &Value) {
    let Some(object) = entry.as_object() else { return };
    let Some(id) = object_id(object) else { return };
    if object.get("@removed").is_some() {
        state.groups.remove(&id);
        return;
    }
    let mut group = state.groups.remove(&id).unwrap_or_else(|| DirectoryGroup {
        id: id.clone(),
        display_name: String::new(),
        mail_nickname: String::new(),
        kind: GroupKind::Other,
        dynamic: false,
        members: Default::default(),
    });
    if let Some(value) = object.get("displayName") {
        group.display_name = text(value).unwrap_or_default();
    }
    if let Some(value) = object.get("mailNickname") {
        group.mail_nickname = text(value).unwrap_or_default();
    }
    if let Some(kind) = group_kind(object) {
        group.kind = kind;
    }
    let dynamic_type = object.get("groupTypes").and_then(Value::as_array).map(|types| {
        types.iter().any(|kind| kind.as_str().is_some_and(|kind| kind.eq_ignore_ascii_case("DynamicMembership")))
    });
    let rule = object.get("membershipRule").map(|rule| text(rule).is_some());
    if dynamic_type.is_some() || rule.is_some() {
        group.dynamic = dynamic_type.unwrap_or(false) || rule.unwrap_or(false);
    }
    if let Some(entries) = object.get("members@delta").and_then(Value::as_array) {
        for member in entries {
            let is_user =
                member["@odata.type"].as_str().is_none_or(|kind| kind.eq_ignore_ascii_case("#microsoft.graph.user"));
            let Some(member_id) = member["id"].as_str().map(|id| ObjectId(id.to_ascii_lowercase())) else { continue };
            if !is_user {
                continue;
            }
            if member.get("@removed").is_some() {
                group.members.remove(&member_id);
            } else {
                group.members.insert(member_id);
            }
        }
    }
    state.groups.insert(id, group);
}

/// A `subscribedSkus` entry.
pub(crate) fn sku(value: &Value) -> Option<SubscribedSku> {
    Some(SubscribedSku {
        sku_id: value["skuId"].as_str()?.to_ascii_lowercase(),
        sku_part_number: value["skuPartNumber"].as_str().unwrap_or_default().to_string(),
        enabled_units: value["prepaidUnits"]["enabled"].as_u64().unwrap_or(0),
        consumed_units: value["consumedUnits"].as_u64().unwrap_or(0),
        includes_exchange: value["servicePlans"].as_array().is_some_and(|plans| {
            plans.iter().any(|plan| plan["servicePlanName"].as_str().is_some_and(|name| name.starts_with("EXCHANGE")))
        }),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_select_names_every_managed_attribute_once() {
        let select = user_select();
        for attribute in UserAttribute::ALL {
            let name = attribute.graph_name().split('/').next().expect("name");
            assert_eq!(select.split(',').filter(|part| *part == name).count(), 1, "{name}");
        }
    }

    #[test]
    fn a_user_object_maps_to_attributes() {
        let object = json!({
            "id": "AB", "userPrincipalName": "a@contoso.com", "accountEnabled": true, "mail": null,
            "businessPhones": ["+1 555", "+1 666"], "employeeOrgData": {"costCenter": "CC1", "division": null},
            "employeeHireDate": "2026-01-05T00:00:00Z", "jobTitle": "", "employeeId": "1001",
            "assignedLicenses": [{"skuId": "6FD2", "disabledPlans": []}],
            "manager@delta": [{"@odata.type": "#microsoft.graph.user", "id": "M1"}]
        });
        let user = merge_user(None, object.as_object().expect("object")).expect("user");
        assert_eq!(user.id, ObjectId("ab".into()));
        assert_eq!(user.attributes.get(&UserAttribute::BusinessPhone).map(String::as_str), Some("+1 555"));
        assert_eq!(user.attributes.get(&UserAttribute::CostCenter).map(String::as_str), Some("CC1"));
        assert!(!user.attributes.contains_key(&UserAttribute::Division));
        assert!(!user.attributes.contains_key(&UserAttribute::JobTitle), "empty is absent");
        assert_eq!(
            user.attributes.get(&UserAttribute::EmployeeHireDate).map(String::as_str),
            Some("2026-01-05T00:00:00Z")
        );
        assert_eq!(user.employee_id(), Some("1001"));
        assert!(user.licenses.contains("6fd2"));
        assert_eq!(user.manager, Some(ObjectId("m1".into())));
        // A later, partial round: only what is present changes; a removed manager link clears it.
        let later = json!({"id": "ab", "jobTitle": "Boss",
            "manager@delta": [{"id": "m1", "@removed": {"reason": "deleted"}}]});
        let user = merge_user(Some(user), later.as_object().expect("object")).expect("user");
        assert_eq!(user.attributes.get(&UserAttribute::JobTitle).map(String::as_str), Some("Boss"));
        assert_eq!(user.employee_id(), Some("1001"));
        assert_eq!(user.manager, None);
    }

    #[test]
    fn groups_get_their_kind_and_member_changes() {
        let mut state = ObservedState::default();
        apply_group_entry(
            &mut state,
            &json!({"id": "g", "displayName": "G", "mailNickname": "g",
            "groupTypes": ["Unified"], "mailEnabled": true, "securityEnabled": false, "membershipRule": null,
            "members@delta": [{"@odata.type": "#microsoft.graph.user", "id": "u1"},
                              {"@odata.type": "#microsoft.graph.group", "id": "g2"},
                              {"@odata.type": "#microsoft.graph.user", "id": "u2"}]}),
        );
        let group = &state.groups[&ObjectId("g".into())];
        assert_eq!(group.kind, GroupKind::Microsoft365);
        assert_eq!(group.members.len(), 2, "nested groups are not user members");
        apply_group_entry(
            &mut state,
            &json!({"id": "g",
            "members@delta": [{"@odata.type": "#microsoft.graph.user", "id": "u1", "@removed": {"reason": "deleted"}}]}),
        );
        let group = &state.groups[&ObjectId("g".into())];
        assert_eq!(group.members.iter().map(|id| id.0.as_str()).collect::<Vec<_>>(), vec!["u2"]);
        assert_eq!(group.kind, GroupKind::Microsoft365, "kept when not resent");
        apply_group_entry(&mut state, &json!({"id": "g", "@removed": {"reason": "changed"}}));
        assert!(state.groups.is_empty());
    }
}
