//! [`Client`]: HTTP plumbing shared by reads and writes — authentication, request ids, the shared throttle,
//! retries with backoff, `$batch`, and counters.
//!
//! Every HTTP request goes through [`Client::attempt`]: take a throttle permit, fetch a token, send with
//! `Authorization: Bearer`, a fresh `client-request-id` GUID and `Accept: application/json`, and read Graph's
//! `request-id` and `Retry-After` from the answer. Retry loops ([`Client::send`], [`Client::send_batch`] and
//! the internal reads) retry what [`crate::error`] classifies as transient, waiting the larger of a jittered
//! exponential backoff and the `Retry-After` Graph asked for.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use model::AccessTokenProvider;
use rand::{Rng, SeedableRng};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result, transient_status};
use crate::{GraphConfig, GraphRequest, GraphResponse, Method};
use throttle::Throttle;

/// The most requests one `$batch` may hold.
pub(crate) const MAX_BATCH: usize = 20;
/// First backoff step; doubled per attempt, with jitter, up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured (a larger one is cut to this).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// The root references in request bodies are written against.
const GLOBAL_ROOT: &str = "https://graph.microsoft.com/v1.0/";

/// A Microsoft Graph v1.0 client for one tenant.
///
/// Cheap to clone: clones share the HTTP connection pool, the token provider, the counters and the
/// throttle. The throttle is an adaptive concurrency limit: every HTTP request (a `$batch` counts as one)
/// holds a permit while in flight; the limit starts at [`GraphConfig::max_concurrency`], halves on every 429
/// and grows by one after each run of successes as long as the current limit. A 429 also pauses every
/// sender, across clones, until its `Retry-After` has passed.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// `{base_url}/v1.0`.
    api_root: String,
    tokens: Arc<dyn AccessTokenProvider>,
    max_attempts: u32,
    throttle: Throttle,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    http_requests: AtomicU64,
    sub_requests: AtomicU64,
    throttled: AtomicU64,
    retries: AtomicU64,
    retry_after_waited_ms: AtomicU64,
}

/// What a client has done so far (all clones together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (a `$batch` counts once), including retries.
    pub http_requests: u64,
    /// Requests sent inside `$batch` bodies, including re-sent ones.
    pub sub_requests: u64,
    /// Answers (whole or sub-request) that were 429.
    pub throttled: u64,
    /// Requests or sub-requests sent again after a transient failure.
    pub retries: u64,
    /// Milliseconds of waiting that `Retry-After` headers imposed (beyond the plain backoff).
    pub retry_after_waited_ms: u64,
    /// The adaptive concurrency limit now.
    pub concurrency_limit: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("api_root", &self.inner.api_root).finish_non_exhaustive()
    }
}

/// One raw answer: the response plus the headers the retry logic needs.
pub(crate) struct Answer {
    pub(crate) response: GraphResponse,
    pub(crate) retry_after: Option<Duration>,
}

