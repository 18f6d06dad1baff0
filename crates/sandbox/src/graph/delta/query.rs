//! The query options of a delta request, as the delta handlers need them: the OData module parses and
//! validates them ([`odata::parse_delta_query`]: `$select`, `$filter=id eq '…' [or …]`, the state tokens, and
//! the refusal of `$top`, `$orderby`, `$expand` and friends); this module splits the tracked relationship
//! (`manager` for users, `members` for groups) out of `$select` and turns the filter's ids into GUIDs.

use http::HeaderMap;
use uuid::Uuid;

use crate::graph::error::GraphError;
use crate::graph::groups::invalid_identifier;
use crate::graph::odata::{self, EntityKind};

/// The options of one delta request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeltaOptions {
    /// `$skiptoken`.
    pub skiptoken: Option<String>,
    /// `$deltatoken` (`Some("")` is treated as no token: a fresh sync, as in a 410's `Location`).
    pub deltatoken: Option<String>,
    /// `$deltatoken=latest`: start from now.
    pub latest: bool,
    /// `$select` without the relationship, `None` = the default set.
    pub select: Option<Vec<String>>,
    /// Whether `$select` named the tracked relationship.
    pub relationship_selected: bool,
    /// `$filter` ids, sorted.
    pub ids: Option<Vec<Uuid>>,
    /// `Prefer: return=minimal`: later rounds carry only the changed properties of updated objects.
    pub return_minimal: bool,
}

/// Parses the raw query string of a delta request on `kind`, whose tracked relationship is `relationship`.
pub fn parse(
    kind: EntityKind,
    relationship: &str,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Result<DeltaOptions, GraphError> {
    let query = odata::parse_delta_query(kind, raw_query, headers)?;
    let mut options = DeltaOptions {
        skiptoken: query.skiptoken,
        deltatoken: query.deltatoken,
        latest: query.latest,
        return_minimal: prefers_minimal(headers),
        ..DeltaOptions::default()
    };
    if let Some(select) = query.select {
        options.relationship_selected = select.iter().any(|name| name.eq_ignore_ascii_case(relationship));
        options.select = Some(select.into_iter().filter(|name| !name.eq_ignore_ascii_case(relationship)).collect());
    }
    if let Some(ids) = query.ids {
        let mut parsed = ids
            .iter()
            .map(|id| Uuid::parse_str(id.trim()).map_err(|_| invalid_identifier(id)))
            .collect::<Result<Vec<_>, _>>()?;
        parsed.sort();
        parsed.dedup();
        options.ids = Some(parsed);
    }
    Ok(options)
}

/// Whether a `Prefer` header asks for `return=minimal` (preferences are comma-separated, names and values
/// case-insensitive: RFC 7240).
fn prefers_minimal(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::HeaderName::from_static("prefer"))
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|preference| preference.split(';').next())
        .filter_map(|preference| preference.split_once('='))
        .any(|(name, value)| {
            name.trim().eq_ignore_ascii_case("return") && value.trim().trim_matches('"').eq_ignore_ascii_case("minimal")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(query: &str) -> Result<DeltaOptions, GraphError> {
        parse(EntityKind::Group, "members", Some(query), &HeaderMap::new())
    }

    #[test]
    fn select_with_the_relationship_is_split() {
        let parsed = options("$select=displayName,members,description").expect("parses");
        assert!(parsed.relationship_selected);
        assert_eq!(parsed.select, Some(vec!["displayName".to_string(), "description".to_string()]));
    }

    #[test]
    fn id_filters_become_sorted_guids() {
        let a = "477e9fc6-5de7-4406-bb2a-7e5c83c9ffff";
        let b = "004d6a07-fe70-4b92-add5-e6e37b8affff";
        let parsed = options(&format!("$filter=id+eq+'{a}'+or+id+eq+'{b}'")).expect("parses");
        assert_eq!(parsed.ids, Some(vec![Uuid::parse_str(b).expect("b"), Uuid::parse_str(a).expect("a")]));
        assert!(options("$filter=id eq 'not-a-guid'").is_err());
    }

    #[test]
    fn return_minimal_is_found_among_other_preferences() {
        let mut headers = HeaderMap::new();
        assert!(!prefers_minimal(&headers));
        headers.insert("prefer", http::HeaderValue::from_static("odata.maxpagesize=10, Return=Minimal"));
        assert!(prefers_minimal(&headers));
        headers.insert("prefer", http::HeaderValue::from_static("return=representation"));
        assert!(!prefers_minimal(&headers));
    }

    #[test]
    fn tokens_are_kept_verbatim() {
        assert!(options("$deltatoken=latest").expect("parses").latest);
        let parsed = options("$skiptoken=abc_-").expect("parses");
        assert_eq!(parsed.skiptoken.as_deref(), Some("abc_-"));
    }
}
