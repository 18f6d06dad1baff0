//! Splits and decodes a raw query string the way Graph reads it: `&` separates options (an encoded `%26`
//! stays inside its value), names and values are percent-decoded (`%24filter` is `$filter`), `+` is a space
//! only in values, names are matched case-insensitively, and an option given twice is an error.

use std::collections::HashMap;

use http::StatusCode;
use percent_encoding::percent_decode_str;

use super::error_messages as msg;
use crate::graph::error::GraphError;

/// The decoded options of one request, by lower-cased name.
#[derive(Clone, Debug, Default)]
pub struct QueryOptions {
    /// (name as sent, value), keyed by the lower-cased name.
    options: HashMap<String, (String, String)>,
    /// Lower-cased names in the order they appeared.
    order: Vec<String>,
}

impl QueryOptions {
    /// The value of an option (name compared case-insensitively).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.options.get(&name.to_ascii_lowercase()).map(|(_, value)| value.as_str())
    }

    /// The names as sent, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.order.iter().filter_map(|lower| self.options.get(lower).map(|(name, _)| name.as_str()))
    }
}

fn decode_component(raw: &str, plus_is_space: bool) -> String {
    if plus_is_space && raw.contains('+') {
        percent_decode_str(&raw.replace('+', " ")).decode_utf8_lossy().into_owned()
    } else {
        percent_decode_str(raw).decode_utf8_lossy().into_owned()
    }
}

/// Decodes `raw` (without the leading `?`). Empty segments (`a=1&&b=2`) are skipped.
pub fn decode(raw: Option<&str>) -> Result<QueryOptions, GraphError> {
    let mut decoded = QueryOptions::default();
    let Some(raw) = raw else { return Ok(decoded) };
    for segment in raw.split('&').filter(|segment| !segment.is_empty()) {
        let (raw_name, raw_value) = segment.split_once('=').unwrap_or((segment, ""));
        let name = decode_component(raw_name, false);
        let value = decode_component(raw_value, true);
        let lower = name.to_ascii_lowercase();
        if decoded.options.contains_key(&lower) {
            return Err(GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", msg::repeated_option(&name)));
        }
        decoded.order.push(lower.clone());
        decoded.options.insert(lower, (name, value));
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_names_values_and_plus() {
        let options = decode(Some("%24filter=displayName+eq+%27a%2Bb%27&$TOP=5&$select=id,displayName")).unwrap();
        assert_eq!(options.get("$filter"), Some("displayName eq 'a+b'"));
        assert_eq!(options.get("$top"), Some("5"));
        assert_eq!(options.get("$Select"), Some("id,displayName"));
        assert_eq!(options.names().collect::<Vec<_>>(), vec!["$filter", "$TOP", "$select"]);
    }

    #[test]
    fn encoded_ampersand_stays_in_the_value_and_plus_in_names_is_literal() {
        let options = decode(Some("$search=%22displayName:a%26b%22&a+b=1")).unwrap();
        assert_eq!(options.get("$search"), Some("\"displayName:a&b\""));
        assert_eq!(options.get("a+b"), Some("1"));
    }

    #[test]
    fn repeated_options_are_rejected_case_insensitively() {
        let error = decode(Some("$top=1&$TOP=2")).unwrap_err();
        assert_eq!(error.code, "BadRequest");
        assert_eq!(
            error.message,
            "Query option '$TOP' was specified more than once, but it must be specified at most once."
        );
    }

    #[test]
    fn empty_and_valueless_segments() {
        let options = decode(Some("&$count&&")).unwrap();
        assert_eq!(options.get("$count"), Some(""));
        assert!(decode(None).unwrap().names().next().is_none());
        let invalid_utf8 = decode(Some("$filter=%FF")).unwrap();
        assert_eq!(invalid_utf8.get("$filter"), Some("\u{FFFD}"));
    }
}