impl Client {
    /// A client for the Graph at `config.base_url`, getting tokens from `tokens`.
    pub fn new(config: GraphConfig, tokens: Arc<dyn AccessTokenProvider>) -> Result<Client> {
        let usage = |message: String| Error::Usage { operation: "create graph client".into(), message };
        let base = config.base_url.trim_end_matches('/');
        if !base.starts_with("https://") {
            return Err(usage(format!("graph base url `{base}` must start with https://")));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tenure-graph/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &config.extra_root_certificate_pem {
            let certificate = reqwest::Certificate::from_pem(pem)
                .map_err(|error| usage(format!("extra root certificate is not a PEM certificate: {error}")))?;
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder.build().map_err(|error| usage(format!("cannot build the https client: {error}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                api_root: format!("{base}/v1.0"),
                tokens,
                max_attempts: config.max_attempts.max(1),
                throttle: Throttle::new(config.max_concurrency),
                counters: Counters::default(),
            }),
        })
    }

    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> ClientStats {
        let counters = &self.inner.counters;
        ClientStats {
            http_requests: counters.http_requests.load(Ordering::Relaxed),
            sub_requests: counters.sub_requests.load(Ordering::Relaxed),
            throttled: counters.throttled.load(Ordering::Relaxed),
            retries: counters.retries.load(Ordering::Relaxed),
            retry_after_waited_ms: counters.retry_after_waited_ms.load(Ordering::Relaxed),
            concurrency_limit: self.inner.throttle.limit(),
        }
    }

    /// `{base_url}/v1.0`.
    pub(crate) fn api_root(&self) -> &str {
        &self.inner.api_root
    }

    /// Sends one request directly (not batched), retrying transient failures up to `max_attempts` times.
    /// Returns Graph's answer whatever its status (check [`GraphResponse::is_success`]); errs only when no
    /// answer came after every attempt (or no token could be had).
    pub async fn send(&self, request: GraphRequest) -> Result<GraphResponse> {
        let operation = format!("{} {}", request.method, path_only(&request.path));
        let url = format!("{}{}", self.inner.api_root, request.path);
        let body = request.body.map(|body| self.rebase_references(body));
        self.with_retry(&operation, request.method, &url, body.as_ref()).await.map(|answer| answer.response)
    }

    /// `GET` of an absolute URL (under this client's Graph root), retried; a non-2xx answer is an error.
    pub(crate) async fn get_json(&self, operation: &str, url: &str) -> Result<GraphResponse> {
        if !url.starts_with(&self.inner.api_root) {
            return Err(Error::InvalidResponse {
                operation: operation.to_string(),
                message: "a next or delta link points outside the configured graph root".into(),
                request_id: None,
            });
        }
        let answer = self.with_retry(operation, Method::GET, url, None).await?;
        if answer.response.is_success() {
            Ok(answer.response)
        } else {
            Err(Error::from_response(operation, &answer.response, answer.retry_after))
        }
    }

    async fn with_retry(&self, operation: &str, method: Method, url: &str, body: Option<&Value>) -> Result<Answer> {
        let mut attempt = 1;
        loop {
            let result = self.attempt(operation, method.clone(), url, body).await;
            let retry_after = match &result {
                Ok(answer) if transient_status(answer.response.status) => answer.retry_after,
                Err(error) if error.is_transient() => None,
                _ => return result,
            };
            if attempt >= self.inner.max_attempts {
                return result;
            }
            self.backoff(attempt, retry_after).await;
            self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            attempt += 1;
        }
    }

    /// One HTTP request: permit, token, send, read. Records 429s in the throttle and the counters. A 401
    /// `InvalidAuthenticationToken` (the token expired early by the service's clock, or was revoked) is answered
    /// once more with a freshly acquired token.
    pub(crate) async fn attempt(
        &self,
        operation: &str,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Answer> {
        let answer = self.attempt_with_token(operation, method.clone(), url, body, false).await?;
        let refused = answer.response.status == 401
            && answer.response.body["error"]["code"].as_str() == Some("InvalidAuthenticationToken");
        if refused {
            return self.attempt_with_token(operation, method, url, body, true).await;
        }
        Ok(answer)
    }

    async fn attempt_with_token(
        &self,
        operation: &str,
        method: Method,
        url: &str,
        body: Option<&Value>,
        fresh_token: bool,
    ) -> Result<Answer> {
        let token = if fresh_token {
            self.inner.tokens.fresh_access_token().await
        } else {
            self.inner.tokens.access_token().await
        };
        let token = token.map_err(|source| Error::Token { operation: operation.to_string(), source })?;
        let permit = self.inner.throttle.acquire().await;
        self.inner.counters.http_requests.fetch_add(1, Ordering::Relaxed);
        let mut request = self
            .inner
            .http
            .request(method, url)
            .bearer_auth(token.token.expose())
            .header("client-request-id", uuid::Uuid::new_v4().to_string())
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body.to_string());
        }
        let response = request.send().await.map_err(|error| Error::transport(operation, &error))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|error| Error::transport(operation, &error))?;
        drop(permit);
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        let request_id = header_text(&headers, "request-id")
            .or_else(|| body["error"]["innerError"]["request-id"].as_str().map(str::to_string));
        let retry_after = retry_after(&headers);
        self.record(status, retry_after);
        Ok(Answer { response: GraphResponse { status, body, request_id }, retry_after })
    }

    fn record(&self, status: u16, retry_after: Option<Duration>) {
        if status == 429 {
            self.inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
            self.inner.throttle.throttled(retry_after.unwrap_or(Duration::from_secs(1)));
        } else if !transient_status(status) {
            self.inner.throttle.succeeded();
        }
    }

    /// Waits before attempt `attempt + 1`: the larger of a jittered exponential backoff and `retry_after`.
    async fn backoff(&self, attempt: u32, retry_after: Option<Duration>) {
        let exponential = BASE_BACKOFF.saturating_mul(1 << (attempt - 1).min(16)).min(MAX_BACKOFF);
        let mut rng = rand::rngs::StdRng::from_os_rng();
        let jittered = exponential / 2 + exponential.mul_f64(rng.random::<f64>() / 2.0);
        let wait = match retry_after.map(|after| after.min(MAX_RETRY_AFTER)) {
            Some(after) if after > jittered => {
                let extra = after - jittered;
                self.inner
                    .counters
                    .retry_after_waited_ms
                    .fetch_add(u64::try_from(extra.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
                after
            }
            _ => jittered,
        };
        tokio::time::sleep(wait).await;
    }

    /// Sends up to 20 requests as one `$batch` and returns their answers in the order given.
    ///
    /// Sub-requests answered 429, 500, 502, 503 or 504 are sent again (in a new `$batch`) after the larger
    /// of a jittered exponential backoff and the largest `Retry-After` among them, up to `max_attempts` in
    /// all; after that their last answer is returned as is. A whole `$batch` that fails transiently
    /// (timeout, broken connection, 429, 5xx) is retried the same way and errs when attempts run out; any
    /// other failure of the whole `$batch` errs at once. 404s and other client errors are returned for the
    /// caller to interpret.
    pub async fn send_batch(&self, requests: Vec<GraphRequest>) -> Result<Vec<GraphResponse>> {
        const OPERATION: &str = "$batch";
        if requests.len() > MAX_BATCH {
            return Err(Error::Usage {
                operation: OPERATION.into(),
                message: format!("{} requests given, at most {MAX_BATCH} fit in one batch", requests.len()),
            });
        }
        let items: Vec<Value> =
            requests.into_iter().enumerate().map(|(index, request)| self.batch_item(index, request)).collect();
        let mut answers: Vec<Option<GraphResponse>> = vec![None; items.len()];
        let mut pending: Vec<usize> = (0..items.len()).collect();
        let url = format!("{}/$batch", self.inner.api_root);
        let mut attempt = 1;
        while !pending.is_empty() {
            let body = json!({"requests": pending.iter().map(|index| items[*index].clone()).collect::<Vec<_>>()});
            self.inner.counters.sub_requests.fetch_add(pending.len() as u64, Ordering::Relaxed);
            let last = attempt >= self.inner.max_attempts;
            let result = self.attempt(OPERATION, Method::POST, &url, Some(&body)).await;
            let retry_after = match result {
                Err(error) if error.is_transient() && !last => None,
                Err(error) => return Err(error),
                Ok(answer) if transient_status(answer.response.status) && !last => answer.retry_after,
                Ok(answer) if !answer.response.is_success() => {
                    return Err(Error::from_response(OPERATION, &answer.response, answer.retry_after));
                }
                Ok(answer) => {
                    let (retry, wait) = self.take_sub_responses(&answer.response, &mut answers, &pending, last)?;
                    pending = retry;
                    wait
                }
            };
            if pending.is_empty() {
                break;
            }
            self.backoff(attempt, retry_after).await;
            self.inner.counters.retries.fetch_add(pending.len() as u64, Ordering::Relaxed);
            attempt += 1;
        }
        Ok(answers
            .into_iter()
            .map(|answer| answer.expect("every request has an answer once none is pending"))
            .collect())
    }

    /// Files the sub-responses of one `$batch` answer; returns the indexes to retry and the largest
    /// `Retry-After` among them.
    fn take_sub_responses(
        &self,
        batch: &GraphResponse,
        answers: &mut [Option<GraphResponse>],
        pending: &[usize],
        last: bool,
    ) -> Result<(Vec<usize>, Option<Duration>)> {
        let invalid = |message: String| Error::InvalidResponse {
            operation: "$batch".into(),
            message,
            request_id: batch.request_id.clone(),
        };
        let responses = batch.body["responses"].as_array().ok_or_else(|| invalid("no `responses` array".into()))?;
        let mut retry = Vec::new();
        let mut largest: Option<Duration> = None;
        let mut throttled: Option<Duration> = None;
        for response in responses {
            let index = response["id"]
                .as_str()
                .and_then(|id| id.parse::<usize>().ok())
                .filter(|index| pending.contains(index))
                .ok_or_else(|| invalid(format!("a response has an unknown id {}", response["id"])))?;
            let status = response["status"]
                .as_u64()
                .and_then(|status| u16::try_from(status).ok())
                .ok_or_else(|| invalid(format!("response {index} has no status")))?;
            let headers = &response["headers"];
            let body = response.get("body").cloned().unwrap_or(Value::Null);
            let request_id = headers_value(headers, "request-id")
                .or_else(|| body["error"]["innerError"]["request-id"].as_str().map(str::to_string))
                .or_else(|| batch.request_id.clone());
            let retry_after = headers_value(headers, "retry-after").and_then(|text| parse_retry_after(&text));
            if status == 429 {
                self.inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
                throttled = throttled.max(Some(retry_after.unwrap_or(Duration::from_secs(1))));
            }
            if transient_status(status) && !last {
                retry.push(index);
                largest = largest.max(retry_after);
            } else {
                answers[index] = Some(GraphResponse { status, body, request_id });
            }
        }
        if let Some(pause) = throttled {
            // One halving per batch, however many of its sub-requests were throttled.
            self.inner.throttle.throttled(pause);
        }
        if let Some(missing) = pending.iter().find(|index| answers[**index].is_none() && !retry.contains(index)) {
            return Err(invalid(format!("no response for request {missing}")));
        }
        Ok((retry, largest))
    }

    /// The `$batch` JSON of request `index` (its id is the index).
    fn batch_item(&self, index: usize, request: GraphRequest) -> Value {
        let mut item = Map::new();
        item.insert("id".into(), Value::String(index.to_string()));
        item.insert("method".into(), Value::String(request.method.to_string()));
        item.insert("url".into(), Value::String(request.path));
        let needs_body = matches!(request.method, Method::POST | Method::PATCH | Method::PUT);
        let body = match request.body {
            Some(body) => Some(self.rebase_references(body)),
            None if needs_body => Some(json!({})),
            None => None,
        };
        if let Some(body) = body {
            item.insert("headers".into(), json!({"Content-Type": "application/json"}));
            item.insert("body".into(), body);
        }
        Value::Object(item)
    }

    /// Rewrites `https://graph.microsoft.com/v1.0/…` references (`@odata.id`, `…@odata.bind`) onto this
    /// client's Graph root, for national clouds and the sandbox.
    fn rebase_references(&self, mut body: Value) -> Value {
        let own_root = format!("{}/", self.inner.api_root);
        if own_root == GLOBAL_ROOT {
            return body;
        }
        let rebase = |text: &mut Value| {
            if let Some(rest) = text.as_str().and_then(|value| value.strip_prefix(GLOBAL_ROOT)) {
                *text = Value::String(format!("{own_root}{rest}"));
            }
        };
        if let Some(object) = body.as_object_mut() {
            for (key, value) in object.iter_mut() {
                if key == "@odata.id" {
                    rebase(value);
                } else if key.ends_with("@odata.bind") {
                    match value {
                        Value::Array(values) => values.iter_mut().for_each(rebase),
                        other => rebase(other),
                    }
                }
            }
        }
        body
    }
}

/// The path without its query string (query strings may carry long filters; operations stay short).
fn path_only(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_string)
}

/// A header of a `$batch` sub-response (names compared case-insensitively).
fn headers_value(headers: &Value, name: &str) -> Option<String> {
    headers.as_object()?.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).and_then(|(_, value)| match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    })
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers.get(RETRY_AFTER).and_then(|value| value.to_str().ok()).and_then(parse_retry_after)
}

/// `Retry-After` in seconds (Graph sends delta-seconds).
pub(crate) fn parse_retry_after(text: &str) -> Option<Duration> {
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_as_seconds() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("soon"), None);
        let headers = json!({"Retry-After": "7", "request-id": "abc"});
        assert_eq!(headers_value(&headers, "retry-after").as_deref(), Some("7"));
        assert_eq!(headers_value(&headers, "Request-Id").as_deref(), Some("abc"));
    }
}
