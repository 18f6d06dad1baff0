//! Plan actions → Graph requests ([`request_for`]), and initial passwords ([`generate_password`]).
//!
//! Each [`model::Action`] becomes exactly one [`GraphRequest`], following the doc comment of its variant.
//! References to other objects are written against `https://graph.microsoft.com/v1.0/` (the client rebases
//! them onto its own root when sending). Attribute values follow the observed-state conventions in reverse:
//! `businessPhones` is a one-entry array (empty to clear), `employeeOrgData/*` are nested under
//! `employeeOrgData`, and an attribute changed to `None` is written as `null`.

use model::{Action, AttributeChange, GroupKind, GroupRef, ObjectId, Secret, UserAttribute, UserRef};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::{GraphRequest, Method};

const GLOBAL_ROOT: &str = "https://graph.microsoft.com/v1.0";

fn request(method: Method, path: String, body: Option<Value>) -> GraphRequest {
    GraphRequest { method, path, body }
}

/// Writes one attribute value into a user body (`None` clears it).
fn put_attribute(body: &mut Map<String, Value>, attribute: UserAttribute, value: Option<&str>) {
    match attribute {
        UserAttribute::BusinessPhone => {
            body.insert("businessPhones".into(), json!(value.into_iter().collect::<Vec<_>>()));
        }
        UserAttribute::CostCenter | UserAttribute::Division => {
            let member = if attribute == UserAttribute::CostCenter { "costCenter" } else { "division" };
            let org = body.entry("employeeOrgData").or_insert_with(|| json!({}));
            if let Some(org) = org.as_object_mut() {
                org.insert(member.into(), value.map_or(Value::Null, |value| Value::String(value.into())));
            }
        }
        _ => {
            body.insert(attribute.graph_name().into(), value.map_or(Value::Null, |value| Value::String(value.into())));
        }
    }
}

fn password_profile(password: &Secret) -> Value {
    json!({"password": password.expose(), "forceChangePasswordNextSignIn": true})
}

