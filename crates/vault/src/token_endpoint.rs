//! Talking to the identity platform's token endpoint (`POST {login}/{tenant}/oauth2/v2.0/token`), shared by every
//! grant `vault` speaks: building the HTTPS client, posting a form with a few retries on transient failures,
//! reading the token answer, and turning an error answer (`error`, `error_description` with its `AADSTS` code)
//! into a [`TokenError`] an admin can act on — the code and the platform's own words kept, the trace id for a
//! support case, and no secret.
//!
//! Transient: network failures, timeouts, HTTP 429 and 5xx, and `temporarily_unavailable`. Everything else
//! (a wrong secret, an unknown tenant, a missing consent) needs a person and is not retried.
//!
//! Grants that act for a user also need the rest of a successful answer (the rotated `refresh_token`, the
//! `id_token`: [`TokenResponse`]) and, on failure, the OAuth `error` value and the AADSTS
//! number ([`EndpointFailure`]) — `invalid_grant` means the grant is gone and an admin must link again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use model::{AccessToken, Secret, TokenError};
use reqwest::StatusCode;
use serde_json::Value;

use crate::error::{Error, Result};

/// Attempts per token request when the failures are transient.
const MAX_ATTEMPTS: u32 = 3;
/// The first back-off; doubled for each further attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between attempts, whatever `Retry-After` says.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Whole-request timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Connection timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTPS client for the login host that trusts the system roots plus `extra_root_certificate_pem` (e.g. the
/// sandbox's CA) and does not follow redirects.
pub(crate) fn http_client(extra_root_certificate_pem: Option<&[u8]>) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tenure-vault/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = extra_root_certificate_pem {
        let certificates = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|error| Error::InvalidRootCertificate { reason: error_chain(&error) })?;
        if certificates.is_empty() {
            return Err(Error::InvalidRootCertificate { reason: "no PEM certificate found".into() });
        }
        builder = builder.tls_certs_merge(certificates);
    }
    builder.build().map_err(|error| Error::HttpClient { reason: error_chain(&error) })
}

/// One token endpoint of one client in one tenant.
#[derive(Debug)]
pub(crate) struct TokenEndpoint {
    http: reqwest::Client,
    url: String,
    /// "client … in tenant …", for messages.
    who: String,
    requests: AtomicU64,
}

/// A form field's value: plain, or a secret that must not appear in any message.
pub(crate) enum FormValue {
    /// Ordinary text.
    Plain(String),
    /// A client secret or a signed assertion.
    Secret(Secret),
}

impl TokenEndpoint {
    /// The endpoint at `url`, for `client_id` in `tenant_id`.
    pub(crate) fn new(http: reqwest::Client, url: String, tenant_id: &str, client_id: &str) -> Self {
        Self { http, url, who: format!("client {client_id} in tenant {tenant_id}"), requests: AtomicU64::new(0) }
    }

