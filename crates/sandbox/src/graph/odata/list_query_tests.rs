//! Unit tests of the list and delta query rules: each rule gives the exact Graph error code and message.

use http::HeaderValue;

use super::*;
use crate::graph::odata::SearchClause;

fn eventual_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("ConsistencyLevel", HeaderValue::from_static("eventual"));
    headers
}

fn users(query: &str) -> Result<ListQuery, GraphError> {
    parse_list_query(EntityKind::User, Some(query), &HeaderMap::new())
}

fn users_eventual(query: &str) -> Result<ListQuery, GraphError> {
    parse_list_query(EntityKind::User, Some(query), &eventual_headers())
}

fn groups(query: &str) -> Result<ListQuery, GraphError> {
    parse_list_query(EntityKind::Group, Some(query), &HeaderMap::new())
}

#[track_caller]
fn assert_error(result: Result<ListQuery, GraphError>, code: &str, message: &str) {
    let error = result.expect_err("should be rejected");
    assert_eq!(error.status, StatusCode::BAD_REQUEST);
    assert_eq!((error.code.as_str(), error.message.as_str()), (code, message));
}

#[test]
fn empty_query_is_the_default() {
    let query = parse_list_query(EntityKind::User, None, &HeaderMap::new()).unwrap();
    assert!(query.select.is_none() && query.filter.is_none() && query.top.is_none() && !query.count);
    assert!(!query.advanced && !query.is_advanced_query());
}

#[test]
fn top_bounds() {
    assert_eq!(users("$top=1").unwrap().top, Some(1));
    assert_eq!(users("$top=999").unwrap().top, Some(999));
    for value in ["0", "1000", "100000"] {
        assert_error(
            users(&format!("$top={value}")),
            "Request_UnsupportedQuery",
            &format!("Invalid page size specified: '{value}'. Must be between 1 and 999 inclusive."),
        );
    }
    for value in ["-1", "abc", "1.5", ""] {
        assert_error(
            users(&format!("$top={value}")),
            "BadRequest",
            &format!(
                "Invalid value '{value}' for $top query option found. The $top query option requires a non-negative integer value."
            ),
        );
    }
}

#[test]
fn count_needs_the_eventual_header_and_is_otherwise_ignored() {
    let query = users("$count=true").unwrap();
    assert!(!query.count, "silently ignored without ConsistencyLevel");
    let query = users_eventual("$count=true").unwrap();
    assert!(query.count && query.advanced && query.is_advanced_query());
    let query = users_eventual("$count=false").unwrap();
    assert!(!query.count && query.advanced && !query.is_advanced_query());
    assert_error(users("$count=yes"), "BadRequest", "'yes' is not a valid count option.");
    let mut headers = HeaderMap::new();
    headers.insert("consistencylevel", HeaderValue::from_static("Eventual"));
    assert!(parse_list_query(EntityKind::User, Some("$count=true"), &headers).unwrap().count);
    headers.insert("consistencylevel", HeaderValue::from_static("session"));
    assert!(!parse_list_query(EntityKind::User, Some("$count=true"), &headers).unwrap().count);
}

#[test]
fn advanced_filters_need_both_header_and_count() {
    let ends_with = "Operator 'endsWith' is not supported because the required parameters might be missing. Try \
                     adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to \
                     https://aka.ms/graph-docs/advanced-queries for more information";
    let filter = "$filter=endswith(mail,'@contoso.com')";
    assert_error(users(filter), "Request_UnsupportedQuery", ends_with);
    assert_error(users(&format!("{filter}&$count=true")), "Request_UnsupportedQuery", ends_with);
    assert_error(users_eventual(filter), "Request_UnsupportedQuery", ends_with);
    assert!(users_eventual(&format!("{filter}&$count=true")).is_ok());
    // `$search` makes an advanced query with the header alone.
    assert!(users_eventual(&format!("{filter}&$search=\"displayName:a\"")).is_ok());

    assert_error(
        users("$filter=accountEnabled ne false"),
        "Request_UnsupportedQuery",
        "Filter operator 'NotEqualsMatch' is not supported.",
    );
    assert_error(
        users("$filter=not(displayName eq 'x')"),
        "Request_UnsupportedQuery",
        "Filter operator 'Not' is not supported.",
    );
    assert_error(
        users("$filter=assignedLicenses/$count eq 0"),
        "Request_BadRequest",
        "$count is not currently supported.",
    );
    assert!(users_eventual("$filter=assignedLicenses/$count eq 0&$count=true").is_ok());
}

