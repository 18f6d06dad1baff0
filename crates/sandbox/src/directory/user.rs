//! The user object as the sandbox stores it, and its rendering into Graph JSON property by property.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::tenant::Tenant;
use crate::clock::graph_time;

/// `employeeOrgData`: both members are written together (an omitted member is reset to null).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EmployeeOrgData {
    /// Division.
    pub division: Option<String>,
    /// Cost centre.
    pub cost_center: Option<String>,
}

/// One licence assigned to a user.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AssignedLicense {
    /// The SKU.
    pub sku_id: Uuid,
    /// Service plans switched off.
    pub disabled_plans: Vec<Uuid>,
}

/// A directory user (live, or soft-deleted when `deleted` is set).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    /// Object id.
    pub id: Uuid,
    /// `createdDateTime`.
    pub created: DateTime<Utc>,
    /// `deletedDateTime`: set while the user sits in deleted items.
    pub deleted: Option<DateTime<Utc>>,
    /// `accountEnabled`.
    pub account_enabled: bool,
    /// `displayName`.
    pub display_name: String,
    /// `givenName`.
    pub given_name: Option<String>,
    /// `surname`.
    pub surname: Option<String>,
    /// `userPrincipalName`.
    pub user_principal_name: String,
    /// `mail`.
    pub mail: Option<String>,
    /// `mailNickname`.
    pub mail_nickname: String,
    /// `otherMails`.
    pub other_mails: Vec<String>,
    /// `proxyAddresses` (`SMTP:` primary, `smtp:` secondary).
    pub proxy_addresses: Vec<String>,
    /// `jobTitle`.
    pub job_title: Option<String>,
    /// `department`.
    pub department: Option<String>,
    /// `companyName`.
    pub company_name: Option<String>,
    /// `officeLocation`.
    pub office_location: Option<String>,
    /// `city`.
    pub city: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `country`.
    pub country: Option<String>,
    /// `streetAddress`.
    pub street_address: Option<String>,
    /// `postalCode`.
    pub postal_code: Option<String>,
    /// `usageLocation` (ISO 3166 alpha-2).
    pub usage_location: Option<String>,
    /// `preferredLanguage`.
    pub preferred_language: Option<String>,
    /// `mobilePhone`.
    pub mobile_phone: Option<String>,
    /// `businessPhones`.
    pub business_phones: Vec<String>,
    /// `employeeId` (at most 16 characters).
    pub employee_id: Option<String>,
    /// `employeeType`.
    pub employee_type: Option<String>,
    /// `employeeHireDate`.
    pub employee_hire_date: Option<DateTime<Utc>>,
    /// `employeeLeaveDateTime`.
    pub employee_leave_date_time: Option<DateTime<Utc>>,
    /// `employeeOrgData`.
    pub employee_org_data: Option<EmployeeOrgData>,
    /// `onPremisesImmutableId`.
    pub on_premises_immutable_id: Option<String>,
    /// `passwordPolicies`.
    pub password_policies: Option<String>,
    /// `userType` (`Member` or `Guest`).
    pub user_type: String,
    /// `showInAddressList`.
    pub show_in_address_list: Option<bool>,
    /// `assignedLicenses`.
    pub assigned_licenses: Vec<AssignedLicense>,
    /// The manager's object id.
    pub manager: Option<Uuid>,
    /// Other simple string properties written by clients (`faxNumber`, `preferredName`, …).
    pub extra: BTreeMap<String, Value>,
    /// SHA-256 (hex) of the user id and password; the password itself is never kept.
    pub password_sha256: String,
    /// `passwordProfile.forceChangePasswordNextSignIn`.
    pub force_change_password_next_sign_in: bool,
    /// `lastPasswordChangeDateTime`.
    pub last_password_change: DateTime<Utc>,
    /// `signInSessionsValidFromDateTime`: tokens issued before this are revoked.
    pub sign_in_sessions_valid_from: DateTime<Utc>,
    /// Entra roles held by the user (`Global Administrator`, `User Administrator`, …).
    pub directory_roles: BTreeSet<String>,
    /// The change sequence number of the last write (drives delta).
    pub seq: u64,
    /// Reads answer 404 until this time (replication delay); `None` once visible.
    pub visible_from: Option<DateTime<Utc>>,
}

