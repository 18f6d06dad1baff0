//! The exact texts of Graph's query-option errors, in one place so that each can be checked against what
//! Microsoft returns. Every constant says where its wording comes from: the Graph docs, a captured response
//! in a public issue (*observed*), ODataLib's resource strings (the parser behind Graph), or — marked
//! **unconfirmed** — our best inference.

/// `Request_UnsupportedQuery`, `$top` outside 1–999 (*observed*, e.g. turbot/steampipe-plugin-azuread code
/// comments quoting the service: "Request_UnsupportedQuery: Invalid page size specified: '1000'. …").
pub fn invalid_page_size(raw: &str) -> String {
    format!("Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive.")
}

/// `BadRequest`, `$top` that is not a non-negative integer (ODataLib resource string).
pub fn invalid_top_value(raw: &str) -> String {
    format!(
        "Invalid value '{raw}' for $top query option found. The $top query option requires a non-negative integer value."
    )
}

/// `Request_BadRequest`, `$skip` on users/groups (*observed*: microsoftgraph/msgraph-metadata#135,
/// microsoft-graph-docs#9279).
pub const SKIP_NOT_SUPPORTED: &str = "'$skip' is not supported by the service.";

/// `Request_UnsupportedQuery`, `$search` without `ConsistencyLevel: eventual` (Graph docs,
/// <https://learn.microsoft.com/graph/aad-advanced-queries>).
pub const SEARCH_NEEDS_EVENTUAL: &str = "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'";

/// `Request_UnsupportedQuery`, an advanced-only operator without the advanced parameters (Graph docs give the
/// `endsWith` text; the same template is used for other operators only where noted).
pub fn advanced_operator(operator: &str) -> String {
    format!(
        "Operator '{operator}' is not supported because the required parameters might be missing. Try adding \
         $count=true query parameter and ConsistencyLevel:eventual header. Refer to \
         https://aka.ms/graph-docs/advanced-queries for more information"
    )
}

/// `Request_UnsupportedQuery`, `ne` without advanced parameters (*observed*:
/// microsoft-graph-docs-contrib#1071 (2023), #9043 (2024)).
pub const NE_NOT_SUPPORTED: &str = "Filter operator 'NotEqualsMatch' is not supported.";

/// `Request_UnsupportedQuery`, `not` without advanced parameters. **Unconfirmed**: modelled on the `ne` text.
pub const NOT_NOT_SUPPORTED: &str = "Filter operator 'Not' is not supported.";

/// `Request_BadRequest`, `$count` without `ConsistencyLevel: eventual` (Graph docs, for the `/$count` segment;
/// used for `/$count` inside `$filter` too — **unconfirmed** there).
pub const COUNT_NOT_SUPPORTED: &str = "$count is not currently supported.";

/// `Request_UnsupportedQuery`, filtering on a property (or with an operator) the directory does not index
/// (Graph docs, `createdDateTime` on `Group`; *observed* for `companyName` on `User`, docs#17277).
pub fn unsupported_filter_property(property: &str, resource: &str) -> String {
    format!("Unsupported or invalid query filter clause specified for property '{property}' of resource '{resource}'.")
}

/// `Request_UnsupportedQuery`, `$filter` with `$orderby` without advanced parameters (*observed*:
/// microsoft-graph-docs-contrib#4187, #3145).
pub const SORTING_NOT_SUPPORTED: &str = "Sorting not supported for current query.";

/// `Request_UnsupportedQuery`, `$orderby` on an advanced-only property without advanced parameters
/// (*observed*: microsoft-graph-docs-contrib#1354, `createdDateTime` on `User`).
pub fn unsupported_sort_property(property: &str, resource: &str) -> String {
    format!("Unsupported sort property '{property}' for '{resource}'.")
}

/// `Request_UnsupportedQuery`, `$orderby` on a property that cannot be sorted even in advanced queries
/// (*observed*: microsoft-graph-docs-contrib#1337, #3327).
pub const UNSUPPORTED_PROPERTY: &str = "An unsupported property was specified.";

/// `Request_UnsupportedQuery`, generic refusal (*observed* for unsupported advanced-query shapes, e.g.
/// microsoft-graph-docs#10324). Used for `$expand` with advanced queries and delta's unsupported options —
/// **unconfirmed** for those exact cases.
pub const UNSUPPORTED_QUERY: &str = "Unsupported Query.";

/// `Request_BadRequest`, a query argument the directory does not know (*observed*: Graph known-issues page,
/// "Unrecognized query argument specified: ''.", and forum reports for `select` without `$`).
pub fn unrecognized_argument(name: &str) -> String {
    format!("Unrecognized query argument specified: '{name}'.")
}

/// `BadRequest`, an option given twice (ODataLib resource string).
pub fn repeated_option(name: &str) -> String {
    format!("Query option '{name}' was specified more than once, but it must be specified at most once.")
}

/// `Request_BadRequest`, `$select` of a property not in the schema. The wording is ODataLib's binder text;
/// the error code is **unconfirmed** (third-party emulators disagree between `Request_BadRequest` and
/// `Request_UnsupportedQuery`).
pub fn unknown_select_property(property: &str, type_name: &str) -> String {
    format!("Could not find a property named '{property}' on type 'microsoft.graph.{type_name}'.")
}

/// `BadRequest`, `$count` with a value other than true/false. **Unconfirmed** (ODataLib 7 wording).
pub fn invalid_count_value(raw: &str) -> String {
    format!("'{raw}' is not a valid count option.")
}

/// `BadRequest`, `$orderby` syntax (ODataLib resource string).
pub fn orderby_syntax(position: usize, text: &str) -> String {
    format!("Syntax error at position {position} in '{text}'.")
}

/// `Request_BadRequest`, a `$search` value that is not `"property:value"` clauses. **Unconfirmed** wording.
pub fn invalid_search(raw: &str) -> String {
    format!("Invalid search clause: '{raw}'. Use the format \"property:value\", with clauses joined by AND or OR.")
}

/// `Request_UnsupportedQuery`, `$search` on a property that is not searchable. **Unconfirmed** wording.
pub fn unsupported_search_property(property: &str, resource: &str) -> String {
    format!("Unsupported search property '{property}' for '{resource}'.")
}
