//! The rules of a list request's query options (`GET /users`, `GET /groups`) and of a delta request
//! (`GET /users/delta`), as Graph's directory enforces them: allowed options, `$top` bounds, `$count` and
//! `ConsistencyLevel: eventual`, advanced-only features, `$orderby` limits and the `$expand` restriction.

use http::{HeaderMap, StatusCode};

use super::capabilities::{Support, orderby_support};
use super::error_messages as msg;
use super::filter::{self, CompareOp, Expr, FilterErrorKind, Literal, Operand};
use super::filter_rules::check_filter;
use super::projection::parse_select;
use super::query_string::{QueryOptions, decode};
use super::schema::entity;
use super::search::parse_search;
use super::{DeltaQuery, EntityKind, ListQuery};
use crate::graph::error::GraphError;

/// Options a list request understands (lower case).
const LIST_OPTIONS: &[&str] =
    &["$select", "$filter", "$top", "$orderby", "$count", "$search", "$skiptoken", "$expand", "$skip"];

/// Options a delta request understands (lower case).
const DELTA_OPTIONS: &[&str] = &["$select", "$filter", "$deltatoken", "$skiptoken"];

/// Options Graph knows but delta on users/groups refuses.
const DELTA_REFUSED: &[&str] = &["$top", "$orderby", "$expand", "$search", "$count", "$skip"];

/// Most ids a delta `$filter` may name.
const MAX_DELTA_IDS: usize = 50;

fn resource(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "User",
        EntityKind::Group => "Group",
    }
}

/// Whether the request carries `ConsistencyLevel: eventual`.
pub fn eventual(headers: &HeaderMap) -> bool {
    headers
        .get_all("consistencylevel")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.trim().eq_ignore_ascii_case("eventual"))
}

fn reject_unknown(options: &QueryOptions, known: &[&str]) -> Result<(), GraphError> {
    for name in options.names() {
        if !known.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(GraphError::bad_request(msg::unrecognized_argument(name)));
        }
    }
    Ok(())
}

fn parse_top(raw: &str) -> Result<usize, GraphError> {
    let trimmed = raw.trim();
    let Ok(value) = trimmed.parse::<i64>() else {
        return Err(GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", msg::invalid_top_value(raw)));
    };
    if value < 0 {
        return Err(GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", msg::invalid_top_value(raw)));
    }
    if !(1..=999).contains(&value) {
        return Err(GraphError::unsupported_query(msg::invalid_page_size(trimmed)));
    }
    Ok(value as usize)
}

fn parse_count(raw: &str) -> Result<bool, GraphError> {
    if raw.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if raw.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", msg::invalid_count_value(raw)))
    }
}

/// Parses a `$filter` value into Graph's errors (syntax: 400 `BadRequest` "Invalid filter clause: …").
fn parse_filter_text(raw: &str) -> Result<Expr, GraphError> {
    filter::parse(raw).map_err(|error| match error.kind {
        FilterErrorKind::Syntax => {
            GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", format!("Invalid filter clause: {}", error.message))
        }
        FilterErrorKind::Unsupported => GraphError::unsupported_query(error.message),
    })
}

/// `$orderby=prop [asc|desc], …` → (property as written, descending).
fn parse_orderby(raw: &str) -> Result<Vec<(String, bool)>, GraphError> {
    let mut keys = Vec::new();
    let mut position = 0;
    for item in raw.split(',') {
        let words: Vec<&str> = item.split_whitespace().collect();
        let descending = match words.as_slice() {
            [_] => false,
            [_, direction] if direction.eq_ignore_ascii_case("asc") => false,
            [_, direction] if direction.eq_ignore_ascii_case("desc") => true,
            _ => {
                let offset = item.len() - item.trim_start().len();
                return Err(GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    msg::orderby_syntax(position + offset, raw),
                ));
            }
        };
        keys.push((words[0].to_string(), descending));
        position += item.len() + 1;
    }
    Ok(keys)
}