/// Properties `GET /users` returns when no `$select` is given (Graph v1.0 default set).
pub const DEFAULT_SELECT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// The Graph properties [`User::property`] renders from the stored fields (not `id`, nor those that are always
/// null), compared before and after each write to record which properties changed (for delta's
/// `Prefer: return=minimal`). Client-written [`User::extra`] properties are compared as well.
pub const TRACKED_PROPERTIES: &[&str] = &[
    "accountEnabled",
    "displayName",
    "givenName",
    "surname",
    "userPrincipalName",
    "mail",
    "mailNickname",
    "otherMails",
    "proxyAddresses",
    "jobTitle",
    "department",
    "companyName",
    "officeLocation",
    "city",
    "state",
    "country",
    "streetAddress",
    "postalCode",
    "usageLocation",
    "preferredLanguage",
    "mobilePhone",
    "businessPhones",
    "employeeId",
    "employeeType",
    "employeeHireDate",
    "employeeLeaveDateTime",
    "employeeOrgData",
    "onPremisesImmutableId",
    "passwordPolicies",
    "userType",
    "showInAddressList",
    "assignedLicenses",
    "createdDateTime",
    "deletedDateTime",
    "lastPasswordChangeDateTime",
    "signInSessionsValidFromDateTime",
];

/// Roles that make a user a privileged administrator (protected targets for app-only writes).
pub const PRIVILEGED_ROLES: &[&str] = &[
    "Global Administrator",
    "Privileged Role Administrator",
    "Privileged Authentication Administrator",
    "User Administrator",
    "Helpdesk Administrator",
    "Authentication Administrator",
    "Exchange Administrator",
    "Groups Administrator",
];

fn opt_str(value: &Option<String>) -> Value {
    value.as_ref().map_or(Value::Null, |text| Value::String(text.clone()))
}

fn opt_time(value: &Option<DateTime<Utc>>) -> Value {
    value.map_or(Value::Null, |at| Value::String(graph_time(at)))
}

/// Hashes a password the way the sandbox stores it.
pub fn password_hash(user_id: Uuid, password: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{user_id}:{password}").as_bytes());
    digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}

impl User {
    /// A new enabled member user with every optional property empty; the password is stored hashed.
    pub fn new(id: Uuid, user_principal_name: &str, display_name: &str, password: &str, now: DateTime<Utc>) -> User {
        User {
            id,
            created: now,
            deleted: None,
            account_enabled: true,
            display_name: display_name.to_string(),
            given_name: None,
            surname: None,
            user_principal_name: user_principal_name.to_string(),
            mail: None,
            mail_nickname: user_principal_name.split('@').next().unwrap_or_default().to_string(),
            other_mails: Vec::new(),
            proxy_addresses: Vec::new(),
            job_title: None,
            department: None,
            company_name: None,
            office_location: None,
            city: None,
            state: None,
            country: None,
            street_address: None,
            postal_code: None,
            usage_location: None,
            preferred_language: None,
            mobile_phone: None,
            business_phones: Vec::new(),
            employee_id: None,
            employee_type: None,
            employee_hire_date: None,
            employee_leave_date_time: None,
            employee_org_data: None,
            on_premises_immutable_id: None,
            password_policies: None,
            user_type: "Member".to_string(),
            show_in_address_list: None,
            assigned_licenses: Vec::new(),
            manager: None,
            extra: BTreeMap::new(),
            password_sha256: password_hash(id, password),
            force_change_password_next_sign_in: false,
            last_password_change: now,
            sign_in_sessions_valid_from: now,
            directory_roles: BTreeSet::new(),
            seq: 0,
            visible_from: None,
        }
    }

    /// Whether the user is in deleted items.
    pub fn is_deleted(&self) -> bool {
        self.deleted.is_some()
    }

