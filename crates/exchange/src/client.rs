//! [`ExchangeClient`]: one tenant's connection to the admin API, and [`ExchangeClient::invoke`] — run one cmdlet,
//! follow `@odata.nextLink` to the end, collect the objects and `@adminapi.warnings`.
//!
//! The HTTP plumbing under it (headers, tokens, retries, throttling) is in [`crate::send`]; the typed operations
//! over it are in `mailboxes`, `permissions`, `groups` and `role_check`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use model::AccessTokenProvider;
use serde_json::{Map, Value, json};

use crate::config::ExchangeConfig;
use crate::error::{Error, ErrorKind, Result};
use throttle::Throttle;

/// An Exchange Online admin API client for one tenant.
///
/// Cheap to clone: clones share the HTTP connection pool, the token provider, the `connection-id`, the counters
/// and the throttle (the `throttle` crate: an adaptive in-flight limit halved by the tenant's concurrency 429, and
/// a pause of every sender while the request quota is spent).
#[derive(Clone)]
pub struct ExchangeClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    /// `{base}/adminapi/beta/{tenant}/InvokeCommand`.
    pub(crate) invoke_url: String,
    /// The base URL, parsed: next links must stay under it.
    pub(crate) base: reqwest::Url,
    /// `X-AnchorMailbox`.
    pub(crate) anchor: String,
    /// `connection-id`: one per client, as the module keeps one per session.
    pub(crate) connection_id: String,
    /// `Prefer: odata.maxpagesize=…`.
    pub(crate) prefer: String,
    pub(crate) tokens: Arc<dyn AccessTokenProvider>,
    pub(crate) max_attempts: u32,
    pub(crate) throttle: Throttle,
    pub(crate) counters: Counters,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) throttled: AtomicU64,
    pub(crate) pages: AtomicU64,
    pub(crate) quota_pauses: AtomicU64,
}

/// What a client has done so far (all clones together), for benchmarks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Requests sent again after a transient failure or a refused token.
    pub retries: u64,
    /// Answers that were 429 (quota or concurrency).
    pub throttled: u64,
    /// Successful pages read (a cmdlet with one page of output, or none, counts one).
    pub pages: u64,
    /// Times every sender was paused because `Rate-Limit-Remaining` reached 0.
    pub quota_pauses: u64,
    /// The adaptive concurrency limit now.
    pub concurrency_limit: usize,
}

/// A cmdlet's whole output: its objects (every page) and its warnings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CmdletOutput {
    /// The objects, in the order Exchange gave them.
    pub objects: Vec<Map<String, Value>>,
    /// `@adminapi.warnings` of every page ("The appropriate access control entry is already present…").
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for ExchangeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeClient")
            .field("invoke_url", &self.inner.invoke_url)
            .field("anchor", &self.inner.anchor)
            .finish_non_exhaustive()
    }
}

