//! Observation against a real sandbox over HTTPS: a full read of the seeded Contoso tenant, incremental reads
//! after writes made through the client (they must equal a fresh full read), the request budget of a no-op
//! incremental read, the fallback to a full read when a delta link is no longer valid, and look-ups.

mod common;

use std::collections::BTreeMap;

use common::*;
use graph::{DeltaLinks, request_for};
use model::{Action, GroupKind, GroupRef, ObjectId, ObservedState, UserAttribute, UserRef, WorkerId};
use sandbox::knobs::Knobs;

fn oid(id: &str) -> ObjectId {
    ObjectId(id.to_string())
}

fn existing_user(user: &UserRef) -> Option<ObjectId> {
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

fn request(action: &Action) -> graph::GraphRequest {
    request_for(action, &existing_user, &existing_group, None).expect("every reference is resolved")
}

#[tokio::test]
async fn a_full_observation_reads_the_seeded_tenant() {
    let sandbox = start(Knobs::default()).await;
    let client = client(&sandbox, 3, 4);
    let (state, links) = client.observe_full().await.expect("full observe");

    let by_employee: BTreeMap<&str, &model::DirectoryUser> =
        state.users.values().filter_map(|user| user.employee_id().map(|id| (id, user))).collect();
    assert_eq!(by_employee.keys().copied().collect::<Vec<_>>(), vec!["1001", "1002", "1003"]);
    let alex = by_employee["1002"];
    assert_eq!(alex.id, oid(ALEX));
    assert_eq!(alex.user_principal_name, "alex.wilber@contoso.com");
    assert!(alex.account_enabled);
    assert_eq!(alex.manager, Some(oid(ADELE)));
    assert_eq!(alex.attributes.get(&UserAttribute::JobTitle).map(String::as_str), Some("Marketing Assistant"));
    assert_eq!(alex.attributes.get(&UserAttribute::UsageLocation).map(String::as_str), Some("US"));
    assert_eq!(alex.attributes.get(&UserAttribute::DisplayName).map(String::as_str), Some("Alex Wilber"));
    assert!(alex.licenses.contains(ENTERPRISEPACK));
    assert!(alex.proxy_addresses.iter().any(|address| address == "SMTP:alex.wilber@contoso.com"), "{alex:?}");
    assert_eq!(by_employee["1001"].manager, None);
    assert!(by_employee["1003"].licenses.is_empty());
    assert_eq!(state.users.len(), 6, "the 6 sample users of Contoso");

    let all_staff = &state.groups[&oid(ALL_STAFF)];
    assert_eq!(all_staff.mail_nickname, "allstaff");
    assert_eq!(all_staff.kind, GroupKind::Security);
    assert!(!all_staff.dynamic);
    assert_eq!(all_staff.members, [oid(ADELE), oid(ALEX), oid(MEGAN)].into_iter().collect());
    assert_eq!(state.groups[&oid(MARKETING)].kind, GroupKind::Microsoft365);
    assert_eq!(state.groups[&oid(MARKETING)].members.len(), 2);
    let kinds: BTreeMap<&str, GroupKind> =
        state.groups.values().map(|group| (group.mail_nickname.as_str(), group.kind)).collect();
    assert_eq!(kinds["finance-approvers"], GroupKind::Other);
    assert_eq!(kinds["retail-announcements"], GroupKind::Other);

    let pack = state.skus.iter().find(|sku| sku.sku_part_number == "ENTERPRISEPACK").expect("ENTERPRISEPACK");
    assert_eq!((pack.sku_id.as_str(), pack.enabled_units, pack.consumed_units), (ENTERPRISEPACK, 25, 3));
    assert_eq!(state.skus.len(), 2);
    assert!(state.deleted_users.is_empty());
    assert!(links.users.is_some() && links.groups.is_some());
    assert_eq!(client.stats().http_requests, 4, "one page each of users, groups, deleted users and skus");
}

#[tokio::test]
async fn incremental_observation_follows_writes_and_matches_a_full_read() {
    let sandbox = start(Knobs::default()).await;
    let client = client(&sandbox, 3, 4);
    let (state, links) = client.observe_full().await.expect("full observe");

    // Create a user, then (once its id is known) make it a member and give it a manager; change Megan;
    // soft-delete Alex.
    let create = Action::CreateUser {
        worker: WorkerId::new("2001").expect("worker"),
        user_principal_name: "nina.neu@contoso.com".into(),
        mail_nickname: "nina.neu".into(),
        mail: Some("nina.neu@contoso.com".into()),
        account_enabled: true,
        attributes: model::AttributeMap::from([
            (UserAttribute::DisplayName, "Nina Neu".to_string()),
            (UserAttribute::EmployeeId, "2001".to_string()),
            (UserAttribute::Department, "Sales".to_string()),
            (UserAttribute::BusinessPhone, "+49 30 1234".to_string()),
            (UserAttribute::CostCenter, "CC-7".to_string()),
            (UserAttribute::Division, "EMEA".to_string()),
            (UserAttribute::EmployeeHireDate, "2026-03-01T00:00:00Z".to_string()),
        ]),
    };
    let created = client.send(request(&create)).await.expect("create");
    assert_eq!(created.status, 201, "{:?}", created.body);
    let nina = oid(created.object_id().expect("id"));
    let writes = vec![
        request(&Action::AddMembers {
            group: GroupRef::Existing(oid(ALL_STAFF)),
            members: vec![UserRef::Existing(nina.clone())],
        }),
        request(&Action::SetManager { user: UserRef::Existing(nina.clone()), manager: UserRef::Existing(oid(ADELE)) }),
        request(&Action::UpdateUser {
            user: UserRef::Existing(oid(MEGAN)),
            changes: vec![model::AttributeChange {
                attribute: UserAttribute::JobTitle,
                from: Some("Marketing Manager".into()),
                to: Some("Head of Marketing".into()),
            }],
        }),
        request(&Action::DeleteUser { user: oid(ALEX) }),
    ];
    let answers = client.send_batch(writes).await.expect("batch");
    assert!(answers.iter().all(graph::GraphResponse::is_success), "{answers:?}");

    let (state, links) = client.observe_incremental(state, &links).await.expect("incremental");
    let new_user = &state.users[&nina];
    assert_eq!(new_user.employee_id(), Some("2001"));
    assert_eq!(new_user.manager, Some(oid(ADELE)));
    assert_eq!(new_user.mail.as_deref(), Some("nina.neu@contoso.com"));
    assert_eq!(new_user.attributes.get(&UserAttribute::BusinessPhone).map(String::as_str), Some("+49 30 1234"));
    assert_eq!(new_user.attributes.get(&UserAttribute::CostCenter).map(String::as_str), Some("CC-7"));
    assert_eq!(new_user.attributes.get(&UserAttribute::Division).map(String::as_str), Some("EMEA"));
    assert_eq!(
        new_user.attributes.get(&UserAttribute::EmployeeHireDate).map(String::as_str),
        Some("2026-03-01T00:00:00Z")
    );
    assert!(state.groups[&oid(ALL_STAFF)].members.contains(&nina));
    assert_eq!(
        state.users[&oid(MEGAN)].attributes.get(&UserAttribute::JobTitle).map(String::as_str),
        Some("Head of Marketing")
    );
    assert!(!state.users.contains_key(&oid(ALEX)));
    assert_eq!(state.deleted_users[&oid(ALEX)].employee_id(), Some("1002"));
    let (full, _) = client.observe_full().await.expect("full observe");
    assert_eq!(state, full, "an incremental read equals a full read");

    // Restore Alex and remove Nina's manager and membership: the next round shows it.
    let writes = vec![
        request(&Action::RestoreUser { user: oid(ALEX) }),
        request(&Action::RemoveManager { user: nina.clone() }),
        request(&Action::RemoveMember { group: oid(ALL_STAFF), member: nina.clone() }),
    ];
    let answers = client.send_batch(writes).await.expect("batch");
    assert!(answers.iter().all(graph::GraphResponse::is_success), "{answers:?}");
    let (state, links) = client.observe_incremental(state, &links).await.expect("incremental");
    assert!(state.users.contains_key(&oid(ALEX)) && state.deleted_users.is_empty());
    assert_eq!(state.users[&nina].manager, None);
    assert!(!state.groups[&oid(ALL_STAFF)].members.contains(&nina));
    let (full, _) = client.observe_full().await.expect("full observe");
    assert_eq!(state, full, "an incremental read equals a full read");

    // Nothing changed: at most four requests, same state.
    let before = client.stats().http_requests;
    let (unchanged, _) = client.observe_incremental(state.clone(), &links).await.expect("no-op incremental");
    assert_eq!(unchanged, state);
    let spent = client.stats().http_requests - before;
    assert!(spent <= 4, "a no-op incremental read took {spent} requests");
}

#[tokio::test]
async fn an_invalid_delta_link_falls_back_to_a_full_read() {
    let sandbox = start(Knobs::default()).await;
    let client = client(&sandbox, 3, 4);
    let (state, links) = client.observe_full().await.expect("full observe");
    let tamper = |link: &String| format!("{}$deltatoken=garbage", link.split("$deltatoken=").next().expect("link"));
    let broken = DeltaLinks { users: links.users.as_ref().map(tamper), groups: links.groups.clone() };
    let before = client.stats().http_requests;
    // An empty cache: the fallback must not depend on it.
    let (again, new_links) = client.observe_incremental(ObservedState::default(), &broken).await.expect("fallback");
    assert_eq!(again, state, "the fallback reads everything again");
    assert!(new_links.users.is_some());
    assert!(client.stats().http_requests - before > 4, "the failed round plus a full read");
}

#[tokio::test]
async fn users_are_found_by_employee_id_and_upn() {
    let sandbox = start(Knobs::default()).await;
    let client = client(&sandbox, 3, 4);
    let found = client.find_users_by_employee_id("1002").await.expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, oid(ALEX));
    assert_eq!(found[0].manager, Some(oid(ADELE)));
    assert!(found[0].licenses.contains(ENTERPRISEPACK));
    assert!(client.find_users_by_employee_id("it's-none").await.expect("find").is_empty());
    let megan = client.find_user_by_upn("megan.bowen@contoso.com").await.expect("find").expect("megan");
    assert_eq!(megan.id, oid(MEGAN));
    assert_eq!(megan.employee_id(), Some("1003"));
    assert_eq!(megan.manager, Some(oid(ADELE)));
    assert!(client.find_user_by_upn("nobody@contoso.com").await.expect("find").is_none());
}
