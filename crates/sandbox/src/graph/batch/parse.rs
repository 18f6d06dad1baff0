//! Parsing and validating a JSON batch body (`{"requests":[{id, method, url, headers?, body?, dependsOn?}]}`)
//! exactly as Graph does before it runs anything: every rule below fails the *whole* batch with 400.
//!
//! - the body is a JSON object with a `requests` array of at most 20 objects;
//! - every request has a non-empty string `id`, unique case-insensitively;
//! - `method` is GET, POST, PATCH, PUT or DELETE; `url` is relative (no scheme or host) and not `$batch`;
//! - `headers`, when present, is an object of strings; a request with a `body`, and every POST, PATCH or PUT,
//!   needs a `Content-Type` header and a body (Graph's observed message:
//!   `Write request id : {id} does not contain Content-Type header or body.`);
//! - `dependsOn` names ids of the same batch, and the batch is either fully parallel (no `dependsOn`) or
//!   fully sequential (one chain).
//!
//! Reference: §3.5; <https://learn.microsoft.com/graph/json-batching>. This parser is a fuzz target: it must
//! never panic, whatever the bytes.

use base64::Engine;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use serde_json::{Map, Value};

use crate::graph::error::GraphError;

/// The most requests one batch may hold.
pub const MAX_REQUESTS: usize = 20;

/// One request of a batch, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchItem {
    /// The request id, as sent.
    pub id: String,
    /// The HTTP method.
    pub method: Method,
    /// The relative URL, starting with `/` (e.g. `/users?$select=id`).
    pub url: String,
    /// The request's headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The request body, encoded per its `Content-Type` (JSON serialised, text as is, others base64-decoded).
    pub body: Option<Vec<u8>>,
    /// Ids of the requests this one runs after.
    pub depends_on: Vec<String>,
}

/// How the requests of a valid batch run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchOrder {
    /// All at once.
    Parallel,
    /// One after another in this order of indexes; each runs only if its predecessor succeeded.
    Sequential(Vec<usize>),
}

fn bad_request(message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// The 400 for a write without `Content-Type` or body — Graph's wording as observed in
/// <https://github.com/microsoftgraph/msgraph-sdk-dotnet/issues/2628>.
fn write_without_content_type(id: &str) -> GraphError {
    bad_request(format!("Write request id : {id} does not contain Content-Type header or body."))
}

/// Parses and validates a batch body.
pub fn parse_batch(body: &[u8]) -> Result<Vec<BatchItem>, GraphError> {
    parse_batch_with_order(body).map(|(items, _)| items)
}

/// Parses and validates a batch body, and works out the order its requests run in.
pub fn parse_batch_with_order(body: &[u8]) -> Result<(Vec<BatchItem>, BatchOrder), GraphError> {
    let document: Value = serde_json::from_slice(body).map_err(|_| {
        bad_request(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    })?;
    let requests = document
        .as_object()
        .and_then(|object| object.iter().find(|(key, _)| key.eq_ignore_ascii_case("requests")))
        .and_then(|(_, requests)| requests.as_array())
        .ok_or_else(|| {
            bad_request("Invalid batch payload format: the body must be an object with a 'requests' array.")
        })?;
    if requests.len() > MAX_REQUESTS {
        return Err(bad_request(format!(
            "The number of requests in the batch ({}) exceeds the maximum of {MAX_REQUESTS}.",
            requests.len()
        )));
    }
    let mut items: Vec<BatchItem> = Vec::with_capacity(requests.len());
    for request in requests {
        let item = parse_item(request)?;
        if items.iter().any(|seen| seen.id.eq_ignore_ascii_case(&item.id)) {
            return Err(bad_request(format!("Request id '{}' is used more than once in the batch.", item.id)));
        }
        items.push(item);
    }
    let order = batch_order(&items)?;
    Ok((items, order))
}

/// A member of a request object by name, case-insensitively.
fn member<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
        .filter(|value| !value.is_null())
}

fn parse_item(request: &Value) -> Result<BatchItem, GraphError> {
    let object = request.as_object().ok_or_else(|| bad_request("Each request of a batch must be a JSON object."))?;
    let id = match member(object, "id") {
        Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => return Err(bad_request("Every request of a batch needs a non-empty 'id'.")),
    };
    let method = match member(object, "method") {
        Some(Value::String(method)) => match method.to_ascii_uppercase().as_str() {
            "GET" => Method::GET,
            "POST" => Method::POST,
            "PATCH" => Method::PATCH,
            "PUT" => Method::PUT,
            "DELETE" => Method::DELETE,
            _ => return Err(bad_request(format!("Invalid HTTP method '{method}' in request '{id}'."))),
        },
        _ => return Err(bad_request(format!("Request '{id}' needs a 'method'."))),
    };
    let url = match member(object, "url") {
        Some(Value::String(url)) if !url.trim().is_empty() => relative_url(&id, url.trim())?,
        _ => return Err(bad_request(format!("Request '{id}' needs a 'url'."))),
    };
    let headers = match member(object, "headers") {
        None => Vec::new(),
        Some(Value::Object(headers)) => parse_headers(&id, headers)?,
        Some(_) => return Err(bad_request(format!("The 'headers' of request '{id}' must be an object."))),
    };
    let content_type = headers
        .iter()
        .find(|(name, _)| name == http::header::CONTENT_TYPE)
        .and_then(|(_, value)| value.to_str().ok())
        .map(str::to_ascii_lowercase);
    let body = member(object, "body");
    let is_write = method == Method::POST || method == Method::PATCH || method == Method::PUT;
    if (body.is_some() || is_write) && (content_type.is_none() || (is_write && body.is_none())) {
        return Err(write_without_content_type(&id));
    }
    let body = match (body, content_type.as_deref()) {
        (Some(body), Some(content_type)) => Some(encode_body(&id, body, content_type)?),
        _ => None,
    };
    let depends_on = match member(object, "dependsOn") {
        None => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|dependency| match dependency {
                Value::String(dependency) => Ok(dependency.clone()),
                Value::Number(number) => Ok(number.to_string()),
                _ => Err(bad_request(format!("The 'dependsOn' of request '{id}' must list request ids."))),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad_request(format!("The 'dependsOn' of request '{id}' must be an array."))),
    };
    Ok(BatchItem { id, method, url, headers, body, depends_on })
}

/// A relative URL with a leading `/`; absolute URLs and nested batches are refused.
fn relative_url(id: &str, url: &str) -> Result<String, GraphError> {
    let lower = url.to_ascii_lowercase();
    if lower.contains("://") || lower.starts_with("//") {
        return Err(bad_request(format!(
            "The url of request '{id}' must be relative to the service root (e.g. '/users')."
        )));
    }
    let url = if url.starts_with('/') { url.to_string() } else { format!("/{url}") };
    let path = url.split(['?', '#']).next().unwrap_or("");
    if path.trim_end_matches('/').eq_ignore_ascii_case("/$batch") {
        return Err(bad_request(format!("Request '{id}' is a nested batch; batches cannot be nested.")));
    }
    Ok(url)
}

fn parse_headers(id: &str, headers: &Map<String, Value>) -> Result<Vec<(HeaderName, HeaderValue)>, GraphError> {
    let invalid = |name: &str| bad_request(format!("Invalid header '{name}' in request '{id}'."));
    headers
        .iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                _ => return Err(invalid(name)),
            };
            let name_value = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| invalid(name))?;
            let header_value = HeaderValue::from_str(&text).map_err(|_| invalid(name))?;
            Ok((name_value, header_value))
        })
        .collect()
}

