//! Sending one `InvokeCommand` request: the module's headers, the token, the shared throttle, and retries.
//!
//! Every request carries exactly the headers of the module's `Execute-Command` and `Populate-Headers`
//! (reference §4.1), with `X-ResponseFormat: json` as third-party clients send it. [`ExchangeClient::send_with_retry`]
//! retries what [`Error::is_transient`] says may pass, waiting the larger of a jittered exponential backoff and
//! the `Retry-After` Exchange asked for; a 401 that is not an RBAC refusal (the token expired by the service's
//! clock, or was revoked) is tried once more with [`model::AccessTokenProvider::fresh_access_token`].

use std::sync::atomic::Ordering;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use reqwest::header::{ACCEPT, ACCEPT_CHARSET, CONTENT_TYPE};

use crate::ExchangeClient;
use crate::answer::Answer;
use crate::classify::error_from_answer;
use crate::error::{Error, ErrorKind, Result};

/// First backoff step; doubled per attempt, with jitter, up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The longest `Retry-After` or quota pause honoured (a longer one is cut to this; Exchange's quota window is 10
/// minutes, so a spent quota resets within it).
const MAX_WAIT: Duration = Duration::from_secs(600);
/// Added to a pause until `Rate-Limit-Reset`: the reset is stamped when the service counted the request, so
/// without a margin the next request can arrive a few milliseconds before the new window opens.
const QUOTA_RESET_MARGIN: Duration = Duration::from_millis(500);
/// The pause after a quota 429 without `Retry-After`.
const DEFAULT_THROTTLE_PAUSE: Duration = Duration::from_secs(1);
/// The module sends its `$WarningPreference`; `Continue` lets warnings come back in `@adminapi.warnings`
/// (the exact value the module sends is unconfirmed).
const WARNING_ACTION: &str = "Continue";

impl ExchangeClient {
    /// POSTs `body` to `url` until it succeeds, fails for good, or `max_attempts` are spent; errs with the typed
    /// error of the last answer.
    pub(crate) async fn send_with_retry(
        &self,
        cmdlet: &str,
        url: &str,
        body: &str,
        request_id: &str,
    ) -> Result<Answer> {
        let counters = &self.inner.counters;
        let mut attempt = 1;
        let mut fresh_token_tried = false;
        let mut use_fresh_token = false;
        loop {
            let result = self.attempt(cmdlet, url, body, request_id, use_fresh_token).await;
            use_fresh_token = false;
            let error = match result {
                Ok(answer) if answer.is_success() => return Ok(answer),
                Ok(answer) => error_from_answer(cmdlet, &answer),
                Err(error) => error,
            };
            if error.kind() == &ErrorKind::Unauthenticated && !fresh_token_tried {
                fresh_token_tried = true;
                use_fresh_token = true;
                counters.retries.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if !error.is_transient() || attempt >= self.inner.max_attempts {
                return Err(error);
            }
            tracing::debug!(cmdlet, attempt, error = %error, "Exchange request failed for now; retrying.");
            self.backoff(attempt, error.retry_after()).await;
            counters.retries.fetch_add(1, Ordering::Relaxed);
            attempt += 1;
        }
    }

    /// One HTTP request: token, permit, send, read, record.
    async fn attempt(
        &self,
        cmdlet: &str,
        url: &str,
        body: &str,
        request_id: &str,
        fresh_token: bool,
    ) -> Result<Answer> {
        let inner = &self.inner;
        let token =
            if fresh_token { inner.tokens.fresh_access_token().await } else { inner.tokens.access_token().await };
        let token = token.map_err(|source| Error::token(cmdlet, source))?;
        let permit = inner.throttle.acquire().await;
        inner.counters.requests.fetch_add(1, Ordering::Relaxed);
        let response = inner
            .http
            .post(url)
            .bearer_auth(token.token.expose())
            .header(ACCEPT, "application/json")
            .header(ACCEPT_CHARSET, "UTF-8")
            .header(CONTENT_TYPE, "application/json")
            .header("X-CmdletName", cmdlet)
            .header("client-request-id", request_id)
            .header("connection-id", &inner.connection_id)
            .header("Prefer", &inner.prefer)
            .header("X-AnchorMailbox", &inner.anchor)
            .header("X-ResponseFormat", "json")
            .header("X-SerializationLevel", "Partial")
            .header("X-ClientApplication", "ExoManagementModule")
            .header("WarningAction", WARNING_ACTION)
            .body(body.to_string())
            .send()
            .await
            .map_err(|error| Error::transport(cmdlet, &error))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|error| Error::transport(cmdlet, &error))?;
        drop(permit);
        let answer = Answer::read(status, &headers, &bytes);
        tracing::debug!(cmdlet, status, request_id = answer.request_id.as_deref(), "Exchange answered.");
        self.record(&answer);
        Ok(answer)
    }

    /// Feeds an answer to the throttle and the counters.
    fn record(&self, answer: &Answer) {
        let inner = &self.inner;
        if answer.status == 429 {
            inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
            if answer.is_concurrency_refusal() {
                inner.throttle.halve();
            } else {
                inner.throttle.pause_for(answer.retry_after.unwrap_or(DEFAULT_THROTTLE_PAUSE).min(MAX_WAIT));
            }
        } else if !matches!(answer.status, 408 | 500..=599) {
            inner.throttle.succeeded();
        }
        if let Some(reset_in) = answer.quota_spent_for.filter(|wait| !wait.is_zero()) {
            inner.counters.quota_pauses.fetch_add(1, Ordering::Relaxed);
            inner.throttle.pause_for((reset_in + QUOTA_RESET_MARGIN).min(MAX_WAIT));
        }
    }

    /// Waits before attempt `attempt + 1`: the larger of a jittered exponential backoff and `retry_after`.
    async fn backoff(&self, attempt: u32, retry_after: Option<Duration>) {
        let exponential = BASE_BACKOFF.saturating_mul(1 << (attempt - 1).min(16)).min(MAX_BACKOFF);
        let mut rng = rand::rngs::StdRng::from_os_rng();
        let jittered = exponential / 2 + exponential.mul_f64(rng.random::<f64>() / 2.0);
        let wait = retry_after.map_or(jittered, |after| after.min(MAX_WAIT).max(jittered));
        tokio::time::sleep(wait).await;
    }
}
