//! OData query options as Graph's directory endpoints accept them: `$select`, `$filter`, `$top`, `$orderby`,
//! `$count`, `$search`, `$skiptoken`, `$expand`, with the advanced-query rules (`ConsistencyLevel: eventual`).
//!
//! STUB INTERFACE — the parser and evaluator are being written; the signatures below are the contract.

use http::HeaderMap;
use serde_json::{Map, Value};

use super::error::GraphError;

/// Which entity set a query is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityKind {
    /// `microsoft.graph.user`
    User,
    /// `microsoft.graph.group`
    Group,
}

/// A parsed `$filter` expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Placeholder until the real AST lands.
    True,
}

/// The parsed query options of a list (or get) request.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// `$select`, validated against the schema; `None` = the default property set.
    pub select: Option<Vec<String>>,
    /// `$filter`.
    pub filter: Option<Expr>,
    /// `$top` (1–999).
    pub top: Option<usize>,
    /// `$orderby`: (property, descending).
    pub orderby: Vec<(String, bool)>,
    /// `$count=true` honoured (only with `ConsistencyLevel: eventual`).
    pub count: bool,
    /// `$search`.
    pub search: Option<String>,
    /// `$skiptoken` (opaque, decoded by the list handler).
    pub skiptoken: Option<String>,
    /// `$expand` (raw).
    pub expand: Option<String>,
    /// `ConsistencyLevel: eventual` was sent.
    pub advanced: bool,
}

/// Parses and validates the query string of a list request on `kind`.
pub fn parse_list_query(
    _kind: EntityKind,
    _raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<ListQuery, GraphError> {
    let advanced = headers
        .get("consistencylevel")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("eventual"));
    Ok(ListQuery { advanced, ..ListQuery::default() })
}

/// Whether an object, seen through its property getter, satisfies `expr`.
pub fn matches(_expr: &Expr, _get: &dyn Fn(&str) -> Option<Value>) -> bool {
    true
}

/// The JSON object for an entity: `select` (or the default set of `kind`) applied to the property getter.
pub fn project(
    _kind: EntityKind,
    select: Option<&[String]>,
    get: &dyn Fn(&str) -> Option<Value>,
) -> Map<String, Value> {
    let mut object = Map::new();
    if let Some(select) = select {
        for name in select {
            object.insert(name.clone(), get(name).unwrap_or(Value::Null));
        }
    }
    object
}
