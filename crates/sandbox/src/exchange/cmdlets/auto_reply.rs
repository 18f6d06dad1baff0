//! Automatic replies: `Set-MailboxAutoReplyConfiguration` and `Get-MailboxAutoReplyConfiguration`.
//!
//! A `Scheduled` state needs a start and an end (given now or stored before), and the end must come after
//! the start; the cmdlet checks the settings as they would be after the change, so a refused call changes
//! nothing. Messages are kept as given (Exchange wraps plain text in HTML; the sandbox does not).
//!
//! Reference pages: <https://learn.microsoft.com/powershell/module/exchangepowershell/set-mailboxautoreplyconfiguration>,
//! `…/get-mailboxautoreplyconfiguration`.

use super::{Cmdlet, Invocation, Output};
use crate::exchange::error::{ExchangeError, ExchangeResult};
use crate::exchange::model::AutoReply;
use crate::exchange::output::ObjectBuilder;
use crate::exchange::params::{ParamType, Params, mandatory, optional};
use crate::exchange::recipients;

/// `-AutoReplyState` values (`OofState`).
const AUTO_REPLY_STATES: &[&str] = &["Disabled", "Enabled", "Scheduled"];
/// `-ExternalAudience` values.
const EXTERNAL_AUDIENCES: &[&str] = &["None", "Known", "All"];

/// The automatic-reply cmdlets.
pub const CMDLETS: &[Cmdlet] = &[
    Cmdlet {
        name: "Get-MailboxAutoReplyConfiguration",
        parameters: &[mandatory("Identity", ParamType::String)],
        run: get_auto_reply,
    },
    Cmdlet {
        name: "Set-MailboxAutoReplyConfiguration",
        parameters: &[
            mandatory("Identity", ParamType::String),
            optional("AutoReplyState", ParamType::Enum(AUTO_REPLY_STATES)),
            optional("InternalMessage", ParamType::String),
            optional("ExternalMessage", ParamType::String),
            optional("ExternalAudience", ParamType::Enum(EXTERNAL_AUDIENCES)),
            optional("StartTime", ParamType::DateTime),
            optional("EndTime", ParamType::DateTime),
        ],
        run: set_auto_reply,
    },
];

fn get_auto_reply(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let tenant = &*invocation.tenant;
    let identity = params.required("Identity");
    let id = recipients::resolve_mailbox(tenant, identity, invocation.now)?;
    let mailbox =
        tenant.exchange.ready_mailbox(id, invocation.now).ok_or_else(|| ExchangeError::not_found(identity))?;
    let name = recipients::name_of(tenant, id);
    let settings = &mailbox.auto_reply;
    let object = ObjectBuilder::new()
        .string("Identity", Some(&name))
        .string("MailboxOwnerId", Some(&name))
        .enumeration("AutoReplyState", "Microsoft.Exchange.InfoWorker.Common.OOF.OofState", &settings.state)
        .string("InternalMessage", settings.internal_message.as_deref())
        .string("ExternalMessage", settings.external_message.as_deref())
        .enumeration(
            "ExternalAudience",
            "Microsoft.Exchange.InfoWorker.Common.OOF.ExternalAudience",
            &settings.external_audience,
        )
        .time("StartTime", settings.start_time)
        .time("EndTime", settings.end_time)
        .build();
    Ok(vec![object])
}

/// A message parameter: `Some(new value)` when given (`$null` clears it), `None` when left out.
fn message(params: &Params, name: &str) -> Option<Option<String>> {
    params.has(name).then(|| params.string(name).map(str::to_string))
}

/// The settings after applying the given parameters to `current`.
fn settings_after(current: &AutoReply, params: &Params) -> AutoReply {
    let mut after = current.clone();
    if let Some(state) = params.choice("AutoReplyState") {
        after.state = state.to_string();
    }
    if let Some(text) = message(params, "InternalMessage") {
        after.internal_message = text;
    }
    if let Some(text) = message(params, "ExternalMessage") {
        after.external_message = text;
    }
    if let Some(audience) = params.choice("ExternalAudience") {
        after.external_audience = audience.to_string();
    }
    if params.has("StartTime") {
        after.start_time = params.time("StartTime");
    }
    if params.has("EndTime") {
        after.end_time = params.time("EndTime");
    }
    after
}

/// The rules a schedule must keep (wordings unconfirmed): `Scheduled` needs both times, and whenever both
/// times are known for a schedule or given together, the end must come after the start.
fn check_schedule(after: &AutoReply, params: &Params) -> ExchangeResult<()> {
    let scheduled = after.state == "Scheduled";
    match (after.start_time, after.end_time) {
        (Some(start), Some(end))
            if (scheduled || (params.has("StartTime") && params.has("EndTime"))) && end <= start =>
        {
            Err(ExchangeError::validation("The end time must be later than the start time.").with_target("EndTime"))
        }
        (None, _) | (_, None) if scheduled => Err(ExchangeError::validation(
            "When AutoReplyState is Scheduled, both StartTime and EndTime must be specified.",
        )),
        _ => Ok(()),
    }
}

fn set_auto_reply(invocation: &mut Invocation<'_>, params: &Params) -> ExchangeResult<Output> {
    let identity = params.required("Identity");
    let id = recipients::resolve_mailbox(invocation.tenant, identity, invocation.now)?;
    let current = invocation
        .tenant
        .exchange
        .ready_mailbox(id, invocation.now)
        .map(|mailbox| mailbox.auto_reply.clone())
        .ok_or_else(|| ExchangeError::not_found(identity))?;
    let after = settings_after(&current, params);
    check_schedule(&after, params)?;
    if let Some(mailbox) = invocation.tenant.exchange.mailboxes.get_mut(&id) {
        mailbox.auto_reply = after;
    }
    Ok(Vec::new())
}
