//! Tenure's client for the Exchange Online admin API — the REST service behind the ExchangeOnlineManagement
//! module (v3): `POST {base}/adminapi/beta/{tenant}/InvokeCommand` with
//! `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}` (reference §4 of `microsoft-protocols.md`).
//!
//! This crate is one of the engine's I/O leaves: it depends on `model` only (never on `graph`, `vault`, `store`
//! or `sandbox`), gets its access tokens through [`model::AccessTokenProvider`], keeps Exchange's JSON private
//! and hands out `model` types.
//!
//! - [`ExchangeClient::invoke`] runs any cmdlet: the module's headers, paging by `@odata.nextLink`, warnings,
//!   retries, throttling (`client.rs`, `send.rs`, `answer.rs`; the adaptive limit and pause come from the `throttle` crate).
//! - Errors are typed ([`ErrorKind`]) from Exchange's error envelope (`classify.rs`); RBAC refusals name the
//!   role to add (`role_hint.rs`).
//! - Typed operations, idempotent for the caller ([`Outcome::AlreadyDone`]): mailboxes (`mailboxes.rs`),
//!   permissions (`permissions.rs`), distribution groups (`groups.rs`) and the role check (`role_check.rs`).

mod answer;
mod classify;
mod client;
mod config;
mod dto;
mod error;
mod groups;
mod mailboxes;
mod outcome;
mod permissions;
mod role_check;
mod role_hint;
mod send;

use serde_json::{Map, Value};

pub use client::{ClientStats, CmdletOutput, ExchangeClient};
pub use config::{Anchor, ExchangeConfig};
pub use error::{Error, ErrorKind, Result};
pub use groups::NewDistributionGroup;
pub use mailboxes::MailboxType;
pub use outcome::Outcome;

/// The parameter map of a `json!({...})` object literal (anything else gives no parameters).
pub(crate) fn parameters(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
