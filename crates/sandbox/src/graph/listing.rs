//! How the users/groups endpoints answer collections: choosing one page of objects (`$top`, `$filter`,
//! `$search`, `$orderby`, `$skiptoken`), counting them for `/$count`, and rendering them as Graph does —
//! `@odata.context`, `@odata.count`, `@odata.nextLink` and `value`.
//!
//! Paging in natural order resumes after the last object id (objects sit in `BTreeMap`s by id), so a page
//! costs O(`$top`) however large the tenant. Sorted listings page by offset. The `$skiptoken` is
//! opaque to clients: base64url of a small tagged record; anything that does not decode is a 400.
//!
//! Paging rules: <https://learn.microsoft.com/graph/paging>; `@odata.count` only on the first page
//! (<https://learn.microsoft.com/graph/query-parameters#skiptoken-parameter>).

use std::cmp::Ordering;

use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderValue, header};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::{GraphError, GraphResult};
use super::odata::{self, ListQuery};
use crate::dispatch::RequestContext;

/// Graph's default page size for directory collections.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// Where the next page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// Natural (id) order: the first object after this id.
    After(Uuid),
    /// Sorted order: skip this many matches.
    Offset(usize),
}

const TAG_AFTER: u8 = 1;
const TAG_OFFSET: u8 = 2;
const TOKEN_MAGIC: &[u8; 4] = b"SBX1";

/// Encodes a cursor as an opaque `$skiptoken`.
pub fn encode_skiptoken(cursor: Cursor) -> String {
    let mut bytes = TOKEN_MAGIC.to_vec();
    match cursor {
        Cursor::After(id) => {
            bytes.push(TAG_AFTER);
            bytes.extend_from_slice(id.as_bytes());
        }
        Cursor::Offset(offset) => {
            bytes.push(TAG_OFFSET);
            bytes.extend_from_slice(&(offset as u64).to_be_bytes());
        }
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The error for a `$skiptoken` that the sandbox did not issue.
///
/// Observed wording (`Invalid Skip Token`) from a real `/users` answer, microsoftgraph/microsoft-graph-docs
/// issue #8612; the code there was empty, the sandbox uses the directory's `Request_BadRequest`.
pub fn invalid_skiptoken() -> GraphError {
    GraphError::bad_request("Invalid Skip Token")
}

/// Decodes a `$skiptoken` issued by [`encode_skiptoken`].
pub fn decode_skiptoken(token: &str) -> GraphResult<Cursor> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).map_err(|_| invalid_skiptoken())?;
    let rest = bytes.strip_prefix(TOKEN_MAGIC.as_slice()).ok_or_else(invalid_skiptoken)?;
    match rest.split_first() {
        Some((&TAG_AFTER, id)) => Uuid::from_slice(id).map(Cursor::After).map_err(|_| invalid_skiptoken()),
        Some((&TAG_OFFSET, offset)) => {
            let offset: [u8; 8] = offset.try_into().map_err(|_| invalid_skiptoken())?;
            usize::try_from(u64::from_be_bytes(offset)).map(Cursor::Offset).map_err(|_| invalid_skiptoken())
        }
        _ => Err(invalid_skiptoken()),
    }
}

/// The cursor of a list request, if it carries a `$skiptoken`.
pub fn cursor_of(query: &ListQuery) -> GraphResult<Option<Cursor>> {
    query.skiptoken.as_deref().map(decode_skiptoken).transpose()
}

/// One page of objects.
#[derive(Debug)]
pub struct Page<T> {
    /// The objects of this page, in order.
    pub items: Vec<T>,
    /// Where the following page starts; `None` on the last page.
    pub next: Option<Cursor>,
    /// `@odata.count` (first page of an advanced `$count=true` query only).
    pub count: Option<usize>,
}

impl<T> Page<T> {
    /// A whole collection in one page (collections Graph does not page).
    pub fn whole(items: Vec<T>) -> Page<T> {
        Page { items, next: None, count: None }
    }

    /// The same page with every object turned into `render(object)`.
    pub fn map<U>(self, render: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(render).collect(), next: self.next, count: self.count }
    }
}

/// Whether an object whose properties `get` reads passes the query's `$filter` and `$search`.
pub fn matches_query(query: &ListQuery, get: impl Fn(&str) -> Option<Value>) -> bool {
    query.filter.as_ref().is_none_or(|expr| odata::matches(expr, &get))
        && query.search_query.as_ref().is_none_or(|search| odata::search_matches(search, &get))
}

