//! What a Graph handler of users, groups, licences and deleted items is called with: [`Call`] gathers the
//! sandbox, the verified caller, the address the client used, the request URL and headers, and the sandbox time
//! the request is served at — and shapes the answers that echo the request (`@odata.context`,
//! `@odata.nextLink`, `Location`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, FromRequestParts};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::caller::Caller;
use super::error::{GraphError, GraphResult};
use super::listing::{self, Page};
use super::odata::{self, EntityKind, ListQuery};
use crate::dispatch::RequestContext;
use crate::state::AppState;

/// One Graph request as a handler sees it.
#[derive(Debug)]
pub struct Call {
    /// The sandbox.
    pub state: Arc<AppState>,
    /// The verified caller and its tenant.
    pub caller: Caller,
    /// The address the client used; links in answers are built on it.
    pub context: RequestContext,
    /// The request URL (its query options; `@odata.nextLink` repeats its path).
    pub uri: Uri,
    /// The request headers (`ConsistencyLevel`).
    pub headers: HeaderMap,
    /// Sandbox time when the request was taken up: every rule of the request reads this one instant.
    pub now: DateTime<Utc>,
}

impl FromRequestParts<Arc<AppState>> for Call {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Call, Response> {
        let caller = Caller::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let Extension(context) =
            Extension::<RequestContext>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        Ok(Call {
            state: state.clone(),
            caller,
            context,
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
            now: state.clock.now(),
        })
    }
}

impl Call {
    /// The OData query options of the request, for a collection (or an object) of `kind`.
    pub fn list_query(&self, kind: EntityKind) -> GraphResult<ListQuery> {
        odata::parse_list_query(kind, self.uri.query(), &self.headers)
    }

    /// The query options of a `/$count` request (`ConsistencyLevel: eventual` alone makes it advanced).
    pub fn count_query(&self, kind: EntityKind) -> GraphResult<ListQuery> {
        odata::parse_count_query(kind, self.uri.query(), &self.headers)
    }

    /// When an object this request creates becomes visible to reads (`None` when the replication-delay knob
    /// is off).
    pub fn visible_from(&self) -> Option<DateTime<Utc>> {
        let delay = self.state.knobs.replication_delay();
        (delay > chrono::Duration::zero()).then(|| self.now + delay)
    }

    /// A single object of `set` (`users`, `groups`, `directoryObjects`) with its `@odata.context`, which names
    /// the `$select` columns.
    pub fn entity(&self, set: &str, select: Option<&[String]>, object: Map<String, Value>) -> Json<Value> {
        let context = format!("{}/$entity", listing::context_url(&self.context, set, select));
        Json(listing::entity(context, object))
    }

    /// One page of a collection of `set` with its `@odata.context` (naming the `$select` columns), its
    /// `@odata.count`, and the `@odata.nextLink` of the following page.
    pub fn collection(&self, set: &str, select: Option<&[String]>, page: Page<Value>) -> Json<Value> {
        let next_link =
            page.next.map(|cursor| listing::next_link(&self.context, self.uri.path(), self.uri.query(), cursor));
        Json(listing::collection(listing::context_url(&self.context, set, select), page.items, page.count, next_link))
    }

    /// `201 Created` with the new object of `set` and its address in `Location`.
    pub fn created(&self, set: &str, id: Uuid, object: Map<String, Value>) -> GraphResult<Response> {
        let body = self.entity(set, None, object);
        let location = format!("{}/{set}/{id}", listing::graph_base(&self.context));
        let location = HeaderValue::from_str(&location).map_err(|_| {
            GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "An unexpected error occurred.")
        })?;
        Ok((StatusCode::CREATED, [(header::LOCATION, location)], body).into_response())
    }
}
