//! Validation of `POST /groups` and `PATCH /groups/{id}` bodies and applying them to a [`Group`].
//!
//! Graph can create and change only Microsoft 365 groups (`groupTypes: ["Unified"]`, mail-enabled) and
//! security groups (`mailEnabled: false`, `securityEnabled: true`); a mail-enabled non-Unified group is
//! refused with the service's "writes of mail-enabled groups" error — those belong to Exchange (reference
//! §3.2; <https://learn.microsoft.com/graph/api/group-post-groups>).
//!
//! Observed wording of that error: a 2021 capture quoted in public repositories (`Request_BadRequest`,
//! "The service does not currently support writes of mail-enabled groups. Please ensure that the
//! mail-enablement property is unset and the security-enablement property is set.").

use serde_json::{Map, Value};

use super::error::{GraphError, GraphResult};
use super::request_body::{
    as_optional_bool, as_optional_string, as_optional_string_list, invalid_property, invalid_value, is_type_annotation,
    read_only, required_missing,
};
use crate::directory::group::Group;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Text,
    Flag,
    TextList,
    /// Settable only when the group is created.
    CreateOnlyFlag,
    CreateOnlyTextList,
    ReadOnly,
}

/// Group properties the sandbox knows (names from the v1.0 CSDL) with their write shape. Writable
/// properties the sandbox does not model (Exchange or SharePoint settings) are type-checked and ignored.
const PROPERTIES: &[(&str, Shape)] = &[
    ("accessType", Shape::ReadOnly),
    ("allowExternalSenders", Shape::Flag),
    ("assignedLabels", Shape::ReadOnly),
    ("assignedLicenses", Shape::ReadOnly),
    ("autoSubscribeNewMembers", Shape::Flag),
    ("classification", Shape::Text),
    ("createdDateTime", Shape::ReadOnly),
    ("deletedDateTime", Shape::ReadOnly),
    ("description", Shape::Text),
    ("displayName", Shape::Text),
    ("expirationDateTime", Shape::ReadOnly),
    ("groupTypes", Shape::TextList),
    ("hasMembersWithLicenseErrors", Shape::ReadOnly),
    ("hideFromAddressLists", Shape::Flag),
    ("hideFromOutlookClients", Shape::Flag),
    ("id", Shape::ReadOnly),
    ("isArchived", Shape::ReadOnly),
    ("isAssignableToRole", Shape::CreateOnlyFlag),
    ("isManagementRestricted", Shape::ReadOnly),
    ("isSubscribedByMail", Shape::ReadOnly),
    ("licenseProcessingState", Shape::ReadOnly),
    ("mail", Shape::ReadOnly),
    ("mailEnabled", Shape::Flag),
    ("mailNickname", Shape::Text),
    ("membershipRule", Shape::Text),
    ("membershipRuleProcessingState", Shape::Text),
    ("onPremisesDomainName", Shape::ReadOnly),
    ("onPremisesLastSyncDateTime", Shape::ReadOnly),
    ("onPremisesNetBiosName", Shape::ReadOnly),
    ("onPremisesProvisioningErrors", Shape::ReadOnly),
    ("onPremisesSamAccountName", Shape::ReadOnly),
    ("onPremisesSecurityIdentifier", Shape::ReadOnly),
    ("onPremisesSyncEnabled", Shape::ReadOnly),
    ("preferredDataLocation", Shape::Text),
    ("preferredLanguage", Shape::Text),
    ("proxyAddresses", Shape::ReadOnly),
    ("renewedDateTime", Shape::ReadOnly),
    ("resourceBehaviorOptions", Shape::CreateOnlyTextList),
    ("resourceProvisioningOptions", Shape::CreateOnlyTextList),
    ("securityEnabled", Shape::Flag),
    ("securityIdentifier", Shape::ReadOnly),
    ("serviceProvisioningErrors", Shape::ReadOnly),
    ("theme", Shape::Text),
    ("uniqueName", Shape::Text),
    ("unseenCount", Shape::ReadOnly),
    ("visibility", Shape::Text),
];