/// The Graph request for `action`, with planned users and groups resolved through `users` and `groups`.
///
/// `None` when a reference cannot be resolved yet (the creating step has not finished), and for Exchange actions. `password` is the
/// initial or new password for `CreateUser` and `ResetPassword`; when `None`, one is generated (and never
/// seen by anyone). Note for `UpdateUser`: Graph resets an `employeeOrgData` member that is not sent, so a
/// change of only one of `costCenter`/`division` clears the other unless the plan carries both.
pub fn request_for(
    action: &Action,
    users: &dyn Fn(&UserRef) -> Option<ObjectId>,
    groups: &dyn Fn(&GroupRef) -> Option<ObjectId>,
    password: Option<&Secret>,
) -> Option<GraphRequest> {
    let new_password = || password.cloned().unwrap_or_else(generate_password);
    Some(match action {
        Action::CreateUser { user_principal_name, mail_nickname, mail, account_enabled, attributes, .. } => request(
            Method::POST,
            "/users".into(),
            Some(create_user_body(
                user_principal_name,
                mail_nickname,
                mail.as_deref(),
                *account_enabled,
                attributes,
                &new_password(),
            )),
        ),
        Action::RestoreUser { user } => request(Method::POST, format!("/directory/deletedItems/{user}/restore"), None),
        Action::UpdateUser { user, changes } => {
            request(Method::PATCH, format!("/users/{}", users(user)?), Some(update_body(changes)))
        }
        Action::SetManager { user, manager } => {
            let user = users(user)?;
            let manager = users(manager)?;
            request(
                Method::PUT,
                format!("/users/{user}/manager/$ref"),
                Some(json!({"@odata.id": format!("{GLOBAL_ROOT}/users/{manager}")})),
            )
        }
        Action::RemoveManager { user } => request(Method::DELETE, format!("/users/{user}/manager/$ref"), None),
        Action::EnableAccount { user } => {
            request(Method::PATCH, format!("/users/{}", users(user)?), Some(json!({"accountEnabled": true})))
        }
        Action::DisableAccount { user } => {
            request(Method::PATCH, format!("/users/{}", users(user)?), Some(json!({"accountEnabled": false})))
        }
        Action::ResetPassword { user } => request(
            Method::PATCH,
            format!("/users/{}", users(user)?),
            Some(json!({"passwordProfile": password_profile(&new_password())})),
        ),
        Action::RevokeSessions { user } => {
            request(Method::POST, format!("/users/{}/revokeSignInSessions", users(user)?), None)
        }
        Action::CreateGroup { mail_nickname, display_name, kind } => {
            let (group_types, mail_enabled, security_enabled) = match kind {
                GroupKind::Microsoft365 => (json!(["Unified"]), true, false),
                GroupKind::Security | GroupKind::Other => (json!([]), false, true),
            };
            request(
                Method::POST,
                "/groups".into(),
                Some(json!({
                    "displayName": display_name,
                    "mailNickname": mail_nickname,
                    "groupTypes": group_types,
                    "mailEnabled": mail_enabled,
                    "securityEnabled": security_enabled,
                })),
            )
        }
        Action::AddMembers { group, members } => {
            let group = groups(group)?;
            let binds = members
                .iter()
                .map(|member| users(member).map(|id| format!("{GLOBAL_ROOT}/directoryObjects/{id}")))
                .collect::<Option<Vec<_>>>()?;
            request(Method::PATCH, format!("/groups/{group}"), Some(json!({"members@odata.bind": binds})))
        }
        Action::RemoveMember { group, member } => {
            request(Method::DELETE, format!("/groups/{group}/members/{member}/$ref"), None)
        }
        Action::AssignLicenses { user, add, remove } => request(
            Method::POST,
            format!("/users/{}/assignLicense", users(user)?),
            Some(json!({
                "addLicenses": add.iter().map(|sku| json!({"skuId": sku, "disabledPlans": []})).collect::<Vec<_>>(),
                "removeLicenses": remove,
            })),
        ),
        Action::DeleteUser { user } => request(Method::DELETE, format!("/users/{user}"), None),
        // Exchange Online commands are not Graph requests (the executor sends them through the Exchange client).
        Action::CreateMailList { .. }
        | Action::AddMailListMember { .. }
        | Action::RemoveMailListMember { .. }
        | Action::AwaitMailbox { .. }
        | Action::GrantMailboxRight { .. }
        | Action::RevokeMailboxRight { .. }
        | Action::SetMailboxHidden { .. }
        | Action::SetAutoReply { .. }
        | Action::ConvertMailbox { .. }
        | Action::ConfirmMailboxShared { .. } => return None,
    })
}

fn create_user_body(
    user_principal_name: &str,
    mail_nickname: &str,
    mail: Option<&str>,
    account_enabled: bool,
    attributes: &model::AttributeMap,
    password: &Secret,
) -> Value {
    let mut body = Map::new();
    for (attribute, value) in attributes {
        put_attribute(&mut body, *attribute, Some(value));
    }
    body.insert("accountEnabled".into(), Value::Bool(account_enabled));
    body.insert("userPrincipalName".into(), Value::String(user_principal_name.into()));
    body.insert("mailNickname".into(), Value::String(mail_nickname.into()));
    if let Some(mail) = mail {
        body.insert("mail".into(), Value::String(mail.into()));
    }
    body.entry("displayName").or_insert_with(|| Value::String(user_principal_name.into()));
    body.insert("passwordProfile".into(), password_profile(password));
    Value::Object(body)
}

fn update_body(changes: &[AttributeChange]) -> Value {
    let mut body = Map::new();
    for change in changes {
        put_attribute(&mut body, change.attribute, change.to.as_deref());
    }
    Value::Object(body)
}

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!#$%&*+-=?@^_~";
/// Length of generated passwords (Entra allows 8–256).
const PASSWORD_LENGTH: usize = 16;

