//! OData query options as Graph's directory endpoints accept them: `$select`, `$filter`, `$top`, `$orderby`,
//! `$count`, `$search`, `$skiptoken`, `$expand`, with the advanced-query rules (`ConsistencyLevel: eventual`).
//!
//! This module is the one place query options are parsed. Map: [`query_string`] decodes the raw query;
//! [`schema`] reads Microsoft's CSDL (property names and types); [`filter`] parses `$filter` and [`eval`]
//! evaluates it; [`filter_rules`] binds it to the schema and applies the per-property support table in
//! [`capabilities`]; [`projection`] validates `$select` and renders objects; [`search`] handles `$search`;
//! [`list_query`] enforces the rules of list and delta requests; [`error_messages`] holds Graph's texts.

pub mod capabilities;
pub mod error_messages;
pub mod eval;
pub mod filter;
mod filter_lexer;
pub mod filter_rules;
pub mod list_query;
pub mod projection;
pub mod query_string;
pub mod schema;
pub mod search;

use http::HeaderMap;
use serde_json::{Map, Value};

pub use self::filter::{CompareOp, Expr, FilterError, LambdaKind, Literal, Operand};
pub use self::search::{SearchClause, SearchQuery};
use super::error::GraphError;

/// Which entity set a query is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// `microsoft.graph.user`
    User,
    /// `microsoft.graph.group`
    Group,
}

/// The parsed query options of a list (or get) request.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// `$select`, validated against the schema (schema casing); `None` = the default property set.
    pub select: Option<Vec<String>>,
    /// `$filter`, bound to the schema (schema casing).
    pub filter: Option<Expr>,
    /// `$top` (1–999).
    pub top: Option<usize>,
    /// `$orderby`: (property in schema casing, descending).
    pub orderby: Vec<(String, bool)>,
    /// `$count=true` honoured (only with `ConsistencyLevel: eventual`).
    pub count: bool,
    /// `$search`, raw (as sent, decoded).
    pub search: Option<String>,
    /// `$search`, parsed.
    pub search_query: Option<SearchQuery>,
    /// `$skiptoken` (opaque, decoded by the list handler).
    pub skiptoken: Option<String>,
    /// `$expand` (raw).
    pub expand: Option<String>,
    /// `ConsistencyLevel: eventual` was sent.
    pub advanced: bool,
}

impl ListQuery {
    /// Whether the request runs as an advanced query: `ConsistencyLevel: eventual` with `$count=true`, or with
    /// `$search` (which needs only the header).
    pub fn is_advanced_query(&self) -> bool {
        self.advanced && (self.count || self.search.is_some())
    }
}

/// The parsed query options of a delta request (`GET /users/delta`, `GET /groups/delta`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeltaQuery {
    /// `$select` (schema casing; may include `manager` / `members`).
    pub select: Option<Vec<String>>,
    /// `$filter=id eq '…' or …` (at most 50 ids).
    pub ids: Option<Vec<String>>,
    /// `$deltatoken` (opaque), unless it was `latest`.
    pub deltatoken: Option<String>,
    /// `$skiptoken` (opaque).
    pub skiptoken: Option<String>,
    /// `$deltaToken=latest`: answer with a deltaLink only.
    pub latest: bool,
}

/// Parses and validates the query string of a list request on `kind`.
pub fn parse_list_query(
    kind: EntityKind,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<ListQuery, GraphError> {
    list_query::parse_list_query(kind, raw_query, headers)
}

/// Parses and validates the query string of a `/$count` request on `kind` (`GET /users/$count`): with
/// `ConsistencyLevel: eventual` it is an advanced query even without `$count=true`.
pub fn parse_count_query(
    kind: EntityKind,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<ListQuery, GraphError> {
    list_query::parse_count_query(kind, raw_query, headers)
}

/// Parses and validates the query string of a delta request on `kind`.
pub fn parse_delta_query(
    kind: EntityKind,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<DeltaQuery, GraphError> {
    list_query::parse_delta_query(kind, raw_query, headers)
}

/// Whether an object, seen through its property getter, satisfies `expr`.
pub fn matches(expr: &Expr, get: &dyn Fn(&str) -> Option<Value>) -> bool {
    eval::matches(expr, get)
}

/// Whether an object, seen through its property getter, satisfies a parsed `$search`.
pub fn search_matches(search: &SearchQuery, get: &dyn Fn(&str) -> Option<Value>) -> bool {
    search::search_matches(search, get)
}

/// The JSON object for an entity: `select` (or the default set of `kind`) applied to the property getter.
/// `id` is always included; declared properties the sandbox does not model render as `null`.
pub fn project(kind: EntityKind, select: Option<&[String]>, get: &dyn Fn(&str) -> Option<Value>) -> Map<String, Value> {
    projection::project(kind, select, get)
}
