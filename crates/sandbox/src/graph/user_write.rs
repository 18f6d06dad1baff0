//! Validation of `POST /users` and `PATCH /users/{id}` bodies, and applying a validated body to a [`User`].
//!
//! Checks run in the order the service applies them: the OData layer first (each value converts to its EDM
//! type; read-only and unknown properties refused), then the directory's rules (required properties, UPN
//! characters and verified domain, `mailNickname`, `usageLocation`, `employeeId` length, password
//! complexity, `onPremisesImmutableId` on federated domains). Uniqueness is checked by the caller against
//! the tenant's indexes.
//!
//! Sources: <https://learn.microsoft.com/graph/api/user-post-users>,
//! <https://learn.microsoft.com/graph/api/resources/user> (property types, read-only flags, `employeeId` ≤ 16),
//! <https://learn.microsoft.com/entra/identity/authentication/concept-password-ban-bad-combined-policy>
//! (8–256 characters, three of four character classes).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::{GraphError, GraphResult};
use super::request_body::{
    as_optional_bool, as_optional_datetime, as_optional_object, as_optional_string, as_optional_string_list,
    invalid_property, invalid_value, is_type_annotation, no_such_property, read_only, required_missing,
};
use crate::directory::tenant::Tenant;
use crate::directory::user::{EmployeeOrgData, User, password_hash};

/// The EDM shape of a user property, as far as writes are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Text,
    Flag,
    TextList,
    Timestamp,
    PasswordProfile,
    OrgData,
    /// A complex value the sandbox keeps as given (`onPremisesExtensionAttributes`, `identities`).
    Opaque,
    ReadOnly,
}

/// Every user property the sandbox knows, with its write shape (names from the v1.0 CSDL).
const PROPERTIES: &[(&str, Shape)] = &[
    ("aboutMe", Shape::Text),
    ("accountEnabled", Shape::Flag),
    ("ageGroup", Shape::Text),
    ("assignedLicenses", Shape::ReadOnly),
    ("assignedPlans", Shape::ReadOnly),
    ("authorizationInfo", Shape::ReadOnly),
    ("birthday", Shape::Timestamp),
    ("businessPhones", Shape::TextList),
    ("city", Shape::Text),
    ("companyName", Shape::Text),
    ("consentProvidedForMinor", Shape::Text),
    ("country", Shape::Text),
    ("createdDateTime", Shape::ReadOnly),
    ("creationType", Shape::ReadOnly),
    ("customSecurityAttributes", Shape::Opaque),
    ("deletedDateTime", Shape::ReadOnly),
    ("department", Shape::Text),
    ("deviceEnrollmentLimit", Shape::ReadOnly),
    ("displayName", Shape::Text),
    ("employeeHireDate", Shape::Timestamp),
    ("employeeId", Shape::Text),
    ("employeeLeaveDateTime", Shape::Timestamp),
    ("employeeOrgData", Shape::OrgData),
    ("employeeType", Shape::Text),
    ("externalUserState", Shape::ReadOnly),
    ("externalUserStateChangeDateTime", Shape::ReadOnly),
    ("faxNumber", Shape::Text),
    ("givenName", Shape::Text),
    ("hireDate", Shape::Timestamp),
    ("id", Shape::ReadOnly),
    ("identities", Shape::Opaque),
    ("identityParentId", Shape::ReadOnly),
    ("imAddresses", Shape::ReadOnly),
    ("interests", Shape::TextList),
    ("isManagementRestricted", Shape::ReadOnly),
    ("isResourceAccount", Shape::ReadOnly),
    ("jobTitle", Shape::Text),
    ("lastPasswordChangeDateTime", Shape::ReadOnly),
    ("legalAgeGroupClassification", Shape::ReadOnly),
    ("licenseAssignmentStates", Shape::ReadOnly),
    ("mail", Shape::Text),
    ("mailboxSettings", Shape::ReadOnly),
    ("mailNickname", Shape::Text),
    ("mobilePhone", Shape::Text),
    ("mySite", Shape::Text),
    ("officeLocation", Shape::Text),
    ("onPremisesDistinguishedName", Shape::ReadOnly),
    ("onPremisesDomainName", Shape::ReadOnly),
    ("onPremisesExtensionAttributes", Shape::Opaque),
    ("onPremisesImmutableId", Shape::Text),
    ("onPremisesLastSyncDateTime", Shape::ReadOnly),
    ("onPremisesProvisioningErrors", Shape::ReadOnly),
    ("onPremisesSamAccountName", Shape::ReadOnly),
    ("onPremisesSecurityIdentifier", Shape::ReadOnly),
    ("onPremisesSyncEnabled", Shape::ReadOnly),
    ("onPremisesUserPrincipalName", Shape::ReadOnly),
    ("otherMails", Shape::TextList),
    ("passwordPolicies", Shape::Text),
    ("passwordProfile", Shape::PasswordProfile),
    ("pastProjects", Shape::TextList),
    ("postalCode", Shape::Text),
    ("preferredDataLocation", Shape::Text),
    ("preferredLanguage", Shape::Text),
    ("preferredName", Shape::Text),
    ("print", Shape::ReadOnly),
    ("provisionedPlans", Shape::ReadOnly),
    ("proxyAddresses", Shape::ReadOnly),
    ("responsibilities", Shape::TextList),
    ("schools", Shape::TextList),
    ("securityIdentifier", Shape::ReadOnly),
    ("serviceProvisioningErrors", Shape::ReadOnly),
    ("showInAddressList", Shape::Flag),
    ("signInActivity", Shape::ReadOnly),
    ("signInSessionsValidFromDateTime", Shape::ReadOnly),
    ("skills", Shape::TextList),
    ("state", Shape::Text),
    ("streetAddress", Shape::Text),
    ("surname", Shape::Text),
    ("usageLocation", Shape::Text),
    ("userPrincipalName", Shape::Text),
    ("userType", Shape::Text),
];

