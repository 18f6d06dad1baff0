//! The directory side of the vocabulary: what Tenure observes in (and writes to) an Entra ID tenant.
//!
//! `ObservedState` is what the `graph` client reads (and the store caches); `UserAttribute` names the user
//! properties Tenure manages, so desired and observed values compare key by key. These types are serializable on
//! purpose: the observed snapshot is cached in the store between runs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AttributeMap, VecSet};

/// An Entra object ID (a GUID), kept as Graph writes it (lower-case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ObjectId(pub String);

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user property Tenure manages, by its Graph name (`employeeOrgData/costCenter` for nested ones).
///
/// Naming properties (`userPrincipalName`, `mail`, `mailNickname`) are not here: they are chosen once, at
/// creation, from the policy's candidate templates, and never rewritten by attribute sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UserAttribute {
    /// `displayName` (required by Graph; never cleared).
    #[serde(rename = "displayName")]
    DisplayName,
    /// `givenName`.
    #[serde(rename = "givenName")]
    GivenName,
    /// `surname`.
    #[serde(rename = "surname")]
    Surname,
    /// `jobTitle`.
    #[serde(rename = "jobTitle")]
    JobTitle,
    /// `department`.
    #[serde(rename = "department")]
    Department,
    /// `companyName`.
    #[serde(rename = "companyName")]
    CompanyName,
    /// `officeLocation`.
    #[serde(rename = "officeLocation")]
    OfficeLocation,
    /// `city`.
    #[serde(rename = "city")]
    City,
    /// `country`.
    #[serde(rename = "country")]
    Country,
    /// `usageLocation` (two-letter country code; needed before licences).
    #[serde(rename = "usageLocation")]
    UsageLocation,
    /// `employeeId`: the HR employee ID, Tenure's matching key.
    #[serde(rename = "employeeId")]
    EmployeeId,
    /// `employeeType`.
    #[serde(rename = "employeeType")]
    EmployeeType,
    /// `employeeHireDate`, written as `YYYY-MM-DDT00:00:00Z`.
    #[serde(rename = "employeeHireDate")]
    EmployeeHireDate,
    /// `employeeLeaveDateTime`, written as an RFC 3339 UTC instant.
    #[serde(rename = "employeeLeaveDateTime")]
    EmployeeLeaveDateTime,
    /// `mobilePhone`.
    #[serde(rename = "mobilePhone")]
    MobilePhone,
    /// `businessPhones` (Tenure manages the first and only entry).
    #[serde(rename = "businessPhones")]
    BusinessPhone,
    /// `employeeOrgData/costCenter`.
    #[serde(rename = "employeeOrgData/costCenter")]
    CostCenter,
    /// `employeeOrgData/division`.
    #[serde(rename = "employeeOrgData/division")]
    Division,
}

impl UserAttribute {
    /// Every managed attribute, in a fixed order (the order plans render changes in).
    pub const ALL: [Self; 18] = [
        Self::DisplayName,
        Self::GivenName,
        Self::Surname,
        Self::JobTitle,
        Self::Department,
        Self::CompanyName,
        Self::OfficeLocation,
        Self::City,
        Self::Country,
        Self::UsageLocation,
        Self::EmployeeId,
        Self::EmployeeType,
        Self::EmployeeHireDate,
        Self::EmployeeLeaveDateTime,
        Self::MobilePhone,
        Self::BusinessPhone,
        Self::CostCenter,
        Self::Division,
    ];

    /// The Graph property name (`employeeOrgData/costCenter` for nested ones).
    #[must_use]
    pub fn graph_name(self) -> &'static str {
        match self {
            Self::DisplayName => "displayName",
            Self::GivenName => "givenName",
            Self::Surname => "surname",
            Self::JobTitle => "jobTitle",
            Self::Department => "department",
            Self::CompanyName => "companyName",
            Self::OfficeLocation => "officeLocation",
            Self::City => "city",
            Self::Country => "country",
            Self::UsageLocation => "usageLocation",
            Self::EmployeeId => "employeeId",
            Self::EmployeeType => "employeeType",
            Self::EmployeeHireDate => "employeeHireDate",
            Self::EmployeeLeaveDateTime => "employeeLeaveDateTime",
            Self::MobilePhone => "mobilePhone",
            Self::BusinessPhone => "businessPhones",
            Self::CostCenter => "employeeOrgData/costCenter",
            Self::Division => "employeeOrgData/division",
        }
    }

    /// The attribute with this Graph name, if Tenure manages it.
    #[must_use]
    pub fn from_graph_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|attribute| attribute.graph_name() == name)
    }
}

