//! Writes and retries against a real sandbox over HTTPS: a full `$batch` of 20 creates and a 20-member
//! `AddMembers`, sub-requests failed by a fault plan (503, 429) and retried, a throttled whole `$batch`,
//! dropped connections and injected 504s on direct requests, `Retry-After` honoured (seen in the counters),
//! attempts running out, and 404s not retried.

mod common;

use common::*;
use graph::{GraphRequest, Method, request_for};
use model::{Action, GroupRef, ObjectId, UserAttribute, UserRef, WorkerId};
use sandbox::knobs::{FaultRule, Knobs};

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

fn create(number: u32) -> GraphRequest {
    let action = Action::CreateUser {
        worker: WorkerId::new(&format!("{}", 5000 + number)).expect("worker"),
        user_principal_name: format!("batch.user{number}@contoso.com"),
        mail_nickname: format!("batch.user{number}"),
        mail: None,
        account_enabled: true,
        attributes: model::AttributeMap::from([
            (UserAttribute::DisplayName, format!("Batch User {number}")),
            (UserAttribute::EmployeeId, format!("{}", 5000 + number)),
        ]),
    };
    request_for(&action, &existing_user, &existing_group, None).expect("request")
}

fn rule(method: &str, path_prefix: &str, nth: Option<u64>) -> FaultRule {
    FaultRule {
        method: Some(method.into()),
        path_prefix: path_prefix.into(),
        nth,
        retry_after_seconds: Some(1),
        ..FaultRule::default()
    }
}

#[tokio::test]
async fn twenty_creates_and_twenty_memberships_go_in_one_batch_each() {
    let sandbox = start(Knobs::default()).await;
    let client = client(&sandbox, 3, 4);
    let answers = client.send_batch((0..20).map(create).collect()).await.expect("batch");
    assert_eq!(answers.len(), 20);
    assert!(answers.iter().all(|answer| answer.status == 201), "{answers:?}");
    for (number, answer) in answers.iter().enumerate() {
        assert_eq!(
            answer.body["userPrincipalName"],
            format!("batch.user{number}@contoso.com"),
            "answers keep their order"
        );
        assert!(answer.request_id.is_some());
    }
    let ids: Vec<UserRef> =
        answers.iter().map(|answer| UserRef::Existing(ObjectId(answer.object_id().expect("id").into()))).collect();
    let add = Action::AddMembers { group: GroupRef::Existing(ObjectId(ALL_STAFF.into())), members: ids.clone() };
    let answers = client
        .send_batch(vec![request_for(&add, &existing_user, &existing_group, None).expect("request")])
        .await
        .expect("batch");
    assert_eq!(answers[0].status, 204, "{:?}", answers[0].body);
    let stats = client.stats();
    assert_eq!((stats.http_requests, stats.sub_requests, stats.retries), (2, 21, 0));

    // Adding the same members again is a conflict the caller can recognise.
    let again = client
        .send_batch(vec![request_for(&add, &existing_user, &existing_group, None).expect("request")])
        .await
        .expect("batch");
    assert_eq!(again[0].status, 400);
    assert!(again[0].is_conflict(), "{:?}", again[0].body);

    let (state, _) = client.observe_full().await.expect("observe");
    let members = &state.groups[&ObjectId(ALL_STAFF.into())].members;
    assert_eq!(members.len(), 23);
    assert_eq!(state.users.len(), 26, "20 new users and the 6 sample users");

    let too_many = client.send_batch((0..21).map(create).collect()).await.expect_err("21 requests");
    assert!(!too_many.is_transient());
}

#[tokio::test]
async fn failed_and_throttled_sub_requests_are_retried_honouring_retry_after() {
    let knobs = Knobs {
        fault_plan: vec![
            FaultRule { status: Some(503), ..rule("POST", "/v1.0/users", Some(2)) },
            FaultRule { throttle: true, ..rule("POST", "/v1.0/users", Some(4)) },
        ],
        ..Knobs::default()
    };
    let sandbox = start(knobs).await;
    let client = client(&sandbox, 4, 4);
    let answers = client.send_batch((0..5).map(create).collect()).await.expect("batch");
    assert!(answers.iter().all(|answer| answer.status == 201), "{answers:?}");
    let stats = client.stats();
    assert_eq!(stats.http_requests, 2, "one batch, then one batch of the two failed sub-requests");
    assert_eq!(stats.sub_requests, 7);
    assert_eq!(stats.retries, 2);
    assert_eq!(stats.throttled, 1);
    assert!(stats.retry_after_waited_ms >= 500, "Retry-After: 1 made the client wait: {stats:?}");
    assert!(stats.concurrency_limit < 4, "a 429 halves the concurrency limit: {stats:?}");
    assert_eq!(sandbox.state().knobs.stats().injected_errors, 2);
    let (state, _) = client.observe_full().await.expect("observe");
    assert_eq!(state.users.len(), 11, "every user was created exactly once (beside the 6 sample users)");
}