const REQUIRED: &[&str] = &["displayName", "mailEnabled", "mailNickname", "securityEnabled"];

const NICKNAME_FORBIDDEN: &[char] = &['@', '(', ')', '\\', '[', ']', '"', ';', ':', '<', '>', ',', ' '];

/// The error for creating (or turning into) a mail-enabled group that is not a Microsoft 365 group.
pub fn mail_enabled_not_supported() -> GraphError {
    GraphError::bad_request(
        "The service does not currently support writes of mail-enabled groups. Please ensure that the \
         mail-enablement property is unset and the security-enablement property is set.",
    )
}

/// Whether the request creates a group or changes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `POST /groups`.
    Create,
    /// `PATCH /groups/{id}`.
    Update,
}

/// A type-checked group body (without its `@odata.bind` annotations).
#[derive(Clone, Debug, Default)]
pub struct GroupInput {
    /// The properties sent, in name order.
    pub properties: Vec<(String, Value)>,
}

impl GroupInput {
    /// The value sent for `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.properties.iter().find(|(property, _)| property == name).map(|(_, value)| value)
    }

    fn flag(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }

    fn types(&self) -> Option<Vec<String>> {
        let value = self.get("groupTypes")?;
        Some(
            value
                .as_array()
                .map(|items| items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
        )
    }
}

/// The OData checks: known, writable properties whose values convert to their types.
pub fn type_check(body: Map<String, Value>, mode: Mode) -> GraphResult<GroupInput> {
    let mut properties = Vec::new();
    for (name, value) in body {
        if is_type_annotation(&name) {
            continue;
        }
        let Some(shape) = PROPERTIES.iter().find(|(property, _)| *property == name).map(|(_, shape)| *shape) else {
            return Err(invalid_property(&name));
        };
        match shape {
            Shape::ReadOnly => return Err(read_only(&name)),
            Shape::CreateOnlyFlag | Shape::CreateOnlyTextList if mode == Mode::Update => {
                return Err(read_only(&name));
            }
            Shape::Text => {
                as_optional_string(&value)?;
            }
            Shape::Flag | Shape::CreateOnlyFlag => {
                as_optional_bool(&value)?;
            }
            Shape::TextList | Shape::CreateOnlyTextList => {
                as_optional_string_list(&value)?;
            }
        }
        properties.push((name, value));
    }
    Ok(GroupInput { properties })
}

fn has_type(types: &[String], wanted: &str) -> bool {
    types.iter().any(|kind| kind.eq_ignore_ascii_case(wanted))
}

/// The directory's checks of a create body.
pub fn validate_create(input: &GroupInput) -> GraphResult<()> {
    for &required in REQUIRED {
        let present = input.get(required).is_some_and(|value| !value.is_null() && value.as_str() != Some(""));
        if !present {
            return Err(required_missing(required));
        }
    }
    let types = input.types().unwrap_or_default();
    validate_common(input, &types)?;
    let unified = has_type(&types, "Unified");
    let mail_enabled = input.flag("mailEnabled").unwrap_or(false);
    let security_enabled = input.flag("securityEnabled").unwrap_or(false);
    if !unified && (mail_enabled || !security_enabled) {
        return Err(mail_enabled_not_supported());
    }
    if unified && !mail_enabled {
        return Err(invalid_value("mailEnabled", "Group"));
    }
    if dynamic_without_rule(input) {
        return Err(invalid_value("membershipRule", "Group"));
    }
    Ok(())
}

