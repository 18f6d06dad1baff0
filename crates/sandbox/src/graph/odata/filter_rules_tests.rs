//! Unit tests of `$filter` binding (schema casing, type checks) and of the directory's support rules.

use super::*;
use crate::graph::odata::filter::parse;

fn bind(kind: EntityKind, filter: &str, advanced: bool) -> Result<Expr, GraphError> {
    check_filter(kind, &parse(filter).expect("parses"), advanced)
}

fn user(filter: &str) -> Result<Expr, GraphError> {
    bind(EntityKind::User, filter, false)
}

fn user_advanced(filter: &str) -> Result<Expr, GraphError> {
    bind(EntityKind::User, filter, true)
}

fn error(result: Result<Expr, GraphError>) -> (String, String) {
    let error = result.expect_err("should be rejected");
    assert_eq!(error.status, StatusCode::BAD_REQUEST);
    (error.code, error.message)
}

#[test]
fn property_names_are_canonicalised() {
    let bound = user("DISPLAYNAME eq 'x' and EmployeeOrgData/COSTCENTER eq 'y'").unwrap();
    assert_eq!(bound, parse("displayName eq 'x' and employeeOrgData/costCenter eq 'y'").unwrap());
    let bound = user("AssignedLicenses/any(x:x/SKUID eq 6fd2c87f-b296-42f0-b197-1e91e994b900)").unwrap();
    assert_eq!(bound, parse("assignedLicenses/any(x:x/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)").unwrap());
}

#[test]
fn literal_types_must_match_property_types() {
    let (code, message) = error(user("accountEnabled eq 'true'"));
    assert_eq!(code, "BadRequest");
    assert_eq!(
        message,
        "Invalid filter clause: A binary operator with incompatible types was detected. Found operand types \
         'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'."
    );
    let (_, message) = error(user("id eq 6fd2c87f-b296-42f0-b197-1e91e994b900"));
    assert!(message.contains("'Edm.String' and 'Edm.Guid'"), "{message}");
    let (_, message) = error(user("assignedLicenses/any(x:x/skuId eq '6fd2c87f-b296-42f0-b197-1e91e994b900')"));
    assert!(message.contains("'Edm.Guid' and 'Edm.String'"), "{message}");
    let (_, message) = error(user("proxyAddresses eq 'smtp:a@b.c'"));
    assert!(message.contains("'Collection(Edm.String)' and 'Edm.String'"), "{message}");
    let (_, message) = error(user("displayName in ('a', 1)"));
    assert!(message.contains("'Edm.String' and 'Edm.Int32'"), "{message}");
    let (_, message) = error(user("startswith(accountEnabled,'t')"));
    assert!(
        message.starts_with("Invalid filter clause: No function signature for the function with name 'startswith'")
    );
    let (_, message) = error(user("displayName/any(x:x eq 'a')"));
    assert_eq!(message, "Invalid filter clause: Only collection navigation properties may head Any/All queries.");
    assert!(user_advanced("createdDateTime ge 2024-01-01").is_ok(), "a date compares with a DateTimeOffset");
    assert!(user("accountEnabled eq null").is_err(), "eq null is not supported on accountEnabled");
}

#[test]
fn unfilterable_and_unknown_properties() {
    let expected = |property: &str| {
        (
            "Request_UnsupportedQuery".to_string(),
            format!(
                "Unsupported or invalid query filter clause specified for property '{property}' of resource 'User'."
            ),
        )
    };
    assert_eq!(error(user("aboutMe eq 'x'")), expected("aboutMe"));
    assert_eq!(error(user_advanced("aboutMe eq 'x'")), expected("aboutMe"));
    assert_eq!(error(user("noSuchProperty eq 'x'")), expected("noSuchProperty"));
    assert_eq!(error(user("startswith(id,'0')")), expected("id"));
    assert_eq!(error(user_advanced("endswith(displayName,'x')")), expected("displayName"));
    assert_eq!(error(user("proxyAddresses/all(p:startswith(p,'x'))")), expected("proxyAddresses"));
    let group = bind(EntityKind::Group, "createdDateTime ge 2021-11-01", true);
    assert_eq!(
        error(group),
        (
            "Request_UnsupportedQuery".to_string(),
            "Unsupported or invalid query filter clause specified for property 'createdDateTime' of resource 'Group'."
                .to_string()
        )
    );
}

