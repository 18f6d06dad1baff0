//! Microsoft Graph client: observe users/groups/licences via delta, apply writes in `$batch`, throttle-aware.
//!
//! This crate is one of the engine's I/O leaves: it depends on `model` only (never on `vault` or `store`), gets
//! its access tokens through [`model::AccessTokenProvider`], and speaks Graph v1.0 over HTTPS with `reqwest`.
//!
//! - Reading: [`Client::observe_full`] runs a users delta (every managed attribute plus naming properties,
//!   licences and the `manager` relationship), a groups delta (with `members`), lists soft-deleted users and
//!   reads `subscribedSkus`; [`Client::observe_incremental`] applies the next delta rounds to a cached
//!   [`model::ObservedState`] (four requests when nothing changed) and falls back to a full read when Graph
//!   says the sync state is gone.
//! - Writing: [`request_for`] turns one plan [`model::Action`] into one [`GraphRequest`]; [`Client::send_batch`]
//!   sends up to 20 of them as one `$batch` and retries throttled or failed sub-requests; [`Client::send`]
//!   sends one directly with the same retry rules.
//! - Throttling: every clone of a [`Client`] shares one throttle (see [`Client`] for the design): a 429 pauses
//!   all senders until its `Retry-After` has passed and halves an adaptive concurrency limit.

mod client;
mod convert;
mod error;
mod observe;
mod write;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use client::{Client, ClientStats};
pub use error::{Error, Result, TransportKind};
pub use reqwest::Method;
pub use write::{generate_password, request_for};

/// How to reach Graph and how hard to try.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// The Graph root without `/v1.0`: `https://graph.microsoft.com`, a national cloud's host, or the
    /// sandbox (`https://127.0.0.1:PORT` or `https://127.0.0.1:PORT/graph.microsoft.us`).
    pub base_url: String,
    /// An extra CA certificate (PEM) to trust besides the system's, e.g. the sandbox's.
    pub extra_root_certificate_pem: Option<Vec<u8>>,
    /// Timeout of one HTTP request (connect to last byte).
    pub timeout: Duration,
    /// How many times one request (or sub-request) is tried in all, at least 1.
    pub max_attempts: u32,
    /// The most HTTP requests in flight at once across all clones; the adaptive limit starts here.
    pub max_concurrency: usize,
}

/// Where the users and groups delta syncs stand: the `@odata.deltaLink` of each, stored with the cached
/// observation and handed back to [`Client::observe_incremental`].
#[derive(Debug, Serialize, Deserialize, Clone, Default, PartialEq, Eq)]
pub struct DeltaLinks {
    /// The users delta link.
    pub users: Option<String>,
    /// The groups delta link.
    pub groups: Option<String>,
}

/// One Graph request, relative to `/v1.0`, as sent alone or inside a `$batch`.
///
/// References in the body (`@odata.id`, `members@odata.bind`) are written against
/// `https://graph.microsoft.com/v1.0/`; the client rebases them onto its own Graph root when it sends them
/// (national clouds, the sandbox). `Debug` hides any `passwordProfile`.
#[derive(Clone, PartialEq)]
pub struct GraphRequest {
    /// The HTTP method.
    pub method: Method,
    /// The path under `/v1.0`, starting with `/` (`/users/{id}`), with any query string.
    pub path: String,
    /// The JSON body, if any.
    pub body: Option<Value>,
}

impl fmt::Debug for GraphRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = self.body.as_ref().map(|body| {
            let mut shown = body.clone();
            if let Some(profile) = shown.get_mut("passwordProfile") {
                *profile = Value::String("[redacted]".into());
            }
            shown
        });
        f.debug_struct("GraphRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("body", &body)
            .finish()
    }
}

/// Graph's answer to one request or sub-request.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphResponse {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body (`Null` when there was none, a string when it was not JSON).
    pub body: Value,
    /// Graph's `request-id`, for support cases and the audit journal.
    pub request_id: Option<String>,
}

impl GraphResponse {
    /// Whether the status is 2xx.
    #[must_use]
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether Graph answered 404 (the object does not exist, or is not yet visible after a create).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// Whether Graph refused the write because the value or reference already exists (`ObjectConflict`, or
    /// "added object references already exist" when adding a member twice).
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        let code = self.error_code().unwrap_or_default();
        let message = self.error_message().unwrap_or_default();
        self.status == 409
            || code.eq_ignore_ascii_case("ObjectConflict")
            || message.contains("already exist")
            || self.body["error"]["details"]
                .as_array()
                .is_some_and(|details| details.iter().any(|detail| detail["code"] == "ObjectConflict"))
    }

    /// Whether trying the same request again later may succeed (429, 500, 502, 503, 504).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        error::transient_status(self.status)
    }

    /// Graph's `error.code`, when the body is an error envelope.
    #[must_use]
    pub fn error_code(&self) -> Option<&str> {
        self.body["error"]["code"].as_str()
    }

    /// Graph's `error.message`, when the body is an error envelope.
    #[must_use]
    pub fn error_message(&self) -> Option<&str> {
        self.body["error"]["message"].as_str()
    }

    /// The `id` in the body (of a created object), when there is one.
    #[must_use]
    pub fn object_id(&self) -> Option<&str> {
        self.body["id"].as_str()
    }

    /// `Ok(self)` when the status is 2xx, else the [`Error::Api`] describing it, for `operation`.
    pub fn into_result(self, operation: &str) -> Result<GraphResponse> {
        if self.is_success() { Ok(self) } else { Err(Error::from_response(operation, &self, None)) }
    }
}
