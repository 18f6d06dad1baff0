//! The wire shapes of the objects Tenure reads (private), and their conversion into `model` types at the crate
//! boundary.
//!
//! Exchange's objects carry `@data.type`/`@odata.type` annotations next to typed values (reference §4.2); serde
//! ignores them, as it ignores every property Tenure does not read. Collections may come as a list or, from
//! some serializers, as one string; nulls stand for empty.

use model::{
    MailGroup, MailGroupKind, MailGroupMember, Mailbox, MailboxKind, MailboxPermission, MailboxRight,
    MembershipRestriction, ObjectId,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};

/// A collection property: a list of strings, one string, or null.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Strings {
    List(Vec<String>),
    One(String),
    #[default]
    None,
}

impl Strings {
    fn into_vec(self) -> Vec<String> {
        match self {
            Strings::List(items) => items,
            Strings::One(item) if !item.is_empty() => vec![item],
            Strings::One(_) | Strings::None => Vec::new(),
        }
    }

    fn contains(&self, wanted: &str) -> bool {
        match self {
            Strings::List(items) => items.iter().any(|item| item.eq_ignore_ascii_case(wanted)),
            Strings::One(item) => item.split(',').any(|item| item.trim().eq_ignore_ascii_case(wanted)),
            Strings::None => false,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MailboxDto {
    identity: Option<String>,
    name: Option<String>,
    external_directory_object_id: Option<String>,
    user_principal_name: Option<String>,
    primary_smtp_address: Option<String>,
    display_name: Option<String>,
    recipient_type_details: Option<String>,
    hidden_from_address_lists_enabled: Option<bool>,
    #[serde(default)]
    grant_send_on_behalf_to: Strings,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MailboxPermissionDto {
    identity: Option<String>,
    user: Option<String>,
    #[serde(default)]
    access_rights: Strings,
    is_inherited: Option<bool>,
    deny: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecipientPermissionDto {
    identity: Option<String>,
    trustee: Option<String>,
    #[serde(default)]
    access_rights: Strings,
    is_inherited: Option<bool>,
    access_control_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupDto {
    identity: Option<String>,
    name: Option<String>,
    external_directory_object_id: Option<String>,
    display_name: Option<String>,
    alias: Option<String>,
    primary_smtp_address: Option<String>,
    recipient_type_details: Option<String>,
    #[serde(default)]
    managed_by: Strings,
    member_join_restriction: Option<String>,
    member_depart_restriction: Option<String>,
    require_sender_authentication_enabled: Option<bool>,
    hidden_from_address_lists_enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MemberDto {
    identity: Option<String>,
    name: Option<String>,
    external_directory_object_id: Option<String>,
    primary_smtp_address: Option<String>,
    recipient_type_details: Option<String>,
}

/// How Exchange names a mailbox owner's own permission entry.
const SELF: &str = "NT AUTHORITY\\SELF";

fn parse<T: DeserializeOwned>(cmdlet: &str, object: Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(object)).map_err(|error| {
        Error::new(ErrorKind::InvalidResponse, cmdlet, format!("an output object has an unexpected shape: {error}"))
    })
}

fn object_id(value: Option<String>) -> Option<ObjectId> {
    value.map(|id| id.trim().to_ascii_lowercase()).filter(|id| !id.is_empty()).map(ObjectId)
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.trim().is_empty())
}

fn restriction(value: Option<&str>, default: MembershipRestriction) -> MembershipRestriction {
    match value.map(str::trim) {
        Some(text) if text.eq_ignore_ascii_case("Open") => MembershipRestriction::Open,
        Some(text) if text.eq_ignore_ascii_case("Closed") => MembershipRestriction::Closed,
        Some(text) if text.eq_ignore_ascii_case("ApprovalRequired") => MembershipRestriction::ApprovalRequired,
        _ => default,
    }
}

/// A `Get-Mailbox` object.
pub(crate) fn mailbox(cmdlet: &str, object: Map<String, Value>) -> Result<Mailbox> {
    let dto: MailboxDto = parse(cmdlet, object)?;
    let identity = non_empty(dto.identity).or(dto.name).unwrap_or_default();
    Ok(Mailbox {
        object_id: object_id(dto.external_directory_object_id),
        user_principal_name: dto.user_principal_name.unwrap_or_default(),
        primary_smtp_address: non_empty(dto.primary_smtp_address),
        display_name: dto.display_name.unwrap_or_else(|| identity.clone()),
        kind: MailboxKind::from_recipient_type_details(dto.recipient_type_details.as_deref().unwrap_or_default()),
        hidden_from_address_lists: dto.hidden_from_address_lists_enabled.unwrap_or(false),
        send_on_behalf: dto.grant_send_on_behalf_to.into_vec(),
        identity,
    })
}

/// A `Get-MailboxPermission` entry, when it is a FullAccess entry for someone other than the owner.
pub(crate) fn full_access(cmdlet: &str, object: Map<String, Value>) -> Result<Option<MailboxPermission>> {
    let dto: MailboxPermissionDto = parse(cmdlet, object)?;
    let trustee = dto.user.unwrap_or_default();
    if trustee.eq_ignore_ascii_case(SELF) || !dto.access_rights.contains("FullAccess") {
        return Ok(None);
    }
    Ok(Some(MailboxPermission {
        mailbox: dto.identity.unwrap_or_default(),
        trustee,
        right: MailboxRight::FullAccess,
        inherited: dto.is_inherited.unwrap_or(false),
        deny: dto.deny.unwrap_or(false),
    }))
}

/// A `Get-RecipientPermission` entry, when it is a SendAs entry for someone other than the owner.
pub(crate) fn send_as(cmdlet: &str, object: Map<String, Value>) -> Result<Option<MailboxPermission>> {
    let dto: RecipientPermissionDto = parse(cmdlet, object)?;
    let trustee = dto.trustee.unwrap_or_default();
    if trustee.eq_ignore_ascii_case(SELF) || !dto.access_rights.contains("SendAs") {
        return Ok(None);
    }
    Ok(Some(MailboxPermission {
        mailbox: dto.identity.unwrap_or_default(),
        trustee,
        right: MailboxRight::SendAs,
        inherited: dto.is_inherited.unwrap_or(false),
        deny: dto.access_control_type.is_some_and(|kind| kind.eq_ignore_ascii_case("Deny")),
    }))
}

/// A `Get-DistributionGroup` / `New-DistributionGroup` object (members not read).
pub(crate) fn mail_group(cmdlet: &str, object: Map<String, Value>) -> Result<MailGroup> {
    let dto: GroupDto = parse(cmdlet, object)?;
    let security = dto.recipient_type_details.as_deref().is_some_and(|details| details.contains("Security"));
    let kind = if security { MailGroupKind::Security } else { MailGroupKind::Distribution };
    // Exchange's defaults when a value is missing: joining closed; leaving open for distribution lists and
    // closed for security groups (reference §4.4).
    let depart_default = if security { MembershipRestriction::Closed } else { MembershipRestriction::Open };
    let identity = non_empty(dto.identity).or(dto.name).unwrap_or_default();
    Ok(MailGroup {
        object_id: object_id(dto.external_directory_object_id),
        display_name: dto.display_name.unwrap_or_else(|| identity.clone()),
        alias: dto.alias.unwrap_or_default(),
        primary_smtp_address: non_empty(dto.primary_smtp_address),
        kind,
        managed_by: dto.managed_by.into_vec(),
        member_join_restriction: restriction(dto.member_join_restriction.as_deref(), MembershipRestriction::Closed),
        member_depart_restriction: restriction(dto.member_depart_restriction.as_deref(), depart_default),
        require_sender_authentication: dto.require_sender_authentication_enabled.unwrap_or(true),
        hidden_from_address_lists: dto.hidden_from_address_lists_enabled.unwrap_or(false),
        members: None,
        identity,
    })
}

/// A `Get-DistributionGroupMember` object.
pub(crate) fn member(cmdlet: &str, object: Map<String, Value>) -> Result<MailGroupMember> {
    let dto: MemberDto = parse(cmdlet, object)?;
    Ok(MailGroupMember {
        identity: non_empty(dto.identity).or(dto.name).unwrap_or_default(),
        object_id: object_id(dto.external_directory_object_id),
        primary_smtp_address: non_empty(dto.primary_smtp_address),
        recipient_type_details: dto.recipient_type_details.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_mailbox_is_read_past_its_annotations() {
        let found = mailbox(
            "Get-Mailbox",
            object(json!({
                "Identity": "AlexW", "Name": "AlexW", "DisplayName": "Alex Wilber",
                "UserPrincipalName": "alex@contoso.com", "PrimarySmtpAddress": "alex@contoso.com",
                "ExternalDirectoryObjectId": "0B1C2D3E-0000-4000-8000-000000000003",
                "RecipientTypeDetails@data.type": "Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails",
                "RecipientTypeDetails": "SharedMailbox", "HiddenFromAddressListsEnabled": true,
                "GrantSendOnBehalfTo@odata.type": "#Collection(String)", "GrantSendOnBehalfTo": ["AdeleV"],
            })),
        )
        .unwrap();
        assert_eq!(found.kind, MailboxKind::Shared);
        assert!(found.hidden_from_address_lists);
        assert_eq!(found.object_id, Some(ObjectId("0b1c2d3e-0000-4000-8000-000000000003".into())));
        assert_eq!(found.send_on_behalf, vec!["AdeleV".to_string()]);
    }

    #[test]
    fn the_owners_own_entries_are_left_out() {
        let own = object(json!({"Identity": "AlexW", "User": "NT AUTHORITY\\SELF", "AccessRights": ["FullAccess"]}));
        assert_eq!(full_access("Get-MailboxPermission", own).unwrap(), None);
        let read_only =
            object(json!({"Identity": "AlexW", "User": "x@contoso.com", "AccessRights": ["ReadPermission"]}));
        assert_eq!(full_access("Get-MailboxPermission", read_only).unwrap(), None);
        let grant = object(
            json!({"Identity": "AlexW", "User": "adele@contoso.com", "AccessRights": "FullAccess, ReadPermission", "IsInherited": false, "Deny": false}),
        );
        let grant = full_access("Get-MailboxPermission", grant).unwrap().unwrap();
        assert_eq!((grant.trustee.as_str(), grant.right), ("adele@contoso.com", MailboxRight::FullAccess));
        let send_as_entry = object(
            json!({"Identity": "AlexW", "Trustee": "adele@contoso.com", "AccessRights": ["SendAs"], "AccessControlType": "Allow"}),
        );
        assert!(!send_as("Get-RecipientPermission", send_as_entry).unwrap().unwrap().deny);
    }

    #[test]
    fn a_group_gets_exchange_defaults_for_missing_settings() {
        let group = mail_group(
            "Get-DistributionGroup",
            object(json!({"Name": "Finance", "RecipientTypeDetails": "MailUniversalSecurityGroup", "ManagedBy": null})),
        )
        .unwrap();
        assert_eq!(group.identity, "Finance");
        assert_eq!(group.kind, MailGroupKind::Security);
        assert_eq!(group.member_depart_restriction, MembershipRestriction::Closed);
        assert!(group.managed_by.is_empty());
        assert!(group.require_sender_authentication);
        let odd = mail_group("Get-DistributionGroup", object(json!({"Name": 5})));
        assert_eq!(odd.unwrap_err().kind(), &ErrorKind::InvalidResponse);
    }
}