/// Chooses one page.
///
/// * `after(from)` iterates candidate objects (references or small handles) in id order, starting after
///   `from` (or at the beginning).
/// * `include` says whether an object is listed at all (live, visible, of the right kind).
/// * `get` reads a property for `$filter`, `$search` and `$orderby`.
pub fn select_page<T, I>(
    query: &ListQuery,
    after: impl Fn(Option<Uuid>) -> I,
    id_of: impl Fn(&T) -> Uuid,
    include: impl Fn(&T) -> bool,
    get: impl Fn(&T, &str) -> Option<Value>,
) -> GraphResult<Page<T>>
where
    T: Clone,
    I: Iterator<Item = T>,
{
    let top = query.top.unwrap_or(DEFAULT_PAGE_SIZE).max(1);
    let cursor = cursor_of(query)?;
    let matching = |object: &T| -> bool { include(object) && matches_query(query, |name| get(object, name)) };
    let count =
        (query.count && query.advanced && cursor.is_none()).then(|| after(None).filter(|o| matching(o)).count());

    let sorted = !query.orderby.is_empty() || matches!(cursor, Some(Cursor::Offset(_)));
    if !sorted {
        let start = match cursor {
            Some(Cursor::After(id)) => Some(id),
            _ => None,
        };
        let mut items: Vec<T> = after(start).filter(|o| matching(o)).take(top + 1).collect();
        let next = if items.len() > top {
            items.truncate(top);
            items.last().map(|last| Cursor::After(id_of(last)))
        } else {
            None
        };
        return Ok(Page { items, next, count });
    }

    let mut all: Vec<T> = after(None).filter(|o| matching(o)).collect();
    if !query.orderby.is_empty() {
        all.sort_by(|left, right| {
            for (property, descending) in &query.orderby {
                let ordering = compare_values(&get(left, property), &get(right, property));
                let ordering = if *descending { ordering.reverse() } else { ordering };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            id_of(left).cmp(&id_of(right))
        });
    }
    let offset = match cursor {
        Some(Cursor::Offset(offset)) => offset,
        _ => 0,
    };
    let end = offset.saturating_add(top).min(all.len());
    let items = all.get(offset.min(all.len())..end).map(<[T]>::to_vec).unwrap_or_default();
    let next = (end < all.len()).then_some(Cursor::Offset(end));
    Ok(Page { items, next, count })
}

/// The answer to `/$count`: how many of `objects` pass `$filter` and `$search`, as `text/plain`. Graph counts
/// only in advanced queries (`ConsistencyLevel: eventual`); otherwise 400.
pub fn count_response<T>(
    query: &ListQuery,
    objects: impl Iterator<Item = T>,
    get: impl Fn(&T, &str) -> Option<Value>,
) -> GraphResult<Response> {
    if !query.advanced {
        return Err(GraphError::bad_request(odata::error_messages::COUNT_NOT_SUPPORTED));
    }
    let count = objects.filter(|object| matches_query(query, |name| get(object, name))).count();
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))], count.to_string()).into_response())
}

/// Orders property values as Graph sorts them: nulls first, strings case-insensitively.
pub fn compare_values(left: &Option<Value>, right: &Option<Value>) -> Ordering {
    let rank = |value: &Option<Value>| match value {
        None | Some(Value::Null) => 0,
        Some(_) => 1,
    };
    match (left, right) {
        (Some(Value::String(a)), Some(Value::String(b))) => {
            a.to_lowercase().cmp(&b.to_lowercase()).then_with(|| a.cmp(b))
        }
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => a.cmp(b),
        (Some(Value::Number(a)), Some(Value::Number(b))) => {
            a.as_f64().partial_cmp(&b.as_f64()).unwrap_or(Ordering::Equal)
        }
        (Some(a), Some(b)) if rank(left) == 1 && rank(right) == 1 => a.to_string().cmp(&b.to_string()),
        _ => rank(left).cmp(&rank(right)),
    }
}

/// `https://host[:port][/cloud-prefix]/v1.0` for this request.
pub fn graph_base(context: &RequestContext) -> String {
    format!("{}/v1.0", context.public_base)
}

/// `@odata.context`: `{base}/$metadata#{fragment}` or, with `$select`, `#{fragment}(a,b)`. The fragment names
/// an entity set (`users`), a path (`directory/deletedItems/microsoft.graph.user`) or a type (`Edm.Boolean`).
pub fn context_url(context: &RequestContext, fragment: &str, select: Option<&[String]>) -> String {
    match select {
        Some(select) if !select.is_empty() => {
            format!("{}/$metadata#{fragment}({})", graph_base(context), select.join(","))
        }
        _ => format!("{}/$metadata#{fragment}", graph_base(context)),
    }
}

/// The `@odata.nextLink` for `cursor`: the request URL with its query options and a new `$skiptoken`.
pub fn next_link(context: &RequestContext, path: &str, raw_query: Option<&str>, cursor: Cursor) -> String {
    let mut parts: Vec<&str> = raw_query
        .unwrap_or("")
        .split('&')
        .filter(|part| !part.is_empty())
        .filter(|part| {
            let name = part.split('=').next().unwrap_or("");
            !name.eq_ignore_ascii_case("$skiptoken") && !name.eq_ignore_ascii_case("%24skiptoken")
        })
        .collect();
    let token = format!("$skiptoken={}", encode_skiptoken(cursor));
    parts.push(&token);
    format!("{}{}?{}", graph_base(context), path, parts.join("&"))
}

/// A collection response body.
pub fn collection(context: String, values: Vec<Value>, count: Option<usize>, next_link: Option<String>) -> Value {
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(context));
    if let Some(count) = count {
        body.insert("@odata.count".into(), json!(count));
    }
    if let Some(next_link) = next_link {
        body.insert("@odata.nextLink".into(), Value::String(next_link));
    }
    body.insert("value".into(), Value::Array(values));
    Value::Object(body)
}

/// A single-entity response body: the projected object with `@odata.context` first.
pub fn entity(context: String, mut object: Map<String, Value>) -> Value {
    object.insert("@odata.context".into(), Value::String(context));
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiptokens_round_trip_and_garbage_is_refused() {
        let id = Uuid::new_v4();
        assert_eq!(decode_skiptoken(&encode_skiptoken(Cursor::After(id))).ok(), Some(Cursor::After(id)));
        assert_eq!(decode_skiptoken(&encode_skiptoken(Cursor::Offset(250))).ok(), Some(Cursor::Offset(250)));
        for garbage in ["", "abc", "!!!", "U0JYMQ", "U0JYMQEA"] {
            let error = decode_skiptoken(garbage).expect_err(garbage);
            assert_eq!(error.status, http::StatusCode::BAD_REQUEST);
        }
    }
}