/// Parses and validates the query string of a list request on `kind`.
pub fn parse_list_query(
    kind: EntityKind,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<ListQuery, GraphError> {
    parse_query(kind, raw_query, headers, false)
}

/// Parses and validates the query string of a `/$count` request (`GET /users/$count`): the segment itself
/// makes the request an advanced query once `ConsistencyLevel: eventual` is sent, so `$count=true` is not
/// needed for `endsWith`, `ne`, `not`, … there.
pub fn parse_count_query(
    kind: EntityKind,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<ListQuery, GraphError> {
    parse_query(kind, raw_query, headers, true)
}

fn parse_query(
    kind: EntityKind,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    count_segment: bool,
) -> Result<ListQuery, GraphError> {
    let options = decode(raw_query)?;
    reject_unknown(&options, LIST_OPTIONS)?;
    let eventual = eventual(headers);
    let mut query = ListQuery { advanced: eventual, ..ListQuery::default() };

    if options.get("$skip").is_some() {
        return Err(GraphError::bad_request(msg::SKIP_NOT_SUPPORTED));
    }
    if let Some(raw) = options.get("$top") {
        query.top = Some(parse_top(raw)?);
    }
    let count_requested = match options.get("$count") {
        Some(raw) => parse_count(raw)?,
        None => false,
    };
    // `$count=true` without the header is silently ignored, as Graph does.
    query.count = (count_requested || count_segment) && eventual;
    if let Some(raw) = options.get("$search") {
        if !eventual {
            return Err(GraphError::unsupported_query(msg::SEARCH_NEEDS_EVENTUAL));
        }
        query.search = Some(raw.to_string());
        query.search_query = Some(parse_search(kind, raw)?);
    }
    let advanced = query.is_advanced_query();

    if let Some(raw) = options.get("$select") {
        query.select = parse_select(kind, raw)?;
    }
    if let Some(raw) = options.get("$filter") {
        let parsed = parse_filter_text(raw)?;
        query.filter = Some(check_filter(kind, &parsed, advanced)?);
    }
    if let Some(raw) = options.get("$orderby") {
        for (property, descending) in parse_orderby(raw)? {
            let canonical = entity(kind).property(&property).map_or(property.clone(), |def| def.name.clone());
            match orderby_support(kind, &canonical) {
                Support::Default => {}
                Support::Advanced if advanced => {}
                Support::No if advanced => return Err(GraphError::unsupported_query(msg::UNSUPPORTED_PROPERTY)),
                _ => {
                    return Err(GraphError::unsupported_query(msg::unsupported_sort_property(
                        &canonical,
                        resource(kind),
                    )));
                }
            }
            query.orderby.push((canonical, descending));
        }
        if query.filter.is_some() && !advanced {
            return Err(GraphError::unsupported_query(msg::SORTING_NOT_SUPPORTED));
        }
    }
    if let Some(raw) = options.get("$expand") {
        if advanced {
            return Err(GraphError::unsupported_query(msg::UNSUPPORTED_QUERY));
        }
        query.expand = Some(raw.to_string());
    }
    if let Some(raw) = options.get("$skiptoken") {
        query.skiptoken = Some(raw.to_string());
    }
    Ok(query)
}

/// The ids of a delta `$filter`: `id eq '…'` clauses joined by `or`.
fn delta_ids(kind: EntityKind, expr: &Expr) -> Result<Vec<String>, GraphError> {
    let clauses: Vec<&Expr> = match expr {
        Expr::Or(parts) => parts.iter().collect(),
        single => vec![single],
    };
    let mut ids = Vec::with_capacity(clauses.len());
    for clause in clauses {
        let Expr::Compare { op: CompareOp::Eq, left, right } = clause else {
            return Err(GraphError::unsupported_query(msg::UNSUPPORTED_QUERY));
        };
        let ((Operand::Property(path), Operand::Literal(Literal::Str(id)))
        | (Operand::Literal(Literal::Str(id)), Operand::Property(path))) = (left, right)
        else {
            return Err(GraphError::unsupported_query(msg::UNSUPPORTED_QUERY));
        };
        if !(path.len() == 1 && path[0].eq_ignore_ascii_case("id")) {
            let property = path.join("/");
            return Err(GraphError::unsupported_query(msg::unsupported_filter_property(&property, resource(kind))));
        }
        ids.push(id.clone());
    }
    if ids.len() > MAX_DELTA_IDS {
        return Err(GraphError::unsupported_query(msg::UNSUPPORTED_QUERY));
    }
    Ok(ids)
}

/// Parses and validates the query string of `GET /{users|groups}/delta`.
pub fn parse_delta_query(
    kind: EntityKind,
    raw_query: Option<&str>,
    _headers: &HeaderMap,
) -> Result<DeltaQuery, GraphError> {
    let options = decode(raw_query)?;
    for name in options.names() {
        if DELTA_REFUSED.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(GraphError::unsupported_query(msg::UNSUPPORTED_QUERY));
        }
    }
    reject_unknown(&options, DELTA_OPTIONS)?;
    let mut query = DeltaQuery::default();
    if let Some(raw) = options.get("$select") {
        query.select = parse_select(kind, raw)?;
    }
    if let Some(raw) = options.get("$filter") {
        query.ids = Some(delta_ids(kind, &parse_filter_text(raw)?)?);
    }
    match options.get("$deltatoken") {
        Some(token) if token.eq_ignore_ascii_case("latest") => query.latest = true,
        Some(token) => query.deltatoken = Some(token.to_string()),
        None => {}
    }
    if let Some(token) = options.get("$skiptoken") {
        query.skiptoken = Some(token.to_string());
    }
    Ok(query)
}

#[cfg(test)]
#[path = "list_query_tests.rs"]
mod tests;
