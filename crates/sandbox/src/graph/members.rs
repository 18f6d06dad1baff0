//! Group membership: `GET /groups/{id}/members`, `POST /groups/{id}/members/$ref`,
//! `DELETE /groups/{id}/members/{member}/$ref`, the `members@odata.bind`/`owners@odata.bind` annotations of
//! group create and update, and the directory-object references (`{"@odata.id": ".../directoryObjects/{id}"}`)
//! those and `manager/$ref` carry.
//!
//! Reference: §3.2; <https://learn.microsoft.com/graph/api/group-post-members>,
//! <https://learn.microsoft.com/graph/api/group-delete-members>,
//! <https://learn.microsoft.com/graph/api/group-list-members>.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use chrono::{DateTime, Utc};
use http::StatusCode;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::call::Call;
use super::error::{GraphError, GraphResult};
use super::groups::{self, ensure_membership_writable};
use super::listing;
use super::lookup::{find_group, find_user, invalid_identifier};
use super::odata::EntityKind;
use super::permissions;
use super::request_body;
use super::users::UserView;
use crate::directory::group::Group;
use crate::directory::tenant::{Tenant, ids_after};
use crate::directory::user::User;

/// At most this many links (members and owners together) may be added in one request.
pub const MAX_LINKS_PER_REQUEST: usize = 20;

/// A user or a group, as `directoryObject` collections return them.
#[derive(Clone, Copy, Debug)]
pub enum DirectoryObject<'t> {
    /// A user.
    User(&'t User),
    /// A group.
    Group(&'t Group),
}

impl<'t> DirectoryObject<'t> {
    /// The live (not deleted), visible object with `id`.
    pub fn live(tenant: &'t Tenant, id: Uuid, now: DateTime<Utc>) -> Option<DirectoryObject<'t>> {
        if let Some(user) = tenant.users.get(&id) {
            return user.is_live(now).then_some(DirectoryObject::User(user));
        }
        tenant.groups.get(&id).filter(|group| group.is_live(now)).map(DirectoryObject::Group)
    }

    /// The object id.
    pub fn id(&self) -> Uuid {
        match self {
            DirectoryObject::User(user) => user.id,
            DirectoryObject::Group(group) => group.id,
        }
    }

    /// `@odata.type`.
    pub fn odata_type(&self) -> &'static str {
        match self {
            DirectoryObject::User(_) => "#microsoft.graph.user",
            DirectoryObject::Group(_) => "#microsoft.graph.group",
        }
    }

    /// `ResourceType` as the directory names it in error messages.
    pub fn resource_type(&self) -> &'static str {
        match self {
            DirectoryObject::User(_) => "User",
            DirectoryObject::Group(_) => "Group",
        }
    }

    /// A property as `view` sees it.
    pub fn property(&self, name: &str, view: &UserView) -> Option<Value> {
        match self {
            DirectoryObject::User(user) => view.get(user, name),
            DirectoryObject::Group(group) => group.property(name),
        }
    }

    /// The JSON object with `@odata.type` and `select` (or the kind's default property set).
    pub fn render(&self, select: Option<&[String]>, view: &UserView) -> Map<String, Value> {
        let mut object = match self {
            DirectoryObject::User(user) => view.render(user, select),
            DirectoryObject::Group(group) => groups::render(group, select),
        };
        object.insert("@odata.type".into(), Value::String(self.odata_type().into()));
        object
    }
}

/// Which entity set a reference URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceSet {
    /// `.../directoryObjects/{id}`.
    DirectoryObjects,
    /// `.../users/{id | userPrincipalName}`.
    Users,
    /// `.../groups/{id}`.
    Groups,
}

/// A parsed `@odata.id` / `@odata.bind` reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The entity set.
    pub set: ReferenceSet,
    /// The key (an object id, or a UPN for users).
    pub key: String,
}