/// Required on create, in the order the documentation lists them.
const REQUIRED: &[&str] = &["accountEnabled", "displayName", "mailNickname", "passwordProfile", "userPrincipalName"];

/// Properties whose value may not be cleared (`null`) once set.
const NOT_NULLABLE: &[&str] = &["accountEnabled", "displayName", "mailNickname", "userPrincipalName", "userType"];

/// Characters allowed before the `@` of a UPN (besides ASCII letters and digits).
const UPN_SPECIALS: &[char] = &['\'', '.', '-', '_', '!', '#', '^', '~'];

/// Characters a `mailNickname` may not contain.
const NICKNAME_FORBIDDEN: &[char] = &['@', '(', ')', '\\', '[', ']', '"', ';', ':', '<', '>', ',', ' '];

/// Symbols Entra accepts in passwords.
const PASSWORD_SYMBOLS: &str = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<> ";

/// Whether the request creates a user or changes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `POST /users`.
    Create,
    /// `PATCH /users/{id}`.
    Update,
}

/// The `passwordProfile` of a request.
#[derive(Clone, Debug, Default)]
pub struct PasswordProfile {
    /// The new password (never logged).
    pub password: Option<String>,
    /// `forceChangePasswordNextSignIn`.
    pub force_change: Option<bool>,
}

impl std::fmt::Debug for UserInput {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("UserInput").field("properties", &self.names()).finish_non_exhaustive()
    }
}

/// A type-checked request body.
pub struct UserInput {
    /// Properties other than `passwordProfile`, with their JSON values, in name order.
    pub properties: Vec<(String, Value)>,
    /// `passwordProfile`, when sent.
    pub password_profile: Option<PasswordProfile>,
}

impl UserInput {
    /// The names of every property sent (for permission checks).
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.properties.iter().map(|(name, _)| name.as_str()).collect();
        if self.password_profile.is_some() {
            names.push("passwordProfile");
        }
        names
    }

    /// The value sent for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.properties.iter().find(|(property, _)| property == name).map(|(_, value)| value)
    }

    /// The string sent for `name` (`None` when absent or null).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }
}

fn shape_of(name: &str) -> Option<Shape> {
    PROPERTIES
        .iter()
        .find(|(property, _)| *property == name)
        .map(|(_, shape)| *shape)
        .or_else(|| is_extension_attribute(name).then_some(Shape::Opaque))
}

/// Directory extension attributes (`extension_{appId without dashes}_{name}`) are writable open properties.
fn is_extension_attribute(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("extension_") else { return false };
    let Some((app, attribute)) = rest.split_once('_') else { return false };
    app.len() == 32 && app.chars().all(|c| c.is_ascii_hexdigit()) && !attribute.is_empty()
}

