//! `$search` on directory collections: `"displayName:wa"`, clauses joined by `AND` / `OR` (AND binds
//! tighter). Matching is Graph's tokenized prefix match: every word of the search term must begin a word of
//! the property's value, case-insensitively (`"displayName:wa"` finds "Adele Wagner").

use serde_json::Value;

use super::EntityKind;
use super::error_messages as msg;
use super::eval::starts_with_ci;
use super::schema::entity;
use crate::graph::error::GraphError;

/// One `"property:term"` clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchClause {
    /// The property, in the schema's casing.
    pub property: String,
    /// The search term.
    pub term: String,
}

/// A parsed `$search`: any of the groups matches when all of its clauses match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// OR of ANDs.
    pub any_of: Vec<Vec<SearchClause>>,
}

/// Properties `$search` accepts (<https://learn.microsoft.com/graph/search-query-parameter>).
fn searchable(kind: EntityKind) -> &'static [&'static str] {
    match kind {
        EntityKind::User => &[
            "displayName",
            "givenName",
            "surname",
            "mail",
            "mailNickname",
            "userPrincipalName",
            "otherMails",
            "proxyAddresses",
            "jobTitle",
            "department",
            "employeeId",
        ],
        EntityKind::Group => &["displayName", "description", "mail", "mailNickname", "proxyAddresses"],
    }
}

fn resource(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "User",
        EntityKind::Group => "Group",
    }
}

/// Parses a `$search` value.
pub fn parse_search(kind: EntityKind, raw: &str) -> Result<SearchQuery, GraphError> {
    let invalid = || GraphError::bad_request(msg::invalid_search(raw));
    let mut any_of = vec![Vec::new()];
    let mut rest = raw.trim();
    let mut expect_clause = true;
    while !rest.is_empty() {
        if expect_clause {
            let body = rest.strip_prefix('"').ok_or_else(invalid)?;
            let end = body.find('"').ok_or_else(invalid)?;
            let clause = &body[..end];
            rest = body[end + 1..].trim_start();
            let (property, term) = clause.split_once(':').ok_or_else(invalid)?;
            let property = property.trim();
            let canonical =
                searchable(kind).iter().find(|name| name.eq_ignore_ascii_case(property)).ok_or_else(|| {
                    if entity(kind).property(property).is_some() {
                        GraphError::unsupported_query(msg::unsupported_search_property(property, resource(kind)))
                    } else {
                        GraphError::bad_request(msg::unknown_select_property(property, &entity(kind).name))
                    }
                })?;
            if let Some(group) = any_of.last_mut() {
                group.push(SearchClause { property: (*canonical).to_string(), term: term.trim().to_string() });
            }
            expect_clause = false;
        } else {
            let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if word == "OR" {
                any_of.push(Vec::new());
            } else if word != "AND" {
                return Err(invalid());
            }
            rest = after.trim_start();
            expect_clause = true;
        }
    }
    if expect_clause {
        return Err(invalid());
    }
    Ok(SearchQuery { any_of })
}

/// Whether `text` matches `term`: each word of the term begins some word of the text.
fn text_matches(text: &str, term: &str) -> bool {
    if starts_with_ci(text, term) {
        return true;
    }
    let is_separator = |c: char| !c.is_alphanumeric();
    term.split(is_separator)
        .filter(|word| !word.is_empty())
        .all(|word| text.split(is_separator).any(|token| starts_with_ci(token, word)))
}

fn value_matches(value: &Value, term: &str) -> bool {
    match value {
        Value::String(text) => text_matches(text, term),
        Value::Array(items) => items.iter().any(|item| value_matches(item, term)),
        _ => false,
    }
}

/// Whether the object behind `get` satisfies the search.
pub fn search_matches(search: &SearchQuery, get: &dyn Fn(&str) -> Option<Value>) -> bool {
    search.any_of.iter().any(|group| {
        group.iter().all(|clause| get(&clause.property).is_some_and(|value| value_matches(&value, &clause.term)))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user(name: &str) -> Option<Value> {
        json!({"displayName": "Adele Wagner-Vance", "mail": "AdeleV@contoso.com", "proxyAddresses": ["SMTP:av@contoso.com"]})
            .get(name)
            .cloned()
    }

    #[test]
    fn parses_clauses_with_and_or() {
        let search =
            parse_search(EntityKind::User, r#""displayname:wa" AND "mail:adele" OR "displayName:x y""#).unwrap();
        assert_eq!(search.any_of.len(), 2);
        assert_eq!(search.any_of[0][0], SearchClause { property: "displayName".into(), term: "wa".into() });
        assert_eq!(search.any_of[0][1].property, "mail");
        assert_eq!(search.any_of[1][0].term, "x y");
    }

    #[test]
    fn rejects_malformed_search() {
        for raw in [
            "displayName:wa",
            "\"displayName:wa",
            "\"displayName\"",
            "\"displayName:a\" \"mail:b\"",
            "\"displayName:a\" AND",
        ] {
            let error = parse_search(EntityKind::User, raw).unwrap_err();
            assert_eq!(error.code, "Request_BadRequest", "{raw}");
        }
        let error = parse_search(EntityKind::User, "\"aboutMe:x\"").unwrap_err();
        assert_eq!(error.code, "Request_UnsupportedQuery");
        assert_eq!(error.message, "Unsupported search property 'aboutMe' for 'User'.");
    }

    #[test]
    fn tokenized_prefix_matching() {
        let check = |raw: &str| search_matches(&parse_search(EntityKind::User, raw).unwrap(), &user);
        assert!(check("\"displayName:wa\""));
        assert!(check("\"displayName:VANCE\""));
        assert!(check("\"displayName:adele van\""));
        assert!(!check("\"displayName:agner\""));
        assert!(check("\"mail:adelev@contoso\""));
        assert!(check("\"proxyAddresses:av\""));
        assert!(check("\"displayName:zz\" OR \"mail:adele\""));
        assert!(!check("\"displayName:zz\" AND \"mail:adele\""));
    }
}