impl fmt::Display for UserAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.graph_name())
    }
}

/// A user as observed in the tenant (live or soft-deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryUser {
    /// The object ID.
    pub id: ObjectId,
    /// `userPrincipalName`.
    pub user_principal_name: String,
    /// `mail`, when set.
    pub mail: Option<String>,
    /// `mailNickname`, when set.
    pub mail_nickname: Option<String>,
    /// `proxyAddresses` as Graph lists them (`SMTP:primary@…`, `smtp:alias@…`).
    pub proxy_addresses: Vec<String>,
    /// `accountEnabled`.
    pub account_enabled: bool,
    /// The managed attributes that have a value (a missing key means the property is null/empty).
    pub attributes: AttributeMap,
    /// The manager's object ID, when the user has one.
    pub manager: Option<ObjectId>,
    /// The SKU IDs of the licences assigned directly to the user.
    pub licenses: VecSet<String>,
}

impl DirectoryUser {
    /// The `employeeId` attribute, Tenure's matching key.
    #[must_use]
    pub fn employee_id(&self) -> Option<&str> {
        self.attributes.get(&UserAttribute::EmployeeId).map(String::as_str)
    }
}

/// The kind of a group Tenure manages membership of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GroupKind {
    /// A security group (`securityEnabled`, not mail-enabled, no `Unified` type).
    Security,
    /// A Microsoft 365 group (`groupTypes: ["Unified"]`, mail-enabled).
    Microsoft365,
    /// Anything else (mail-enabled security groups and distribution lists belong to Exchange; dynamic groups
    /// cannot take members): observed, never written to.
    Other,
}

/// A group as observed in the tenant, with its direct user members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryGroup {
    /// The object ID.
    pub id: ObjectId,
    /// `displayName`.
    pub display_name: String,
    /// `mailNickname`: the key by which policy rules name groups.
    pub mail_nickname: String,
    /// What kind of group it is.
    pub kind: GroupKind,
    /// Whether membership is dynamic (rule-based), in which case Tenure cannot add or remove members.
    pub dynamic: bool,
    /// Object IDs of direct members that are users.
    pub members: BTreeSet<ObjectId>,
}

/// A licence product the tenant has subscribed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribedSku {
    /// `skuId` (a GUID).
    pub sku_id: String,
    /// `skuPartNumber` (`ENTERPRISEPACK`): the name policy rules use.
    pub sku_part_number: String,
    /// Seats bought (`prepaidUnits.enabled`).
    pub enabled_units: u64,
    /// Seats in use (`consumedUnits`).
    pub consumed_units: u64,
    /// Whether the product includes an Exchange Online service plan (`servicePlanName` starting `EXCHANGE`): a user
    /// holding it gets a mailbox (some time after the assignment).
    #[serde(default)]
    pub includes_exchange: bool,
}

/// Everything Tenure observed in the tenant: the planner's "observed" input, cached in the store between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedState {
    /// Live users by object ID.
    pub users: BTreeMap<ObjectId, DirectoryUser>,
    /// Soft-deleted users (restorable for 30 days) by object ID.
    pub deleted_users: BTreeMap<ObjectId, DirectoryUser>,
    /// Groups by object ID.
    pub groups: BTreeMap<ObjectId, DirectoryGroup>,
    /// The tenant's licence products.
    pub skus: Vec<SubscribedSku>,
    /// What was observed in Exchange Online; `None` when Tenure has no Exchange connection (the planner then plans
    /// no Exchange step, and holds back what would lose mail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<crate::ObservedExchange>,
}