#[tokio::test]
async fn a_throttled_batch_is_sent_again_whole() {
    let knobs = Knobs {
        fault_plan: vec![FaultRule { throttle: true, ..rule("POST", "/v1.0/$batch", Some(1)) }],
        ..Knobs::default()
    };
    let sandbox = start(knobs).await;
    let client = client(&sandbox, 3, 2);
    let answers = client.send_batch((0..3).map(create).collect()).await.expect("batch");
    assert!(answers.iter().all(|answer| answer.status == 201), "{answers:?}");
    let stats = client.stats();
    assert_eq!((stats.http_requests, stats.sub_requests, stats.retries, stats.throttled), (2, 6, 3, 1));
    assert!(stats.retry_after_waited_ms >= 500, "{stats:?}");
    assert_eq!(sandbox.state().knobs.stats().injected_errors, 1);
}

#[tokio::test]
async fn direct_requests_survive_dropped_connections_and_gateway_timeouts() {
    let knobs = Knobs {
        fault_plan: vec![
            FaultRule { drop: true, ..rule("GET", "/v1.0/subscribedSkus", Some(1)) },
            FaultRule { status: Some(504), ..rule("GET", "/v1.0/users/delta", Some(1)) },
        ],
        ..Knobs::default()
    };
    let sandbox = start(knobs).await;
    let client = client(&sandbox, 3, 4);
    let (state, _) = client.observe_full().await.expect("observe despite faults");
    assert_eq!(state.skus.len(), 2);
    assert_eq!(state.users.len(), 6);
    let stats = client.stats();
    assert_eq!(stats.retries, 2, "{stats:?}");
    assert_eq!(stats.http_requests, 6);
    let knob_stats = sandbox.state().knobs.stats();
    assert_eq!((knob_stats.dropped_connections, knob_stats.injected_errors), (1, 1));
}

#[tokio::test]
async fn attempts_run_out_and_client_errors_are_not_retried() {
    let knobs = Knobs {
        fault_plan: vec![FaultRule { status: Some(500), ..rule("POST", "/v1.0/groups", None) }],
        ..Knobs::default()
    };
    let sandbox = start(knobs).await;
    let client = client(&sandbox, 2, 4);
    let group = request_for(
        &Action::CreateGroup { mail_nickname: "g".into(), display_name: "G".into(), kind: model::GroupKind::Security },
        &existing_user,
        &existing_group,
        None,
    )
    .expect("request");
    let answer = client.send(group.clone()).await.expect("an answer");
    assert_eq!(answer.status, 500);
    assert!(answer.is_transient());
    let error = answer.clone().into_result("create group").expect_err("500");
    assert!(error.is_transient());
    assert_eq!(error.status(), Some(500));
    assert!(error.request_id().is_some(), "{error}");
    assert_eq!(client.stats().retries, 1, "two attempts in all");

    let answers = client.send_batch(vec![group]).await.expect("batch");
    assert_eq!(answers[0].status, 500, "the last answer is returned once attempts run out");
    assert_eq!(client.stats().retries, 2);

    let missing =
        GraphRequest { method: Method::GET, path: "/users/00000000-0000-4000-8000-00000000dead".into(), body: None };
    let before = client.stats();
    let answer = client.send(missing).await.expect("an answer");
    assert!(answer.is_not_found());
    let error = answer.into_result("read user").expect_err("404");
    assert!(!error.is_transient());
    assert_eq!(error.code(), Some("Request_ResourceNotFound"));
    assert_eq!(client.stats().retries, before.retries, "404 is not retried");
    assert_eq!(client.stats().http_requests, before.http_requests + 1);
}

#[tokio::test]
async fn writes_of_every_kind_are_accepted() {
    let sandbox = start(Knobs::default()).await;
    let client = client(&sandbox, 3, 4);
    let megan = UserRef::Existing(ObjectId(MEGAN.into()));
    let actions = [
        Action::AssignLicenses { user: megan.clone(), add: vec![], remove: vec![] },
        Action::UpdateUser {
            user: megan.clone(),
            changes: vec![model::AttributeChange {
                attribute: UserAttribute::UsageLocation,
                from: None,
                to: Some("DE".into()),
            }],
        },
        Action::DisableAccount { user: megan.clone() },
        Action::ResetPassword { user: megan.clone() },
        Action::RevokeSessions { user: megan.clone() },
        Action::CreateGroup {
            mail_nickname: "dept-sales".into(),
            display_name: "Sales".into(),
            kind: model::GroupKind::Microsoft365,
        },
    ];
    let requests: Vec<GraphRequest> = actions
        .iter()
        .map(|action| request_for(action, &existing_user, &existing_group, None).expect("request"))
        .collect();
    let answers = client.send_batch(requests).await.expect("batch");
    assert!(answers.iter().all(graph::GraphResponse::is_success), "{answers:?}");
    let licence = request_for(
        &Action::AssignLicenses { user: megan.clone(), add: vec![ENTERPRISEPACK.into()], remove: vec![] },
        &existing_user,
        &existing_group,
        None,
    )
    .expect("request");
    assert!(client.send(licence).await.expect("licence").is_success());
    let (state, _) = client.observe_full().await.expect("observe");
    let user = &state.users[&ObjectId(MEGAN.into())];
    assert!(!user.account_enabled);
    assert!(user.licenses.contains(ENTERPRISEPACK));
    assert_eq!(user.attributes.get(&UserAttribute::UsageLocation).map(String::as_str), Some("DE"));
    let sales = state.groups.values().find(|group| group.mail_nickname == "dept-sales").expect("group");
    assert_eq!(sales.kind, model::GroupKind::Microsoft365);
}
