//! `$select` validation against the schema and the projection of an object into its JSON response.
//!
//! Names are matched case-insensitively and come back in the schema's casing. A name the schema does not
//! declare is a 400; a declared property the sandbox does not model renders as `null` (as Graph renders an
//! unset property); directory extension attributes (`extension_{appId}_{name}`) pass through and are omitted
//! when unset; navigation properties (`manager`, `members`) are accepted but not rendered by `project`.

use serde_json::{Map, Value};

use super::EntityKind;
use super::error_messages as msg;
use super::schema::entity;
use crate::directory::{group, user};
use crate::graph::error::GraphError;

/// Whether `name` is a directory extension attribute (`extension_<32 hex>_<name>`).
fn is_extension_attribute(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("extension_") else { return false };
    let Some((app, attribute)) = rest.split_once('_') else { return false };
    app.len() == 32 && app.chars().all(|c| c.is_ascii_hexdigit()) && !attribute.is_empty()
}

/// Validates a `$select` value; `None` when it is empty (the default set applies).
pub fn parse_select(kind: EntityKind, raw: &str) -> Result<Option<Vec<String>>, GraphError> {
    let structured = entity(kind);
    let mut selected: Vec<String> = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|item| !item.is_empty()) {
        let canonical = if item == "*" {
            "*".to_string()
        } else if let Some(property) = structured.property(item) {
            property.name.clone()
        } else if is_extension_attribute(item) {
            item.to_string()
        } else {
            return Err(GraphError::bad_request(msg::unknown_select_property(item, &structured.name)));
        };
        if !selected.contains(&canonical) {
            selected.push(canonical);
        }
    }
    Ok((!selected.is_empty()).then_some(selected))
}

/// The properties `kind` returns without `$select`.
pub fn default_select(kind: EntityKind) -> &'static [&'static str] {
    match kind {
        EntityKind::User => user::DEFAULT_SELECT,
        EntityKind::Group => group::DEFAULT_SELECT,
    }
}

/// The JSON object for an entity: `select` (or the default set of `kind`) applied to the property getter.
/// `id` is always included.
pub fn project(kind: EntityKind, select: Option<&[String]>, get: &dyn Fn(&str) -> Option<Value>) -> Map<String, Value> {
    let structured = entity(kind);
    let mut object = Map::new();
    let mut put = |name: &str| {
        if object.contains_key(name) {
            return;
        }
        match structured.property(name) {
            Some(property) if property.navigation => {}
            Some(property) => {
                object.insert(property.name.clone(), get(&property.name).unwrap_or(Value::Null));
            }
            None => {
                if let Some(value) = get(name) {
                    object.insert(name.to_string(), value);
                }
            }
        }
    };
    match select {
        None => default_select(kind).iter().for_each(|name| put(name)),
        Some(names) => {
            for name in names {
                if name == "*" {
                    structured.structural().for_each(|property| put(&property.name));
                } else {
                    put(name);
                }
            }
        }
    }
    // Graph returns exactly the selected properties: `id` only when selected (or in the default set).
    // Delta responses add `id` themselves, as Microsoft always returns it there.
    object
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn getter(name: &str) -> Option<Value> {
        json!({
            "id": "u1",
            "displayName": "Adele Vance",
            "userPrincipalName": "adele@contoso.com",
            "businessPhones": [],
            "extension_0123456789abcdef0123456789abcdef_costCode": "X1",
        })
        .get(name)
        .cloned()
    }

    #[test]
    fn select_is_case_insensitive_and_canonicalised() {
        let select = parse_select(EntityKind::User, "DISPLAYNAME, userprincipalname,displayName").unwrap();
        assert_eq!(select, Some(vec!["displayName".to_string(), "userPrincipalName".to_string()]));
        assert_eq!(parse_select(EntityKind::User, " , ").unwrap(), None);
        assert_eq!(parse_select(EntityKind::Group, "members,id").unwrap(), Some(vec!["members".into(), "id".into()]));
    }

    #[test]
    fn unknown_select_property_is_rejected_with_graph_text() {
        let error = parse_select(EntityKind::User, "displayName,fooBar").unwrap_err();
        assert_eq!(error.status, http::StatusCode::BAD_REQUEST);
        assert_eq!(error.code, "Request_BadRequest");
        assert_eq!(error.message, "Could not find a property named 'fooBar' on type 'microsoft.graph.user'.");
        let error = parse_select(EntityKind::Group, "userPrincipalName").unwrap_err();
        assert_eq!(
            error.message,
            "Could not find a property named 'userPrincipalName' on type 'microsoft.graph.group'."
        );
    }

    #[test]
    fn projection_renders_unmodelled_properties_as_null_and_always_has_id() {
        let select = parse_select(EntityKind::User, "displayName,aboutMe,manager").unwrap();
        let object = project(EntityKind::User, select.as_deref(), &getter);
        assert_eq!(Value::Object(object), json!({"displayName": "Adele Vance", "aboutMe": null}));
    }

    #[test]
    fn projection_without_select_uses_the_default_set() {
        let object = project(EntityKind::User, None, &getter);
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        let mut expected = user::DEFAULT_SELECT.to_vec();
        keys.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(object["givenName"], Value::Null);
    }

    #[test]
    fn extension_attributes_pass_through_and_star_selects_everything() {
        let select = parse_select(EntityKind::User, "extension_0123456789abcdef0123456789abcdef_costCode").unwrap();
        let object = project(EntityKind::User, select.as_deref(), &getter);
        assert_eq!(object["extension_0123456789abcdef0123456789abcdef_costCode"], json!("X1"));
        let select = parse_select(EntityKind::User, "extension_0123456789abcdef0123456789abcdef_other").unwrap();
        assert!(
            !project(EntityKind::User, select.as_deref(), &getter)
                .contains_key("extension_0123456789abcdef0123456789abcdef_other")
        );
        let all = project(EntityKind::User, Some(&["*".to_string()]), &getter);
        assert!(all.contains_key("onPremisesImmutableId") && !all.contains_key("manager"));
    }
}