/// Parses a reference URL such as `https://graph.microsoft.com/v1.0/directoryObjects/{id}`.
pub fn parse_reference(url: &str) -> GraphResult<Reference> {
    let path = url.split(['?', '#']).next().unwrap_or("").trim_end_matches('/');
    let mut segments = path.rsplit('/');
    let last = segments.next().unwrap_or("");
    // Key-as-segment (`directoryObjects/{id}`) or parenthesised key (`directoryObjects('{id}')`).
    let (set_name, key) = match last.split_once('(') {
        Some((set, rest)) => (set, rest.trim_end_matches(')').trim_matches('\'')),
        None => (segments.next().unwrap_or(""), last),
    };
    let set = match set_name.to_ascii_lowercase().as_str() {
        "directoryobjects" => ReferenceSet::DirectoryObjects,
        "users" => ReferenceSet::Users,
        "groups" => ReferenceSet::Groups,
        _ => return Err(invalid_identifier(url)),
    };
    let key = percent_encoding::percent_decode_str(key).decode_utf8_lossy().into_owned();
    if key.is_empty() {
        return Err(invalid_identifier(url));
    }
    Ok(Reference { set, key })
}

/// The reference in a `$ref` body (`{"@odata.id": "..."}`).
pub fn parse_reference_body(body: &Map<String, Value>) -> GraphResult<Reference> {
    match body.get("@odata.id") {
        None | Some(Value::Null) => Err(GraphError::bad_request("Write request id cannot be null.")),
        Some(Value::String(url)) => parse_reference(url),
        Some(other) => Err(request_body::conversion_error(other, "Edm.String")),
    }
}

/// The live, visible object a reference names; 404 when there is none.
pub fn resolve_reference<'t>(
    tenant: &'t Tenant,
    reference: &Reference,
    now: DateTime<Utc>,
) -> GraphResult<DirectoryObject<'t>> {
    if reference.set == ReferenceSet::Users && Uuid::parse_str(&reference.key).is_err() {
        return find_user(tenant, &reference.key, now).map(DirectoryObject::User);
    }
    let not_found = || GraphError::not_found(&reference.key);
    let id = Uuid::parse_str(&reference.key).map_err(|_| invalid_identifier(&reference.key))?;
    let object = DirectoryObject::live(tenant, id, now).ok_or_else(not_found)?;
    match (reference.set, object) {
        (ReferenceSet::Users, DirectoryObject::Group(_)) | (ReferenceSet::Groups, DirectoryObject::User(_)) => {
            Err(not_found())
        }
        _ => Ok(object),
    }
}

/// The `x@odata.bind` annotations of a group body, removed from it.
#[derive(Clone, Debug, Default)]
pub struct Binds {
    /// `members@odata.bind`.
    pub members: Vec<Reference>,
    /// `owners@odata.bind`.
    pub owners: Vec<Reference>,
}

impl Binds {
    /// Whether no links were sent.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.owners.is_empty()
    }
}

/// Takes `members@odata.bind` and `owners@odata.bind` out of `body` and parses them.
pub fn take_binds(body: &mut Map<String, Value>) -> GraphResult<Binds> {
    let mut binds = Binds::default();
    for (name, target) in [("members@odata.bind", &mut binds.members), ("owners@odata.bind", &mut binds.owners)] {
        let Some(value) = body.remove(name) else { continue };
        let urls = request_body::as_optional_string_list(&value)?.unwrap_or_default();
        for url in urls {
            target.push(parse_reference(&url)?);
        }
    }
    if binds.members.len() + binds.owners.len() > MAX_LINKS_PER_REQUEST {
        // Observed wording: microsoftgraph/microsoft-graph-docs issue #6016.
        return Err(GraphError::bad_request("A resource cannot contain more than 20 link changes"));
    }
    Ok(binds)
}

/// Resolves bound references for `group_id`: every object must exist (404), none may appear twice, and none
/// may already be linked (`existing`). All or nothing: the caller changes nothing on error.
pub fn resolve_binds(
    tenant: &Tenant,
    group_id: Uuid,
    references: &[Reference],
    existing: &BTreeSet<Uuid>,
    property: &str,
    now: DateTime<Utc>,
) -> GraphResult<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(references.len());
    let mut already_linked = false;
    for reference in references {
        let object = resolve_reference(tenant, reference, now)?;
        let id = object.id();
        if ids.contains(&id) {
            // Observed wording: microsoftgraph/contoso-airlines-teams-sample issue #1.
            return Err(GraphError::bad_request(format!(
                "Object '[ResourceType={},Id={id}]' referenced from '[ResourceType=Group,Id={group_id}]' can only be \
                 present once as an add/remove change.",
                object.resource_type()
            )));
        }
        already_linked |= existing.contains(&id);
        ids.push(id);
    }
    if already_linked {
        return Err(already_exists(property));
    }
    Ok(ids)
}

