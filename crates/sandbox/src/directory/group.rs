//! The group object as the sandbox stores it, and its rendering into Graph JSON.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::tenant::Tenant;
use crate::clock::graph_time;

/// A directory group: Microsoft 365, security, mail-enabled security or distribution list.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Group {
    /// Object id.
    pub id: Uuid,
    /// `createdDateTime`.
    pub created: DateTime<Utc>,
    /// `deletedDateTime` (only Microsoft 365 groups are soft-deleted).
    pub deleted: Option<DateTime<Utc>>,
    /// `displayName`.
    pub display_name: String,
    /// `description`.
    pub description: Option<String>,
    /// `mailNickname`.
    pub mail_nickname: String,
    /// `mail`.
    pub mail: Option<String>,
    /// `mailEnabled`.
    pub mail_enabled: bool,
    /// `securityEnabled`.
    pub security_enabled: bool,
    /// `groupTypes` (`Unified`, `DynamicMembership`).
    pub group_types: Vec<String>,
    /// `visibility`.
    pub visibility: Option<String>,
    /// `membershipRule` for dynamic groups.
    pub membership_rule: Option<String>,
    /// `isAssignableToRole`.
    pub is_assignable_to_role: bool,
    /// `proxyAddresses`.
    pub proxy_addresses: Vec<String>,
    /// Direct members (users or groups).
    pub members: BTreeSet<Uuid>,
    /// Owners.
    pub owners: BTreeSet<Uuid>,
    /// The change sequence number of the last write (drives delta).
    pub seq: u64,
    /// Reads answer 404 until this time (replication delay).
    pub visible_from: Option<DateTime<Utc>>,
}

/// Properties `GET /groups` returns without `$select` (a subset of Graph's default set that the sandbox models).
pub const DEFAULT_SELECT: &[&str] = &[
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "expirationDateTime",
    "groupTypes",
    "isAssignableToRole",
    "mail",
    "mailEnabled",
    "mailNickname",
    "membershipRule",
    "membershipRuleProcessingState",
    "onPremisesSyncEnabled",
    "proxyAddresses",
    "renewedDateTime",
    "securityEnabled",
    "securityIdentifier",
    "visibility",
];

/// The Graph properties [`Group::property`] renders from the stored fields (not `id`, nor those that are
/// always null), compared before and after each write to record which properties changed (for delta's
/// `Prefer: return=minimal`). Membership is tracked separately, by the tenant's membership log.
pub const TRACKED_PROPERTIES: &[&str] = &[
    "displayName",
    "description",
    "mailNickname",
    "mail",
    "mailEnabled",
    "securityEnabled",
    "groupTypes",
    "visibility",
    "membershipRule",
    "membershipRuleProcessingState",
    "isAssignableToRole",
    "proxyAddresses",
    "createdDateTime",
    "deletedDateTime",
    "renewedDateTime",
];

impl Group {
    /// A new security group (not mail-enabled, assigned membership) with no members or owners.
    pub fn new_security(id: Uuid, display_name: &str, mail_nickname: &str, now: DateTime<Utc>) -> Group {
        Group {
            id,
            created: now,
            deleted: None,
            display_name: display_name.to_string(),
            description: None,
            mail_nickname: mail_nickname.to_string(),
            mail: None,
            mail_enabled: false,
            security_enabled: true,
            group_types: Vec::new(),
            visibility: None,
            membership_rule: None,
            is_assignable_to_role: false,
            proxy_addresses: Vec::new(),
            members: BTreeSet::new(),
            owners: BTreeSet::new(),
            seq: 0,
            visible_from: None,
        }
    }

    /// Whether the group is in deleted items.
    pub fn is_deleted(&self) -> bool {
        self.deleted.is_some()
    }

    /// Whether reads see the group at `now`: not deleted, and past its replication delay.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        !self.is_deleted() && Tenant::visible(self.visible_from, now)
    }

    /// Microsoft 365 group (`groupTypes` contains `Unified`).
    pub fn is_unified(&self) -> bool {
        self.group_types.iter().any(|kind| kind.eq_ignore_ascii_case("Unified"))
    }

    /// Dynamic membership group.
    pub fn is_dynamic(&self) -> bool {
        self.group_types.iter().any(|kind| kind.eq_ignore_ascii_case("DynamicMembership"))
    }

    /// Mail-enabled security groups and distribution lists belong to Exchange and are read-only in Graph.
    pub fn is_exchange_managed(&self) -> bool {
        self.mail_enabled && !self.is_unified()
    }

    /// Every SMTP address of the group (lower-case).
    pub fn smtp_addresses(&self) -> Vec<String> {
        let mut addresses: Vec<String> = self
            .proxy_addresses
            .iter()
            .filter_map(|proxy| proxy.split_once(':').filter(|(kind, _)| kind.eq_ignore_ascii_case("smtp")))
            .map(|(_, address)| address.to_ascii_lowercase())
            .collect();
        if let Some(mail) = &self.mail {
            addresses.push(mail.to_ascii_lowercase());
        }
        addresses.sort();
        addresses.dedup();
        addresses
    }

    /// The Graph properties whose values differ between `before` and `self` (the same group after a write).
    pub fn changed_properties(&self, before: &Group) -> Vec<String> {
        TRACKED_PROPERTIES
            .iter()
            .filter(|name| self.property(name) != before.property(name))
            .map(|name| (*name).to_string())
            .collect()
    }

    /// The value of one Graph property, or `None` when the sandbox does not model it.
    pub fn property(&self, name: &str) -> Option<Value> {
        let opt = |value: &Option<String>| value.as_ref().map_or(Value::Null, |text| Value::String(text.clone()));
        let value = match name {
            "id" => Value::String(self.id.to_string()),
            "displayName" => Value::String(self.display_name.clone()),
            "description" => opt(&self.description),
            "mailNickname" => Value::String(self.mail_nickname.clone()),
            "mail" => opt(&self.mail),
            "mailEnabled" => Value::Bool(self.mail_enabled),
            "securityEnabled" => Value::Bool(self.security_enabled),
            "groupTypes" => json!(self.group_types),
            "visibility" => opt(&self.visibility),
            "membershipRule" => opt(&self.membership_rule),
            "membershipRuleProcessingState" => {
                if self.is_dynamic() {
                    Value::String("On".into())
                } else {
                    Value::Null
                }
            }
            "isAssignableToRole" => Value::Bool(self.is_assignable_to_role),
            "proxyAddresses" => json!(self.proxy_addresses),
            "createdDateTime" => Value::String(graph_time(self.created)),
            "deletedDateTime" => self.deleted.map_or(Value::Null, |at| Value::String(graph_time(at))),
            "renewedDateTime" => Value::String(graph_time(self.created)),
            "classification" | "expirationDateTime" | "onPremisesSyncEnabled" | "securityIdentifier" => Value::Null,
            _ => return None,
        };
        Some(value)
    }
}
