//! Which `$filter` operators each user and group property supports, and which of them need advanced query
//! parameters (`ConsistencyLevel: eventual` + `$count=true`).
//!
//! Transcribed from Microsoft's user and group resource pages and the advanced-query support table
//! (<https://learn.microsoft.com/graph/api/resources/user>, <https://learn.microsoft.com/graph/api/resources/group>,
//! <https://learn.microsoft.com/graph/aad-advanced-queries>). Each row lists operator classes; a trailing `!`
//! means "advanced queries only". For collection properties the classes apply inside `any(...)`, and `count`
//! is `/$count` in a filter. Properties not listed do not support `$filter` at all.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::EntityKind;

/// A class of filter operation, as the support tables distinguish them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpClass {
    /// `eq` (inside `any` for collections).
    Eq,
    /// `ne`.
    Ne,
    /// `not(...)`.
    Not,
    /// `ge`, `le` (and `gt`, `lt`).
    Range,
    /// `in`.
    In,
    /// `startswith`.
    StartsWith,
    /// `endswith`.
    EndsWith,
    /// `eq null`.
    Null,
    /// `/$count`.
    Count,
}

impl OpClass {
    fn parse(word: &str) -> Option<OpClass> {
        let class = match word {
            "eq" => OpClass::Eq,
            "ne" => OpClass::Ne,
            "not" => OpClass::Not,
            "range" => OpClass::Range,
            "in" => OpClass::In,
            "sw" => OpClass::StartsWith,
            "ew" => OpClass::EndsWith,
            "null" => OpClass::Null,
            "count" => OpClass::Count,
            _ => return None,
        };
        Some(class)
    }
}

/// Whether an operation is available on a property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Works in every request.
    Default,
    /// Needs advanced query parameters.
    Advanced,
    /// Not supported.
    No,
}

/// Users. Rows apply to the property named and, for complex properties, to every path below it.
const USER_ROWS: &[(&str, &str)] = &[
    ("id", "eq ne! not! in"),
    ("accountEnabled", "eq ne! not! in"),
    ("ageGroup", "eq ne! not! in"),
    ("assignedLicenses", "eq not! count!"),
    ("assignedPlans", "eq not! count!"),
    ("businessPhones", "eq not! count!"),
    ("city", "eq ne! not! range in sw null!"),
    ("companyName", "eq! ne! not! range! in! sw! null!"),
    ("consentProvidedForMinor", "eq ne! not! in"),
    ("country", "eq ne! not! range in sw null!"),
    ("createdDateTime", "eq! ne! not! range! in!"),
    ("creationType", "eq ne! not! in"),
    ("deletedDateTime", "eq! ne! not! range! in!"),
    ("department", "eq ne! not! range in sw null!"),
    ("displayName", "eq ne! not! range in sw null!"),
    ("employeeHireDate", "eq! ne! not! range! in!"),
    ("employeeId", "eq ne! not! range! in sw null!"),
    ("employeeLeaveDateTime", "eq! ne! not! range!"),
    ("employeeOrgData", "eq ne! not! range in"),
    ("employeeType", "eq! ne! not! range! in! sw!"),
    ("externalUserState", "eq ne! not! in"),
    ("externalUserStateChangeDateTime", "eq ne! not! in"),
    ("faxNumber", "eq ne! not! range in sw null!"),
    ("givenName", "eq ne! not! range in sw null!"),
    ("identities", "eq"),
    ("imAddresses", "eq not! range sw count!"),
    ("isResourceAccount", "eq ne!"),
    ("jobTitle", "eq ne! not! range in sw null!"),
    ("mail", "eq ne! not! range in sw ew! null!"),
    ("mailNickname", "eq ne! not! range in sw null!"),
    ("mobilePhone", "eq! ne! not! range! in! sw! null!"),
    ("officeLocation", "eq! ne! not! range! in! sw! null!"),
    ("onPremisesExtensionAttributes", "eq! ne! not! range! in! null!"),
    ("onPremisesImmutableId", "eq! ne! not! range! in!"),
    ("onPremisesLastSyncDateTime", "eq! ne! not! range! in!"),
    ("onPremisesProvisioningErrors", "eq not! range count!"),
    ("onPremisesSamAccountName", "eq! ne! not! range! in! sw!"),
    ("onPremisesSecurityIdentifier", "eq ne! not! in null!"),
    ("onPremisesSyncEnabled", "eq ne! not! in null!"),
    ("onPremisesUserPrincipalName", "eq ne! not! range in sw"),
    ("otherMails", "eq ne! not! range in sw ew! count!"),
    ("passwordPolicies", "eq! ne! not! null!"),
    ("postalCode", "eq! ne! not! range! in! sw! null!"),
    ("preferredLanguage", "eq! ne! not! range! in! sw! null!"),
    ("provisionedPlans", "eq not! range count!"),
    ("proxyAddresses", "eq ne! not! range sw ew! count!"),
    ("showInAddressList", "eq! ne! not! in!"),
    ("signInActivity", "eq ne! not! range"),
    ("state", "eq ne! not! range in sw null!"),
    ("streetAddress", "eq! ne! not! range! in! sw! null!"),
    ("surname", "eq ne! not! range in sw null!"),
    ("usageLocation", "eq ne! not! range in sw"),
    ("userPrincipalName", "eq ne! not! range in sw ew!"),
    ("userType", "eq ne! not! in null!"),
];