/// 400 for adding a link that exists.
pub fn already_exists(property: &str) -> GraphError {
    GraphError::bad_request(format!(
        "One or more added object references already exist for the following modified properties: '{property}'."
    ))
}

/// `GET /groups/{id}/members`.
pub async fn list_members(call: Call, Path(key): Path<String>) -> GraphResult<Json<Value>> {
    permissions::require(&call.caller, permissions::GROUP_READ)?;
    let query = call.list_query(EntityKind::User)?;
    let view = UserView::of(&call.caller);
    let select = query.select.as_deref();
    let page = {
        let tenant = call.caller.tenant.read();
        let group = find_group(&tenant, &key, call.now)?;
        let page = listing::select_page(
            &query,
            |from| group.members.range(ids_after(from)).filter_map(|id| DirectoryObject::live(&tenant, *id, call.now)),
            DirectoryObject::id,
            |_| true,
            |object, name| object.property(name, &view),
        )?;
        page.map(|object| Value::Object(object.render(select, &view)))
    };
    Ok(call.collection("directoryObjects", None, page))
}

/// The group whose membership a request changes: it exists, the caller may change its members, and its
/// membership is not managed elsewhere (Exchange, a dynamic rule).
fn group_to_change<'t>(call: &Call, tenant: &'t Tenant, key: &str) -> GraphResult<&'t Group> {
    let group = find_group(tenant, key, call.now)?;
    permissions::authorize_member_write(&call.caller, tenant, group)?;
    ensure_membership_writable(group)?;
    Ok(group)
}

/// `POST /groups/{id}/members/$ref` → 204.
pub async fn add_member(call: Call, Path(key): Path<String>, body: Bytes) -> GraphResult<StatusCode> {
    permissions::require(&call.caller, permissions::MEMBER_WRITE)?;
    let reference = parse_reference_body(&request_body::parse_object(&body)?)?;
    let mut tenant = call.caller.tenant.write();
    let group = group_to_change(&call, &tenant, &key)?;
    let group_id = group.id;
    let member = resolve_reference(&tenant, &reference, call.now)?.id();
    if group.members.contains(&member) {
        return Err(already_exists("members"));
    }
    if member == group_id {
        return Err(request_body::invalid_value("members", "Group"));
    }
    tenant.update_group(group_id, |group| {
        group.members.insert(member);
    });
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /groups/{id}/members/{member}/$ref` → 204 (404 when the object is not a member).
pub async fn remove_member(call: Call, Path((key, member_key)): Path<(String, String)>) -> GraphResult<StatusCode> {
    permissions::require(&call.caller, permissions::MEMBER_WRITE)?;
    let mut tenant = call.caller.tenant.write();
    let group = group_to_change(&call, &tenant, &key)?;
    let group_id = group.id;
    let member = Uuid::parse_str(&member_key).map_err(|_| invalid_identifier(&member_key))?;
    if !group.members.contains(&member) {
        return Err(GraphError::not_found(&member_key));
    }
    tenant.update_group(group_id, |group| {
        group.members.remove(&member);
    });
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_set_and_key() {
        let id = "0b1c2d3e-0000-4000-8000-000000000002";
        let parsed = parse_reference(&format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")).expect("ok");
        assert_eq!(parsed, Reference { set: ReferenceSet::DirectoryObjects, key: id.into() });
        let parsed = parse_reference(&format!("https://127.0.0.1:1/v1.0/users('{id}')")).expect("ok");
        assert_eq!(parsed.set, ReferenceSet::Users);
        assert_eq!(parsed.key, id);
        assert!(parse_reference("https://graph.microsoft.com/v1.0/applications/x").is_err());
        assert!(parse_reference("nonsense").is_err());
    }
}