/// The OData layer's checks: known, writable properties whose values convert to their types.
pub fn type_check(body: Map<String, Value>) -> GraphResult<UserInput> {
    let mut properties = Vec::new();
    let mut password_profile = None;
    for (name, value) in body {
        if is_type_annotation(&name) {
            continue;
        }
        let Some(shape) = shape_of(&name) else { return Err(invalid_property(&name)) };
        match shape {
            Shape::ReadOnly => return Err(read_only(&name)),
            Shape::Text => {
                as_optional_string(&value)?;
            }
            Shape::Flag => {
                as_optional_bool(&value)?;
            }
            Shape::TextList => {
                as_optional_string_list(&value)?;
            }
            Shape::Timestamp => {
                as_optional_datetime(&value)?;
            }
            Shape::OrgData => {
                if let Some(object) = as_optional_object(&value)? {
                    for (key, member) in object {
                        match key.as_str() {
                            "division" | "costCenter" => {
                                as_optional_string(member)?;
                            }
                            key if is_type_annotation(key) => {}
                            other => return Err(no_such_property(other, "microsoft.graph.employeeOrgData")),
                        }
                    }
                }
            }
            Shape::PasswordProfile => {
                password_profile = Some(parse_password_profile(&value)?);
                continue;
            }
            Shape::Opaque => {}
        }
        properties.push((name, value));
    }
    Ok(UserInput { properties, password_profile })
}

fn parse_password_profile(value: &Value) -> GraphResult<PasswordProfile> {
    let Some(object) = as_optional_object(value)? else {
        return Err(required_missing("passwordProfile"));
    };
    let mut profile = PasswordProfile::default();
    for (key, member) in object {
        match key.as_str() {
            "password" => profile.password = as_optional_string(member)?,
            "forceChangePasswordNextSignIn" => profile.force_change = as_optional_bool(member)?,
            "forceChangePasswordNextSignInWithMfa" => {
                as_optional_bool(member)?;
            }
            key if is_type_annotation(key) => {}
            other => return Err(no_such_property(other, "microsoft.graph.passwordProfile")),
        }
    }
    Ok(profile)
}

/// The directory's checks of a type-checked body against the tenant (and, for updates, the current user).
pub fn validate(input: &UserInput, mode: Mode, tenant: &Tenant, current: Option<&User>) -> GraphResult<()> {
    if mode == Mode::Create {
        for &required in REQUIRED {
            let present = if required == "passwordProfile" {
                input.password_profile.as_ref().is_some_and(|profile| profile.password.is_some())
            } else {
                input.get(required).is_some_and(|value| !value.is_null() && value.as_str() != Some(""))
            };
            if !present {
                return Err(required_missing(required));
            }
        }
    }
    for (name, value) in &input.properties {
        if value.is_null() && NOT_NULLABLE.contains(&name.as_str()) {
            return Err(invalid_value(name, "User"));
        }
        validate_value(name, value)?;
    }
    if let Some(upn) = input.text("userPrincipalName") {
        validate_upn_domain(upn, tenant)?;
        let immutable_id = match input.get("onPremisesImmutableId") {
            Some(value) => value.as_str().filter(|text| !text.is_empty()),
            None => current.and_then(|user| user.on_premises_immutable_id.as_deref()),
        };
        let domain = upn.rsplit_once('@').map_or("", |(_, domain)| domain);
        if tenant.domain(domain).is_some_and(|domain| domain.federated) && immutable_id.is_none() {
            // Observed wording: microsoftgraph/microsoft-graph-docs issue #8668.
            return Err(GraphError::bad_request(
                "SourceAnchor is a required property for creation of a federated user.",
            ));
        }
    }
    if let Some(password) = input.password_profile.as_ref().and_then(|profile| profile.password.as_deref()) {
        let policies = match input.get("passwordPolicies") {
            Some(value) => value.as_str(),
            None => current.and_then(|user| user.password_policies.as_deref()),
        };
        let strong = !policies.is_some_and(|policies| {
            policies.split(',').any(|policy| policy.trim().eq_ignore_ascii_case("DisableStrongPassword"))
        });
        if !password_is_acceptable(password, strong) {
            return Err(GraphError::bad_request(
                "The specified password does not comply with password complexity requirements. Please provide a \
                 different password.",
            ));
        }
    }
    Ok(())
}