/// The bytes of a request body: JSON media types take the JSON value (a string is taken as the JSON text),
/// `text/*` takes the string, anything else a base64 string (OData JSON batch format).
fn encode_body(id: &str, body: &Value, content_type: &str) -> Result<Vec<u8>, GraphError> {
    let json = content_type.starts_with("application/json") || content_type.contains("+json");
    match body {
        Value::String(text) if json || content_type.starts_with("text/") => Ok(text.as_bytes().to_vec()),
        Value::String(text) => base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim().trim_end_matches('=')))
            .map_err(|_| bad_request(format!("The body of request '{id}' must be base64 for '{content_type}'."))),
        value if json => serde_json::to_vec(value).map_err(|_| bad_request("Invalid request body.")),
        _ => Err(bad_request(format!("The body of request '{id}' does not match its Content-Type '{content_type}'."))),
    }
}

/// The run order: parallel when nothing depends on anything, else one chain.
fn batch_order(items: &[BatchItem]) -> Result<BatchOrder, GraphError> {
    let index_of = |wanted: &str| items.iter().position(|item| item.id.eq_ignore_ascii_case(wanted));
    let mut dependencies: Vec<Vec<usize>> = Vec::with_capacity(items.len());
    for item in items {
        let mut indexes = Vec::new();
        for dependency in &item.depends_on {
            let index = index_of(dependency).ok_or_else(|| {
                bad_request(format!("Request '{}' depends on '{dependency}', which is not in the batch.", item.id))
            })?;
            indexes.push(index);
        }
        dependencies.push(indexes);
    }
    if dependencies.iter().all(Vec::is_empty) {
        return Ok(BatchOrder::Parallel);
    }
    let mixed = || bad_request("Batch should be either fully sequential or fully parallel");
    // Kahn's algorithm: a chain has exactly one request ready at every step.
    let mut done = vec![false; items.len()];
    let mut order = Vec::with_capacity(items.len());
    while order.len() < items.len() {
        let ready: Vec<usize> = (0..items.len())
            .filter(|&index| !done[index] && dependencies[index].iter().all(|&dependency| done[dependency]))
            .collect();
        let [next] = ready.as_slice() else { return Err(mixed()) };
        // Each request after the first must depend on the one run just before it.
        if let Some(&previous) = order.last()
            && !dependencies[*next].contains(&previous)
        {
            return Err(mixed());
        }
        done[*next] = true;
        order.push(*next);
    }
    Ok(BatchOrder::Sequential(order))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<(Vec<BatchItem>, BatchOrder), GraphError> {
        parse_batch_with_order(body.as_bytes())
    }

    fn message(body: &str) -> String {
        parse(body).expect_err("refused").message
    }

    #[test]
    fn a_parallel_batch_parses() {
        let (items, order) = parse(
            r#"{"requests":[{"id":"1","method":"GET","url":"/users"},
                {"id":"2","method":"post","url":"groups","headers":{"Content-Type":"application/json"},"body":{"a":1}}]}"#,
        )
        .expect("valid");
        assert_eq!(order, BatchOrder::Parallel);
        assert_eq!(items[1].method, Method::POST);
        assert_eq!(items[1].url, "/groups");
        assert_eq!(items[1].body.as_deref(), Some(&br#"{"a":1}"#[..]));
    }

    #[test]
    fn a_chain_is_sequential_in_dependency_order() {
        let (_, order) = parse(
            r#"{"requests":[{"id":"b","method":"GET","url":"/x","dependsOn":["a"]},
                {"id":"a","method":"GET","url":"/x"},{"id":"c","method":"GET","url":"/x","dependsOn":["B"]}]}"#,
        )
        .expect("valid");
        assert_eq!(order, BatchOrder::Sequential(vec![1, 0, 2]));
    }

    #[test]
    fn invalid_batches_are_refused() {
        assert!(
            message(r#"{"requests":[{"id":"1","method":"GET","url":"/a"},{"id":"1","method":"GET","url":"/b"}]}"#)
                .contains("more than once")
        );
        assert!(
            message(r#"{"requests":[{"id":"A","method":"GET","url":"/a"},{"id":"a","method":"GET","url":"/b"}]}"#)
                .contains("more than once")
        );
        assert!(message(r#"{"requests":[{"method":"GET","url":"/a"}]}"#).contains("'id'"));
        assert_eq!(
            message(r#"{"requests":[{"id":"1","method":"POST","url":"/a","body":{}}]}"#),
            "Write request id : 1 does not contain Content-Type header or body."
        );
        assert!(
            message(r#"{"requests":[{"id":"1","method":"GET","url":"https://graph.microsoft.com/v1.0/users"}]}"#)
                .contains("relative")
        );
        assert!(message(r#"{"requests":[{"id":"1","method":"POST","url":"/$batch","headers":{"content-type":"application/json"},"body":{}}]}"#)
            .contains("nested"));
        assert!(message(r#"{"requests":[{"id":"1","method":"GET","url":"/a","dependsOn":["9"]}]}"#).contains("'9'"));
        assert_eq!(
            message(
                r#"{"requests":[{"id":"1","method":"GET","url":"/a"},{"id":"2","method":"GET","url":"/a","dependsOn":["1"]},
                    {"id":"3","method":"GET","url":"/a"}]}"#
            ),
            "Batch should be either fully sequential or fully parallel"
        );
        let many: Vec<String> =
            (0..21).map(|index| format!(r#"{{"id":"{index}","method":"GET","url":"/users"}}"#)).collect();
        assert!(message(&format!(r#"{{"requests":[{}]}}"#, many.join(","))).contains("maximum of 20"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        for input in [
            &b""[..],
            b"\xff\xfe",
            b"[]",
            b"{\"requests\":7}",
            b"{\"requests\":[null,1,\"x\"]}",
            b"{\"requests\":[{\"id\":{}}]}",
        ] {
            assert!(parse_batch(input).is_err());
        }
        assert_eq!(parse_batch(br#"{"requests":[]}"#).ok().map(|items| items.len()), Some(0));
    }

    #[test]
    fn mutated_batches_never_panic() {
        use rand::{Rng, SeedableRng};
        let valid = br#"{"requests":[{"id":"1","method":"POST","url":"/users?$select=id","headers":{"Content-Type":"application/json"},"body":{"a":[1,"b"]},"dependsOn":[]},{"id":"2","method":"GET","url":"groups","dependsOn":["1"]}]}"#;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for _ in 0..5_000 {
            let mut bytes = valid.to_vec();
            for _ in 0..rng.random_range(1..6) {
                let index = rng.random_range(0..bytes.len());
                match rng.random_range(0..3) {
                    0 => bytes[index] = rng.random(),
                    1 => {
                        bytes.remove(index);
                    }
                    _ => {
                        let alphabet = b"{}[]\",:0x";
                        bytes.insert(index, alphabet[rng.random_range(0..alphabet.len())]);
                    }
                }
            }
            let _ = parse_batch_with_order(&bytes);
        }
    }
}