#[test]
fn advanced_only_operators() {
    let ends_with = "Operator 'endsWith' is not supported because the required parameters might be missing. Try \
                     adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to \
                     https://aka.ms/graph-docs/advanced-queries for more information";
    assert_eq!(error(user("endswith(mail,'@contoso.com')")), ("Request_UnsupportedQuery".into(), ends_with.into()));
    assert!(user_advanced("endswith(mail,'@contoso.com')").is_ok());
    assert_eq!(
        error(user("proxyAddresses/any(p:endswith(p,'.com'))")),
        ("Request_UnsupportedQuery".into(), ends_with.into())
    );
    assert!(user_advanced("proxyAddresses/any(p:endswith(p,'.com'))").is_ok());

    let ne = ("Request_UnsupportedQuery".to_string(), "Filter operator 'NotEqualsMatch' is not supported.".to_string());
    assert_eq!(error(user("accountEnabled ne true")), ne);
    assert_eq!(error(user("companyName ne null")), {
        // companyName itself is advanced-only; the first check that fails is `ne`.
        ne.clone()
    });
    assert!(user_advanced("accountEnabled ne true and companyName ne null").is_ok());

    let not = ("Request_UnsupportedQuery".to_string(), "Filter operator 'Not' is not supported.".to_string());
    assert_eq!(error(user("not startswith(displayName,'Conf')")), not);
    assert!(user_advanced("NOT startsWith(displayName, 'Conf')").is_ok());
    assert!(user_advanced("not(proxyAddresses/any(p:startswith(p,'smtp:')))").is_ok());

    let count = ("Request_BadRequest".to_string(), "$count is not currently supported.".to_string());
    assert_eq!(error(user("assignedLicenses/$count eq 0")), count);
    assert!(user_advanced("assignedLicenses/$count eq 0").is_ok());
    assert!(user_advanced("assignedLicenses/$count ne 0").is_ok());

    let company = (
        "Request_UnsupportedQuery".to_string(),
        "Unsupported or invalid query filter clause specified for property 'companyName' of resource 'User'."
            .to_string(),
    );
    assert_eq!(error(user("startswith(companyName,'hello')")), company);
    assert!(user_advanced("startswith(companyName,'hello')").is_ok());
    assert_eq!(error(user("createdDateTime ge 2024-01-01T00:00:00Z")).0, "Request_UnsupportedQuery");
    assert_eq!(error(user("displayName eq null")).0, "Request_UnsupportedQuery");
    assert!(user_advanced("displayName eq null").is_ok());
}

#[test]
fn default_queries_pass() {
    for filter in [
        "displayName eq 'Adele Vance'",
        "startswith(displayName,'a') or startswith(givenName,'a')",
        "userPrincipalName in ('a@contoso.com','b@contoso.com')",
        "accountEnabled eq false",
        "employeeId eq '1001'",
        "department eq 'Sales' and jobTitle eq 'Rep'",
        "usageLocation eq 'NO'",
        "proxyAddresses/any(p:startswith(p,'smtp:'))",
        "proxyAddresses/any(x:x eq 'SMTP:adele@contoso.com')",
        "otherMails/any(m:m eq 'a@b.com')",
        "assignedLicenses/any(x:x/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)",
        "employeeOrgData/costCenter eq 'CC1'",
        "userType eq 'Guest'",
        "id eq '0b1c2d3e-0000-4000-8000-000000000002'",
        "city ge 'A' and city le 'M'",
    ] {
        assert!(user(filter).is_ok(), "{filter}: {:?}", user(filter).err());
    }
    for filter in [
        "groupTypes/any(c:c eq 'Unified')",
        "mailEnabled eq false and securityEnabled eq true",
        "startswith(mailNickname,'team')",
        "resourceProvisioningOptions/any(x:x eq 'Team')",
        "isAssignableToRole eq true",
    ] {
        assert!(bind(EntityKind::Group, filter, false).is_ok(), "{filter}");
    }
}