fn validate_value(name: &str, value: &Value) -> GraphResult<()> {
    let Some(text) = value.as_str() else {
        if name == "otherMails"
            && let Some(addresses) = value.as_array()
            && !addresses.iter().filter_map(Value::as_str).all(looks_like_address)
        {
            return Err(invalid_value(name, "User"));
        }
        return Ok(());
    };
    let valid = match name {
        "displayName" => !text.trim().is_empty() && text.chars().count() <= 256,
        "userPrincipalName" => upn_local_part_is_valid(text),
        "mailNickname" => {
            !text.is_empty()
                && text.len() <= 64
                && text.is_ascii()
                && !text.contains(NICKNAME_FORBIDDEN)
                && !text.starts_with('.')
                && !text.ends_with('.')
        }
        "usageLocation" => text.len() == 2 && text.chars().all(|c| c.is_ascii_alphabetic()),
        "employeeId" => text.chars().count() <= 16,
        "passwordPolicies" => text.split(',').map(str::trim).all(|policy| {
            ["DisableStrongPassword", "DisablePasswordExpiration", "None"]
                .iter()
                .any(|known| known.eq_ignore_ascii_case(policy))
        }),
        "userType" => text.eq_ignore_ascii_case("Member") || text.eq_ignore_ascii_case("Guest"),
        "mail" => looks_like_address(text),
        _ => true,
    };
    if valid { Ok(()) } else { Err(invalid_value(name, "User")) }
}

fn looks_like_address(text: &str) -> bool {
    text.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !text.contains(char::is_whitespace)
    })
}

fn upn_local_part_is_valid(upn: &str) -> bool {
    let Some((local, domain)) = upn.rsplit_once('@') else { return false };
    !local.is_empty()
        && local.len() <= 64
        && !domain.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || UPN_SPECIALS.contains(&c))
}

/// Checks a UPN's characters and that its domain is verified in `tenant` (used by create, update and restore).
pub fn check_user_principal_name(upn: &str, tenant: &Tenant) -> GraphResult<()> {
    if !upn_local_part_is_valid(upn) {
        return Err(invalid_value("userPrincipalName", "User"));
    }
    validate_upn_domain(upn, tenant)
}

fn validate_upn_domain(upn: &str, tenant: &Tenant) -> GraphResult<()> {
    let domain = upn.rsplit_once('@').map_or("", |(_, domain)| domain);
    if tenant.domain(domain).is_some() {
        return Ok(());
    }
    let mut error = GraphError::bad_request(
        "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain \
         names in your organization.",
    );
    error.details = vec![serde_json::json!({"code": "InvalidValue", "target": "userPrincipalName"})];
    Err(error)
}

/// Entra's cloud password rules: 8–256 characters from the allowed set (ASCII letters, digits, symbols and
/// space) with at least three of lower case, upper case, digits and symbols. `DisableStrongPassword` drops
/// the class and minimum-length rules.
pub fn password_is_acceptable(password: &str, strong: bool) -> bool {
    let length = password.chars().count();
    if length == 0 || length > 256 {
        return false;
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || PASSWORD_SYMBOLS.contains(c);
    if !password.chars().all(allowed) {
        return false;
    }
    if !strong {
        return true;
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| PASSWORD_SYMBOLS.contains(c)),
    ];
    length >= 8 && classes.iter().filter(|present| **present).count() >= 3
}

/// The SMTP addresses `user` would hold after `input` is applied (for the uniqueness check).
pub fn addresses_after(user: &User, input: &UserInput) -> Vec<String> {
    let mut preview = user.clone();
    if let Some(value) = input.get("mail") {
        set_mail(&mut preview, value.as_str());
    }
    preview.smtp_addresses()
}

/// A new user from a validated create body.
pub fn new_user(id: uuid::Uuid, input: &UserInput, now: DateTime<Utc>) -> User {
    let upn = input.text("userPrincipalName").unwrap_or_default();
    let display_name = input.text("displayName").unwrap_or_default();
    let password = input.password_profile.as_ref().and_then(|profile| profile.password.as_deref()).unwrap_or_default();
    let mut user = User::new(id, upn, display_name, password, now);
    // Entra's default for users created with a password: change it at first sign-in.
    user.force_change_password_next_sign_in = true;
    apply(&mut user, input, now);
    user
}

/// Applies a validated body to `user`.
pub fn apply(user: &mut User, input: &UserInput, now: DateTime<Utc>) {
    for (name, value) in &input.properties {
        apply_property(user, name, value);
    }
    if let Some(profile) = &input.password_profile {
        if let Some(password) = &profile.password {
            user.password_sha256 = password_hash(user.id, password);
            user.last_password_change = now;
        }
        if let Some(force) = profile.force_change {
            user.force_change_password_next_sign_in = force;
        }
    }
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_string)
}

