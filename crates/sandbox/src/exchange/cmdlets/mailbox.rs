//! Mailbox cmdlets: `Get-Mailbox`, `Get-EXOMailbox`, `Get-Recipient`, `Set-Mailbox`, `New-Mailbox -Shared`.

use super::{Cmdlet, Invocation, Output, limit_results};
use crate::exchange::error::{ExchangeError, ExchangeResult};
use crate::exchange::params::{ParamType, Params, optional};
use crate::exchange::recipients;

const RECIPIENT_TYPE_DETAILS: &[&str] = &["UserMailbox", "SharedMailbox", "RoomMailbox", "EquipmentMailbox"];

/// The mailbox cmdlets.
pub const CMDLETS: &[Cmdlet] = &[Cmdlet {
    name: "Get-Mailbox",
    parameters: &[
        optional("Identity", ParamType::String),
        optional("RecipientTypeDetails", ParamType::Enum(RECIPIENT_TYPE_DETAILS)),
        optional("ResultSize", ParamType::ResultSize),
    ],
    run: get_mailbox,
}];

fn get_mailbox(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let tenant = &*invocation.tenant;
    let now = invocation.now;
    let ids = match params.string("Identity") {
        Some(identity) => vec![recipients::resolve_mailbox(tenant, identity, now)?],
        None => tenant
            .users
            .values()
            .filter(|user| !user.is_deleted() && tenant.exchange.ready_mailbox(user.id, now).is_some())
            .map(|user| user.id)
            .collect(),
    };
    let wanted = params.choice("RecipientTypeDetails");
    let objects: Output = ids
        .into_iter()
        .filter_map(|id| {
            let user = tenant.users.get(&id)?;
            let mailbox = tenant.exchange.ready_mailbox(id, now)?;
            wanted
                .is_none_or(|wanted| wanted == mailbox.kind.recipient_type_details())
                .then(|| recipients::mailbox_object(tenant, user, mailbox).build())
        })
        .collect();
    if objects.is_empty() && params.has("Identity") {
        return Err(ExchangeError::not_found(params.required("Identity")));
    }
    Ok(limit_results(invocation, params, objects, 1000))
}
