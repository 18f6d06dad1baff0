//! Reading JSON request bodies the way Graph's OData layer does: a body must be one JSON object, every value
//! must convert to the property's EDM type, and every failure is a Graph-shaped 400 with the OData library's
//! wording — never a panic or axum's plain-text rejection.
//!
//! Wording: the OData library's reader messages (`An unexpected 'EndOfInput' node was found when reading from
//! the JSON reader. A 'StartObject' node was expected.` observed with code `Request_BadRequest` on
//! `/groups/{id}/members/$ref`, microsoft/semantic-link-labs issue #1082; `Cannot convert the literal '…' to the
//! expected type '…'.` and `The property '…' does not exist on type '…'. …` are the library's standard texts).

use serde_json::{Map, Value};

use super::error::{GraphError, GraphResult};

/// The message Graph gives for a body that is not JSON at all.
pub const INVALID_JSON: &str = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.";

/// Parses a request body that must be a JSON object.
pub fn parse_object(body: &[u8]) -> GraphResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(unexpected_node("EndOfInput", "StartObject"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(unexpected_node(node_name(&other), "StartObject")),
        Err(_) => Err(GraphError::new(http::StatusCode::BAD_REQUEST, "BadRequest", INVALID_JSON)),
    }
}

/// The OData reader's "unexpected node" error.
pub fn unexpected_node(found: &str, expected: &str) -> GraphError {
    GraphError::bad_request(format!(
        "An unexpected '{found}' node was found when reading from the JSON reader. A '{expected}' node was expected."
    ))
}

/// The OData reader's name for the JSON node a value starts with.
pub fn node_name(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "StartArray",
        Value::Object(_) => "StartObject",
        _ => "PrimitiveValue",
    }
}

/// How a JSON value is written inside the OData library's conversion error.
pub fn literal(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The OData reader's conversion error for a value of the wrong type.
pub fn conversion_error(value: &Value, edm_type: &str) -> GraphError {
    match value {
        Value::Array(_) | Value::Object(_) => unexpected_node(node_name(value), "PrimitiveValue"),
        primitive => GraphError::bad_request(format!(
            "Cannot convert the literal '{}' to the expected type '{edm_type}'.",
            literal(primitive)
        )),
    }
}

/// The OData reader's error for a property a (closed) type does not declare.
pub fn no_such_property(property: &str, type_name: &str) -> GraphError {
    GraphError::bad_request(format!(
        "The property '{property}' does not exist on type '{type_name}'. Make sure to only use property names that \
         are defined by the type or mark the type as open type."
    ))
}

/// `Invalid value specified for property '{property}' of resource '{resource}'.` with an `InvalidValue` detail,
/// as the directory answers a value it refuses (e.g. `mailNickname`, `employeeId`).
pub fn invalid_value(property: &str, resource: &str) -> GraphError {
    let mut error =
        GraphError::bad_request(format!("Invalid value specified for property '{property}' of resource '{resource}'."));
    error.details = vec![serde_json::json!({"code": "InvalidValue", "target": property})];
    error
}

/// `Property {property} value is required but is empty or missing.` (directory wording for a missing required
/// property; microsoftgraph/msgraph-sdk-powershell issue #230).
pub fn required_missing(property: &str) -> GraphError {
    GraphError::bad_request(format!("Property {property} value is required but is empty or missing."))
}

/// `Property '{property}' is read-only and cannot be set.` (microsoftgraph/msgraph-beta-sdk-java issue #621).
pub fn read_only(property: &str) -> GraphError {
    GraphError::bad_request(format!("Property '{property}' is read-only and cannot be set."))
}

/// The error for a property that the entity type does not have. Users and groups are open types in Graph's
/// metadata, so the OData layer lets unknown names through and the directory refuses them.
/// **Unconfirmed wording.**
pub fn invalid_property(property: &str) -> GraphError {
    GraphError::bad_request(format!("Invalid property '{property}'."))
}

/// A string value (`null` → `None`), or the conversion error.
pub fn as_optional_string(value: &Value) -> GraphResult<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        other => Err(conversion_error(other, "Edm.String")),
    }
}

/// A boolean value (`null` → `None`), or the conversion error.
pub fn as_optional_bool(value: &Value) -> GraphResult<Option<bool>> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(flag) => Ok(Some(*flag)),
        other => Err(conversion_error(other, "Edm.Boolean")),
    }
}

/// A collection of strings (`null` → `None`), or the reader's error.
pub fn as_optional_string_list(value: &Value) -> GraphResult<Option<Vec<String>>> {
    match value {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.clone()),
                other => Err(conversion_error(other, "Edm.String")),
            })
            .collect::<GraphResult<Vec<_>>>()
            .map(Some),
        other => Err(unexpected_node(node_name(other), "StartArray")),
    }
}

/// A `DateTimeOffset` value (`null` → `None`), or the conversion error.
pub fn as_optional_datetime(value: &Value) -> GraphResult<Option<chrono::DateTime<chrono::Utc>>> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|at| Some(at.with_timezone(&chrono::Utc)))
            .map_err(|_| conversion_error(value, "Edm.DateTimeOffset")),
        other => Err(conversion_error(other, "Edm.DateTimeOffset")),
    }
}

/// A complex value that must be an object (`null` → `None`).
pub fn as_optional_object(value: &Value) -> GraphResult<Option<&Map<String, Value>>> {
    match value {
        Value::Null => Ok(None),
        Value::Object(object) => Ok(Some(object)),
        other => Err(unexpected_node(node_name(other), "StartObject")),
    }
}

/// Whether `key` is an OData instance annotation the sandbox accepts and ignores (`@odata.type`).
pub fn is_type_annotation(key: &str) -> bool {
    key == "@odata.type"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_that_are_not_objects_get_odata_reader_errors() {
        let empty = parse_object(b"").expect_err("empty");
        assert!(empty.message.contains("'EndOfInput'"), "{}", empty.message);
        let array = parse_object(b"[1]").expect_err("array");
        assert!(array.message.contains("'StartArray'"), "{}", array.message);
        let broken = parse_object(b"{\"a\":").expect_err("broken");
        assert_eq!(broken.code, "BadRequest");
        assert!(parse_object(b" {\"a\": 1} ").is_ok());
    }

    #[test]
    fn conversion_errors_quote_the_literal() {
        let error = as_optional_bool(&Value::String("yes".into())).expect_err("string for bool");
        assert_eq!(error.message, "Cannot convert the literal 'yes' to the expected type 'Edm.Boolean'.");
        let error = as_optional_string(&serde_json::json!([1])).expect_err("array for string");
        assert!(error.message.starts_with("An unexpected 'StartArray' node"));
    }
}