#[test]
fn filter_syntax_errors_are_invalid_filter_clauses() {
    assert_error(
        users("$filter=displayName eq"),
        "BadRequest",
        "Invalid filter clause: Expression expected at position 14 in 'displayName eq'.",
    );
    assert_error(users("$filter=contains(displayName,'a')"), "Request_UnsupportedQuery", "Unsupported Query.");
}

#[test]
fn search_rules() {
    assert_error(
        users("$search=\"displayName:wa\""),
        "Request_UnsupportedQuery",
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
    );
    let query = users_eventual("$search=%22displayName:wa%22").unwrap();
    assert_eq!(query.search.as_deref(), Some("\"displayName:wa\""));
    let parsed = query.search_query.expect("parsed search");
    let clause = SearchClause { property: "displayName".into(), term: "wa".into() };
    assert_eq!(parsed.any_of, vec![vec![clause]]);
    assert_eq!(users_eventual("$search=displayName:wa").unwrap_err().code, "Request_BadRequest");
}

#[test]
fn orderby_rules() {
    let query = users("$orderby=DisplayName desc, userPrincipalName").unwrap();
    assert_eq!(query.orderby, vec![("displayName".to_string(), true), ("userPrincipalName".to_string(), false)]);
    assert_eq!(groups("$orderby=displayName").unwrap().orderby, vec![("displayName".to_string(), false)]);
    assert_error(
        users("$orderby=createdDateTime desc"),
        "Request_UnsupportedQuery",
        "Unsupported sort property 'createdDateTime' for 'User'.",
    );
    assert!(users_eventual("$orderby=createdDateTime desc&$count=true").is_ok());
    assert_error(
        users_eventual("$orderby=employeeHireDate&$count=true"),
        "Request_UnsupportedQuery",
        "An unsupported property was specified.",
    );
    assert_error(groups("$orderby=mail"), "Request_UnsupportedQuery", "Unsupported sort property 'mail' for 'Group'.");
    assert_error(
        groups("$orderby=userPrincipalName"),
        "Request_UnsupportedQuery",
        "Unsupported sort property 'userPrincipalName' for 'Group'.",
    );
    assert_error(
        users("$filter=startswith(displayName,'a')&$orderby=displayName"),
        "Request_UnsupportedQuery",
        "Sorting not supported for current query.",
    );
    assert_error(
        groups("$filter=startswith(displayName,'a')&$count=true&$top=1&$orderby=displayName"),
        "Request_UnsupportedQuery",
        "Sorting not supported for current query.",
    );
    assert!(users_eventual("$filter=startswith(displayName,'a')&$orderby=displayName&$count=true").is_ok());
    assert_error(
        users("$orderby=displayName sideways"),
        "BadRequest",
        "Syntax error at position 0 in 'displayName sideways'.",
    );
}

#[test]
fn select_is_validated() {
    let query = users("$select=ID,displayname,aboutMe").unwrap();
    assert_eq!(query.select, Some(vec!["id".into(), "displayName".into(), "aboutMe".into()]));
    assert_error(
        users("$select=displayName,doesNotExist"),
        "Request_BadRequest",
        "Could not find a property named 'doesNotExist' on type 'microsoft.graph.user'.",
    );
    assert_error(
        groups("$select=givenName"),
        "Request_BadRequest",
        "Could not find a property named 'givenName' on type 'microsoft.graph.group'.",
    );
}

#[test]
fn skip_unknown_and_repeated_options() {
    assert_error(users("$skip=10"), "Request_BadRequest", "'$skip' is not supported by the service.");
    assert_error(groups("$top=5&$skip=5"), "Request_BadRequest", "'$skip' is not supported by the service.");
    assert_error(users("$foo=1"), "Request_BadRequest", "Unrecognized query argument specified: '$foo'.");
    assert_error(users("select=displayName"), "Request_BadRequest", "Unrecognized query argument specified: 'select'.");
    assert_error(
        users("$top=1&$top=2"),
        "BadRequest",
        "Query option '$top' was specified more than once, but it must be specified at most once.",
    );
}