fn texts(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str().and_then(|text| DateTime::parse_from_rfc3339(text).ok()).map(|at| at.with_timezone(&Utc))
}

fn apply_property(user: &mut User, name: &str, value: &Value) {
    match name {
        "accountEnabled" => user.account_enabled = value.as_bool().unwrap_or(user.account_enabled),
        "displayName" => user.display_name = text(value).unwrap_or_default(),
        "givenName" => user.given_name = text(value),
        "surname" => user.surname = text(value),
        "userPrincipalName" => user.user_principal_name = text(value).unwrap_or_default(),
        "mail" => set_mail(user, value.as_str()),
        "mailNickname" => user.mail_nickname = text(value).unwrap_or_default(),
        "otherMails" => user.other_mails = texts(value),
        "jobTitle" => user.job_title = text(value),
        "department" => user.department = text(value),
        "companyName" => user.company_name = text(value),
        "officeLocation" => user.office_location = text(value),
        "city" => user.city = text(value),
        "state" => user.state = text(value),
        "country" => user.country = text(value),
        "streetAddress" => user.street_address = text(value),
        "postalCode" => user.postal_code = text(value),
        "usageLocation" => user.usage_location = text(value).map(|code| code.to_ascii_uppercase()),
        "preferredLanguage" => user.preferred_language = text(value),
        "mobilePhone" => user.mobile_phone = text(value),
        "businessPhones" => user.business_phones = texts(value),
        "employeeId" => user.employee_id = text(value),
        "employeeType" => user.employee_type = text(value),
        "employeeHireDate" => user.employee_hire_date = timestamp(value),
        "employeeLeaveDateTime" => user.employee_leave_date_time = timestamp(value),
        "employeeOrgData" => {
            // Both members are written together: one left out is reset to null.
            user.employee_org_data = value.as_object().map(|object| EmployeeOrgData {
                division: object.get("division").and_then(text),
                cost_center: object.get("costCenter").and_then(text),
            });
        }
        "onPremisesImmutableId" => user.on_premises_immutable_id = text(value),
        "passwordPolicies" => user.password_policies = text(value),
        "userType" => {
            user.user_type = value.as_str().map_or_else(
                || user.user_type.clone(),
                |kind| if kind.eq_ignore_ascii_case("guest") { "Guest".into() } else { "Member".into() },
            );
        }
        "showInAddressList" => user.show_in_address_list = value.as_bool(),
        other => {
            if value.is_null() {
                user.extra.remove(other);
            } else {
                user.extra.insert(other.to_string(), value.clone());
            }
        }
    }
}

/// Sets `mail`; the new address becomes the primary SMTP proxy address (the old primary stays as a
/// secondary), as Graph documents for the `mail` property.
pub fn set_mail(user: &mut User, mail: Option<&str>) {
    for proxy in &mut user.proxy_addresses {
        if let Some(address) = proxy.strip_prefix("SMTP:") {
            *proxy = format!("smtp:{address}");
        }
    }
    match mail {
        Some(mail) => {
            user.proxy_addresses.retain(|proxy| {
                !proxy.split_once(':').is_some_and(|(kind, address)| {
                    kind.eq_ignore_ascii_case("smtp") && address.eq_ignore_ascii_case(mail)
                })
            });
            user.proxy_addresses.insert(0, format!("SMTP:{mail}"));
            user.mail = Some(mail.to_string());
        }
        None => user.mail = None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_follow_entras_complexity_rules() {
        assert!(password_is_acceptable("xWwvJ]6NMw+bWH-d", true));
        assert!(password_is_acceptable("Sandbox!Pass1", true));
        assert!(!password_is_acceptable("short1A", true));
        assert!(!password_is_acceptable("alllowercase1", true));
        assert!(!password_is_acceptable("Ünïcode!Pass1", true));
        assert!(password_is_acceptable("weak", false));
    }

    #[test]
    fn upn_local_parts_allow_only_the_documented_characters() {
        assert!(upn_local_part_is_valid("o'neil.j-x_y!z#a^b~c@contoso.com"));
        assert!(!upn_local_part_is_valid("adele vance@contoso.com"));
        assert!(!upn_local_part_is_valid("adele*v@contoso.com"));
        assert!(!upn_local_part_is_valid(".adele@contoso.com"));
        assert!(!upn_local_part_is_valid("adele@"));
        assert!(!upn_local_part_is_valid("adele"));
    }
}