/// Groups. `createdDateTime` is deliberately absent: Microsoft's own example shows it rejected even with
/// advanced query parameters ("not indexed").
const GROUP_ROWS: &[(&str, &str)] = &[
    ("id", "eq ne! not! in"),
    ("assignedLicenses", "eq count!"),
    ("classification", "eq ne! not! range sw"),
    ("description", "eq ne! not! range sw"),
    ("displayName", "eq ne! not! range in sw null!"),
    ("expirationDateTime", "eq ne! not! range in"),
    ("groupTypes", "eq not! count!"),
    ("hasMembersWithLicenseErrors", "eq"),
    ("isAssignableToRole", "eq ne! not!"),
    ("mail", "eq ne! not! range in sw ew! null!"),
    ("mailEnabled", "eq ne! not!"),
    ("mailNickname", "eq ne! not! range in sw null!"),
    ("membershipRule", "eq ne! not! range sw"),
    ("membershipRuleProcessingState", "eq ne! not! in"),
    ("onPremisesLastSyncDateTime", "eq ne! not! range in"),
    ("onPremisesProvisioningErrors", "eq not! count!"),
    ("onPremisesSamAccountName", "eq ne! not! range in sw"),
    ("onPremisesSecurityIdentifier", "eq in null"),
    ("onPremisesSyncEnabled", "eq ne! not! in null"),
    ("preferredLanguage", "eq ne! not! range in sw null!"),
    ("proxyAddresses", "eq not! range sw ew! count!"),
    ("renewedDateTime", "eq ne! not! range in"),
    ("resourceProvisioningOptions", "eq not! sw count!"),
    ("securityEnabled", "eq ne! not! in"),
];

type Row = HashMap<OpClass, Support>;

static TABLES: LazyLock<HashMap<(EntityKind, String), Row>> = LazyLock::new(|| {
    let mut tables = HashMap::new();
    for (kind, rows) in [(EntityKind::User, USER_ROWS), (EntityKind::Group, GROUP_ROWS)] {
        for (property, classes) in rows {
            let mut row = Row::new();
            for word in classes.split_whitespace() {
                let (name, support) = match word.strip_suffix('!') {
                    Some(name) => (name, Support::Advanced),
                    None => (word, Support::Default),
                };
                if let Some(class) = OpClass::parse(name) {
                    row.insert(class, support);
                }
            }
            tables.insert((kind, property.to_ascii_lowercase()), row);
        }
    }
    tables
});

/// Whether `class` is available on `property` (the first segment of a path, any casing) of `kind`.
pub fn support(kind: EntityKind, property: &str, class: OpClass) -> Support {
    TABLES.get(&(kind, property.to_ascii_lowercase())).and_then(|row| row.get(&class).copied()).unwrap_or(Support::No)
}

/// Whether `property` supports `$filter` at all.
pub fn filterable(kind: EntityKind, property: &str) -> bool {
    TABLES.contains_key(&(kind, property.to_ascii_lowercase()))
}

/// Properties `$orderby` accepts without advanced queries, and those that need them.
pub fn orderby_support(kind: EntityKind, property: &str) -> Support {
    let lower = property.to_ascii_lowercase();
    match (kind, lower.as_str()) {
        (EntityKind::User, "displayname" | "userprincipalname") | (EntityKind::Group, "displayname") => {
            Support::Default
        }
        (EntityKind::User, "createddatetime" | "deleteddatetime") | (EntityKind::Group, "deleteddatetime") => {
            Support::Advanced
        }
        _ => Support::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::odata::schema::entity;

    #[test]
    fn every_row_names_a_schema_property() {
        for (kind, rows) in [(EntityKind::User, USER_ROWS), (EntityKind::Group, GROUP_ROWS)] {
            for (property, classes) in rows {
                assert!(entity(kind).property(property).is_some(), "{kind:?}.{property} is not in the CSDL");
                for word in classes.split_whitespace() {
                    assert!(OpClass::parse(word.trim_end_matches('!')).is_some(), "bad class {word}");
                }
            }
        }
    }

    #[test]
    fn lookups_are_case_insensitive() {
        assert_eq!(support(EntityKind::User, "DISPLAYNAME", OpClass::StartsWith), Support::Default);
        assert_eq!(support(EntityKind::User, "mail", OpClass::EndsWith), Support::Advanced);
        assert_eq!(support(EntityKind::User, "displayName", OpClass::EndsWith), Support::No);
        assert_eq!(support(EntityKind::Group, "createdDateTime", OpClass::Eq), Support::No);
        assert!(!filterable(EntityKind::User, "aboutMe"));
        assert_eq!(orderby_support(EntityKind::User, "UserPrincipalName"), Support::Default);
        assert_eq!(orderby_support(EntityKind::Group, "userPrincipalName"), Support::No);
    }
}