impl ExchangeClient {
    /// A client for the tenant and host in `config`, getting tokens (scope `https://{exchange host}/.default`)
    /// from `tokens`.
    pub fn new(config: ExchangeConfig, tokens: Arc<dyn AccessTokenProvider>) -> Result<ExchangeClient> {
        const OPERATION: &str = "create the Exchange client";
        if let Some(problem) = config.problem() {
            return Err(Error::usage(OPERATION, problem));
        }
        let base_text = config.base_url.trim_end_matches('/');
        let base = reqwest::Url::parse(base_text)
            .map_err(|error| Error::usage(OPERATION, format!("the base URL is not a URL: {error}")))?;
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tenure-exchange/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &config.extra_root_certificate_pem {
            let certificate = reqwest::Certificate::from_pem(pem).map_err(|error| {
                Error::usage(OPERATION, format!("the extra root certificate is not a PEM certificate: {error}"))
            })?;
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder
            .build()
            .map_err(|error| Error::usage(OPERATION, format!("cannot build the HTTPS client: {error}")))?;
        Ok(ExchangeClient {
            inner: Arc::new(Inner {
                http,
                invoke_url: format!("{base_text}/adminapi/beta/{}/InvokeCommand", config.tenant),
                base,
                anchor: config.anchor.header_value(&config.tenant),
                connection_id: uuid::Uuid::new_v4().to_string(),
                prefer: format!("odata.maxpagesize={}", config.page_size),
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
            requests: counters.requests.load(Ordering::Relaxed),
            retries: counters.retries.load(Ordering::Relaxed),
            throttled: counters.throttled.load(Ordering::Relaxed),
            pages: counters.pages.load(Ordering::Relaxed),
            quota_pauses: counters.quota_pauses.load(Ordering::Relaxed),
            concurrency_limit: self.inner.throttle.limit(),
        }
    }

    /// Runs `cmdlet` with `parameters` and returns every object it output (all pages).
    ///
    /// Transient failures are retried (see [`Error::is_transient`]); any other error answer is returned as a
    /// typed [`Error`]. Warnings are dropped here; [`ExchangeClient::invoke_with_warnings`] keeps them.
    pub async fn invoke(&self, cmdlet: &str, parameters: Map<String, Value>) -> Result<Vec<Map<String, Value>>> {
        self.invoke_with_warnings(cmdlet, parameters).await.map(|output| output.objects)
    }

    /// Runs `cmdlet` with `parameters`, following `@odata.nextLink` (posting the same body) until the last page,
    /// and returns the objects and the `@adminapi.warnings` of every page. One `client-request-id` serves the
    /// whole call: its pages and their retries.
    pub async fn invoke_with_warnings(&self, cmdlet: &str, parameters: Map<String, Value>) -> Result<CmdletOutput> {
        let valid_name =
            !cmdlet.is_empty() && cmdlet.chars().all(|character| character.is_ascii_alphanumeric() || character == '-');
        if !valid_name {
            return Err(Error::usage(cmdlet, "the cmdlet name may hold only ASCII letters, digits and hyphens"));
        }
        let body = json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}).to_string();
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut url = self.inner.invoke_url.clone();
        let mut output = CmdletOutput::default();
        loop {
            let answer = self.send_with_retry(cmdlet, &url, &body, &request_id).await?;
            self.inner.counters.pages.fetch_add(1, Ordering::Relaxed);
            let next = read_page(cmdlet, answer.body, answer.request_id.as_deref(), &mut output)?;
            match next {
                Some(next) => url = self.checked_next_link(cmdlet, next)?,
                None => break,
            }
        }
        for warning in &output.warnings {
            tracing::debug!(cmdlet, warning = warning.as_str(), "Exchange warned.");
        }
        Ok(output)
    }

    /// A next link, refused unless it stays on this client's host under its base path (the token goes with it).
    fn checked_next_link(&self, cmdlet: &str, link: String) -> Result<String> {
        let base = &self.inner.base;
        let same_place = reqwest::Url::parse(&link).is_ok_and(|url| {
            url.scheme() == base.scheme()
                && url.host_str() == base.host_str()
                && url.port_or_known_default() == base.port_or_known_default()
                && url.path().starts_with(&format!("{}/adminapi/", base.path().trim_end_matches('/')))
        });
        if same_place {
            Ok(link)
        } else {
            Err(Error::new(
                ErrorKind::InvalidResponse,
                cmdlet,
                "an @odata.nextLink points outside the Exchange base URL",
            ))
        }
    }
}

/// Files one page's objects and warnings into `output`; returns its `@odata.nextLink`, if any.
fn read_page(cmdlet: &str, body: Value, request_id: Option<&str>, output: &mut CmdletOutput) -> Result<Option<String>> {
    let invalid = |message: &str| {
        let mut error = Error::new(ErrorKind::InvalidResponse, cmdlet, message);
        error.inner.request_id = request_id.map(str::to_string);
        error
    };
    let Value::Object(mut page) = body else {
        // `204 No Content`: a cmdlet without output or warnings.
        return if body.is_null() { Ok(None) } else { Err(invalid("the answer is not a JSON object")) };
    };
    if let Some(warnings) = page.remove("@adminapi.warnings") {
        match warnings {
            Value::Array(items) => output.warnings.extend(items.into_iter().filter_map(|item| match item {
                Value::String(text) => Some(text),
                _ => None,
            })),
            Value::Null => {}
            _ => return Err(invalid("@adminapi.warnings is not a list")),
        }
    }
    match page.remove("value") {
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::Object(object) => output.objects.push(object),
                    _ => return Err(invalid("an item of `value` is not an object")),
                }
            }
        }
        Some(Value::Null) | None => {}
        Some(_) => return Err(invalid("`value` is not a list")),
    }
    match page.remove("@odata.nextLink") {
        Some(Value::String(link)) => Ok(Some(link)),
        Some(Value::Null) | None => Ok(None),
        Some(_) => Err(invalid("@odata.nextLink is not a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_gives_objects_warnings_and_the_next_link() {
        let mut output = CmdletOutput::default();
        let page = json!({"@odata.context": "x", "@adminapi.warnings": ["careful"], "value": [{"Name": "a"}],
                          "@odata.nextLink": "https://host/adminapi/beta/t/InvokeCommand?$skiptoken=1"});
        let next = read_page("Get-Mailbox", page, None, &mut output).unwrap();
        assert_eq!(next.as_deref(), Some("https://host/adminapi/beta/t/InvokeCommand?$skiptoken=1"));
        assert_eq!(output.warnings, vec!["careful".to_string()]);
        assert_eq!(output.objects[0]["Name"], "a");
        assert_eq!(read_page("Set-Mailbox", Value::Null, None, &mut output).unwrap(), None, "204 ends the call");
        let bad = read_page("Get-Mailbox", json!({"value": [1]}), Some("rid"), &mut output).unwrap_err();
        assert_eq!(bad.kind(), &ErrorKind::InvalidResponse);
        assert_eq!(bad.request_id(), Some("rid"));
    }
}
