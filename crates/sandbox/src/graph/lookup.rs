//! Finding the object a request names, with Graph's rules: a user by object id or UPN — in
//! `/users/{id | userPrincipalName}/…` or, for `/me/…`, the signed-in user — and a group by object id.
//! Deleted objects and objects still inside their replication delay answer 404; a group key that is not a
//! GUID answers 400.

use axum::extract::{FromRequestParts, Path};
use axum::extract::{OptionalFromRequestParts, rejection::PathRejection};
use chrono::{DateTime, Utc};
use http::StatusCode;
use http::request::Parts;
use uuid::Uuid;

use super::caller::Caller;
use super::error::{GraphError, GraphResult};
use crate::directory::group::Group;
use crate::directory::tenant::Tenant;
use crate::directory::user::User;

/// The user a path addresses; one handler serves both `/users/{key}/…` and `/me/…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserTarget {
    /// `/users/{key}`: an object id or a user principal name.
    Key(String),
    /// `/me`: the signed-in user.
    Me,
}

impl<S: Send + Sync> FromRequestParts<S> for UserTarget {
    type Rejection = PathRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<UserTarget, PathRejection> {
        let key = <Path<String> as OptionalFromRequestParts<S>>::from_request_parts(parts, state).await?;
        Ok(key.map_or(UserTarget::Me, |Path(key)| UserTarget::Key(key)))
    }
}

impl UserTarget {
    /// The key to find the user by; `/me` with an app-only token answers Graph's 400.
    pub fn key(&self, caller: &Caller) -> GraphResult<String> {
        match self {
            UserTarget::Key(key) => Ok(key.clone()),
            UserTarget::Me => caller.user_id().map(|id| id.to_string()).ok_or_else(|| {
                GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                )
            }),
        }
    }
}

/// A live user addressed by id or UPN, visible at `now`; otherwise 404.
pub fn find_user<'t>(tenant: &'t Tenant, key: &str, now: DateTime<Utc>) -> GraphResult<&'t User> {
    tenant.live_user(key).filter(|user| user.is_live(now)).ok_or_else(|| GraphError::not_found(key))
}

/// `Invalid object identifier '{key}'.` — a group (or directory object) key that is not a GUID.
pub fn invalid_identifier(key: &str) -> GraphError {
    GraphError::bad_request(format!("Invalid object identifier '{key}'."))
}

/// A live group by id, visible at `now`: a non-GUID key is a 400, a missing group a 404.
pub fn find_group<'t>(tenant: &'t Tenant, key: &str, now: DateTime<Utc>) -> GraphResult<&'t Group> {
    let id = Uuid::parse_str(key).map_err(|_| invalid_identifier(key))?;
    tenant.groups.get(&id).filter(|group| group.is_live(now)).ok_or_else(|| GraphError::not_found(key))
}