/// The directory's checks of an update body against the current group.
pub fn validate_update(input: &GroupInput, current: &Group) -> GraphResult<()> {
    for name in ["displayName", "mailNickname", "mailEnabled", "securityEnabled"] {
        if input.get(name).is_some_and(Value::is_null) {
            return Err(invalid_value(name, "Group"));
        }
    }
    let types = input.types().unwrap_or_else(|| current.group_types.clone());
    validate_common(input, &types)?;
    if has_type(&types, "Unified") != current.is_unified() {
        return Err(invalid_value("groupTypes", "Group"));
    }
    let mail_enabled = input.flag("mailEnabled").unwrap_or(current.mail_enabled);
    let security_enabled = input.flag("securityEnabled").unwrap_or(current.security_enabled);
    if current.is_unified() {
        if !mail_enabled {
            return Err(invalid_value("mailEnabled", "Group"));
        }
    } else if mail_enabled || !security_enabled {
        return Err(mail_enabled_not_supported());
    }
    let rule = match input.get("membershipRule") {
        Some(value) => value.as_str().map(str::to_string),
        None => current.membership_rule.clone(),
    };
    if has_type(&types, "DynamicMembership") && rule.as_deref().is_none_or(str::is_empty) {
        return Err(invalid_value("membershipRule", "Group"));
    }
    Ok(())
}

fn validate_common(input: &GroupInput, types: &[String]) -> GraphResult<()> {
    if !types.iter().all(|kind| kind.eq_ignore_ascii_case("Unified") || kind.eq_ignore_ascii_case("DynamicMembership"))
    {
        return Err(invalid_value("groupTypes", "Group"));
    }
    if let Some(name) = input.get("displayName").and_then(Value::as_str)
        && (name.trim().is_empty() || name.chars().count() > 256)
    {
        return Err(invalid_value("displayName", "Group"));
    }
    if let Some(nickname) = input.get("mailNickname").and_then(Value::as_str)
        && (nickname.is_empty()
            || nickname.len() > 64
            || !nickname.is_ascii()
            || nickname.contains(NICKNAME_FORBIDDEN)
            || nickname.starts_with('.')
            || nickname.ends_with('.'))
    {
        return Err(invalid_value("mailNickname", "Group"));
    }
    if let Some(visibility) = input.get("visibility").and_then(Value::as_str)
        && !["Public", "Private", "HiddenMembership"].iter().any(|known| known.eq_ignore_ascii_case(visibility))
    {
        return Err(invalid_value("visibility", "Group"));
    }
    if let Some(state) = input.get("membershipRuleProcessingState").and_then(Value::as_str)
        && !["On", "Paused"].iter().any(|known| known.eq_ignore_ascii_case(state))
    {
        return Err(invalid_value("membershipRuleProcessingState", "Group"));
    }
    if has_type(types, "DynamicMembership")
        && input.get("membershipRule").is_some_and(|rule| rule.as_str().is_none_or(str::is_empty))
    {
        return Err(invalid_value("membershipRule", "Group"));
    }
    Ok(())
}

/// Whether a create body asks for a dynamic group without a rule.
fn dynamic_without_rule(input: &GroupInput) -> bool {
    let types = input.types().unwrap_or_default();
    has_type(&types, "DynamicMembership")
        && input.get("membershipRule").and_then(Value::as_str).is_none_or(str::is_empty)
}

/// Applies a validated body to `group`.
pub fn apply(group: &mut Group, input: &GroupInput) {
    let text = |value: &Value| value.as_str().map(str::to_string);
    for (name, value) in &input.properties {
        match name.as_str() {
            "displayName" => group.display_name = text(value).unwrap_or_default(),
            "description" => group.description = text(value),
            "mailNickname" => group.mail_nickname = text(value).unwrap_or_default(),
            "mailEnabled" => group.mail_enabled = value.as_bool().unwrap_or(group.mail_enabled),
            "securityEnabled" => group.security_enabled = value.as_bool().unwrap_or(group.security_enabled),
            "groupTypes" => {
                group.group_types = value
                    .as_array()
                    .map(|items| items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
            }
            "visibility" => group.visibility = text(value),
            "membershipRule" => group.membership_rule = text(value),
            "isAssignableToRole" => group.is_assignable_to_role = value.as_bool().unwrap_or(false),
            // Exchange/SharePoint-side settings the sandbox does not model.
            _ => {}
        }
    }
}