    /// The token endpoint's URL (also the `aud` of client assertions).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// HTTP requests sent so far (each retry counts).
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Posts the form `make_form` builds (afresh for each attempt, so an assertion gets a new `jti`) and returns
    /// the access token, retrying transient failures.
    pub(crate) async fn request_token(
        &self,
        make_form: impl Fn() -> Result<Vec<(&'static str, FormValue)>, TokenError>,
    ) -> Result<AccessToken, TokenError> {
        self.request(make_form).await.map(|response| response.access_token).map_err(|failure| failure.error)
    }

    /// Like [`Self::request_token`], with the whole answer on success and the error's `error` value and AADSTS
    /// number on failure.
    pub(crate) async fn request(
        &self,
        make_form: impl Fn() -> Result<Vec<(&'static str, FormValue)>, TokenError>,
    ) -> Result<TokenResponse, EndpointFailure> {
        let mut attempt = 1;
        loop {
            let form = make_form().map_err(EndpointFailure::local)?;
            match self.attempt(&form).await {
                Ok(response) => return Ok(response),
                Err(failure) if failure.failure.error.transient && attempt < MAX_ATTEMPTS => {
                    let backoff = FIRST_BACKOFF * 2_u32.pow(attempt - 1);
                    let wait = failure.retry_after.unwrap_or(backoff).min(MAX_BACKOFF);
                    tracing::warn!(
                        endpoint = %self.url, attempt, error = %failure.failure.error, "token request failed, retrying"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(failure) => return Err(failure.failure),
            }
        }
    }

    async fn attempt(&self, form: &[(&'static str, FormValue)]) -> Result<TokenResponse, Failure> {
        let pairs: Vec<(&str, &str)> = form
            .iter()
            .map(|(name, value)| match value {
                FormValue::Plain(text) => (*name, text.as_str()),
                FormValue::Secret(secret) => (*name, secret.expose()),
            })
            .collect();
        let secrets: Vec<&str> = form
            .iter()
            .filter_map(|(_, value)| match value {
                FormValue::Secret(secret) => Some(secret.expose()),
                FormValue::Plain(_) => None,
            })
            .collect();
        let correlation = uuid::Uuid::new_v4().to_string();
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = self
            .http
            .post(&self.url)
            .header("client-request-id", &correlation)
            .header("return-client-request-id", "true")
            .form(&pairs)
            .send()
            .await
            .map_err(|error| self.network_failure(&error, &secrets))?;
        let status = response.status();
        let request_id =
            response.headers().get("x-ms-request-id").and_then(|value| value.to_str().ok()).map(str::to_string);
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(|error| self.network_failure(&error, &secrets))?;
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        if status.is_success() {
            return self
                .read_token(json.as_ref())
                .map_err(|error| Failure { failure: EndpointFailure::local(error), retry_after: None });
        }
        let failure = self.error_answer(status, json.as_ref(), request_id.as_deref(), &correlation, &secrets);
        Err(Failure { failure, retry_after })
    }

    fn read_token(&self, json: Option<&Value>) -> Result<TokenResponse, TokenError> {
        let problem = |what: &str| TokenError {
            message: format!("token request for {} at {}: the answer {what}", self.who, self.url),
            transient: false,
            needs_relink: false,
        };
        let json = json.ok_or_else(|| problem("is not JSON"))?;
        let token = json.get("access_token").and_then(Value::as_str).ok_or_else(|| problem("has no access_token"))?;
        let expires_in = match json.get("expires_in") {
            Some(Value::Number(number)) => number.as_i64(),
            Some(Value::String(text)) => text.trim().parse().ok(),
            _ => None,
        }
        .filter(|seconds| *seconds > 0)
        .ok_or_else(|| problem("has no valid expires_in"))?;
        let text = |key: &str| json.get(key).and_then(Value::as_str).filter(|value| !value.is_empty());
        Ok(TokenResponse {
            access_token: AccessToken {
                token: Secret::new(token),
                expires_at: Utc::now() + chrono::Duration::seconds(expires_in),
            },
            refresh_token: text("refresh_token").map(Secret::new),
            id_token: text("id_token").map(Secret::new),
        })
    }

    fn error_answer(
        &self,
        status: StatusCode,
        json: Option<&Value>,
        request_id: Option<&str>,
        correlation: &str,
        secrets: &[&str],
    ) -> EndpointFailure {
        let text = |key: &str| json.and_then(|json| json.get(key)).and_then(Value::as_str);
        let code = text("error");
        let transient = status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || code == Some("temporarily_unavailable");
        let trace = text("trace_id").or(request_id);
        let correlation = text("correlation_id").unwrap_or(correlation);
        let mut details = vec![format!("HTTP {}", status.as_u16())];
        if let Some(code) = code {
            details.insert(0, code.to_string());
        }
        if let Some(trace) = trace {
            details.push(format!("trace id {trace}"));
        }
        details.push(format!("correlation id {correlation}"));
        // The description's first line is "AADSTS…: text"; the following lines repeat the ids and timestamp.
        let description = text("error_description")
            .and_then(|description| description.lines().next())
            .map(str::trim)
            .filter(|line| !line.is_empty());
        let what = match description {
            Some(line) => line.to_string(),
            None if json.is_some() => "the identity platform refused the request".to_string(),
            None => format!("the login host answered HTTP {status} without an identity-platform error"),
        };
        let message = format!("token request for {} at {} failed: {what} ({})", self.who, self.url, details.join(", "));
        let aadsts = json
            .and_then(|json| json.get("error_codes"))
            .and_then(Value::as_array)
            .and_then(|codes| codes.first())
            .and_then(Value::as_u64)
            .and_then(|code| u32::try_from(code).ok())
            .or_else(|| description.and_then(aadsts_of));
        EndpointFailure {
            error: TokenError { message: redact(message, secrets), transient, needs_relink: false },
            error_code: code.map(str::to_string),
            aadsts,
        }
    }

    fn network_failure(&self, error: &reqwest::Error, secrets: &[&str]) -> Failure {
        let message = format!("token request for {} at {} failed: {}", self.who, self.url, error_chain(error));
        let error = TokenError { message: redact(message, secrets), transient: true, needs_relink: false };
        Failure { failure: EndpointFailure::local(error), retry_after: None }
    }
}

/// A successful answer of the token endpoint.
pub(crate) struct TokenResponse {
    /// The access token and its expiry.
    pub(crate) access_token: AccessToken,
    /// The new refresh token (grants that act for a user, with `offline_access`).
    pub(crate) refresh_token: Option<Secret>,
    /// The id_token (when `openid` was asked).
    pub(crate) id_token: Option<Secret>,
}

/// Why a token request failed: the error for the admin, and what the identity platform said, when it answered.
#[derive(Debug, Clone)]
pub(crate) struct EndpointFailure {
    /// The error, as [`TokenEndpoint::request_token`] reports it.
    pub(crate) error: TokenError,
    /// The OAuth `error` value, e.g. `invalid_grant`.
    pub(crate) error_code: Option<String>,
    /// The AADSTS number, e.g. `50173`.
    pub(crate) aadsts: Option<u32>,
}

impl EndpointFailure {
    /// A failure found before or without an identity-platform answer.
    pub(crate) fn local(error: TokenError) -> Self {
        Self { error, error_code: None, aadsts: None }
    }
}

/// A failed attempt and how long the server asked us to wait.
struct Failure {
    failure: EndpointFailure,
    retry_after: Option<Duration>,
}

/// The number of a description that starts `AADSTS{number}:`.
fn aadsts_of(description: &str) -> Option<u32> {
    let digits: String = description.strip_prefix("AADSTS")?.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// An error and its sources, joined with `": "`.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Replaces every occurrence of a secret (should the server ever echo one) by `[redacted]`.
fn redact(mut message: String, secrets: &[&str]) -> String {
    for secret in secrets.iter().filter(|secret| secret.len() >= 4) {
        message = message.replace(secret, "[redacted]");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_every_occurrence() {
        assert_eq!(redact("a s3cret b s3cret".into(), &["s3cret"]), "a [redacted] b [redacted]");
    }

    #[test]
    fn the_aadsts_number_is_read_from_a_description() {
        assert_eq!(aadsts_of("AADSTS50173: The provided grant has expired"), Some(50173));
        assert_eq!(aadsts_of("something else"), None);
    }

    #[test]
    fn a_broken_extra_root_is_a_configuration_error() {
        assert!(matches!(http_client(Some(b"not a pem")), Err(Error::InvalidRootCertificate { .. })));
    }
}
