//! What a Graph answer means for a step: done (with the new object's ID), retry later (the 404 that follows a
//! fresh create), or failed — plus the follow-up reads that settle ambiguous answers, so a step whose outcome is
//! unknown is never repeated blindly:
//! - a `CreateUser` answered "userPrincipalName already exists" (our own earlier attempt, or a crash between the
//!   write and the journal) is resolved by looking the employee up: if the account is theirs it is adopted;
//! - an `AddMembers` answered "references already exist" is retried member by member, each "already a member"
//!   counting as done;
//! - removals answered 404 are done (the member or user is already gone);
//! - a licence change answered "User does not have a corresponding license" (a removal an earlier attempt already
//!   made, its answer lost and the request sent again) is settled by reading the licences assigned now.

use graph::{GraphRequest, GraphResponse};
use model::{Action, ObjectId, WorkerId};

/// How a step ended (for now).
#[derive(Debug, Clone)]
pub(crate) enum StepResult {
    /// Done; `object_id` is the created or adopted object's ID, for creates.
    Done { object_id: Option<ObjectId>, request_id: Option<String>, note: Option<String> },
    /// Not yet possible (the target is not yet visible after its create): try again after a pause.
    RetryLater { reason: String, request_id: Option<String> },
    /// Failed for good in this run.
    Failed { error: String, request_id: Option<String> },
    /// Exchange is not there yet (a mailbox still being provisioned, a conversion not shown yet): a durable wait,
    /// polled again later within the run's wait budget, then left `waiting` for the next run.
    NotYet { reason: String },
}

/// The Graph error code and message of an error answer.
pub(crate) fn graph_error(response: &GraphResponse) -> (String, String) {
    let error = &response.body["error"];
    let code = error["code"].as_str().unwrap_or("").to_string();
    let message = error["message"].as_str().unwrap_or("").to_string();
    (code, message)
}

fn failure(response: &GraphResponse) -> StepResult {
    let (code, message) = graph_error(response);
    let request = response.request_id.as_deref().unwrap_or("none");
    StepResult::Failed {
        error: format!("Graph answered {} {code}: {message} (request-id {request})", response.status),
        request_id: response.request_id.clone(),
    }
}

/// Interprets the answer to the request of `action` without any follow-up read.
pub(crate) fn interpret(action: &Action, response: &GraphResponse, target_is_new: bool) -> StepResult {
    let request_id = response.request_id.clone();
    if (200..300).contains(&response.status) {
        let object_id = match action {
            Action::CreateUser { .. } | Action::CreateGroup { .. } => {
                response.body["id"].as_str().map(|id| ObjectId(id.to_string()))
            }
            _ => None,
        };
        return StepResult::Done { object_id, request_id, note: None };
    }
    if response.status == 404 {
        match action {
            Action::RemoveMember { .. } | Action::DeleteUser { .. } | Action::RemoveManager { .. } => {
                return StepResult::Done { object_id: None, request_id, note: Some("already gone".into()) };
            }
            // Entra answers 404 for seconds after a create (replication): only then is waiting right.
            _ if target_is_new => {
                return StepResult::RetryLater { reason: "the new object is not visible yet".into(), request_id };
            }
            _ => {}
        }
    }
    failure(response)
}

/// Whether the answer is Graph's "another object with the same value for property … already exists".
pub(crate) fn is_conflict(response: &GraphResponse) -> bool {
    response.status == 400 && graph_error(response).1.contains("already exists")
}

/// Whether the answer is Graph's refusal to remove a licence the user does not hold.
pub(crate) fn is_license_not_assigned(response: &GraphResponse) -> bool {
    response.status == 400 && graph_error(response).1.contains("does not have a corresponding license")
}

/// Whether the answer is "one or more added object references already exist".
pub(crate) fn is_already_member(response: &GraphResponse) -> bool {
    response.status == 400 && graph_error(response).1.contains("references already exist")
}