/// A random 16-character password from the operating system's CSPRNG with at least one upper-case letter,
/// lower-case letter, digit and symbol (Entra's complexity rule needs three of the four).
#[must_use]
pub fn generate_password() -> Secret {
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    let mut characters: Vec<u8> =
        [UPPER, LOWER, DIGITS, SYMBOLS].iter().map(|class| class[rng.random_range(0..class.len())]).collect();
    while characters.len() < PASSWORD_LENGTH {
        characters.push(all[rng.random_range(0..all.len())]);
    }
    characters.shuffle(&mut rng);
    Secret::new(String::from_utf8(characters).expect("ASCII characters"))
}

#[cfg(test)]
mod tests {
    use model::WorkerId;

    use super::*;

    fn existing(user: &UserRef) -> Option<ObjectId> {
        match user {
            UserRef::Existing(id) => Some(id.clone()),
            UserRef::Planned(_) => None,
        }
    }

    fn existing_group(group: &GroupRef) -> Option<ObjectId> {
        match group {
            GroupRef::Existing(id) => Some(id.clone()),
            GroupRef::Planned(_) => None,
        }
    }

    fn id(text: &str) -> ObjectId {
        ObjectId(text.into())
    }

    #[test]
    fn passwords_are_long_mixed_and_different() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let password = generate_password();
            let text = password.expose();
            assert_eq!(text.len(), PASSWORD_LENGTH);
            assert!(text.bytes().any(|c| c.is_ascii_uppercase()), "{text}");
            assert!(text.bytes().any(|c| c.is_ascii_lowercase()), "{text}");
            assert!(text.bytes().any(|c| c.is_ascii_digit()), "{text}");
            assert!(text.bytes().any(|c| SYMBOLS.contains(&c)), "{text}");
            assert!(seen.insert(text.to_string()), "no repeats");
        }
        assert_eq!(format!("{:?}", generate_password()), "[redacted]");
    }

    #[test]
    fn create_user_nests_org_data_and_phones_and_hides_the_password_in_debug() {
        let attributes = model::AttributeMap::from([
            (UserAttribute::DisplayName, "Ann Lee".to_string()),
            (UserAttribute::EmployeeId, "2001".to_string()),
            (UserAttribute::BusinessPhone, "+49 1".to_string()),
            (UserAttribute::CostCenter, "CC".to_string()),
        ]);
        let action = Action::CreateUser {
            worker: WorkerId::new("2001").expect("worker id"),
            user_principal_name: "ann.lee@contoso.com".into(),
            mail_nickname: "ann.lee".into(),
            mail: Some("ann.lee@contoso.com".into()),
            account_enabled: true,
            attributes,
        };
        let password = Secret::new("Secret-Pass-123!");
        let request = request_for(&action, &existing, &existing_group, Some(&password)).expect("request");
        assert_eq!((request.method.clone(), request.path.as_str()), (Method::POST, "/users"));
        let body = request.body.clone().expect("body");
        assert_eq!(body["businessPhones"], json!(["+49 1"]));
        assert_eq!(body["employeeOrgData"], json!({"costCenter": "CC"}));
        assert_eq!(body["passwordProfile"]["password"], "Secret-Pass-123!");
        assert_eq!(body["passwordProfile"]["forceChangePasswordNextSignIn"], true);
        assert_eq!(body["mail"], "ann.lee@contoso.com");
        assert!(!format!("{request:?}").contains("Secret-Pass"));
    }

    #[test]
    fn updates_clear_with_null_and_empty_phone_lists() {
        let change =
            |attribute, to: Option<&str>| AttributeChange { attribute, from: Some("x".into()), to: to.map(Into::into) };
        let action = Action::UpdateUser {
            user: UserRef::Existing(id("u1")),
            changes: vec![
                change(UserAttribute::JobTitle, None),
                change(UserAttribute::Department, Some("Sales")),
                change(UserAttribute::BusinessPhone, None),
                change(UserAttribute::Division, Some("D")),
            ],
        };
        let request = request_for(&action, &existing, &existing_group, None).expect("request");
        assert_eq!((request.method, request.path.as_str()), (Method::PATCH, "/users/u1"));
        assert_eq!(
            request.body.expect("body"),
            json!({"jobTitle": null, "department": "Sales", "businessPhones": [], "employeeOrgData": {"division": "D"}})
        );
    }

    #[test]
    fn unresolved_references_give_no_request() {
        let planned = UserRef::Planned(WorkerId::new("3001").expect("worker id"));
        let set_manager = Action::SetManager { user: planned.clone(), manager: UserRef::Existing(id("m")) };
        assert!(request_for(&set_manager, &existing, &existing_group, None).is_none());
        let add = Action::AddMembers {
            group: GroupRef::Existing(id("g")),
            members: vec![UserRef::Existing(id("a")), planned],
        };
        assert!(request_for(&add, &existing, &existing_group, None).is_none());
        let add =
            Action::AddMembers { group: GroupRef::Planned("new".into()), members: vec![UserRef::Existing(id("a"))] };
        assert!(request_for(&add, &existing, &existing_group, None).is_none());
    }

    #[test]
    fn references_memberships_licences_and_groups_follow_graph() {
        let resolve = |action: &Action| request_for(action, &existing, &existing_group, None).expect("request");
        let manager =
            resolve(&Action::SetManager { user: UserRef::Existing(id("u")), manager: UserRef::Existing(id("m")) });
        assert_eq!((manager.method, manager.path.as_str()), (Method::PUT, "/users/u/manager/$ref"));
        assert_eq!(manager.body.expect("body"), json!({"@odata.id": "https://graph.microsoft.com/v1.0/users/m"}));
        let add = resolve(&Action::AddMembers {
            group: GroupRef::Existing(id("g")),
            members: vec![UserRef::Existing(id("a")), UserRef::Existing(id("b"))],
        });
        assert_eq!(add.method, Method::PATCH);
        assert_eq!(
            add.body.expect("body")["members@odata.bind"][1],
            "https://graph.microsoft.com/v1.0/directoryObjects/b"
        );
        let remove = resolve(&Action::RemoveMember { group: id("g"), member: id("a") });
        assert_eq!((remove.method, remove.path.as_str()), (Method::DELETE, "/groups/g/members/a/$ref"));
        let licences = resolve(&Action::AssignLicenses {
            user: UserRef::Existing(id("u")),
            add: vec!["s1".into()],
            remove: vec!["s2".into()],
        });
        assert_eq!(
            licences.body.expect("body"),
            json!({"addLicenses": [{"skuId": "s1", "disabledPlans": []}], "removeLicenses": ["s2"]})
        );
        let m365 = resolve(&Action::CreateGroup {
            mail_nickname: "m".into(),
            display_name: "M".into(),
            kind: GroupKind::Microsoft365,
        });
        assert_eq!(m365.body.expect("body")["groupTypes"], json!(["Unified"]));
        let security = resolve(&Action::CreateGroup {
            mail_nickname: "s".into(),
            display_name: "S".into(),
            kind: GroupKind::Security,
        });
        let body = security.body.expect("body");
        assert_eq!((body["securityEnabled"].clone(), body["mailEnabled"].clone()), (json!(true), json!(false)));
        let reset = resolve(&Action::ResetPassword { user: UserRef::Existing(id("u")) });
        assert_eq!(
            reset.body.expect("body")["passwordProfile"]["password"].as_str().map(str::len),
            Some(PASSWORD_LENGTH)
        );
        let restore = resolve(&Action::RestoreUser { user: id("d") });
        assert_eq!((restore.method, restore.path.as_str()), (Method::POST, "/directory/deletedItems/d/restore"));
    }
}
