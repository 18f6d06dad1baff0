//! The cmdlets the sandbox's Exchange admin API runs. Each family lives in its own file and lists its
//! cmdlets as [`Cmdlet`] values (name, typed parameters, and the function that runs it); [`find`] looks a
//! cmdlet up by name, case-insensitively, as the service does.
//!
//! A cmdlet runs with the tenant's write lock held ([`Invocation::tenant`]), so each one is atomic. It
//! returns the objects it outputs; the request handler pages, selects and wraps them.

pub mod auto_reply;
pub mod distribution_group;
pub mod group_member;
pub mod mailbox;
pub mod permission;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use super::caller::ExchangeCaller;
use super::error::ExchangeResult;
use super::params::{ParamSpec, Params};
use crate::directory::tenant::Tenant;

/// What a cmdlet runs with.
pub struct Invocation<'a> {
    /// The caller's tenant, locked for writing for the whole cmdlet.
    pub tenant: &'a mut Tenant,
    /// The caller (principal and roles).
    pub caller: &'a ExchangeCaller,
    /// Sandbox time of the request.
    pub now: DateTime<Utc>,
    /// When objects this cmdlet creates become visible to Graph reads (replication delay), if later than now.
    pub visible_from: Option<DateTime<Utc>>,
    /// How long a mailbox takes to provision.
    pub mailbox_delay: Duration,
    /// Warnings for `@adminapi.warnings`.
    pub warnings: Vec<String>,
}

/// The objects a cmdlet outputs.
pub type Output = Vec<Map<String, Value>>;

/// One cmdlet.
#[derive(Clone, Copy)]
pub struct Cmdlet {
    /// Canonical name, e.g. `Get-Mailbox`.
    pub name: &'static str,
    /// Its parameters (common parameters are added by binding).
    pub parameters: &'static [ParamSpec],
    /// Runs it.
    pub run: fn(&mut Invocation<'_>, &Params) -> ExchangeResult<Output>,
}

impl std::fmt::Debug for Cmdlet {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name)
    }
}

/// Every family's cmdlets.
fn families() -> [&'static [Cmdlet]; 5] {
    [mailbox::CMDLETS, distribution_group::CMDLETS, group_member::CMDLETS, permission::CMDLETS, auto_reply::CMDLETS]
}

/// The cmdlet called `name` (case-insensitive).
pub fn find(name: &str) -> Option<&'static Cmdlet> {
    families().into_iter().flatten().find(|cmdlet| cmdlet.name.eq_ignore_ascii_case(name))
}

/// Every cmdlet, in family order.
pub fn all() -> impl Iterator<Item = &'static Cmdlet> {
    families().into_iter().flatten()
}

/// Applies `-ResultSize` to a listing: `default` objects unless the caller asked for more (or `Unlimited`),
/// with Exchange's warning when results were left out.
pub fn limit_results(invocation: &mut Invocation<'_>, params: &Params, mut objects: Output, default: u32) -> Output {
    let limit = match params.result_size() {
        Some(None) => return objects,
        Some(Some(size)) => size,
        None => default,
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if objects.len() > limit {
        objects.truncate(limit);
        invocation.warnings.push(
            "There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter."
                .to_string(),
        );
    }
    objects
}