#[test]
fn expand_cannot_be_combined_with_advanced_queries() {
    assert_eq!(users("$expand=manager").unwrap().expand.as_deref(), Some("manager"));
    assert!(users_eventual("$expand=manager").is_ok(), "the header alone is not an advanced query");
    assert_error(users_eventual("$expand=manager&$count=true"), "Request_UnsupportedQuery", "Unsupported Query.");
    assert_error(
        users_eventual("$expand=manager&$search=\"displayName:a\""),
        "Request_UnsupportedQuery",
        "Unsupported Query.",
    );
}

#[test]
fn decoding_of_encoded_options() {
    let query = users("%24filter=startswith(displayName%2C%27Ad%27)&%24top=5&$skiptoken=abc%3D%3D").unwrap();
    assert!(query.filter.is_some());
    assert_eq!(query.top, Some(5));
    assert_eq!(query.skiptoken.as_deref(), Some("abc=="));
    let query = users("$filter=displayName+eq+'Adele+Vance'").unwrap();
    assert_eq!(query.filter, Some(filter::parse("displayName eq 'Adele Vance'").unwrap()));
    let query = users("$filter=displayName%20eq%20'a%2Bb'").unwrap();
    assert_eq!(query.filter, Some(filter::parse("displayName eq 'a+b'").unwrap()));
}

#[test]
fn delta_accepts_select_ids_and_tokens() {
    let delta = |query: &str| parse_delta_query(EntityKind::User, Some(query), &HeaderMap::new());
    let query = delta("$select=displayName,MANAGER&$filter=id eq 'a' or id eq 'b'").unwrap();
    assert_eq!(query.select, Some(vec!["displayName".into(), "manager".into()]));
    assert_eq!(query.ids, Some(vec!["a".into(), "b".into()]));
    assert!(delta("$deltaToken=latest").unwrap().latest);
    assert_eq!(delta("$deltatoken=xyz").unwrap().deltatoken.as_deref(), Some("xyz"));
    assert_eq!(delta("$skiptoken=s1").unwrap().skiptoken.as_deref(), Some("s1"));
    assert_eq!(parse_delta_query(EntityKind::User, None, &HeaderMap::new()).unwrap(), DeltaQuery::default());
    let fifty = (0..50).map(|i| format!("id eq '{i}'")).collect::<Vec<_>>().join(" or ");
    assert_eq!(delta(&format!("$filter={fifty}")).unwrap().ids.map(|ids| ids.len()), Some(50));
}

#[test]
fn delta_rejects_other_options_and_filters() {
    let delta = |query: &str| parse_delta_query(EntityKind::Group, Some(query), &HeaderMap::new());
    for option in ["$top=5", "$orderby=displayName", "$expand=members", "$search=\"displayName:a\"", "$count=true"] {
        let error = delta(option).unwrap_err();
        assert_eq!(
            (error.code.as_str(), error.message.as_str()),
            ("Request_UnsupportedQuery", "Unsupported Query."),
            "{option}"
        );
    }
    let error = delta("$filter=displayName eq 'x'").unwrap_err();
    assert_eq!(
        error.message,
        "Unsupported or invalid query filter clause specified for property 'displayName' of resource 'Group'."
    );
    let fifty_one = (0..51).map(|i| format!("id eq '{i}'")).collect::<Vec<_>>().join(" or ");
    assert_eq!(delta(&format!("$filter={fifty_one}")).unwrap_err().code, "Request_UnsupportedQuery");
    assert_eq!(delta("$filter=id eq 'a' and id eq 'b'").unwrap_err().code, "Request_UnsupportedQuery");
    assert_eq!(delta("$foo=1").unwrap_err().message, "Unrecognized query argument specified: '$foo'.");
    assert_eq!(delta("$filter=id eq").unwrap_err().code, "BadRequest");
}

#[test]
fn the_count_segment_is_an_advanced_query_with_the_header() {
    let filter = Some("$filter=endswith(mail,'@contoso.com')");
    let query = parse_count_query(EntityKind::User, filter, &eventual_headers()).unwrap();
    assert!(query.count && query.is_advanced_query());
    let error = parse_count_query(EntityKind::User, filter, &HeaderMap::new()).unwrap_err();
    assert_eq!(error.code, "Request_UnsupportedQuery");
}