/// Settles a create whose outcome is unknown (a conflict answer, or a crash while it was running): the account of
/// `worker` is looked up by employee ID; if exactly one exists it is adopted. Returns `None` when there is none.
pub(crate) async fn find_created_user(
    client: &graph::Client,
    worker: &WorkerId,
    user_principal_name: &str,
) -> Result<Option<ObjectId>, String> {
    let by_employee_id = client.find_users_by_employee_id(worker.as_str()).await.map_err(|error| error.to_string())?;
    match by_employee_id.as_slice() {
        [user] => return Ok(Some(user.id.clone())),
        [] => {}
        _ => {
            return Err(format!(
                "{} accounts carry employee ID {worker}; resolve the duplicate by hand",
                by_employee_id.len()
            ));
        }
    }
    // Not (yet) found by employee ID: the UPN tells whether the name belongs to this worker's account.
    match client.find_user_by_upn(user_principal_name).await.map_err(|error| error.to_string())? {
        Some(user) if user.employee_id() == Some(worker.as_str()) => Ok(Some(user.id)),
        Some(user) => Err(format!(
            "{user_principal_name} is taken by another account ({}); the next run picks the next name candidate",
            user.id
        )),
        None => Ok(None),
    }
}

/// Settles a group create whose outcome is unknown (a conflict answer on its `mailNickname`-derived address, or
/// a crash while it was running): the group with that `mailNickname` is adopted when exactly one exists.
pub(crate) async fn find_created_group(
    client: &graph::Client,
    mail_nickname: &str,
) -> Result<Option<ObjectId>, String> {
    let literal = mail_nickname.replace('\'', "''");
    let request = GraphRequest {
        method: graph::Method::GET,
        path: format!("/groups?$filter=mailNickname eq '{literal}'&$select=id,mailNickname"),
        body: None,
    };
    let response = client.send(request).await.map_err(|error| error.to_string())?;
    if !(200..300).contains(&response.status) {
        let (code, message) = graph_error(&response);
        return Err(format!("looking up group {mail_nickname}: Graph answered {} {code}: {message}", response.status));
    }
    let found: Vec<&str> =
        response.body["value"].as_array().into_iter().flatten().filter_map(|group| group["id"].as_str()).collect();
    match found.as_slice() {
        [] => Ok(None),
        [id] => Ok(Some(ObjectId((*id).to_string()))),
        _ => {
            Err(format!("{} groups have the mailNickname {mail_nickname}; resolve the duplicate by hand", found.len()))
        }
    }
}

/// Settles a restore whose outcome is unknown: `Some(Done)` when the account is already live again.
pub(crate) async fn restored_already(client: &graph::Client, user: &ObjectId) -> Result<bool, String> {
    let request = GraphRequest { method: graph::Method::GET, path: format!("/users/{user}?$select=id"), body: None };
    let response = client.send(request).await.map_err(|error| error.to_string())?;
    Ok((200..300).contains(&response.status))
}

/// The SKU IDs assigned to `user` now, for repeating an interrupted licence change without asking Graph to add
/// what is there or remove what is gone (it refuses the latter).
pub(crate) async fn assigned_licenses(client: &graph::Client, user: &ObjectId) -> Result<Vec<String>, String> {
    let request = GraphRequest {
        method: graph::Method::GET,
        path: format!("/users/{user}?$select=assignedLicenses"),
        body: None,
    };
    let response = client.send(request).await.map_err(|error| error.to_string())?;
    if !(200..300).contains(&response.status) {
        let (code, message) = graph_error(&response);
        return Err(format!("reading the licences of {user}: Graph answered {} {code}: {message}", response.status));
    }
    Ok(response.body["assignedLicenses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|license| license["skuId"].as_str().map(str::to_ascii_lowercase))
        .collect())
}

/// Adds members one by one (`POST /groups/{id}/members/$ref`), counting "already a member" as done.
pub(crate) async fn add_members_one_by_one(
    client: &graph::Client,
    group: &ObjectId,
    members: &[ObjectId],
    graph_base: &str,
) -> StepResult {
    let requests = members
        .iter()
        .map(|member| GraphRequest {
            method: graph::Method::POST,
            path: format!("/groups/{group}/members/$ref"),
            body: Some(serde_json::json!({ "@odata.id": format!("{graph_base}/v1.0/directoryObjects/{member}") })),
        })
        .collect();
    match client.send_batch(requests).await {
        Ok(responses) => {
            let mut last_request_id = None;
            for response in &responses {
                last_request_id.clone_from(&response.request_id);
                if !(200..300).contains(&response.status) && !is_already_member(response) {
                    return failure(response);
                }
            }
            StepResult::Done { object_id: None, request_id: last_request_id, note: Some("added one by one".into()) }
        }
        Err(error) => StepResult::Failed { error: error.to_string(), request_id: None },
    }
}