    /// Whether reads see the user at `now`: not deleted, and past its replication delay.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        !self.is_deleted() && Tenant::visible(self.visible_from, now)
    }

    /// Whether the user holds any privileged administrator role.
    pub fn is_privileged_admin(&self) -> bool {
        self.directory_roles.iter().any(|role| PRIVILEGED_ROLES.contains(&role.as_str()))
    }

    /// Whether `password` is this user's password.
    pub fn password_matches(&self, password: &str) -> bool {
        password_hash(self.id, password) == self.password_sha256
    }

    /// Every SMTP address the user answers to (lower-case): `mail` and the `proxyAddresses`.
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

    /// The Graph properties whose values differ between `before` and `self` (the same user after a write).
    pub fn changed_properties(&self, before: &User) -> Vec<String> {
        let mut changed: Vec<String> = TRACKED_PROPERTIES
            .iter()
            .filter(|name| self.property(name) != before.property(name))
            .map(|name| (*name).to_string())
            .collect();
        let extra_names: BTreeSet<&String> = self.extra.keys().chain(before.extra.keys()).collect();
        for name in extra_names {
            if self.extra.get(name) != before.extra.get(name) && !changed.contains(name) {
                changed.push(name.clone());
            }
        }
        changed
    }

    /// The value of one Graph property, or `None` when the sandbox does not model it (the caller decides, from
    /// the schema, whether that is a null or an unknown-property error). Navigation properties are not
    /// rendered here.
    pub fn property(&self, name: &str) -> Option<Value> {
        let value = match name {
            "id" => Value::String(self.id.to_string()),
            "accountEnabled" => Value::Bool(self.account_enabled),
            "displayName" => Value::String(self.display_name.clone()),
            "givenName" => opt_str(&self.given_name),
            "surname" => opt_str(&self.surname),
            "userPrincipalName" => Value::String(self.user_principal_name.clone()),
            "mail" => opt_str(&self.mail),
            "mailNickname" => Value::String(self.mail_nickname.clone()),
            "otherMails" => json!(self.other_mails),
            "proxyAddresses" => json!(self.proxy_addresses),
            "jobTitle" => opt_str(&self.job_title),
            "department" => opt_str(&self.department),
            "companyName" => opt_str(&self.company_name),
            "officeLocation" => opt_str(&self.office_location),
            "city" => opt_str(&self.city),
            "state" => opt_str(&self.state),
            "country" => opt_str(&self.country),
            "streetAddress" => opt_str(&self.street_address),
            "postalCode" => opt_str(&self.postal_code),
            "usageLocation" => opt_str(&self.usage_location),
            "preferredLanguage" => opt_str(&self.preferred_language),
            "mobilePhone" => opt_str(&self.mobile_phone),
            "businessPhones" => json!(self.business_phones),
            "employeeId" => opt_str(&self.employee_id),
            "employeeType" => opt_str(&self.employee_type),
            "employeeHireDate" => opt_time(&self.employee_hire_date),
            "employeeLeaveDateTime" => opt_time(&self.employee_leave_date_time),
            "employeeOrgData" => self
                .employee_org_data
                .as_ref()
                .map_or(Value::Null, |org| json!({"division": org.division, "costCenter": org.cost_center})),
            "onPremisesImmutableId" => opt_str(&self.on_premises_immutable_id),
            "passwordPolicies" => opt_str(&self.password_policies),
            "userType" => Value::String(self.user_type.clone()),
            "showInAddressList" => self.show_in_address_list.map_or(Value::Null, Value::Bool),
            "assignedLicenses" => Value::Array(
                self.assigned_licenses
                    .iter()
                    .map(|license| json!({"disabledPlans": license.disabled_plans, "skuId": license.sku_id}))
                    .collect(),
            ),
            "createdDateTime" => Value::String(graph_time(self.created)),
            "deletedDateTime" => opt_time(&self.deleted),
            "lastPasswordChangeDateTime" => Value::String(graph_time(self.last_password_change)),
            "signInSessionsValidFromDateTime" => Value::String(graph_time(self.sign_in_sessions_valid_from)),
            "creationType" => Value::Null,
            "onPremisesSyncEnabled" => Value::Null,
            // Graph never returns the password.
            "passwordProfile" => Value::Null,
            other => return self.extra.get(other).cloned(),
        };
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_properties_names_what_a_write_changed() {
        let now = Utc::now();
        let before = User::new(Uuid::nil(), "adele@contoso.com", "Adele", "Sandbox!Pass1", now);
        assert!(TRACKED_PROPERTIES.iter().all(|name| before.property(name).is_some()), "every name is modelled");
        let mut after = before.clone();
        after.job_title = Some("Engineer".into());
        after.extra.insert("faxNumber".into(), Value::String("+1 555".into()));
        after.manager = Some(Uuid::max());
        assert_eq!(after.changed_properties(&before), vec!["jobTitle".to_string(), "faxNumber".to_string()]);
        assert!(before.changed_properties(&before).is_empty());
    }
}
